//! Boot an ISO in qemu (software emulation) and read its serial console.
//!
//! A module of the `root` test crate (`#[path = "../support/qemu.rs"] mod qemu;`
//! in tests/root/main.rs).
//!
//! * `-accel tcg` always: /dev/kvm exists on the test machines but does not work.
//! * Firmware: [`Firmware::Bios`] (SeaBIOS) or [`Firmware::Uefi`] (OVMF as
//!   pflash, with a private copy of OVMF_VARS).
//! * Media: [`Media::Cdrom`] (IDE CD-ROM) or [`Media::UsbDisk`] (the ISO as a
//!   raw disk, `snapshot=on` so the file is never written).
//! * The serial console goes to a file; [`Vm::wait_for`] polls it, with ANSI /
//!   VT100 escape codes stripped (syslinux's menu.c32 and GRUB draw with them),
//!   until a predicate holds or the deadline passes.
//! * The qemu process is killed by its own PID on every path (`Drop`).
//! * At most [`max_parallel`] VMs run at once per test process (TCG on 2 cores
//!   is slow; `AERIE_QEMU_JOBS` overrides, default 2).
//! * Missing qemu or OVMF is an error naming `scripts/test-deps.sh`, never a
//!   skip.
//! * A whole system: [`Media::Overlay`] boots a qcow2 overlay ([`overlay`],
//!   made with qemu-img over a cached image, which it never writes) that
//!   keeps what the guest writes across its reboots; [`BootSpec::cdrom`] adds
//!   a CD (a cidata volume); [`BootSpec::nic`] a virtio NIC on a tap inside
//!   a network namespace (qemu runs in it), so the guest is reachable from
//!   that namespace only; [`BootSpec::reboots`] lets the guest reboot itself
//!   (otherwise `-no-reboot`). [`Vm::mark`] and [`Vm::wait_since`] read the
//!   serial log from a point on, each wait with its own deadline.
#![allow(dead_code)]

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// Deadline for one boot unless a test or `AERIE_BOOT_TIMEOUT` (seconds) says
/// otherwise: one BIOS boot took 150 s on a loaded machine.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(300);

const SETUP_HINT: &str = "run scripts/test-deps.sh (installs qemu-system-x86, ovmf, xorriso, \
                          isolinux, grub-*-bin, mtools, dosfstools, debian-installer-12-netboot-amd64)";

const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Firmware {
    /// SeaBIOS, qemu's default.
    Bios,
    /// OVMF (UEFI, no Secure Boot).
    Uefi,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    /// The ISO in an IDE CD-ROM drive.
    Cdrom,
    /// The ISO written to a disk, as `dd` to a USB stick would (raw, snapshot).
    UsbDisk,
    /// A qcow2 overlay (see [`overlay`]) as the guest's virtio disk, written
    /// by the guest and kept.
    Overlay,
    /// No disk at all: the VM boots from its NIC ([`BootSpec::network`]).
    Network,
}

/// A virtio NIC on a tap that exists in a network namespace.
#[derive(Clone, Debug)]
pub struct Nic {
    pub netns: String,
    pub tap: String,
    pub mac: String,
}

impl fmt::Display for Firmware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Firmware::Bios => "bios",
            Firmware::Uefi => "uefi",
        })
    }
}

impl fmt::Display for Media {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Media::Cdrom => "cd",
            Media::UsbDisk => "disk",
            Media::Overlay => "overlay",
            Media::Network => "net",
        })
    }
}

/// What to boot and how.
#[derive(Clone, Debug)]
pub struct BootSpec {
    pub iso: PathBuf,
    pub firmware: Firmware,
    pub media: Media,
    pub memory_mb: u32,
    /// From qemu's start to the last moment [`Vm::wait_for`] may succeed.
    pub deadline: Duration,
    /// A CD beside the boot media (e.g. a cidata volume).
    pub cdrom: Option<PathBuf>,
    pub nic: Option<Nic>,
    /// Whether the guest may reboot itself (else qemu exits: `-no-reboot`).
    pub reboots: bool,
    /// false: the NIC has no option ROM (`romfile=`), so the firmware's own
    /// PXE boots (OVMF: PXE → TFTP ipxe.efi), as on real servers.
    pub nic_rom: bool,
}

