//! nova-compute's PCI passthrough: `[pci] device_spec` (before Zed:
//! `passthrough_whitelist`; the profile's release decides) and `alias`.

use super::{Concern, Ctx};
use crate::bundle::{Edit, HostBundle};
use crate::site::Passthrough;

/// One JSON value per device, or a JSON list of them when there are several.
fn json_list(
    passthrough: &[Passthrough],
    item: impl Fn(&Passthrough) -> serde_json::Value,
) -> String {
    match passthrough {
        [one] => item(one).to_string(),
        _ => serde_json::Value::Array(passthrough.iter().map(item).collect()).to_string(),
    }
}

/// `[pci] alias`: what a flavor asks for by name.
pub fn alias_value(passthrough: &[Passthrough]) -> String {
    json_list(passthrough, |p| {
        serde_json::json!({
            "vendor_id": p.vendor_id.as_str(),
            "product_id": p.product_id.as_str(),
            "device_type": "type-VF",
            "name": p.alias.as_str(),
        })
    })
}

/// `[pci] device_spec`: which devices nova-compute may hand out.
pub fn spec_value(passthrough: &[Passthrough]) -> String {
    json_list(passthrough, |p| {
        serde_json::json!({
            "vendor_id": p.vendor_id.as_str(),
            "product_id": p.product_id.as_str(),
        })
    })
}

/// The nova.conf edit for `[pci] key = value`.
pub fn pci_edit(
    ctx: &Ctx,
    key: &str,
    value: String,
    concern: Concern,
) -> Option<crate::bundle::FileEdit> {
    let nova = ctx.profile.nova.as_ref()?;
    Some(super::edit(
        &nova.config_file,
        Edit::IniSet {
            section: "pci".into(),
            key: key.into(),
            value,
        },
        0o640,
        "nova",
        concern,
    ))
}

pub fn add(ctx: &Ctx, bundle: &mut HostBundle) {
    let Some(sriov) = &ctx.site.features.sriov else {
        return;
    };
    if sriov.passthrough.is_empty() {
        return;
    }
    let key = ctx.profile.pci_spec_key();
    bundle.edits.extend(pci_edit(
        ctx,
        key,
        spec_value(&sriov.passthrough),
        Concern::PciPassthrough,
    ));
    bundle.edits.extend(pci_edit(
        ctx,
        "alias",
        alias_value(&sriov.passthrough),
        Concern::PciPassthrough,
    ));
}
