//! aerie's own known-hosts file, in OpenSSH format (`HOST KEYTYPE BASE64 [comment]`,
//! `[HOST]:PORT` for ports other than 22), so `ssh-keygen -lf` and `ssh -o
//! UserKnownHostsFile=` read it too. Pure parsing and checking here; the file
//! is read and written whole (atomically) by `load` / `save`.
//!
//! Default location: `$XDG_STATE_HOME/aerie/known_hosts`, else
//! `~/.local/state/aerie/known_hosts` (state aerie learns, not configuration);
//! `--known-hosts FILE` or `$AERIE_KNOWN_HOSTS` choose another.

use anyhow::Context;
use base64ct::{Base64, Base64Unpadded, Encoding};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// One pinned key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Host patterns as written: `10.0.0.5`, `[10.0.0.5]:2222`, `fe1.example.org`.
    pub hosts: Vec<String>,
    pub key_type: String,
    /// The public key blob (SSH wire format).
    pub key: Vec<u8>,
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    Entry(Entry),
    /// Comments, blank lines, markers and hashed entries: kept as they are.
    Other(String),
}

/// What the file says about a key a host presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Pinned: this host, this key.
    Match,
    /// Nothing pinned for this host.
    Unknown,
    /// Other key(s) pinned for this host: never accept.
    Changed { pinned: Vec<Entry> },
}

/// What [`KnownHosts::pin`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pinned {
    /// The host had no pin: this key is its pin now.
    Added,
    /// The host had this very key pinned already: nothing changed.
    Kept,
    /// The host had other key(s) pinned: they are gone, this key is its pin.
    Replaced { old: Vec<Entry> },
}

/// `KEYTYPE BASE64 [comment]` (a `.pub` file's line): (key type, key blob).
pub fn parse_public_key(line: &str) -> Option<(String, Vec<u8>)> {
    let mut words = line.split_whitespace();
    let key_type = words.next()?.to_string();
    let key = Base64::decode_vec(words.next()?).ok()?;
    Some((key_type, key))
}

/// The parsed file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownHosts {
    lines: Vec<Line>,
}

/// How a host and port are written in the file (OpenSSH's rule).
pub fn host_pattern(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// `SHA256:…` as OpenSSH prints it (base64 without padding).
pub fn fingerprint(key: &[u8]) -> String {
    format!(
        "SHA256:{}",
        Base64Unpadded::encode_string(&Sha256::digest(key))
    )
}

/// The default file: `$XDG_STATE_HOME/aerie/known_hosts` or `~/.local/state/aerie/known_hosts`.
pub fn default_path() -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
            PathBuf::from(home).join(".local/state")
        });
    state.join("aerie/known_hosts")
}

impl KnownHosts {
    pub fn parse(text: &str) -> KnownHosts {
        let lines = text
            .lines()
            .map(|l| parse_entry(l).map_or_else(|| Line::Other(l.to_string()), Line::Entry))
            .collect();
        KnownHosts { lines }
    }

    /// Read a file; a missing file is an empty one.
    pub fn load(path: &Path) -> anyhow::Result<KnownHosts> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(KnownHosts::parse(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KnownHosts::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Write the file atomically; its directory is created private (0700).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let dir = crate::fsutil::parent_or_dot(path);
        if !dir.exists() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        crate::fsutil::write_atomic(
            path,
            self.to_text().as_bytes(),
            0o600,
            crate::fsutil::Overwrite::Allow,
        )
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            match line {
                Line::Other(text) => out.push_str(text),
                Line::Entry(e) => out.push_str(&format_entry(e)),
            }
            out.push('\n');
        }
        out
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.lines.iter().filter_map(|l| match l {
            Line::Entry(e) => Some(e),
            Line::Other(_) => None,
        })
    }

    /// Check the key `pattern` (see [`host_pattern`]) presented.
    pub fn check(&self, pattern: &str, key_type: &str, key: &[u8]) -> Verdict {
        let pinned: Vec<&Entry> = self
            .entries()
            .filter(|e| e.hosts.iter().any(|h| h == pattern))
            .collect();
        if pinned.is_empty() {
            Verdict::Unknown
        } else if pinned
            .iter()
            .any(|e| e.key_type == key_type && e.key == key)
        {
            Verdict::Match
        } else {
            Verdict::Changed {
                pinned: pinned.into_iter().cloned().collect(),
            }
        }
    }

