//! aerie's binding to xorriso: a typed builder of xorriso command sequences,
//! run as a program through [`crate::exec`].
//!
//! No maintained Rust crate binds xorriso, and linking libisoburn's C API
//! would bring GPL-2+ into aerie's binary; driving the program does not.
//! xorriso executes its commands in order, so the builder keeps the order in
//! which they are added (`-map` must follow `-boot_image any replay`).
//!
//! Facts this module relies on (fixtures/iso/RECIPES.md): xorriso exits 0 for
//! a missing input ("blank" drive) and for a file that is no ISO unless told
//! `-return_with WARNING 32`; with `-pkt_output on` every message goes to
//! stdout prefixed by its channel (`I:1: `), and `-report_about UPDATE` adds a
//! `UPDATE : Writing: N s P%` line about once a second while writing.

use crate::exec::{self, ExecError};
use crate::iso::IsoError;
use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output};

/// The oldest xorriso with `-boot_image any replay` and `-extract_boot_images`.
pub const MIN_VERSION: (u32, u32, u32) = (1, 5, 0);

/// The program run: `AERIE_XORRISO` or `xorriso` from PATH.
pub fn program() -> OsString {
    std::env::var_os("AERIE_XORRISO").unwrap_or_else(|| "xorriso".into())
}

/// One xorriso run: a sequence of commands, ended by `-end` when run.
#[derive(Debug, Clone, Default)]
pub struct Xorriso {
    args: Vec<OsString>,
}

impl Xorriso {
    pub fn new() -> Self {
        Xorriso::default()
    }

