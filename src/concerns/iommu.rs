//! IOMMU on the kernel command line: `intel_iommu=on iommu=pt` (AMD:
//! `amd_iommu=on iommu=pt`), exactly once, through `/etc/default/grub`.

use super::{family, Concern, Ctx};
use crate::bundle::{Action, Edit, HostBundle, RebootReason, Stage, Trigger};
use crate::site::Iommu;

pub const GRUB_DEFAULTS: &str = "/etc/default/grub";

/// The kernel arguments for an IOMMU setting (none when off).
pub fn kernel_args(iommu: Iommu) -> Vec<String> {
    match iommu {
        Iommu::Intel => vec!["intel_iommu=on".into(), "iommu=pt".into()],
        Iommu::Amd => vec!["amd_iommu=on".into(), "iommu=pt".into()],
        Iommu::Off => Vec::new(),
    }
}

pub fn add(ctx: &Ctx, bundle: &mut HostBundle) {
    let args = kernel_args(ctx.site.features.iommu);
    if args.is_empty() {
        return;
    }
    bundle.edits.push(super::edit(
        GRUB_DEFAULTS,
        Edit::KernelArgs { args: args.clone() },
        0o644,
        "root",
        Concern::Iommu,
    ));
    let family = family::of(ctx.site.site.distro);
    for argv in family::grub_regeneration(family, &args) {
        bundle.actions.push(Action {
            argv,
            trigger: Trigger::changed(&[GRUB_DEFAULTS]),
            stage: Stage::Install,
            concern: Concern::Iommu,
        });
    }
    bundle.reboot_required.push(RebootReason {
        concern: Concern::Iommu,
        reason: format!("the kernel command line gains {}", args.join(" ")),
    });
}
