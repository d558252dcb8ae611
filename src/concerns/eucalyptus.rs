//! Eucalyptus networking: `eucalyptus.conf` VNET_* keys from the site's
//! networks, for the frontend (cloud and cluster controller) and the node
//! controllers.

use super::{Concern, Ctx};
use crate::bundle::{Edit, HostBundle};
use crate::site::{Node, Purpose, Role, Site};

/// The device a node uses on the first network of this purpose.
fn device_on(site: &Site, node: &Node, purpose: Purpose) -> Option<String> {
    node.interfaces.iter().find_map(|i| {
        let net = site.network(i.network.as_str())?;
        (net.purpose == purpose)
            .then(|| i.device.as_ref().map(|d| d.to_string()))
            .flatten()
    })
}

/// The VNET_* keys for this node, in file order.
pub fn keys(ctx: &Ctx) -> Vec<(&'static str, String)> {
    let Some(spec) = &ctx.profile.eucalyptus else {
        return Vec::new();
    };
    let site = ctx.site;
    let mut out = vec![("VNET_MODE", spec.vnet_mode.clone())];
    let private = device_on(site, ctx.node, Purpose::Instances)
        .or_else(|| device_on(site, ctx.node, Purpose::Management));
    let public = device_on(site, ctx.node, Purpose::External)
        .or_else(|| device_on(site, ctx.node, Purpose::Management));
    match ctx.node.role {
        Role::Frontend => {
            if let Some(dev) = private {
                out.push(("VNET_PRIVINTERFACE", dev));
            }
            if let Some(dev) = public {
                out.push(("VNET_PUBLICINTERFACE", dev));
            }
            if let Some(net) = site
                .networks
                .iter()
                .find(|n| n.purpose == Purpose::Instances)
            {
                out.push(("VNET_SUBNET", net.cidr.network().to_string()));
                out.push(("VNET_NETMASK", net.cidr.netmask().to_string()));
            }
            if let Some(dns) = site.site.dns.first() {
                out.push(("VNET_DNS", dns.to_string()));
            }
            out.push(("VNET_ADDRSPERNET", spec.addrs_per_net.to_string()));
            if let Some([first, last]) = site
                .networks
                .iter()
                .find(|n| n.purpose == Purpose::External)
                .and_then(|n| n.dhcp_range)
            {
                out.push(("VNET_PUBLICIPS", format!("{first}-{last}")));
            }
        }
        Role::Compute => {
            if let Some(dev) = private {
                out.push(("VNET_PRIVINTERFACE", dev));
            }
            out.push(("VNET_BRIDGE", spec.vnet_bridge.clone()));
        }
    }
    out
}

pub fn add(ctx: &Ctx, bundle: &mut HostBundle) {
    let Some(spec) = &ctx.profile.eucalyptus else {
        return;
    };
    for (key, value) in keys(ctx) {
        bundle.edits.push(super::edit(
            &spec.config_file,
            Edit::ShellVar {
                key: key.to_string(),
                value,
            },
            0o644,
            "root",
            Concern::EucalyptusNetwork,
        ));
    }
}