    /// The key types pinned for `pattern`, to ask the server for those first.
    pub fn key_types(&self, pattern: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in self
            .entries()
            .filter(|e| e.hosts.iter().any(|h| h == pattern))
        {
            if !out.contains(&e.key_type) {
                out.push(e.key_type.clone());
            }
        }
        out
    }

    /// Pin a key.
    pub fn add(&mut self, pattern: &str, key_type: &str, key: &[u8], comment: &str) {
        self.lines.push(Line::Entry(Entry {
            hosts: vec![pattern.to_string()],
            key_type: key_type.to_string(),
            key: key.to_vec(),
            comment: comment.to_string(),
        }));
    }

    /// Make `key` the one pin of `pattern` (a key the operator made, e.g. the
    /// host key `aerie iso --cidata` installs): any other key of that exact
    /// pattern goes.
    pub fn pin(&mut self, pattern: &str, key_type: &str, key: &[u8], comment: &str) -> Pinned {
        let result = match self.check(pattern, key_type, key) {
            Verdict::Unknown => Pinned::Added,
            Verdict::Changed { pinned } => Pinned::Replaced { old: pinned },
            Verdict::Match => {
                // Kept only when no other key of that pattern lies beside it.
                let others = self
                    .entries()
                    .filter(|e| e.hosts.iter().any(|h| h == pattern))
                    .any(|e| e.key_type != key_type || e.key != key);
                if !others {
                    return Pinned::Kept;
                }
                Pinned::Replaced {
                    old: self
                        .entries()
                        .filter(|e| e.hosts.iter().any(|h| h == pattern))
                        .filter(|e| e.key_type != key_type || e.key != key)
                        .cloned()
                        .collect(),
                }
            }
        };
        self.remove_exact(pattern);
        self.add(pattern, key_type, key, comment);
        result
    }

    /// Remove exactly `pattern` from every entry; entries left with no host go.
    fn remove_exact(&mut self, pattern: &str) {
        self.lines.retain_mut(|line| match line {
            Line::Other(_) => true,
            Line::Entry(e) => {
                e.hosts.retain(|h| h != pattern);
                !e.hosts.is_empty()
            }
        });
    }

    /// Remove `host` (a name or address: every port; or an exact `[host]:port`)
    /// from every entry; entries left with no host go. The number of entries touched.
    pub fn forget(&mut self, host: &str) -> usize {
        let bracketed = format!("[{host}]:");
        let matches = |h: &str| h == host || h.starts_with(&bracketed);
        let mut touched = 0;
        self.lines.retain_mut(|line| match line {
            Line::Other(_) => true,
            Line::Entry(e) => {
                let before = e.hosts.len();
                e.hosts.retain(|h| !matches(h));
                if e.hosts.len() != before {
                    touched += 1;
                }
                !e.hosts.is_empty()
            }
        });
        touched
    }
}

fn parse_entry(line: &str) -> Option<Entry> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('@') {
        return None;
    }
    let mut fields = trimmed.splitn(4, char::is_whitespace);
    let hosts = fields.next()?;
    if hosts.starts_with('|') {
        return None; // hashed: aerie never writes these, and cannot match them by name
    }
    let key_type = fields.next()?.to_string();
    let key = Base64::decode_vec(fields.next()?.trim()).ok()?;
    Some(Entry {
        hosts: hosts.split(',').map(str::to_string).collect(),
        key_type,
        key,
        comment: fields.next().unwrap_or("").trim().to_string(),
    })
}

