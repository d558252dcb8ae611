//! Driving the real `aerie` binary through a pseudo-terminal (rexpect), as an
//! operator would: a fixed 50x200 terminal, TERM=xterm, a throw-away HOME, and
//! escape codes stripped before matching. rexpect hands over output byte by
//! byte as chars, so needles are spelled the same way and `seen` decodes back.

use rexpect::process::wait::WaitStatus;
use rexpect::reader::{Options, ReadUntil};
use rexpect::session::{spawn_with_options, PtySession};
use std::path::Path;
use std::process::Command;

/// How long one prompt may take to appear.
const PROMPT_TIMEOUT_MS: u64 = 30_000;

pub struct Terminal {
    session: PtySession,
    /// Everything seen so far (escape codes stripped), for failure messages.
    seen: String,
}

impl Terminal {
    /// Start `aerie ARGS` in `dir` on a new pseudo-terminal with HOME=`home`.
    pub fn spawn(args: &[&str], dir: &Path, home: &Path) -> Terminal {
        Terminal::spawn_under(&[], args, dir, home)
    }

    /// [`Terminal::spawn`] through `prefix`, a program that runs the rest of its
    /// command line (e.g. `ip netns exec LAB` for the testbed's lab namespace).
    pub fn spawn_under(prefix: &[&str], args: &[&str], dir: &Path, home: &Path) -> Terminal {
        // stty on the terminal itself fixes its size before aerie starts.
        let mut command = match prefix.split_first() {
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg("sh");
                c
            }
            None => Command::new("sh"),
        };
        command
            .arg("-c")
            .arg("stty rows 50 cols 200 && exec \"$0\" \"$@\"")
            .arg(crate::harness::aerie_bin())
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("TERM", "xterm");
        let options = Options::new()
            .timeout_ms(Some(PROMPT_TIMEOUT_MS))
            .strip_ansi_escape_codes(true);
        let session = spawn_with_options(command, options).expect("aerie starts on a pty");
        Terminal {
            session,
            seen: String::new(),
        }
    }

    /// Wait for `text`; panics with what was seen when it does not come.
    pub fn expect(&mut self, text: &str) -> String {
        match self.session.exp_string(&as_bytes(text)) {
            Ok(before) => {
                let before = decode(&before);
                self.seen.push_str(&before);
                self.seen.push_str(text);
                before
            }
            Err(err) => panic!(
                "waiting for {text:?}: {err}\n--- seen so far (last 3000 chars) ---\n{}",
                tail(&self.seen, 3000)
            ),
        }
    }

    /// Wait for the first of `texts`; returns its index.
    pub fn expect_any(&mut self, texts: &[&str]) -> usize {
        let needles = texts
            .iter()
            .map(|t| ReadUntil::String(as_bytes(t)))
            .collect();
        match self.session.exp_any(needles) {
            Ok((before, matched)) => {
                let matched = decode(&matched);
                self.seen.push_str(&decode(&before));
                self.seen.push_str(&matched);
                texts
                    .iter()
                    .position(|t| *t == matched)
                    .expect("one of them")
            }
            Err(err) => panic!(
                "waiting for one of {texts:?}: {err}\n--- seen so far ---\n{}",
                tail(&self.seen, 3000)
            ),
        }
    }

    /// Type keys (no Enter added).
    pub fn keys(&mut self, keys: &str) {
        self.session.send(keys).expect("write to the pty");
        self.session.flush().expect("flush the pty");
    }

    /// Wait for a prompt, then type `text` and Enter.
    pub fn answer(&mut self, prompt: &str, text: &str) {
        self.expect(prompt);
        self.keys(&format!("{text}\r"));
    }

    /// Wait for a yes/no prompt and answer it with one key.
    pub fn confirm(&mut self, prompt: &str, yes: bool) {
        self.expect(prompt);
        self.keys(if yes { "y" } else { "n" });
    }

    /// Wait for a choice prompt, move down `down` items, and pick.
    pub fn choose(&mut self, prompt: &str, down: usize) {
        self.expect(prompt);
        self.keys(&format!("{}\r", "j".repeat(down)));
    }

    /// Everything seen so far.
    pub fn seen(&self) -> &str {
        &self.seen
    }

    /// Wait for the end of output and the exit code.
    pub fn exit_code(mut self) -> i32 {
        if let Ok(rest) = self.session.exp_eof() {
            self.seen.push_str(&decode(&rest));
        }
        match self.session.process.wait().expect("wait for aerie") {
            WaitStatus::Exited(_, code) => code,
            other => panic!("aerie did not exit normally: {other:?}\n{}", self.seen),
        }
    }
}

/// Text as rexpect delivers it: one char per byte.
fn as_bytes(text: &str) -> String {
    text.bytes().map(char::from).collect()
}

/// rexpect's one-char-per-byte text back to UTF-8.
fn decode(raw: &str) -> String {
    let bytes: Vec<u8> = raw.chars().map(|c| c as u32 as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn tail(text: &str, n: usize) -> &str {
    let start = text.len().saturating_sub(n);
    let start = (start..=text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    &text[start..]
}
