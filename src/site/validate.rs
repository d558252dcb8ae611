//! The rules that relate a site's values to each other. Every rule adds a
//! finding that names the key and the fix; all findings come back in one run.

use super::findings::Finding;
use super::model::*;
use super::sriov_driver;
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;

/// Facts about the operator's machine that make some sites risky.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Networks the operator's machine is attached to.
    pub local_networks: Vec<IpNet>,
}

/// Every error and warning about `site`.
pub fn check(site: &Site, context: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    check_networks(site, context, &mut out);
    check_nodes(site, &mut out);
    check_features(site, &mut out);
    check_distro(site, &mut out);
    super::physnet::check(site, &mut out);
    super::bmc::check(site, &mut out);
    super::netboot_rules::check(site, &mut out);
    check_kolla(site, &mut out);
    out
}

/// The distributions Kolla-Ansible 2025.1 (the kolla profile's release)
/// accepts as hosts: its prechecks know Rocky, CentOS Stream, Debian and
/// Ubuntu, not AlmaLinux.
pub const KOLLA_DISTROS: &[Distro] = &[Distro::Rocky9, Distro::CentosStream9, Distro::Debian12];

/// What the kolla profile needs of a site: a host distribution Kolla
/// supports, and on every node a device on the management network (Kolla's
/// `network_interface`) and exactly one device carrying the instances
/// networks (`neutron_external_interface`; that it is one device is the
/// physnet rule's). The container registry is Kolla's setting only.
fn check_kolla(site: &Site, out: &mut Vec<Finding>) {
    if site.site.profile != ProfileName::Kolla {
        if site.site.container_registry.is_some() {
            out.push(Finding::error(
                "site.container-registry",
                format!(
                    "the {} profile pulls no container images; the registry is for `profile: kolla`",
                    site.site.profile.as_str()
                ),
                "remove container-registry, or use `profile: kolla`",
            ));
        }
        return;
    }
    if !KOLLA_DISTROS.contains(&site.site.distro) {
        out.push(Finding::error(
            "site.distro",
            format!(
                "Kolla-Ansible 2025.1 does not support {} hosts (its prechecks accept Rocky, CentOS Stream, Debian, Ubuntu)",
                site.site.distro.as_str()
            ),
            "use `distro: rocky9`, `centos-stream9` or `debian12` with the kolla profile",
        ));
    }
    for (i, node) in site.nodes.iter().enumerate() {
        let on = |purpose: Purpose| {
            node.interfaces
                .iter()
                .enumerate()
                .filter(move |(_, iface)| {
                    site.network(iface.network.as_str())
                        .is_some_and(|n| n.purpose == purpose)
                })
        };
        if let Some((j, _)) = on(Purpose::Management).find(|(_, iface)| iface.device.is_none()) {
            out.push(Finding::error(
                format!("nodes[{i}].interfaces[{j}].device"),
                format!(
                    "{} has no device named on the management network; Kolla needs it as the host's network_interface",
                    node.hostname
                ),
                "name the management interface's device, such as `device: eth0`",
            ));
        }
        let instances: Vec<_> = on(Purpose::Instances).collect();
        if instances.is_empty() {
            out.push(Finding::error(
                format!("nodes[{i}].interfaces"),
                format!(
                    "{} has no interface on an instances network; Kolla needs that device as the host's neutron_external_interface",
                    node.hostname
                ),
                "attach the node to an instances network with its device, such as `{ network: demo-net, device: eth1 }`",
            ));
            continue;
        }
        // One device for all of them: the physnet rule (physnet.rs) says so.
        for (j, iface) in instances {
            if iface.device.is_none() {
                out.push(Finding::error(
                    format!("nodes[{i}].interfaces[{j}].device"),
                    format!(
                        "{} has no device named on the instances network {}; Kolla needs it as the host's neutron_external_interface",
                        node.hostname, iface.network
                    ),
                    "name the device that carries the instances VLANs, such as `device: eth1`",
                ));
            }
        }
    }
}

