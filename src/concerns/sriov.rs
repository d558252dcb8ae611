//! SR-IOV: the driver's module options set the number of virtual functions
//! (`/etc/modprobe.d/<driver>.conf`); they take effect when the module loads.

use super::{Concern, Ctx};
use crate::bundle::{HostBundle, RebootReason};
use crate::site::sriov_driver;

pub fn add(ctx: &Ctx, bundle: &mut HostBundle) {
    let Some(sriov) = &ctx.site.features.sriov else {
        return;
    };
    let module = sriov.driver.as_str();
    // Validation refuses unknown drivers; fall back to the common option name.
    let (option, has_probe_vf) = sriov_driver::lookup(module)
        .map_or(("num_vfs", false), |d| (d.count_option, d.has_probe_vf));
    let mut line = format!("options {module} {option}={}", sriov.num_vfs);
    if let (true, Some(probe)) = (has_probe_vf, sriov.probe_vf) {
        line.push_str(&format!(" probe_vf={probe}"));
    }
    let content = format!("{}{line}\n", super::header(ctx, "SR-IOV virtual functions"));
    let path = format!("/etc/modprobe.d/{module}.conf");
    bundle
        .files
        .push(super::root_file(&path, 0o644, content, Concern::Sriov));
    bundle.reboot_required.push(RebootReason {
        concern: Concern::Sriov,
        reason: format!("{module} reads {option}={} when it loads", sriov.num_vfs),
    });
}
