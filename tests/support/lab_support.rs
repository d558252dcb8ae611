//! Support for the qemu lab tests: a network namespace per test (the lab is
//! never made on the machine's own interfaces), the aerie binary run inside
//! it, what is left in it, and the fixture installer ISO.
#![allow(dead_code)]

use crate::harness::{aerie, tool, OutputText};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const SETUP: &str = "run scripts/test-deps.sh (qemu-system-x86, qemu-utils, xorriso, nftables, iproute2, isolinux, grub-*-bin, mtools, dosfstools, debian-installer-12-netboot-amd64)";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub fn require_root() {
    let out = tool("id").arg("-u").run();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "0",
        "the lab tests make network namespaces: run them as root (scripts/test.sh)"
    );
}

/// A network namespace, removed with every process in it on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new() -> Netns {
        require_root();
        let name = format!(
            "aelab{}x{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        tool("ip").args(["netns", "add", &name]).run();
        Netns { name }
    }

    /// `ip netns exec NS program args...`
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]);
        cmd
    }

    /// `program args...` in the namespace; it must succeed; its stdout.
    pub fn run(&self, program: &str, args: &[&str]) -> String {
        tool(program)
            .args(args)
            .in_netns(&self.name)
            .run()
            .stdout_text()
    }

    /// The aerie binary inside the namespace: its output, and stdout then stderr.
    pub fn aerie(&self, args: &[&str], cwd: &Path) -> (Output, String) {
        let out = aerie().args(args).cwd(cwd).in_netns(&self.name).output();
        let text = out.text();
        (out, text)
    }

    /// Interface names in the namespace.
    pub fn links(&self) -> Vec<String> {
        let text = self.run("ip", &["-o", "link", "show"]);
        let mut names: Vec<String> = text
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|n| n.split('@').next().unwrap().to_string())
            .collect();
        names.sort();
        names
    }

    pub fn nft_ruleset(&self) -> String {
        self.run("nft", &["list", "ruleset"])
    }

    pub fn ip_forward(&self) -> String {
        self.run("cat", &["/proc/sys/net/ipv4/ip_forward"])
            .trim()
            .to_string()
    }

    /// A program in the namespace listening on TCP `addr:port` (`0.0.0.0` for
    /// every address), from when this returns until the holder is dropped.
    pub fn hold_port(&self, addr: &str, port: u16) -> PortHolder {
        let mut child = self
            .command("python3")
            .args([
                "-c",
                &format!(
                    "import socket,time\ns=socket.socket()\ns.bind(('{addr}',{port}))\ns.listen()\nprint('ready',flush=True)\ntime.sleep(120)"
                ),
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut ready = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
            &mut ready,
        )
        .unwrap();
        assert_eq!(
            ready, "ready\n",
            "the port holder for {addr}:{port} did not start"
        );
        PortHolder(child)
    }

    /// PIDs of processes in the namespace.
    pub fn pids(&self) -> Vec<u32> {
        let out = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for pid in self.pids() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// See [`Netns::hold_port`]; killed (by its PID) and reaped on drop.
pub struct PortHolder(std::process::Child);

impl Drop for PortHolder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether the process is gone (or a zombie awaiting its reaper).
pub fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => {
            let rest = &stat[stat.rfind(')').unwrap() + 1..];
            matches!(rest.split_whitespace().next(), Some("Z" | "X"))
        }
    }
}

/// The Rocky-9-like fixture installer ISO (`fixtures/iso/make-base-el9.sh`),
/// label `Rocky 9.4 x86_64`.
pub fn fixture_iso(dir: &Path) -> PathBuf {
    let iso = dir.join("base-el9.iso");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/iso/make-base-el9.sh");
    let out = Command::new("sh").arg(script).arg(&iso).output().unwrap();
    assert!(
        out.status.success(),
        "the fixture ISO could not be built ({SETUP}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    iso
}

/// A base ISO in `dir` without an installer kernel (only images/readme.txt).
pub fn iso_without_kernel(dir: &Path) -> PathBuf {
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("images")).unwrap();
    std::fs::write(tree.join("images/readme.txt"), "no kernel here\n").unwrap();
    let iso = dir.join("nokernel.iso");
    tool("xorriso")
        .args([
            "-as", "mkisofs", "-quiet", "-R", "-J", "-V", "NOKERNEL", "-o",
        ])
        .arg(&iso)
        .arg(&tree)
        .run();
    iso
}