impl BootSpec {
    pub fn new(iso: impl Into<PathBuf>, firmware: Firmware, media: Media) -> Self {
        let deadline = std::env::var("AERIE_BOOT_TIMEOUT")
            .ok()
            .and_then(|s| s.parse().ok())
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_DEADLINE);
        BootSpec {
            iso: iso.into(),
            firmware,
            media,
            memory_mb: 1024,
            deadline,
            cdrom: None,
            nic: None,
            reboots: false,
            nic_rom: true,
        }
    }

    /// A VM with no disk that boots from `nic`; `rom`: qemu's iPXE option ROM
    /// on the NIC (else the firmware's own PXE).
    pub fn network(firmware: Firmware, nic: Nic, rom: bool) -> Self {
        let mut spec = BootSpec::new("", firmware, Media::Network).nic(nic);
        spec.nic_rom = rom;
        spec
    }

    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = d;
        self
    }

    pub fn cdrom(mut self, iso: impl Into<PathBuf>) -> Self {
        self.cdrom = Some(iso.into());
        self
    }

    pub fn nic(mut self, nic: Nic) -> Self {
        self.nic = Some(nic);
        self
    }

    pub fn reboots(mut self) -> Self {
        self.reboots = true;
        self
    }
}

/// A qcow2 overlay at `out` over the raw image `base` (`qemu-img create -F raw
/// -b BASE`): the guest's writes go to the overlay, `base` is only read.
pub fn overlay(base: &Path, out: &Path) -> Result<()> {
    if !base.is_file() {
        bail!("the base image {} does not exist", base.display());
    }
    let out_ = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-F", "raw", "-b"])
        .arg(base)
        .arg(out)
        .output()
        .with_context(|| format!("running qemu-img; {SETUP_HINT}"))?;
    if !out_.status.success() {
        bail!(
            "qemu-img create over {} failed: {}",
            base.display(),
            String::from_utf8_lossy(&out_.stderr)
        );
    }
    Ok(())
}

/// qemu's binary: `AERIE_QEMU` or `qemu-system-x86_64` from PATH.
pub fn qemu_binary() -> Result<PathBuf> {
    find_qemu(
        std::env::var_os("AERIE_QEMU"),
        std::env::var_os("PATH").unwrap_or_default(),
    )
}

fn find_qemu(explicit: Option<std::ffi::OsString>, path: std::ffi::OsString) -> Result<PathBuf> {
    if let Some(p) = explicit {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        bail!("AERIE_QEMU={} does not exist; {SETUP_HINT}", p.display());
    }
    for dir in std::env::split_paths(&path) {
        let p = dir.join("qemu-system-x86_64");
        if p.is_file() {
            return Ok(p);
        }
    }
    bail!("qemu-system-x86_64 not found in PATH; {SETUP_HINT}")
}

fn ovmf_files() -> Result<(PathBuf, PathBuf)> {
    let code =
        std::env::var_os("AERIE_OVMF_CODE").map_or_else(|| PathBuf::from(OVMF_CODE), PathBuf::from);
    let vars =
        std::env::var_os("AERIE_OVMF_VARS").map_or_else(|| PathBuf::from(OVMF_VARS), PathBuf::from);
    for f in [&code, &vars] {
        if !f.is_file() {
            bail!("UEFI firmware {} not found; {SETUP_HINT}", f.display());
        }
    }
    Ok((code, vars))
}

/// Checks that qemu and OVMF are there: an error naming the setup script if not.
pub fn check_tools() -> Result<()> {
    qemu_binary()?;
    ovmf_files()?;
    Ok(())
}

