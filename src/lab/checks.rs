//! Host checks before a lab is made: KVM, CPU flags, nested virtualization,
//! memory and disk. Pure over [`HostFacts`]: each problem says its remedy.

use super::facts::{CpuVirt, HostFacts, KvmDevice};
use super::model::Accel;
use std::fmt;
use std::path::Path;

/// What the lab asks of the host.
#[derive(Debug, Clone)]
pub struct Needs<'a> {
    pub accel: Accel,
    /// Sum of the VMs' memory.
    pub memory_mib: u64,
    /// Sum of the VMs' disks (qcow2 grows up to this).
    pub disk_mib: u64,
    /// Where the disks go.
    pub dir: &'a Path,
}

/// One failed check: `what` is the check's name (`kvm`, `nested`, …), `fix` its remedy.
pub use crate::problem::Problem;

/// Which problem a caller may offer to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixable {
    /// Nested virtualization is off for this module.
    NestedOff(&'static str),
}

/// The outcome of every check.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub problems: Vec<Problem>,
    pub warnings: Vec<String>,
    pub fixable: Option<Fixable>,
}

/// The host cannot run the lab; nothing was made.
#[derive(Debug, thiserror::Error)]
pub struct HostNotReady {
    pub problems: Vec<Problem>,
    /// Said after the problems (e.g. what an offered fix did).
    pub note: Option<String>,
}

impl fmt::Display for HostNotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "this host cannot run the lab ({} problem(s)); nothing was made",
            self.problems.len()
        )?;
        for p in &self.problems {
            writeln!(f, "  [{}] {}", p.what, p.message)?;
            writeln!(f, "      fix: {}", p.fix)?;
        }
        if let Some(note) = &self.note {
            write!(f, "  {note}")?;
        }
        Ok(())
    }
}

/// Memory left to the host itself beyond the VMs.
pub const HOST_RESERVE_MIB: u64 = 512;

/// The loud warning for software emulation.
pub const TCG_WARNING: &str = "WARNING: --accel tcg: the VMs run under SOFTWARE EMULATION. \
Everything is many times slower than with KVM, and nested KVM is NOT available inside the \
VMs: compute nodes cannot start instances with KVM. Use it to test installation, not the cloud.";

/// Run every check.
pub fn check(facts: &dyn HostFacts, needs: &Needs) -> Outcome {
    let mut out = Outcome::default();
    let cpu = facts.cpu_virt();
    let kvm = facts.kvm_device();
    match needs.accel {
        Accel::Tcg => {
            out.warnings.push(TCG_WARNING.to_string());
        }
        Accel::Kvm => {
            kvm_checks(&mut out, &kvm, cpu);
            if let Some(module) = cpu.module() {
                nested_check(&mut out, facts, module);
            }
        }
    }
    memory_check(&mut out, facts, needs);
    disk_check(&mut out, facts, needs);
    out
}

fn kvm_checks(out: &mut Outcome, kvm: &KvmDevice, cpu: CpuVirt) {
    if cpu == CpuVirt::None {
        out.problems.push(Problem {
            what: "cpu".into(),
            message: "the CPU shows neither vmx (Intel VT-x) nor svm (AMD-V) in /proc/cpuinfo"
                .into(),
            fix: "turn on virtualization (VT-x / AMD-V / SVM) in the firmware setup; inside a \
                     VM, enable nested virtualization on its host; or use `--driver qemu --accel tcg` \
                     (software emulation, slow)"
                .into(),
        });
    }
    match kvm {
        KvmDevice::Usable => {}
        KvmDevice::Missing => out.problems.push(Problem {
            what: "kvm".into(),
            message: "/dev/kvm does not exist".into(),
            fix: "load the KVM module (`modprobe kvm_intel` or `modprobe kvm_amd`) after \
                     enabling virtualization in the firmware; or use `--driver qemu --accel tcg`"
                .into(),
        }),
        KvmDevice::NoAccess(why) => out.problems.push(Problem {
            what: "kvm".into(),
            message: format!("/dev/kvm cannot be opened read-write: {why}"),
            fix: "run as root or add yourself to the kvm group (`usermod -aG kvm $USER`, then \
                     log in again)"
                .into(),
        }),
    }
}

fn nested_check(out: &mut Outcome, facts: &dyn HostFacts, module: &'static str) {
    let conf = facts.modprobe_conf();
    match facts.nested(module) {
        Some(true) => {}
        Some(false) => {
            out.problems.push(Problem {
                what: "nested".into(),
                message: format!(
                    "nested virtualization is off (/sys/module/{module}/parameters/nested): \
                     the compute nodes could not run instances with KVM"
                ),
                fix: format!(
                    "write `options {module} nested=1` to {} (aerie offers to, or give \
                     --enable-nested), then reload the module with no VMs running \
                     (`modprobe -r {module} && modprobe {module}`) or reboot the host",
                    conf.display()
                ),
            });
            out.fixable = Some(Fixable::NestedOff(module));
        }
        None => out.problems.push(Problem {
            what: "nested".into(),
            message: format!("the {module} module is not loaded (no /sys/module/{module})"),
            fix: format!(
                "`modprobe {module}` (with `options {module} nested=1` in {})",
                conf.display()
            ),
        }),
    }
}