    fn push(mut self, args: impl IntoIterator<Item = impl Into<OsString>>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Make warnings (e.g. "No ISO 9660 image … Creating blank image") fail
    /// the run with exit status 32. For probing only: remastering a base with
    /// a label xorriso finds "problematic" warns harmlessly.
    pub fn fail_on_warnings(self) -> Self {
        self.push(["-return_with", "WARNING", "32"])
    }

    /// Messages with channel prefixes on stdout and progress lines (UPDATE).
    pub fn progress(self) -> Self {
        self.push(["-pkt_output", "on", "-report_about", "UPDATE"])
    }

    /// Only warnings and worse on stderr.
    pub fn quiet(self) -> Self {
        self.push(["-report_about", "WARNING"])
    }

    /// No forced flush while writing. xorriso's default (`-stdio_sync on`)
    /// fsyncs the output every 16 MiB, which made a remaster of a 1 GiB base
    /// ~3-4x a `cp` of it; the caller syncs the finished file once instead.
    pub fn no_periodic_sync(self) -> Self {
        self.push(["-stdio_sync", "off"])
    }

    /// Read the ISO at `path`.
    pub fn indev(self, path: &Path) -> Self {
        self.push([OsString::from("-indev"), path.into()])
    }

    /// Write the result to `path` (must not exist: xorriso would append a session).
    pub fn outdev(self, path: &Path) -> Self {
        self.push([OsString::from("-outdev"), path.into()])
    }

    /// Read and grow the ISO at `path` in place: the changes are appended
    /// after its data and its volume descriptors (and MBR/GPT) rewritten, so
    /// the data of unchanged files is never copied.
    pub fn dev(self, path: &Path) -> Self {
        self.push([OsString::from("-dev"), path.into()])
    }

    /// Allow copying files out of the ISO.
    pub fn osirrox(self) -> Self {
        self.push(["-osirrox", "on"])
    }

    /// Copy `iso_path` (file or directory) out of the ISO to `to`.
    pub fn extract(self, iso_path: &str, to: &Path) -> Self {
        self.push([OsString::from("-extract"), iso_path.into(), to.into()])
    }

    /// Copy every boot image (El Torito, MBR, appended partitions) into `dir/`.
    pub fn extract_boot_images(self, dir: &Path) -> Self {
        let mut d = dir.as_os_str().to_owned();
        d.push("/");
        self.push([OsString::from("-extract_boot_images"), d])
    }

    /// Print the boot setup as xorriso commands (`-volid '…'`, `-boot_image …`).
    pub fn report_el_torito(self) -> Self {
        self.push(["-report_el_torito", "cmd"])
    }

    /// Print every regular file of the ISO, one quoted path a line.
    pub fn list_files(self) -> Self {
        self.push(["-find", "/", "-type", "f", "--"])
    }

    /// Print where every regular file's data lies (`File data lba:` lines:
    /// extent, start block, blocks, size, path).
    pub fn report_lba(self) -> Self {
        self.push(["-find", "/", "-type", "f", "-exec", "report_lba", "--"])
    }

    /// Keep the base's boot records (El Torito entries, MBR, GPT, appended
    /// partitions) as they are. Must precede every `-map`/`-append_partition`.
    pub fn replay_boot(self) -> Self {
        self.push(["-boot_image", "any", "replay"])
    }

    /// Write a Joliet tree (dropped by default when remastering).
    pub fn joliet(self) -> Self {
        self.push(["-joliet", "on"])
    }

    /// Rock Ridge (default on) and the ISO's volume id.
    pub fn volid(self, label: &str) -> Self {
        self.push(["-volid", label])
    }

    /// The ISO's UUID (its modification time, 16 digits).
    pub fn uuid(self, uuid: &str) -> Self {
        self.push(["-volume_date", "uuid", uuid])
    }

    /// Remove `iso_path` and everything under it from the new tree.
    pub fn rm_r(self, iso_path: &str) -> Self {
        self.push(["-rm_r", iso_path, "--"])
    }

    /// Put the local file or directory `from` at `iso_path` (replacing it).
    pub fn map(self, from: &Path, iso_path: &str) -> Self {
        self.push([OsString::from("-map"), from.into(), iso_path.into()])
    }

    /// Replace appended partition `n` (GPT type `type_guid`) with `image`.
    pub fn append_partition(self, n: u32, type_guid: &str, image: &Path) -> Self {
        self.push([
            OsString::from("-append_partition"),
            n.to_string().into(),
            type_guid.into(),
            image.into(),
        ])
    }

    /// Give every file under `iso_path` the permission `mode` (e.g. "a+r").
    pub fn chmod_recursive(self, mode: &str, iso_path: &str) -> Self {
        self.push(["-chmod_r", mode, iso_path, "--"])
    }

    /// The argument list as it will be run (with the final `-end`).
    pub fn args(&self) -> Vec<OsString> {
        let mut a = self.args.clone();
        a.push("-end".into());
        a
    }

    /// The command, ready to run.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(program());
        cmd.args(self.args());
        cmd
    }

    /// Run to completion.
    pub fn run(&self) -> anyhow::Result<Output> {
        exec::run(&mut self.command()).map_err(tool_error)
    }

    /// Run with [`Xorriso::progress`] on, calling `on_percent` with each
    /// percentage written (0.0-100.0).
    pub fn run_with_progress(&self, mut on_percent: impl FnMut(f64)) -> anyhow::Result<Output> {
        exec::run_streaming(&mut self.command(), |line| {
            if let Some(p) = parse_progress(line) {
                on_percent(p);
            }
        })
        .map_err(tool_error)
    }
}

/// A missing program becomes [`IsoError::ToolMissing`]; a failure keeps the
/// command and xorriso's messages (from stdout too: `-pkt_output on` sends
/// them there).
fn tool_error(e: ExecError) -> anyhow::Error {
    match e {
        ExecError::Missing { program, hint } => IsoError::ToolMissing {
            program,
            problem: "was not found".into(),
            hint,
        }
        .into(),
        ExecError::Failed {
            command,
            status,
            stderr,
            stdout,
        } => {
            let messages: Vec<&str> = stdout
                .lines()
                .chain(stderr.lines())
                .map(strip_channel)
                .filter(|l| !l.contains(": UPDATE :") && !l.trim().is_empty())
                .collect();
            let tail = messages[messages.len().saturating_sub(20)..].join("\n");
            anyhow::anyhow!("`{command}` failed ({status}):\n{tail}")
        }
        other => other.into(),
    }
}

