//! The preflight checks: pure functions of the site, the node's role needs
//! and its facts. Each failed check names its remedy.

use super::facts::Facts;
use crate::bundle::Concern;
use crate::concerns::iommu;
use crate::problem::Problem;
use crate::profile::{Profile, RoleNeeds};
use crate::site::{Iommu, Node, Site};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    Fail,
}

/// One row of the table: the check's name (`what`), what was found
/// (`message`), and for a failed check its remedy (`fix`).
#[derive(Debug, Clone)]
pub struct Check {
    pub outcome: Outcome,
    pub problem: Problem,
}

impl Check {
    /// The remedy of a failed check.
    pub fn remedy(&self) -> Option<&str> {
        (self.outcome == Outcome::Fail).then_some(self.problem.fix.as_str())
    }
}

/// A check as JSON: `check`, `outcome`, `detail`, and `remedy` when it failed.
#[derive(Serialize)]
struct CheckJson<'a> {
    check: &'a str,
    outcome: Outcome,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    remedy: Option<&'a str>,
}

impl Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        CheckJson {
            check: &self.problem.what,
            outcome: self.outcome,
            detail: &self.problem.message,
            remedy: self.remedy(),
        }
        .serialize(s)
    }
}

fn pass(check: &str, detail: String) -> Check {
    Check {
        outcome: Outcome::Pass,
        problem: Problem::new(check, detail, ""),
    }
}

fn fail(check: &str, detail: String, remedy: String) -> Check {
    Check {
        outcome: Outcome::Fail,
        problem: Problem::new(check, detail, remedy),
    }
}

/// The disk paths this role's checks measure.
pub fn disk_paths(needs: &RoleNeeds) -> Vec<&str> {
    needs.disk.iter().map(|d| d.path.as_str()).collect()
}

/// Every check that applies to the node, in table order.
pub fn run(
    site: &Site,
    node: &Node,
    profile: &Profile,
    needs: &RoleNeeds,
    f: &Facts,
) -> Vec<Check> {
    let concerns = &profile.role(node.role).concerns;
    let mut out = Vec::new();
    if needs.cpu_virtualization {
        out.push(cpu(f));
    }
    if concerns.contains(&Concern::Iommu) && site.features.iommu != Iommu::Off {
        out.push(iommu_check(site.features.iommu, f));
    }
    if concerns.contains(&Concern::Sriov) {
        if let Some(s) = &site.features.sriov {
            out.push(sriov(s, f));
        }
    }
    out.push(memory(node, needs, f));
    for d in &needs.disk {
        out.push(disk(&d.path, d.gb, f));
    }
    if concerns.contains(&Concern::NestedKvm) && site.features.nested_kvm {
        out.push(nested(site.features.iommu, f));
    }
    out
}

fn cpu(f: &Facts) -> Check {
    let has = |flag: &str| f.cpu_flags.iter().any(|x| x == flag);
    if has("vmx") {
        pass("cpu virtualization", "vmx (Intel VT-x)".into())
    } else if has("svm") {
        pass("cpu virtualization", "svm (AMD-V)".into())
    } else {
        fail(
            "cpu virtualization",
            "no vmx or svm flag in /proc/cpuinfo".into(),
            "enable Intel VT-x / AMD-V (SVM) in the BIOS/UEFI setup; on a virtual machine, \
             turn on nested virtualization in its hypervisor"
                .into(),
        )
    }
}

fn iommu_check(which: Iommu, f: &Facts) -> Check {
    let args = iommu::kernel_args(which);
    if !f.iommu_units.is_empty() {
        return pass(
            "iommu",
            format!("active: /sys/class/iommu has {}", f.iommu_units.join(", ")),
        );
    }
    let missing = f.missing_kernel_args(&args);
    if !missing.is_empty() {
        fail(
            "iommu",
            format!(
                "not active (/sys/class/iommu is empty); the kernel command line lacks {}",
                missing.join(" ")
            ),
            format!(
                "`aerie apply` adds {} to the kernel command line; then reboot",
                args.join(" ")
            ),
        )
    } else {
        let bios = if which == Iommu::Amd {
            "AMD-Vi (IOMMU)"
        } else {
            "VT-d"
        };
        fail(
            "iommu",
            format!(
                "not active (/sys/class/iommu is empty) although the kernel command line has {}",
                args.join(" ")
            ),
            format!("enable {bios} in the BIOS/UEFI setup, then reboot"),
        )
    }
}

