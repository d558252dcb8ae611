//! Nested KVM: `options kvm_intel nested=1` (or kvm_amd). libvirt's own
//! setting does not reload the module: the host must reboot (or reload it).

use super::{Concern, Ctx};
use crate::bundle::{HostBundle, RebootReason};
use crate::site::Iommu;

pub const PATH: &str = "/etc/modprobe.d/kvm-nested.conf";

pub fn add(ctx: &Ctx, bundle: &mut HostBundle) {
    if !ctx.site.features.nested_kvm {
        return;
    }
    // The IOMMU vendor tells the CPU vendor; without it, set both (an option
    // for a module that never loads is harmless).
    let modules: &[&str] = match ctx.site.features.iommu {
        Iommu::Intel => &["kvm_intel"],
        Iommu::Amd => &["kvm_amd"],
        Iommu::Off => &["kvm_intel", "kvm_amd"],
    };
    let mut content = super::header(ctx, "nested virtualisation");
    for m in modules {
        content.push_str(&format!("options {m} nested=1\n"));
    }
    bundle
        .files
        .push(super::root_file(PATH, 0o644, content, Concern::NestedKvm));
    bundle.reboot_required.push(RebootReason {
        concern: Concern::NestedKvm,
        reason: format!(
            "{} reads nested=1 when it loads (reboot, or reload it with no guests running)",
            modules.join("/")
        ),
    });
}