fn memory_check(out: &mut Outcome, facts: &dyn HostFacts, needs: &Needs) {
    let want = needs.memory_mib + HOST_RESERVE_MIB;
    match facts.mem_available_mib() {
        Some(have) if have >= want => {}
        Some(have) => out.problems.push(Problem {
            what: "memory".into(),
            message: format!(
                "the lab's VMs need {} MiB and the host keeps {HOST_RESERVE_MIB} MiB, but only \
                 {have} MiB are available (MemAvailable in /proc/meminfo)",
                needs.memory_mib
            ),
            fix: "give the VMs less memory (`--memory MIB`), use a site with fewer nodes, or \
                     stop other VMs and programs"
                .into(),
        }),
        None => out
            .warnings
            .push("cannot read MemAvailable from /proc/meminfo: memory not checked".into()),
    }
}

fn disk_check(out: &mut Outcome, facts: &dyn HostFacts, needs: &Needs) {
    match facts.disk_free_mib(needs.dir) {
        Some(have) if have >= needs.disk_mib => {}
        Some(have) => out.problems.push(Problem {
            what: "disk".into(),
            message: format!(
                "the VMs' disks may grow to {} MiB but {} has {have} MiB free",
                needs.disk_mib,
                needs.dir.display()
            ),
            fix: "free space, give smaller disks (`--disk-gb N`), or put the lab elsewhere \
                     (`--dir DIR`)"
                .into(),
        }),
        None => out.warnings.push(format!(
            "cannot tell the free space of {}: disk not checked",
            needs.dir.display()
        )),
    }
}

/// Write the module option that turns nested virtualization on at the next
/// load; returns what to tell the user (the module is NOT reloaded here).
pub fn enable_nested(facts: &dyn HostFacts, module: &str) -> anyhow::Result<String> {
    use anyhow::Context;
    let path = facts.modprobe_conf();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let content = format!("# written by aerie lab: nested virtualization for the lab's compute nodes\noptions {module} nested=1\n");
    crate::fsutil::write_atomic(
        &path,
        content.as_bytes(),
        0o644,
        crate::fsutil::Overwrite::Allow,
    )?;
    Ok(format!(
        "wrote {}. Nested virtualization is still OFF until {module} is reloaded with no VMs \
         running (`modprobe -r {module} && modprobe {module}`) or the host reboots; then run \
         `aerie lab up` again.",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A host state given directly (the states the issue names).
    struct State {
        kvm: KvmDevice,
        cpu: CpuVirt,
        nested: Option<bool>,
        mem: u64,
    }

    impl HostFacts for State {
        fn kvm_device(&self) -> KvmDevice {
            self.kvm.clone()
        }
        fn cpu_virt(&self) -> CpuVirt {
            self.cpu
        }
        fn nested(&self, _: &str) -> Option<bool> {
            self.nested
        }
        fn mem_available_mib(&self) -> Option<u64> {
            Some(self.mem)
        }
        fn disk_free_mib(&self, _: &Path) -> Option<u64> {
            Some(100_000)
        }
        fn modprobe_conf(&self) -> PathBuf {
            PathBuf::from("/etc/modprobe.d/kvm-nested.conf")
        }
    }

    fn good() -> State {
        State {
            kvm: KvmDevice::Usable,
            cpu: CpuVirt::Intel,
            nested: Some(true),
            mem: 16_000,
        }
    }

    fn needs(accel: Accel) -> Needs<'static> {
        Needs {
            accel,
            memory_mib: 8192,
            disk_mib: 60_000,
            dir: Path::new("/tmp"),
        }
    }

    fn checks(s: &State, accel: Accel) -> Vec<String> {
        check(s, &needs(accel))
            .problems
            .into_iter()
            .map(|p| p.what)
            .collect()
    }

    #[test]
    fn nested_on_passes() {
        assert!(checks(&good(), Accel::Kvm).is_empty());
    }

    #[test]
    fn no_kvm_fails_under_kvm_and_warns_under_tcg() {
        let s = State {
            kvm: KvmDevice::Missing,
            cpu: CpuVirt::None,
            nested: None,
            ..good()
        };
        assert_eq!(checks(&s, Accel::Kvm), ["cpu", "kvm"]);
        let out = check(&s, &needs(Accel::Tcg));
        assert!(out.problems.is_empty());
        assert!(out.warnings[0].contains("SOFTWARE EMULATION"));
    }

    #[test]
    fn nested_off_is_fixable_and_says_reload() {
        let s = State {
            nested: Some(false),
            ..good()
        };
        let out = check(&s, &needs(Accel::Kvm));
        assert_eq!(out.fixable, Some(Fixable::NestedOff("kvm_intel")));
        assert!(out.problems[0].fix.contains("modprobe -r kvm_intel"));
    }

    #[test]
    fn low_memory_names_the_numbers() {
        let s = State {
            mem: 4000,
            ..good()
        };
        let out = check(&s, &needs(Accel::Kvm));
        assert_eq!(out.problems.len(), 1);
        assert!(
            out.problems[0].message.contains("8192 MiB"),
            "{:?}",
            out.problems
        );
        assert!(out.problems[0].fix.contains("--memory"));
    }
}
