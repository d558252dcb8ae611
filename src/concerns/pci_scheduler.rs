//! The controller side of PCI passthrough: nova-api needs `[pci] alias`, and
//! the scheduler needs PciPassthroughFilter in `enabled_filters`, added once
//! and without dropping the filters already there.

use super::{Concern, Ctx};
use crate::bundle::{Edit, HostBundle};

pub const FILTER: &str = "PciPassthroughFilter";

pub fn add(ctx: &Ctx, bundle: &mut HostBundle) {
    let (Some(sriov), Some(nova)) = (&ctx.site.features.sriov, &ctx.profile.nova) else {
        return;
    };
    if sriov.passthrough.is_empty() {
        return;
    }
    bundle.edits.extend(super::pci_passthrough::pci_edit(
        ctx,
        "alias",
        super::pci_passthrough::alias_value(&sriov.passthrough),
        Concern::PciScheduler,
    ));
    bundle.edits.push(super::edit(
        &nova.config_file,
        Edit::IniAddToList {
            section: "filter_scheduler".into(),
            key: "enabled_filters".into(),
            item: FILTER.into(),
            default: nova.default_filters.clone(),
        },
        0o640,
        "nova",
        Concern::PciScheduler,
    ));
}