/// How long a boot may take: `AERIE_BOOT_TIMEOUT` seconds, default 300 (one
/// TCG boot took 150 s on a loaded machine).
pub fn boot_deadline() -> Duration {
    Duration::from_secs(
        std::env::var("AERIE_BOOT_TIMEOUT")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(300),
    )
}

/// Poll a serial log for the kernel's `Command line:`; returns it and when it appeared.
pub fn wait_for_command_line(
    log: &Path,
    since: Instant,
    deadline: Duration,
) -> Result<(String, Duration), String> {
    loop {
        let text = String::from_utf8_lossy(&std::fs::read(log).unwrap_or_default()).into_owned();
        if let Some(line) = text.lines().find_map(|l| {
            l.split_once("Command line: ")
                .map(|(_, r)| r.trim_end().to_string())
        }) {
            return Ok((line, since.elapsed()));
        }
        if since.elapsed() > deadline {
            let tail: String = text
                .chars()
                .rev()
                .take(2000)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            return Err(format!(
                "no `Command line:` in {} within {deadline:?}; tail:\n{tail}",
                log.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Poll several serial logs at once for the kernel's `Command line:`: each
/// one's line and when it appeared (every log checked each round, so a
/// VM's time is its own, not the slowest before it).
pub fn wait_for_command_lines(
    logs: &[PathBuf],
    since: Instant,
    deadline: Duration,
) -> Result<Vec<(String, Duration)>, String> {
    let mut found: Vec<Option<(String, Duration)>> = vec![None; logs.len()];
    loop {
        for (log, slot) in logs.iter().zip(found.iter_mut()) {
            if slot.is_none() {
                // A zero deadline: look once, now.
                if let Ok(hit) = wait_for_command_line(log, since, Duration::ZERO) {
                    *slot = Some(hit);
                }
            }
        }
        if found.iter().all(Option::is_some) {
            return Ok(found.into_iter().map(Option::unwrap).collect());
        }
        if since.elapsed() > deadline {
            let missing = logs
                .iter()
                .zip(&found)
                .find(|(_, f)| f.is_none())
                .map(|(l, _)| l.clone())
                .unwrap();
            return wait_for_command_line(&missing, since, Duration::ZERO).map(|_| Vec::new());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// [`wait_for_command_lines`] on the serial logs of the lab's `nodes`
/// (`LAB/NODE.serial.log`), within [`boot_deadline`]: each node's line and
/// when it appeared.
pub fn nodes_command_lines(lab: &Path, nodes: &[&str], since: Instant) -> Vec<(String, Duration)> {
    let logs: Vec<PathBuf> = nodes
        .iter()
        .map(|node| lab.join(format!("{node}.serial.log")))
        .collect();
    wait_for_command_lines(&logs, since, boot_deadline()).unwrap()
}

/// `aerie iso` making the cidata volume of `node` of ./site.yaml into `out`, as a
/// user makes it (configuration only, no installer).
pub fn cidata_iso<'a>(node: &'a str, out: &'a str) -> [&'a str; 8] {
    [
        "iso",
        "site.yaml",
        "--config-only",
        "--cidata",
        "--node",
        node,
        "-o",
        out,
    ]
}

/// `aerie lab up` for the lab example on the qemu driver under TCG, small
/// enough for a 2-core test machine: 512 MiB, 1 CPU, a disk of `disk_gb`.
pub fn small_lab_up(iso: &Path, disk_gb: &str) -> Vec<String> {
    [
        "lab",
        "up",
        "--example",
        "lab",
        "--driver",
        "qemu",
        "--accel",
        "tcg",
        "--iso",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([iso.to_string_lossy().into_owned()])
    .chain(
        [
            "--dir",
            "lab",
            "--memory",
            "512",
            "--cpus",
            "1",
            "--disk-gb",
            disk_gb,
        ]
        .iter()
        .map(|s| s.to_string()),
    )
    .collect()
}
