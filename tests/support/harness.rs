//! One way to run things in the tests, in the style of just's `Test` builder:
//! [`aerie()`] (the binary under test) and [`tool()`] (any other program) give a
//! [`Run`]: args, cwd, env, stdin, the expected exit code, and a failure report
//! with the whole command, its code, stdout and stderr. [`bless()`] compares
//! with a golden file (`AERIE_BLESS=1` rewrites it); [`HostRoot`] is a lab host
//! as files (what `--host-root` / `AERIE_HOST_ROOT` read).
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// What to do when a program the tests drive is missing.
pub const SETUP: &str = "run `scripts/test-deps.sh` (as root) to install the test tools";

/// The aerie binary under test.
pub fn aerie_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_aerie"))
}

/// The aerie binary under test, as a [`Run`].
pub fn aerie() -> Run {
    Run::new("aerie", aerie_bin().as_os_str())
}

/// An external program (from PATH, /usr/sbin, /sbin, or a path), as a [`Run`].
/// A program that is not installed fails the run with [`SETUP`].
pub fn tool(program: impl AsRef<OsStr>) -> Run {
    let program = program.as_ref();
    let name = program.to_string_lossy().into_owned();
    match lookup(program) {
        Some(path) => Run::new(&name, path.as_os_str()),
        None => Run::new(&name, program),
    }
}

/// Where an external program is, or a failure naming [`SETUP`].
pub fn find_tool(program: &str) -> PathBuf {
    lookup(OsStr::new(program)).unwrap_or_else(|| panic!("{program} is not installed: {SETUP}"))
}

fn lookup(program: &OsStr) -> Option<PathBuf> {
    let p = Path::new(program);
    if p.components().count() > 1 {
        return p.is_file().then(|| p.to_path_buf());
    }
    let paths = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&paths)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// A command to run: built like [`Command`], run with [`Run::run`] (the exit code
/// must be the expected one, 0 unless [`Run::code`]) or [`Run::output`] (any code).
pub struct Run {
    name: String,
    cmd: Command,
    /// `ip netns exec NS` in front of the command.
    netns: Option<String>,
    stdin: Option<Vec<u8>>,
    code: i32,
}