/// What does not fit the distribution: Debian is installed outside aerie
/// (no kickstart), and Eucalyptus ships for EL only.
fn check_distro(site: &Site, out: &mut Vec<Finding>) {
    let distro = site.site.distro;
    if distro.installs_by_kickstart() {
        return;
    }
    if site.site.profile == ProfileName::Eucalyptus {
        out.push(Finding::error(
            "site.distro",
            format!(
                "the eucalyptus profile does not run on {}: Eucalyptus ships EL packages only",
                distro.as_str()
            ),
            "use `distro: rocky9` (or alma9, centos-stream9) with the eucalyptus profile, or `profile: openstack` on Debian",
        ));
    }
    for (i, node) in site.nodes.iter().enumerate() {
        if node.install_disk.is_some() {
            out.push(Finding::error(
                format!("nodes[{i}].install-disk"),
                format!(
                    "install-disk chooses the disk a kickstart installs to, and {} nodes are not installed by kickstart",
                    distro.as_str()
                ),
                "remove install-disk (install Debian on the node yourself; aerie configures it through cloud-init or SSH), or use a kickstart distro (rocky9, alma9, centos-stream9)",
            ));
        }
    }
}

fn check_networks(site: &Site, context: &Context, out: &mut Vec<Finding>) {
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut vlans: HashMap<u16, usize> = HashMap::new();
    for (i, net) in site.networks.iter().enumerate() {
        let key = format!("networks[{i}]");
        if let Some(first) = first_use(&mut names, net.name.as_str(), i) {
            out.push(Finding::error(
                format!("{key}.name"),
                format!(
                    "the name {:?} is already used by networks[{first}]",
                    net.name.as_str()
                ),
                "give every network its own name",
            ));
        }
        if net.cidr.addr() != net.cidr.network() {
            out.push(Finding::error(
                format!("{key}.cidr"),
                format!("{} has host bits set", net.cidr),
                format!("write the network address: {}", net.cidr.trunc()),
            ));
        }
        if let Some(vlan) = net.vlan {
            if !(1..=4094).contains(&vlan) {
                out.push(Finding::error(
                    format!("{key}.vlan"),
                    format!("VLAN {vlan} is outside 1..4094"),
                    "use a VLAN id from 1 to 4094, or null for an untagged network",
                ));
            } else if let Some(first) = first_use(&mut vlans, vlan, i) {
                out.push(Finding::error(
                    format!("{key}.vlan"),
                    format!("VLAN {vlan} is already used by networks[{first}]"),
                    "give every tagged network its own VLAN id",
                ));
            }
        }
        if let Some(gateway) = net.gateway {
            check_in_subnet(net, gateway, &format!("{key}.gateway"), out);
        } else if net.purpose == Purpose::Management {
            out.push(Finding::warning(
                format!("{key}.gateway"),
                "the management network has no gateway: nodes will have no default route",
                "add the router's address on this network as `gateway`, unless the nodes really have no way out",
            ));
        } else if net.purpose == Purpose::Instances {
            out.push(Finding::warning(
                format!("{key}.gateway"),
                "this instances network has no external gateway: its DHCP server will hand instances no router",
                "add the external router's address as `gateway`",
            ));
        }
        if let Some([start, end]) = net.dhcp_range {
            check_range(site, net, i, start, end, out);
        }
        if net.purpose == Purpose::Instances {
            for local in &context.local_networks {
                if overlaps(&net.cidr, local) {
                    out.push(Finding::warning(
                        format!("{key}.cidr"),
                        format!("{} overlaps {local}, a network this machine is on", net.cidr),
                        "pick a range for instances that no existing network uses, or instances will shadow it",
                    ));
                }
            }
        }
    }
    for (i, a) in site.networks.iter().enumerate() {
        for (j, b) in site.networks.iter().enumerate().skip(i + 1) {
            if overlaps(&a.cidr, &b.cidr) {
                out.push(Finding::error(
                    format!("networks[{j}].cidr"),
                    format!(
                        "{} overlaps {} of networks[{i}] ({})",
                        b.cidr, a.cidr, a.name
                    ),
                    "give every network its own address range",
                ));
            }
        }
    }
    if !site
        .networks
        .iter()
        .any(|n| n.purpose == Purpose::Management)
    {
        out.push(Finding::error(
            "networks",
            "there is no management network",
            "add a network with `purpose: management`; aerie installs and reaches nodes over it",
        ));
    }
}

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// An address must lie inside its network and be neither the network nor the
/// broadcast address.
fn check_in_subnet(net: &Network, addr: IpAddr, key: &str, out: &mut Vec<Finding>) -> bool {
    let cidr = net.cidr.trunc();
    if !cidr.contains(&addr) {
        out.push(Finding::error(
            key,
            format!("{addr} is outside {cidr}"),
            format!("choose an address inside {cidr} ({})", usable_span(&cidr)),
        ));
        return false;
    }
    if is_v4(&cidr) && cidr.prefix_len() < 31 {
        if addr == cidr.network() {
            out.push(Finding::error(
                key,
                format!("{addr} is the network address of {cidr}"),
                format!("choose a host address ({})", usable_span(&cidr)),
            ));
            return false;
        }
        if addr == cidr.broadcast() {
            out.push(Finding::error(
                key,
                format!("{addr} is the broadcast address of {cidr}"),
                format!("choose a host address ({})", usable_span(&cidr)),
            ));
            return false;
        }
    }
    true
}

