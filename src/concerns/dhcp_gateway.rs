//! The external gateway per instances network: dnsmasq hands it out as the
//! router option. The literal `tag:` prefix matters: without it dnsmasq
//! accepts the line and silently ignores it.

use super::{Concern, Ctx};
use crate::bundle::{Edit, HostBundle};
use crate::site::Purpose;

/// The `dhcp-option` lines, one per instances network with a gateway.
pub fn options(site: &crate::site::Site) -> Vec<String> {
    site.networks
        .iter()
        .filter(|n| n.purpose == Purpose::Instances)
        .filter_map(|n| {
            n.gateway
                .map(|gw| format!("dhcp-option=tag:{},option:router,{gw}", n.name))
        })
        .collect()
}

pub fn add(ctx: &Ctx, bundle: &mut HostBundle) {
    let Some(spec) = &ctx.profile.dnsmasq else {
        return;
    };
    let lines = options(ctx.site);
    if lines.is_empty() {
        return;
    }
    let mut content = super::header(ctx, "the external gateway of each instances network");
    for line in lines {
        content.push_str(&line);
        content.push('\n');
    }
    bundle.files.push(super::root_file(
        &spec.options_file,
        0o644,
        content,
        Concern::DhcpGateway,
    ));
    let group = if spec.config_file.contains("/neutron/") {
        "neutron"
    } else {
        "nova"
    };
    bundle.edits.push(super::edit(
        &spec.config_file,
        Edit::IniSet {
            section: spec.section.clone(),
            key: spec.key.clone(),
            value: spec.options_file.clone(),
        },
        0o640,
        group,
        Concern::DhcpGateway,
    ));
}