impl Run {
    fn new(name: &str, program: &OsStr) -> Run {
        Run {
            name: name.to_string(),
            cmd: Command::new(program),
            netns: None,
            stdin: None,
            code: 0,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Run {
        self.cmd.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn cwd(mut self, dir: impl AsRef<Path>) -> Run {
        self.cmd.current_dir(dir);
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Run {
        self.cmd.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Run {
        self.cmd.env_remove(key);
        self
    }

    /// Bytes fed to stdin (otherwise stdin is empty: /dev/null).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Run {
        self.stdin = Some(input.into());
        self
    }

    /// The exit code [`Run::run`] expects (default 0).
    pub fn code(mut self, code: i32) -> Run {
        self.code = code;
        self
    }

    /// Run inside the network namespace `name` (`ip netns exec NAME ...`; args,
    /// env and cwd carried over).
    pub fn in_netns(mut self, name: &str) -> Run {
        self.netns = Some(name.to_string());
        self
    }

    /// The command as it will run, for a test that spawns it itself.
    pub fn command(self) -> Command {
        let Some(ns) = &self.netns else {
            return self.cmd;
        };
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns]).arg(self.cmd.get_program());
        c.args(self.cmd.get_args());
        for (k, v) in self.cmd.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        if let Some(d) = self.cmd.get_current_dir() {
            c.current_dir(d);
        }
        c
    }

    /// Run it whatever its exit code; fails only if it cannot start.
    pub fn output(self) -> Output {
        self.try_output().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Run it; its exit code must be the expected one, else a panic with the report.
    pub fn run(self) -> Output {
        self.try_run().unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// Run it whatever its exit code: (success, stdout then stderr).
    pub fn outcome(self) -> (bool, String) {
        let out = self.output();
        (out.status.success(), out.text())
    }

    /// Run it whatever its exit code: (exit code, -1 if a signal ended it; stdout then
    /// stderr).
    pub fn code_text(self) -> (i32, String) {
        let out = self.output();
        (out.status.code().unwrap_or(-1), out.text())
    }

    /// [`Run::run`] as a `Result`, for tests that return one.
    pub fn try_run(self) -> anyhow::Result<Output> {
        let want = self.code;
        let shown = self.shown();
        let out = self.try_output().map_err(anyhow::Error::msg)?;
        if out.status.code() != Some(want) {
            anyhow::bail!(
                "{}",
                report(&shown, &out, &format!("want exit code {want}"))
            );
        }
        Ok(out)
    }

    fn shown(&self) -> String {
        let mut s = String::new();
        if let Some(d) = self.cmd.get_current_dir() {
            s.push_str(&format!("(in {}) ", d.display()));
        }
        for (k, v) in self.cmd.get_envs() {
            match v {
                Some(v) => s.push_str(&format!("{}={} ", k.to_string_lossy(), v.to_string_lossy())),
                None => s.push_str(&format!("-u {} ", k.to_string_lossy())),
            }
        }
        if let Some(ns) = &self.netns {
            s.push_str(&format!("ip netns exec {ns} "));
        }
        s.push_str(&self.name);
        for a in self.cmd.get_args() {
            s.push(' ');
            s.push_str(&a.to_string_lossy());
        }
        s
    }

    fn try_output(self) -> Result<Output, String> {
        let shown = self.shown();
        let name = self.name.clone();
        let input = self.stdin.clone();
        let mut cmd = self.command();
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!("cannot run `{shown}`: {name} is not installed: {SETUP}")
            } else {
                format!("cannot run `{shown}`: {e}")
            }
        })?;
        if let Some(input) = input {
            let mut stdin = child.stdin.take().unwrap();
            // A program that exits before reading everything closes the pipe.
            let _ = stdin.write_all(&input);
        }
        child
            .wait_with_output()
            .map_err(|e| format!("waiting for `{shown}`: {e}"))
    }
}

/// The failure report of a run: the command, what was wanted, its code, stdout, stderr.
fn report(shown: &str, out: &Output, want: &str) -> String {
    format!(
        "`{shown}`: {want}, got {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        match out.status.code() {
            Some(c) => format!("exit code {c}"),
            None => format!("{}", out.status),
        },
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// stdout and stderr as text.
pub trait OutputText {
    fn stdout_text(&self) -> String;
    fn stderr_text(&self) -> String;
    /// stdout then stderr.
    fn text(&self) -> String {
        self.stdout_text() + &self.stderr_text()
    }
}

impl OutputText for Output {
    fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Whether golden files are being rewritten (`AERIE_BLESS` set).
pub fn blessing() -> bool {
    std::env::var_os("AERIE_BLESS").is_some()
}

/// How to accept a changed output.
pub const BLESS_HINT: &str =
    "(if the change is intended: rerun with AERIE_BLESS=1, then review `git diff tests/golden`)";

/// `got` must equal the golden file byte for byte; with `AERIE_BLESS=1` the golden
/// file is rewritten instead.
pub fn bless(golden: &Path, got: &str) {
    if blessing() {
        std::fs::write(golden, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(golden).unwrap_or_else(|e| {
        panic!(
            "golden file {}: {e} (AERIE_BLESS=1 writes it)",
            golden.display()
        )
    });
    assert!(
        want == got,
        "{} differs:\n{}\n{BLESS_HINT}",
        golden.display(),
        diff(&want, got)
    );
}

/// A unified diff of two texts, `expected` against `got`.
pub fn diff(want: &str, got: &str) -> String {
    similar::TextDiff::from_lines(want, got)
        .unified_diff()
        .header("expected", "got")
        .to_string()
}

/// The names in a folder, sorted.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Text that must be JSON (a panic shows the text).
pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// One node's row in one of aerie's JSON reports (`nodes[]`, by `host`).
pub fn node<'a>(report: &'a serde_json::Value, host: &str) -> &'a serde_json::Value {
    report["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes in {report:#}"))
        .iter()
        .find(|n| n["host"] == host)
        .unwrap_or_else(|| panic!("no {host} in {report:#}"))
}

/// A new ed25519 key pair at `key` (no passphrase, comment `aerie-test`); the
/// public half's text.
pub fn ssh_keygen(key: &Path) -> String {
    tool("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "aerie-test", "-f"])
        .arg(key)
        .run();
    std::fs::read_to_string(key.with_extension("pub")).unwrap()
}

/// A lab host as files, read through `--host-root` / `AERIE_HOST_ROOT`:
/// /proc/cpuinfo (one virtualisation flag), /proc/meminfo, the kvm_intel
/// `nested` parameter, /dev/kvm. Default: KVM, VT-x, nested on, 32 GiB free.
pub struct HostRoot {
    kvm: bool,
    cpu_flag: String,
    nested: Option<String>,
    mem_available_kib: u64,
}

impl HostRoot {
    pub const PLENTY_KIB: u64 = 32 * 1024 * 1024;

    pub fn new() -> HostRoot {
        HostRoot {
            kvm: true,
            cpu_flag: "vmx".to_string(),
            nested: Some("Y".to_string()),
            mem_available_kib: Self::PLENTY_KIB,
        }
    }

    /// With or without /dev/kvm.
    pub fn kvm(mut self, kvm: bool) -> HostRoot {
        self.kvm = kvm;
        self
    }

    /// The virtualisation flag in cpuinfo (`vmx`, `svm`, or "" for none).
    pub fn cpu_flag(mut self, flag: &str) -> HostRoot {
        self.cpu_flag = flag.to_string();
        self
    }

    /// kvm_intel's `nested` parameter (None: the module is not loaded).
    pub fn nested(mut self, value: Option<&str>) -> HostRoot {
        self.nested = value.map(str::to_string);
        self
    }

    pub fn mem_available_kib(mut self, kib: u64) -> HostRoot {
        self.mem_available_kib = kib;
        self
    }

    /// Write the tree into `dir`.
    pub fn write(&self, dir: &Path) {
        std::fs::create_dir_all(dir.join("proc")).unwrap();
        std::fs::write(
            dir.join("proc/cpuinfo"),
            format!(
                "processor\t: 0\nflags\t\t: fpu vme de pse {} sse sse2\n",
                self.cpu_flag
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("proc/meminfo"),
            format!(
                "MemTotal: 33554432 kB\nMemFree: 1000 kB\nMemAvailable: {} kB\n",
                self.mem_available_kib
            ),
        )
        .unwrap();
        if self.kvm {
            std::fs::create_dir_all(dir.join("dev")).unwrap();
            std::fs::write(dir.join("dev/kvm"), "").unwrap();
        }
        if let Some(value) = &self.nested {
            let p = dir.join("sys/module/kvm_intel/parameters");
            std::fs::create_dir_all(&p).unwrap();
            std::fs::write(p.join("nested"), format!("{value}\n")).unwrap();
        }
    }

    /// Write the tree into a new temporary directory.
    pub fn temp(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        self.write(dir.path());
        dir
    }
}

impl Default for HostRoot {
    fn default() -> HostRoot {
        HostRoot::new()
    }
}