fn sriov(s: &crate::site::Sriov, f: &Facts) -> Check {
    let vendors: Vec<String> = s
        .passthrough
        .iter()
        .map(|p| p.vendor_id.to_string().to_ascii_lowercase())
        .collect();
    let ours: Vec<_> = f
        .pci
        .iter()
        .filter(|d| vendors.is_empty() || vendors.contains(&d.vendor))
        .collect();
    let want = s.num_vfs;
    let capable: Vec<_> = ours.iter().filter(|d| d.total_vfs.is_some()).collect();
    if let Some(d) = capable.iter().find(|d| d.total_vfs >= Some(want)) {
        return pass(
            "sr-iov",
            format!(
                "{} [{}:{}] sriov_totalvfs {} >= num-vfs {want}",
                d.address,
                d.vendor,
                d.device,
                d.total_vfs.unwrap_or(0)
            ),
        );
    }
    let firmware = format!(
        "enable SR-IOV in the adapter's firmware (Mellanox: `mlxconfig -d <device> set SRIOV_EN=1 NUM_OF_VFS={want}`) and SR-IOV in the BIOS, then reboot"
    );
    if let Some(d) = capable.iter().max_by_key(|d| d.total_vfs) {
        let total = d.total_vfs.unwrap_or(0);
        if total == 0 {
            return fail(
                "sr-iov",
                format!(
                    "{} [{}:{}] offers sriov_totalvfs 0",
                    d.address, d.vendor, d.device
                ),
                firmware,
            );
        }
        return fail(
            "sr-iov",
            format!(
                "{} [{}:{}] offers sriov_totalvfs {total} < num-vfs {want}",
                d.address, d.vendor, d.device
            ),
            format!(
                "raise NUM_OF_VFS in the adapter's firmware (`mlxconfig -d <device> set NUM_OF_VFS={want}`, then reboot), or lower features.sriov.num-vfs to {total}"
            ),
        );
    }
    let which = if vendors.is_empty() {
        "any vendor".to_string()
    } else {
        format!("vendor {}", vendors.join("/"))
    };
    if ours.is_empty() {
        fail(
            "sr-iov",
            format!("no PCI device of {which} (the site's passthrough vendor-id)"),
            "check the adapter is installed and the site's vendor-id; then enable SR-IOV in its firmware and the BIOS".into(),
        )
    } else {
        let list: Vec<String> = ours
            .iter()
            .map(|d| format!("{} [{}:{}]", d.address, d.vendor, d.device))
            .collect();
        fail(
            "sr-iov",
            format!(
                "{} found, none SR-IOV capable (no sriov_totalvfs)",
                list.join(", ")
            ),
            firmware,
        )
    }
}

fn gib(kb: u64) -> String {
    format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0)
}

fn memory(node: &Node, needs: &RoleNeeds, f: &Facts) -> Check {
    let want = needs.memory_mb * 1024;
    match f.mem_total_kb {
        Some(kb) if kb >= want => pass(
            "memory",
            format!("{} (needs {})", gib(kb), gib(want)),
        ),
        Some(kb) => fail(
            "memory",
            format!("{} installed, {} needs {}", gib(kb), node.role.as_str(), gib(want)),
            format!(
                "add memory, or give the {} role to a larger machine (the profile's preflight.{}.memory-mb)",
                node.role.as_str(),
                node.role.as_str()
            ),
        ),
        None => fail(
            "memory",
            "no MemTotal in /proc/meminfo".into(),
            "check /proc is mounted on the host".into(),
        ),
    }
}

fn disk(path: &str, gb: u64, f: &Facts) -> Check {
    let name = format!("disk {path}");
    let want = gb * 1024 * 1024;
    match f
        .disk_free_kb
        .iter()
        .find(|(p, _)| p == path)
        .and_then(|(_, k)| *k)
    {
        Some(kb) if kb >= want => pass(&name, format!("{} free (needs {gb} GiB)", gib(kb))),
        Some(kb) => fail(
            &name,
            format!("{} free, needs {gb} GiB", gib(kb)),
            format!("free space or mount a larger disk at {path}"),
        ),
        None => fail(
            &name,
            "could not measure the free space".into(),
            format!("check the filesystem holding {path}"),
        ),
    }
}

fn nested(which: Iommu, f: &Facts) -> Check {
    let modules: &[&str] = match which {
        Iommu::Intel => &["kvm_intel"],
        Iommu::Amd => &["kvm_amd"],
        Iommu::Off => &["kvm_intel", "kvm_amd"],
    };
    let found = f.nested.iter().find(|(m, _)| modules.contains(&m.as_str()));
    match found {
        Some((m, v)) if v == "Y" || v == "1" => pass("nested kvm", format!("{m} nested={v}")),
        Some((m, v)) => fail(
            "nested kvm",
            format!("{m} nested={v}"),
            format!("`aerie apply` writes `options {m} nested=1`; then reboot (or reload {m} with no guests running)"),
        ),
        None => fail(
            "nested kvm",
            format!("{} is not loaded", modules.join("/")),
            "enable VT-x / AMD-V in the BIOS so kvm loads; `aerie apply` sets nested=1, then reboot".into(),
        ),
    }
}