/// `I:1: text` -> `text` (channel prefixes of `-pkt_output on`).
pub fn strip_channel(line: &str) -> &str {
    let b = line.as_bytes();
    if b.len() >= 5 && b[1] == b':' && b[3] == b':' && b[4] == b' ' {
        &line[5..]
    } else {
        line
    }
}

/// The percentage of a progress line:
/// `I:1: xorriso : UPDATE : Writing:      65536s   11.9%   fifo 100% …`.
pub fn parse_progress(line: &str) -> Option<f64> {
    let rest = strip_channel(line).split_once("UPDATE : Writing:")?.1;
    let mut words = rest.split_whitespace();
    let sectors = words.next()?;
    sectors.strip_suffix('s')?.parse::<u64>().ok()?;
    words.next()?.strip_suffix('%')?.parse().ok()
}

/// The version from `xorriso -version`'s first line (`xorriso 1.5.4`).
pub fn parse_version(stdout: &str) -> Option<(u32, u32, u32)> {
    let first = stdout.lines().next()?;
    let v = first.strip_prefix("xorriso ")?.split_whitespace().next()?;
    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
    Some((
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    ))
}

/// Checks that xorriso is installed and new enough; its version.
pub fn check_version() -> anyhow::Result<(u32, u32, u32)> {
    let hint = exec::install_hint("xorriso");
    let out = exec::run(Command::new(program()).arg("-version")).map_err(tool_error)?;
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(v) = parse_version(&text) else {
        return Err(IsoError::ToolMissing {
            program: program().to_string_lossy().into_owned(),
            problem: format!(
                "printed no version aerie understands ({:?})",
                text.lines().next().unwrap_or("")
            ),
            hint,
        }
        .into());
    };
    if v < MIN_VERSION {
        return Err(IsoError::ToolMissing {
            program: program().to_string_lossy().into_owned(),
            problem: format!(
                "is version {}.{}.{}; aerie needs {}.{}.{} or later",
                v.0, v.1, v.2, MIN_VERSION.0, MIN_VERSION.1, MIN_VERSION.2
            ),
            hint,
        }
        .into());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_keeps_the_order_and_ends() {
        let x = Xorriso::new()
            .indev(Path::new("/b.iso"))
            .outdev(Path::new("/o.iso"))
            .replay_boot()
            .map(Path::new("/t/ks"), "/ks");
        let a: Vec<String> = x
            .args()
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            a,
            [
                "-indev",
                "/b.iso",
                "-outdev",
                "/o.iso",
                "-boot_image",
                "any",
                "replay",
                "-map",
                "/t/ks",
                "/ks",
                "-end"
            ]
        );
    }

    #[test]
    fn parses_progress_lines() {
        let l =
            "I:1: xorriso : UPDATE : Writing:      65536s   11.9%   fifo 100%  buf  50%   99.4xD";
        assert_eq!(parse_progress(l), Some(11.9));
        assert_eq!(
            parse_progress("xorriso : UPDATE : Writing:     196608s   35.7%   fifo"),
            Some(35.7)
        );
        assert_eq!(
            parse_progress("I:1: ISO image produced: 549952 sectors"),
            None
        );
        assert_eq!(
            parse_progress("I:1: xorriso : UPDATE : 12 files added"),
            None
        );
    }

    #[test]
    fn parses_the_version() {
        let out = "xorriso 1.5.4\nISO 9660 Rock Ridge filesystem manipulator\n";
        assert_eq!(parse_version(out), Some((1, 5, 4)));
        assert_eq!(parse_version("xorriso 1.4\n"), Some((1, 4, 0)));
        assert_eq!(parse_version("GNU xorriso?\n"), None);
    }

    #[test]
    fn strips_channel_prefixes() {
        assert_eq!(strip_channel("I:1: text"), "text");
        assert_eq!(strip_channel("R:1: x"), "x");
        assert_eq!(strip_channel("plain"), "plain");
    }
}
