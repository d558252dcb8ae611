//! The instances networks as one Neutron physnet: where a profile makes them
//! provider networks (`aerie networks`), every instances network is a VLAN
//! (or the one untagged, flat network) of the site's physnet, and a physnet
//! reaches each host through one device, its trunk (Kolla-Ansible's
//! `neutron_external_interface`, a bridge mapping of the L2 agent). A site
//! whose instances networks cannot all ride on that one trunk is refused here,
//! before anything is created in the cloud.

use super::findings::Finding;
use super::model::*;

/// The findings of this rule; none for profiles without provider networks.
pub(super) fn check(site: &Site, out: &mut Vec<Finding>) {
    if !site.site.profile.has_provider_networks() {
        return;
    }
    let physnet = site.physnet();
    check_untagged(site, physnet, out);
    for (i, node) in site.nodes.iter().enumerate() {
        check_node(site, physnet, i, node, out);
    }
}

/// At most one untagged instances network: it is the physnet's flat network.
fn check_untagged(site: &Site, physnet: &str, out: &mut Vec<Finding>) {
    let mut first: Option<(usize, &Network)> = None;
    for (i, net) in site.networks.iter().enumerate() {
        if net.purpose != Purpose::Instances || net.vlan.is_some() {
            continue;
        }
        match first {
            None => first = Some((i, net)),
            Some((f, other)) => out.push(Finding::error(
                format!("networks[{i}].vlan"),
                format!(
                    "{} is untagged, and so is networks[{f}] ({}): both would be the one flat network \
                     of physnet {physnet}, the same wire",
                    net.name, other.name
                ),
                format!(
                    "give {} a VLAN id (`vlan: N`, 1..4094, one no other network uses): every instances \
                     network but one is a VLAN of the physnet",
                    net.name
                ),
            )),
        }
    }
}

/// How an interface names its port: its device, else its MAC.
fn port(iface: &Interface) -> Option<String> {
    iface
        .device
        .as_ref()
        .map(|d| d.to_string())
        .or_else(|| iface.mac.as_ref().map(|m| format!("MAC {m}")))
}

/// All of one node's instances networks on one device.
fn check_node(site: &Site, physnet: &str, i: usize, node: &Node, out: &mut Vec<Finding>) {
    let mut trunk: Option<(String, &str)> = None;
    for (k, iface) in node.interfaces.iter().enumerate() {
        let Some(net) = site.network(iface.network.as_str()) else {
            continue;
        };
        if net.purpose != Purpose::Instances {
            continue;
        }
        let Some(here) = port(iface) else { continue };
        match &trunk {
            None => trunk = Some((here, net.name.as_str())),
            Some((there, first)) if *there != here => {
                let key = if iface.device.is_some() {
                    "device"
                } else {
                    "mac"
                };
                out.push(Finding::error(
                    format!("nodes[{i}].interfaces[{k}].{key}"),
                    format!(
                        "{} reaches {} on {here}, but {first} on {there}: the instances networks are VLANs \
                         of one physnet ({physnet}), which a host reaches through one device",
                        node.hostname, net.name
                    ),
                    format!(
                        "attach every instances network of {} to {there} (each network's VLAN tags it on \
                         that trunk), or give the site's instances networks one device on every host",
                        node.hostname
                    ),
                ));
            }
            Some(_) => {}
        }
    }
}