fn format_entry(e: &Entry) -> String {
    let mut s = format!(
        "{} {} {}",
        e.hosts.join(","),
        e.key_type,
        Base64::encode_string(&e.key)
    );
    if !e.comment.is_empty() {
        s.push(' ');
        s.push_str(&e.comment);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIHFpYXJuZXhhbXBsZWtleW9ubHlub3RyZWFsMDAwMDA";

    fn key() -> Vec<u8> {
        Base64::decode_vec(&format!("{KEY}=")).unwrap()
    }

    #[test]
    fn match_unknown_changed() {
        let kh = KnownHosts::parse(&format!(
            "# comment\n10.0.0.5 ssh-ed25519 {KEY}=\n[10.0.0.6]:2222 ssh-ed25519 {KEY}=\n"
        ));
        assert_eq!(kh.check("10.0.0.5", "ssh-ed25519", &key()), Verdict::Match);
        assert_eq!(
            kh.check("[10.0.0.6]:2222", "ssh-ed25519", &key()),
            Verdict::Match
        );
        assert_eq!(
            kh.check("10.0.0.6", "ssh-ed25519", &key()),
            Verdict::Unknown
        );
        let mut other = key();
        *other.last_mut().unwrap() ^= 1;
        assert!(matches!(
            kh.check("10.0.0.5", "ssh-ed25519", &other),
            Verdict::Changed { .. }
        ));
        // A different key type for a pinned host is a change too.
        assert!(matches!(
            kh.check("10.0.0.5", "ssh-rsa", &key()),
            Verdict::Changed { .. }
        ));
    }

    #[test]
    fn round_trips_and_keeps_other_lines() {
        let text = format!("# mine\n|1|abc|def ssh-ed25519 {KEY}=\nh1,h2 ssh-ed25519 {KEY}= c\n");
        assert_eq!(KnownHosts::parse(&text).to_text(), text);
    }

    #[test]
    fn forget_every_port_or_one() {
        let mut kh = KnownHosts::parse(&format!(
            "h1 ssh-ed25519 {KEY}=\n[h1]:2222 ssh-ed25519 {KEY}=\nh1,h2 ssh-ed25519 {KEY}=\nh10 ssh-ed25519 {KEY}=\n"
        ));
        assert_eq!(kh.forget("h1"), 3);
        assert_eq!(
            kh.to_text(),
            format!("h2 ssh-ed25519 {KEY}=\nh10 ssh-ed25519 {KEY}=\n")
        );
        assert_eq!(kh.forget("nothere"), 0);
    }

    #[test]
    fn pin_adds_keeps_and_replaces_only_that_pattern() {
        let mut other = key();
        *other.last_mut().unwrap() ^= 1;
        let mut kh = KnownHosts::parse(&format!(
            "h1,h2 ssh-ed25519 {KEY}=\n[h1]:2222 ssh-ed25519 {KEY}=\n"
        ));
        assert_eq!(kh.pin("h3", "ssh-ed25519", &key(), "c"), Pinned::Added);
        assert_eq!(kh.pin("h3", "ssh-ed25519", &key(), "c"), Pinned::Kept);
        let before = kh.to_text();
        assert_eq!(kh.pin("h3", "ssh-ed25519", &key(), "c"), Pinned::Kept);
        assert_eq!(kh.to_text(), before);
        match kh.pin("h1", "ssh-ed25519", &other, "new") {
            Pinned::Replaced { old } => assert_eq!(old[0].key, key()),
            p => panic!("{p:?}"),
        }
        assert_eq!(kh.check("h1", "ssh-ed25519", &other), Verdict::Match);
        assert_eq!(
            kh.check("h1", "ssh-ed25519", &key()).clone(),
            Verdict::Changed {
                pinned: vec![kh.entries().last().unwrap().clone()]
            }
        );
        // h2 and h1's other port keep their pins.
        assert_eq!(kh.check("h2", "ssh-ed25519", &key()), Verdict::Match);
        assert_eq!(kh.check("[h1]:2222", "ssh-ed25519", &key()), Verdict::Match);
        assert_eq!(
            parse_public_key(&format!("ssh-ed25519 {KEY}= host.example")),
            Some(("ssh-ed25519".to_string(), key()))
        );
        assert_eq!(parse_public_key("ssh-ed25519 !!"), None);
    }

    #[test]
    fn fingerprint_is_openssh_style() {
        // ssh-keygen -lf prints the unpadded base64 SHA-256 of the blob.
        let fp = fingerprint(&key());
        assert!(fp.starts_with("SHA256:") && !fp.ends_with('='), "{fp}");
        assert_eq!(fp.len(), "SHA256:".len() + 43);
    }

    #[test]
    fn ports_other_than_22_are_bracketed() {
        assert_eq!(host_pattern("10.0.0.5", 22), "10.0.0.5");
        assert_eq!(host_pattern("10.0.0.5", 2222), "[10.0.0.5]:2222");
    }
}