fn is_v4(net: &IpNet) -> bool {
    matches!(net, IpNet::V4(_))
}

fn usable_span(cidr: &IpNet) -> String {
    let mut hosts = cidr.hosts();
    match (hosts.next(), hosts.last()) {
        (Some(first), Some(last)) => format!("{first} to {last}"),
        (Some(only), None) => only.to_string(),
        _ => "none".to_string(),
    }
}

fn check_range(
    site: &Site,
    net: &Network,
    index: usize,
    start: IpAddr,
    end: IpAddr,
    out: &mut Vec<Finding>,
) {
    let key = format!("networks[{index}].dhcp-range");
    let start_ok = check_in_subnet(net, start, &format!("{key}[0]"), out);
    let end_ok = check_in_subnet(net, end, &format!("{key}[1]"), out);
    if !(start_ok && end_ok) {
        return;
    }
    if start > end {
        out.push(Finding::error(
            key.clone(),
            format!("the range starts at {start}, after its end {end}"),
            "write the lower address first",
        ));
        return;
    }
    let inside = |addr: IpAddr| start <= addr && addr <= end;
    if let Some(gateway) = net.gateway.filter(|g| inside(*g)) {
        out.push(Finding::error(
            key.clone(),
            format!("the range {start}-{end} contains the gateway {gateway}"),
            "shrink the range so the gateway lies outside it",
        ));
    }
    for (n, node) in site.nodes.iter().enumerate() {
        for (k, iface) in node.interfaces.iter().enumerate() {
            if iface.network != net.name {
                continue;
            }
            if let Some(addr) = iface.address.filter(|a| inside(*a)) {
                out.push(Finding::error(
                    key.clone(),
                    format!(
                        "the range {start}-{end} contains {addr}, the address of nodes[{n}].interfaces[{k}] ({})",
                        node.hostname
                    ),
                    "keep node addresses outside the DHCP range, or shrink the range",
                ));
            }
        }
    }
}

/// Exactly one node is the frontend.
fn check_one_frontend(site: &Site, out: &mut Vec<Finding>) {
    let frontends: Vec<usize> = site
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.role == Role::Frontend)
        .map(|(i, _)| i)
        .collect();
    match frontends.as_slice() {
        [_] => {}
        [] => out.push(Finding::error(
            "nodes",
            "no node has `role: frontend`",
            "mark exactly one node as the frontend",
        )),
        [_, extra @ ..] => {
            for i in extra {
                out.push(Finding::error(
                    format!("nodes[{i}].role"),
                    format!("a second frontend (the first is nodes[{}])", frontends[0]),
                    "keep exactly one frontend; make the others `compute`",
                ));
            }
        }
    }
}

/// Where `value` was first used, when it was; else `value` is now used at `here`.
fn first_use<K: std::hash::Hash + Eq, V: Clone>(
    seen: &mut HashMap<K, V>,
    value: K,
    here: V,
) -> Option<V> {
    match seen.entry(value) {
        std::collections::hash_map::Entry::Occupied(first) => Some(first.get().clone()),
        std::collections::hash_map::Entry::Vacant(entry) => {
            entry.insert(here);
            None
        }
    }
}