/// qemu option values: a comma is written as two.
fn qemu_escape(p: &Path) -> String {
    p.display().to_string().replace(',', ",,")
}

// ---- a small per-process limit on concurrent VMs ----------------------------

static RUNNING: Mutex<usize> = Mutex::new(0);
static SLOT_FREED: Condvar = Condvar::new();

/// How many VMs may run at once in this test process (`AERIE_QEMU_JOBS`, default 2).
pub fn max_parallel() -> usize {
    std::env::var("AERIE_QEMU_JOBS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(2)
}

struct Slot;

impl Slot {
    fn take() -> Slot {
        let max = max_parallel();
        let mut n = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        while *n >= max {
            n = SLOT_FREED.wait(n).unwrap_or_else(|e| e.into_inner());
        }
        *n += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut n = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        *n -= 1;
        SLOT_FREED.notify_one();
    }
}

// ---- the VM ------------------------------------------------------------------

/// A running qemu. Dropping it kills the qemu (by its PID) and reaps it.
pub struct Vm {
    child: Child,
    spec: BootSpec,
    log: PathBuf,
    started: Instant,
    // Field order matters: the temp dir (log, OVMF vars) goes after the child
    // has been killed in Drop; the slot is released last.
    _dir: tempfile::TempDir,
    _slot: Slot,
}

impl Vm {
    /// Starts qemu on `spec` (waiting first for a free slot, see [`max_parallel`]).
    /// The deadline counts from qemu's start, not from the wait for a slot.
    pub fn start(spec: &BootSpec) -> Result<Vm> {
        let qemu = qemu_binary()?;
        if spec.media != Media::Network && !spec.iso.is_file() {
            bail!("ISO {} does not exist", spec.iso.display());
        }
        let slot = Slot::take();
        let dir = tempfile::Builder::new()
            .prefix("aerie-qemu-")
            .tempdir()
            .context("temp dir for the VM")?;
        let log = dir.path().join("serial.log");
        fs::write(&log, b"").context("creating the serial log")?;

        // In the NIC's namespace, qemu finds its tap there; `ip netns exec`
        // execs qemu, so the child's PID is qemu's.
        let mut cmd = match &spec.nic {
            Some(nic) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", &nic.netns]).arg(&qemu);
                c
            }
            None => Command::new(&qemu),
        };
        cmd.args([
            "-machine", "q35", "-accel", "tcg", "-smp", "1", "-display", "none",
        ])
        .args(["-monitor", "none"]);
        if !spec.reboots {
            cmd.arg("-no-reboot");
        }
        match &spec.nic {
            Some(nic) => {
                cmd.arg("-netdev")
                    .arg(format!(
                        "tap,id=n0,ifname={},script=no,downscript=no",
                        nic.tap
                    ))
                    .arg("-device")
                    .arg(format!(
                        "virtio-net-pci,netdev=n0,mac={}{}",
                        nic.mac,
                        if spec.nic_rom { "" } else { ",romfile=" }
                    ));
            }
            None => {
                cmd.args(["-net", "none"]);
            }
        }
        cmd.arg("-m")
            .arg(spec.memory_mb.to_string())
            .arg("-serial")
            .arg(format!("file:{}", qemu_escape(&log)));
        if spec.firmware == Firmware::Uefi {
            let (code, vars) = ovmf_files()?;
            let my_vars = dir.path().join("OVMF_VARS.fd");
            fs::copy(&vars, &my_vars).with_context(|| format!("copying {}", vars.display()))?;
            cmd.arg("-drive").arg(format!(
                "if=pflash,format=raw,unit=0,readonly=on,file={}",
                qemu_escape(&code)
            ));
            cmd.arg("-drive").arg(format!(
                "if=pflash,format=raw,unit=1,file={}",
                qemu_escape(&my_vars)
            ));
        }
        let iso = qemu_escape(&spec.iso);
        match spec.media {
            Media::Cdrom => {
                cmd.arg("-drive")
                    .arg(format!(
                        "file={iso},format=raw,media=cdrom,readonly=on,if=ide,index=2"
                    ))
                    .args(["-boot", "d"]);
            }
            Media::UsbDisk => {
                cmd.arg("-drive")
                    .arg(format!("file={iso},format=raw,if=ide,index=0,snapshot=on"))
                    .args(["-boot", "c"]);
            }
            Media::Overlay => {
                cmd.arg("-drive")
                    .arg(format!("file={iso},format=qcow2,if=virtio"));
            }
            Media::Network => {
                cmd.args(["-boot", "n"]);
            }
        }
        if let Some(cd) = &spec.cdrom {
            if !cd.is_file() {
                bail!("CD {} does not exist", cd.display());
            }
            cmd.arg("-drive").arg(format!(
                "file={},format=raw,media=cdrom,readonly=on,if=ide,index=2",
                qemu_escape(cd)
            ));
        }
        let stderr =
            fs::File::create(dir.path().join("qemu.stderr")).context("qemu stderr file")?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}; {SETUP_HINT}", qemu.display()))?;
        Ok(Vm {
            child,
            spec: spec.clone(),
            log,
            started: Instant::now(),
            _dir: dir,
            _slot: slot,
        })
    }

    /// qemu's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Time since qemu started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The serial log so far, escape codes stripped.
    pub fn log(&self) -> Result<String> {
        let raw = fs::read(&self.log).with_context(|| format!("reading {}", self.log.display()))?;
        Ok(strip_ansi(&String::from_utf8_lossy(&raw)))
    }

    /// Polls the cleaned serial log until `pred` holds on it; returns the cleaned
    /// log. Errors (with the log's tail) when qemu exits or the deadline passes.
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> Result<String> {
        let deadline = self.started + self.spec.deadline;
        self.wait_until(0, deadline, what, pred)
    }

    /// Where the serial log ends now (in cleaned characters), for [`Vm::wait_since`].
    pub fn mark(&self) -> Result<usize> {
        Ok(self.log()?.len())
    }

    /// Like [`Vm::wait_for`] on the log after `mark` only, within `timeout`
    /// from now; returns that part of the log.
    pub fn wait_since(
        &mut self,
        mark: usize,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Result<String> {
        self.wait_until(mark, Instant::now() + timeout, what, pred)
    }

    /// Waits for the kernel's `Command line:` (within the spec's deadline); the line.
    pub fn wait_kernel(&mut self, what: &str) -> Result<String> {
        let deadline = self.started + self.spec.deadline;
        self.kernel_until(0, deadline, what)
    }

    /// Waits for the next kernel's `Command line:` after `mark` (within `timeout`
    /// from now); the line.
    pub fn wait_kernel_since(
        &mut self,
        mark: usize,
        what: &str,
        timeout: Duration,
    ) -> Result<String> {
        self.kernel_until(mark, Instant::now() + timeout, what)
    }

    fn kernel_until(&mut self, mark: usize, deadline: Instant, what: &str) -> Result<String> {
        let log = self.wait_until(mark, deadline, what, |l| kernel_command_line(l).is_some())?;
        Ok(kernel_command_line(&log).unwrap_or_default().to_string())
    }

    fn wait_until(
        &mut self,
        mark: usize,
        deadline: Instant,
        what: &str,
        pred: impl Fn(&str) -> bool,
    ) -> Result<String> {
        loop {
            let whole = self.log()?;
            let log = whole.get(mark..).unwrap_or("").to_string();
            if pred(&log) {
                return Ok(log);
            }
            if let Some(status) = self.child.try_wait().context("polling qemu")? {
                let err =
                    fs::read_to_string(self._dir.path().join("qemu.stderr")).unwrap_or_default();
                bail!(
                    "{}: qemu exited ({status}) before {what}\nqemu stderr:\n{err}\nserial log tail:\n{}",
                    self.describe(),
                    tail(&log, 3000)
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "{}: no {what} after {:?} of qemu\nserial log tail:\n{}",
                    self.describe(),
                    self.elapsed(),
                    tail(&log, 3000)
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Kills qemu now (also done on drop).
    pub fn kill(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill(); // SIGKILL to this child's PID only
        }
        let _ = self.child.wait();
    }

    fn describe(&self) -> String {
        format!(
            "{} ({} {}, qemu pid {})",
            self.spec.iso.display(),
            self.spec.firmware,
            self.spec.media,
            self.child.id()
        )
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The last `n` bytes of `s` (from a character's start).
pub fn tail(s: &str, n: usize) -> &str {
    if s.len() <= n {
        return s;
    }
    let mut i = s.len() - n;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

/// The kernel's `Command line: ...` (x86 prints it early at KERN_INFO, so it
/// shows with `console=ttyS0` unless `quiet` is left without `loglevel=7`).
/// Only a whole line counts: the log is read while the kernel writes it, and
/// a line without its newline yet may be cut short.
pub fn kernel_command_line(log: &str) -> Option<&str> {
    log.split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .find_map(|l| {
            l.split_once("Command line: ")
                .map(|(_, rest)| rest.trim_end())
        })
}

/// Removes ANSI / VT100 escape sequences and carriage returns. Cursor
/// positioning (`CSI row;col H`) becomes a newline so that text drawn on
/// different screen rows does not run together.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\x1b' => match it.next() {
                Some('[') => {
                    // CSI: parameter bytes 0x30-0x3F, intermediates 0x20-0x2F, final 0x40-0x7E
                    for f in it.by_ref() {
                        if ('\x40'..='\x7e').contains(&f) {
                            if f == 'H' || f == 'f' {
                                out.push('\n');
                            }
                            break;
                        }
                    }
                }
                Some(']') => {
                    // OSC: until BEL or ESC '\'
                    while let Some(f) = it.next() {
                        if f == '\x07' {
                            break;
                        }
                        if f == '\x1b' {
                            it.next();
                            break;
                        }
                    }
                }
                Some('(' | ')' | '*' | '+' | '#' | '%') => {
                    it.next(); // charset designation etc.: one more byte
                }
                _ => {} // two-byte sequences (ESC 7, ESC =, ...)
            },
            '\r' | '\x0e' | '\x0f' | '\x07' | '\0' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_menu_c32_and_grub_escapes() {
        let raw =
            "\x1b[0m\x1b[2J\x1b[1;1H\x1b(0lqqk\x1b(B\x1b[5;10H\x1b[37;40mInstall Rocky\x1b[0m\r\n\
                   \x1b[=3hBdsDxe\x1b]0;title\x07 ok\x1b7";
        let s = strip_ansi(raw);
        assert!(s.contains("\nlqqk\nInstall Rocky\n"), "{s:?}");
        assert!(s.contains("BdsDxe ok"), "{s:?}");
        assert!(!s.contains('\x1b'));
    }

    #[test]
    fn missing_qemu_names_the_setup_script() {
        let err = find_qemu(None, "/nonexistent-dir".into())
            .unwrap_err()
            .to_string();
        assert!(err.contains("scripts/test-deps.sh"), "{err}");
        let err = find_qemu(Some("/nonexistent/qemu".into()), "".into())
            .unwrap_err()
            .to_string();
        assert!(err.contains("scripts/test-deps.sh"), "{err}");
    }

    #[test]
    fn finds_the_command_line() {
        let log = "x\n[    0.000000] Command line: BOOT_IMAGE=vmlinuz a=b\n[ 0.1] y\n";
        assert_eq!(kernel_command_line(log), Some("BOOT_IMAGE=vmlinuz a=b"));
        // Not yet whole: not yet found.
        assert_eq!(
            kernel_command_line("[ 0.0] Command line: BOOT_IMAGE=v rd.li"),
            None
        );
    }
}
