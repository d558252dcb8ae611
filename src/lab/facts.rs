//! What the host checks need to know about this machine, behind one trait.
//!
//! [`SysHost`] reads the real files under a root directory (`/` in use; a
//! fixture tree in tests, through the hidden `--host-root` flag), so every
//! state a check distinguishes can be given to the real binary.

use crate::facts;
pub use crate::facts::CpuVirt;
use std::path::{Path, PathBuf};

/// Whether /dev/kvm can be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvmDevice {
    Missing,
    /// Present but cannot be opened read-write (the reason).
    NoAccess(String),
    Usable,
}

/// The facts the lab's host checks read. One implementation reads the
/// machine; tests give fixture trees or their own states.
pub trait HostFacts {
    fn kvm_device(&self) -> KvmDevice;
    fn cpu_virt(&self) -> CpuVirt;
    /// The module's `nested` parameter (`Y`/`1` on), `None` when the module is not loaded.
    fn nested(&self, module: &str) -> Option<bool>;
    /// MemAvailable from /proc/meminfo, in MiB.
    fn mem_available_mib(&self) -> Option<u64>;
    /// Free space for an unprivileged user on the file system holding `dir` (or its nearest existing parent), in MiB.
    fn disk_free_mib(&self, dir: &Path) -> Option<u64>;
    /// Where the nested-virtualization module options file lives.
    fn modprobe_conf(&self) -> PathBuf;
}

/// The real machine, read under `root` (normally `/`).
#[derive(Debug, Clone)]
pub struct SysHost {
    pub root: PathBuf,
}

impl SysHost {
    pub fn new(root: Option<&Path>) -> SysHost {
        SysHost {
            root: root.map_or_else(|| PathBuf::from("/"), Path::to_path_buf),
        }
    }

    fn path(&self, abs: &str) -> PathBuf {
        self.root.join(abs.trim_start_matches('/'))
    }

    fn read(&self, abs: &str) -> Option<String> {
        std::fs::read_to_string(self.path(abs)).ok()
    }
}

impl HostFacts for SysHost {
    fn kvm_device(&self) -> KvmDevice {
        let path = self.path("/dev/kvm");
        if !path.exists() {
            return KvmDevice::Missing;
        }
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
        {
            Ok(_) => KvmDevice::Usable,
            Err(e) => KvmDevice::NoAccess(e.to_string()),
        }
    }

    fn cpu_virt(&self) -> CpuVirt {
        self.read("/proc/cpuinfo")
            .map_or(CpuVirt::None, |text| CpuVirt::of(&facts::cpu_flags(&text)))
    }

    fn nested(&self, module: &str) -> Option<bool> {
        let text = self.read(&format!("/sys/module/{module}/parameters/nested"))?;
        Some(facts::nested_on(&text))
    }

    fn mem_available_mib(&self) -> Option<u64> {
        facts::meminfo_kib(&self.read("/proc/meminfo")?, "MemAvailable").map(|kib| kib / 1024)
    }

    fn disk_free_mib(&self, dir: &Path) -> Option<u64> {
        let mut probe = dir.to_path_buf();
        while !probe.exists() {
            probe = probe.parent()?.to_path_buf();
            if probe.as_os_str().is_empty() {
                probe = PathBuf::from(".");
            }
        }
        let mut cmd = crate::exec::command("df", ["-Pk", "--"]);
        cmd.arg(&probe);
        let out = crate::exec::run(&mut cmd).ok()?;
        facts::df_available_kib(&String::from_utf8_lossy(&out.stdout)).map(|kib| kib / 1024)
    }

    fn modprobe_conf(&self) -> PathBuf {
        self.path(crate::concerns::nested_kvm::PATH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_tree_gives_the_states() {
        let dir = tempfile::tempdir().unwrap();
        let host = SysHost::new(Some(dir.path()));
        assert_eq!(host.kvm_device(), KvmDevice::Missing);
        assert_eq!(host.nested("kvm_intel"), None);
        std::fs::create_dir_all(dir.path().join("sys/module/kvm_intel/parameters")).unwrap();
        std::fs::write(
            dir.path().join("sys/module/kvm_intel/parameters/nested"),
            "N\n",
        )
        .unwrap();
        assert_eq!(host.nested("kvm_intel"), Some(false));
        std::fs::write(
            dir.path().join("sys/module/kvm_intel/parameters/nested"),
            "Y\n",
        )
        .unwrap();
        assert_eq!(host.nested("kvm_intel"), Some(true));
        std::fs::create_dir_all(dir.path().join("dev")).unwrap();
        std::fs::write(dir.path().join("dev/kvm"), "").unwrap();
        assert_eq!(host.kvm_device(), KvmDevice::Usable);
    }
}