fn check_nodes(site: &Site, out: &mut Vec<Finding>) {
    check_one_frontend(site, out);
    let mut hostnames: HashMap<&str, usize> = HashMap::new();
    let mut addresses: HashMap<IpAddr, String> = HashMap::new();
    let mut macs: HashMap<&str, String> = HashMap::new();
    for (i, node) in site.nodes.iter().enumerate() {
        let key = format!("nodes[{i}]");
        if let Some(first) = first_use(&mut hostnames, node.hostname.as_str(), i) {
            out.push(Finding::error(
                format!("{key}.hostname"),
                format!(
                    "{} is already the host name of nodes[{first}]",
                    node.hostname
                ),
                "give every node its own host name",
            ));
        }
        if node.interfaces.is_empty() {
            out.push(Finding::error(
                format!("{key}.interfaces"),
                "the node has no interfaces",
                "attach the node to the management network with an address",
            ));
        }
        let mut has_management_address = false;
        for (k, iface) in node.interfaces.iter().enumerate() {
            let ikey = format!("{key}.interfaces[{k}]");
            let network = site.network(iface.network.as_str());
            if network.is_none() {
                out.push(Finding::error(
                    format!("{ikey}.network"),
                    format!("no network is named {:?}", iface.network.as_str()),
                    format!(
                        "use one of the networks defined under `networks`: {}",
                        site.networks
                            .iter()
                            .map(|n| n.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            if iface.device.is_none() && iface.mac.is_none() {
                out.push(Finding::error(
                    ikey.clone(),
                    "the interface names neither a device nor a MAC",
                    "add `device` (e.g. eth0) or `mac`",
                ));
            }
            if let Some(mac) = &iface.mac {
                let here = format!("{ikey}.mac");
                if let Some(first) = first_use(&mut macs, mac.as_str(), here.clone()) {
                    out.push(Finding::error(
                        here,
                        format!("{mac} is already used by {first}"),
                        "every interface has its own MAC address",
                    ));
                }
            }
            let Some(addr) = iface.address else { continue };
            let here = format!("{ikey}.address");
            if let Some(first) = first_use(&mut addresses, addr, here.clone()) {
                out.push(Finding::error(
                    here.clone(),
                    format!("{addr} is already used by {first}"),
                    "give every interface its own address",
                ));
            }
            let Some(network) = network else { continue };
            if check_in_subnet(network, addr, &here, out) && network.gateway == Some(addr) {
                out.push(Finding::error(
                    here,
                    format!("{addr} is the gateway of network {}", network.name),
                    "choose another host address; the gateway belongs to the router",
                ));
            }
            if network.purpose == Purpose::Management {
                has_management_address = true;
            }
        }
        if !has_management_address && !node.interfaces.is_empty() {
            out.push(Finding::error(
                format!("{key}.interfaces"),
                "the node has no address on a management network",
                "add an interface on the management network with an `address`",
            ));
        }
    }
}

fn check_features(site: &Site, out: &mut Vec<Finding>) {
    let Some(sriov) = &site.features.sriov else {
        return;
    };
    match sriov_driver::lookup(sriov.driver.as_str()) {
        None => out.push(Finding::error(
            "features.sriov.driver",
            format!(
                "aerie does not know the SR-IOV driver {:?}",
                sriov.driver.as_str()
            ),
            format!("use one of: {}", sriov_driver::names()),
        )),
        Some(driver) => {
            if !(1..=driver.max_vfs).contains(&sriov.num_vfs) {
                out.push(Finding::error(
                    "features.sriov.num-vfs",
                    format!(
                        "{} allows 1 to {} virtual functions, not {}",
                        driver.module, driver.max_vfs, sriov.num_vfs
                    ),
                    format!("choose num-vfs from 1 to {}", driver.max_vfs),
                ));
            }
            match sriov.probe_vf {
                Some(_) if !driver.has_probe_vf => out.push(Finding::error(
                    "features.sriov.probe-vf",
                    format!("{} has no probe_vf option", driver.module),
                    "remove probe-vf",
                )),
                Some(probe) if probe > sriov.num_vfs => out.push(Finding::error(
                    "features.sriov.probe-vf",
                    format!("probe-vf {probe} is more than num-vfs {}", sriov.num_vfs),
                    "probe at most num-vfs virtual functions",
                )),
                _ => {}
            }
        }
    }
    let mut aliases: HashMap<&str, usize> = HashMap::new();
    for (i, p) in sriov.passthrough.iter().enumerate() {
        if let Some(first) = aliases.insert(p.alias.as_str(), i) {
            out.push(Finding::error(
                format!("features.sriov.passthrough[{i}].alias"),
                format!(
                    "the alias {} is already used by passthrough[{first}]",
                    p.alias
                ),
                "give every passthrough entry its own alias",
            ));
        }
    }
    if let Some(flavor) = &sriov.flavor {
        if sriov.passthrough.is_empty() {
            out.push(Finding::error(
                "features.sriov.flavor",
                "the flavor requests passthrough devices, but `passthrough` is empty",
                "add a passthrough entry (alias, vendor-id, product-id)",
            ));
        }
        for (field, value) in [
            ("vcpus", flavor.vcpus),
            ("ram-mb", flavor.ram_mb),
            ("disk-gb", flavor.disk_gb),
            ("devices", flavor.devices),
        ] {
            if value == 0 {
                out.push(Finding::error(
                    format!("features.sriov.flavor.{field}"),
                    format!("{field} is 0"),
                    format!("give {field} a value of at least 1"),
                ));
            }
        }
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
