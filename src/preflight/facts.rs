//! A host's hardware facts, read in one round trip by one fixed script: CPU
//! flags, kernel command line, memory, IOMMU units, nested KVM, PCI devices
//! with their SR-IOV capacity, and free disk space. Every path is read under
//! a root prefix (`/` on a real host; a fixture directory in tests, or a chroot).

pub use crate::facts::{parse, Facts, PciDevice};
use crate::ssh::Connection;
use crate::ssh::SshError;

/// Prints `@@section` lines, each followed by its facts. $1 is the root prefix,
/// the other arguments the paths whose free space is wanted.
const SCRIPT: &str = r#"r=${1%/}; shift
sec() { printf '@@%s\n' "$1"; }
sec cpuflags; grep -m1 '^flags' "$r/proc/cpuinfo" 2>/dev/null
sec cmdline; cat "$r/proc/cmdline" 2>/dev/null
sec meminfo; grep '^MemTotal:' "$r/proc/meminfo" 2>/dev/null
sec iommu; [ -d "$r/sys/class/iommu" ] && ls -1 "$r/sys/class/iommu"
sec nested
for m in kvm_intel kvm_amd; do
  f="$r/sys/module/$m/parameters/nested"
  if [ -r "$f" ]; then printf '%s %s\n' "$m" "$(cat "$f")"; fi
done
sec pci
for d in "$r"/sys/bus/pci/devices/*; do
  [ -r "$d/vendor" ] || continue
  t=-; [ -r "$d/sriov_totalvfs" ] && t=$(cat "$d/sriov_totalvfs")
  printf '%s %s %s %s\n' "${d##*/}" "$(cat "$d/vendor")" "$(cat "$d/device" 2>/dev/null)" "$t"
done
sec disk
for p in "$@"; do
  q="$r$p"; while [ ! -e "$q" ] && [ "$q" != / ] && [ -n "$q" ]; do q=$(dirname -- "$q"); done
  printf '%s %s\n' "$p" "$(df -Pk -- "${q:-/}" 2>/dev/null | awk 'NR==2 {print $4}')"
done
sec end
"#;

/// Why facts could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FactsError {
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error("the facts script failed (exit status {status}): {stderr}")]
    Script { status: i32, stderr: String },
}

/// Read a host's facts under `root`, measuring free space under `disk_paths`.
pub fn read(conn: &Connection, root: &str, disk_paths: &[&str]) -> Result<Facts, FactsError> {
    let mut argv = vec!["sh", "-c", SCRIPT, "aerie-facts", root];
    argv.extend_from_slice(disk_paths);
    let out = conn.run(&argv, None)?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.success() || !text.contains("@@end") {
        return Err(FactsError::Script {
            status: out.status,
            stderr: out.stderr_text(),
        });
    }
    Ok(parse(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The script itself, run here against a fixture tree.
    #[test]
    fn script_reads_a_fixture_root() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        let put = |p: &str, text: &str| {
            let path = r.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        put(
            "proc/cpuinfo",
            "processor\t: 0\nflags\t\t: fpu vme vmx sse\nprocessor\t: 1\nflags\t\t: fpu\n",
        );
        put(
            "proc/cmdline",
            "BOOT_IMAGE=/vmlinuz ro intel_iommu=on iommu=pt\n",
        );
        put(
            "proc/meminfo",
            "MemTotal:       16314352 kB\nMemFree: 1 kB\n",
        );
        std::fs::create_dir_all(r.join("sys/class/iommu/dmar0")).unwrap();
        put("sys/module/kvm_intel/parameters/nested", "N\n");
        put("sys/bus/pci/devices/0000:03:00.0/vendor", "0x15b3\n");
        put("sys/bus/pci/devices/0000:03:00.0/device", "0x1003\n");
        put("sys/bus/pci/devices/0000:03:00.0/sriov_totalvfs", "8\n");
        put("sys/bus/pci/devices/0000:00:02.0/vendor", "0x8086\n");
        put("sys/bus/pci/devices/0000:00:02.0/device", "0x3e92\n");
        let out = crate::exec::run(&mut crate::exec::command(
            "sh",
            [
                "-c",
                SCRIPT,
                "aerie-facts",
                &r.display().to_string(),
                "/var/lib/nova",
            ],
        ))
        .unwrap();
        let f = parse(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(f.cpu_flags, ["fpu", "vme", "vmx", "sse"]);
        assert_eq!(
            f.cmdline.as_deref(),
            Some("BOOT_IMAGE=/vmlinuz ro intel_iommu=on iommu=pt")
        );
        assert_eq!(f.mem_total_kb, Some(16314352));
        assert_eq!(f.iommu_units, ["dmar0"]);
        assert_eq!(f.nested, [("kvm_intel".to_string(), "N".to_string())]);
        assert_eq!(f.pci.len(), 2);
        let mlx = f.pci.iter().find(|d| d.vendor == "15b3").unwrap();
        assert_eq!((mlx.device.as_str(), mlx.total_vfs), ("1003", Some(8)));
        assert_eq!(
            f.pci.iter().find(|d| d.vendor == "8086").unwrap().total_vfs,
            None
        );
        assert_eq!(f.disk_free_kb.len(), 1);
        assert_eq!(f.disk_free_kb[0].0, "/var/lib/nova");
        assert!(f.disk_free_kb[0].1.unwrap() > 0);
    }

    #[test]
    fn an_empty_root_gives_no_facts() {
        let dir = tempfile::tempdir().unwrap();
        let out = crate::exec::run(&mut crate::exec::command(
            "sh",
            [
                "-c",
                SCRIPT,
                "aerie-facts",
                &dir.path().display().to_string(),
            ],
        ))
        .unwrap();
        let f = parse(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(f, Facts::default());
    }
}
