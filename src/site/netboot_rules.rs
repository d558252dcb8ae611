//! The rules of the `netboot:` section (network boot by `aerie pxe serve`).

use super::findings::Finding;
use super::model::*;
use std::net::IpAddr;

/// Every finding about `site.netboot` (none when the site has no such section).
pub fn check(site: &Site, out: &mut Vec<Finding>) {
    let Some(netboot) = &site.netboot else {
        return;
    };
    if !site.site.distro.installs_by_kickstart() {
        out.push(Finding::error(
            "netboot",
            format!(
                "network boot installs nodes by kickstart, and {} nodes are not installed by kickstart",
                site.site.distro.as_str()
            ),
            "remove `netboot`, or use a kickstart distro (rocky9, alma9, centos-stream9)",
        ));
    }
    if netboot.http_port == 0 {
        out.push(Finding::error(
            "netboot.http-port",
            "port 0 is no port the nodes can reach",
            format!("leave it out for {DEFAULT_HTTP_PORT}, or give a free TCP port (1-65535)"),
        ));
    }
    let Some(network) = boot_network(site, netboot, out) else {
        return;
    };
    check_address(site, netboot, network, out);
    check_nodes(site, netboot, network, out);
}

/// The boot network, or a finding saying why there is none.
fn boot_network<'a>(
    site: &'a Site,
    netboot: &Netboot,
    out: &mut Vec<Finding>,
) -> Option<&'a Network> {
    let names = || {
        site.networks
            .iter()
            .filter(|n| n.purpose == Purpose::Management)
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &netboot.network {
        Some(name) => match site.network(name.as_str()) {
            None => {
                out.push(Finding::error(
                    "netboot.network",
                    format!("no network is named {:?}", name.as_str()),
                    format!(
                        "use a management network defined under `networks`: {}",
                        names()
                    ),
                ));
                None
            }
            Some(net) if net.purpose != Purpose::Management => {
                out.push(Finding::error(
                    "netboot.network",
                    format!(
                        "{} is a {} network; nodes boot on the management network",
                        net.name,
                        net.purpose.as_str()
                    ),
                    format!("use a management network: {}", names()),
                ));
                None
            }
            Some(net) => Some(net),
        },
        None => {
            let net = site.netboot_network();
            if net.is_none() {
                out.push(Finding::error(
                    "netboot",
                    "the site has no management network for the nodes to boot on",
                    "add a network with `purpose: management`",
                ));
            }
            net
        }
    }
}

fn check_address(site: &Site, netboot: &Netboot, network: &Network, out: &mut Vec<Finding>) {
    let addr = netboot.address;
    let cidr = network.cidr.trunc();
    if !matches!(addr, IpAddr::V4(_)) {
        out.push(Finding::error(
            "netboot.address",
            format!("{addr} is not an IPv4 address; PXE firmware boots over DHCPv4"),
            format!(
                "give this machine's IPv4 address on {} ({cidr})",
                network.name
            ),
        ));
        return;
    }
    if !cidr.contains(&addr) || addr == cidr.network() || addr == cidr.broadcast() {
        out.push(Finding::error(
            "netboot.address",
            format!("{addr} is not a host address of {} ({cidr})", network.name),
            format!(
                "give this machine's address on {}, inside {cidr}",
                network.name
            ),
        ));
        return;
    }
    if network.gateway == Some(addr) {
        out.push(Finding::error(
            "netboot.address",
            format!("{addr} is the gateway of network {}", network.name),
            "give this machine's own address; the gateway belongs to the router",
        ));
    }
    for (i, node) in site.nodes.iter().enumerate() {
        for (k, iface) in node.interfaces.iter().enumerate() {
            if iface.address == Some(addr) {
                out.push(Finding::error(
                    "netboot.address",
                    format!(
                        "{addr} is the address of nodes[{i}].interfaces[{k}] ({})",
                        node.hostname
                    ),
                    "give this machine (the boot server) an address no node uses",
                ));
            }
        }
    }
    if let Some([start, end]) = network.dhcp_range {
        if start <= addr && addr <= end {
            out.push(Finding::error(
                "netboot.address",
                format!("{addr} is inside the network's dhcp-range {start}-{end}"),
                "give the boot server an address outside the range DHCP hands out",
            ));
        }
    }
}

/// Nodes the server cannot boot: a warning each, since the others still boot.
fn check_nodes(site: &Site, netboot: &Netboot, network: &Network, out: &mut Vec<Finding>) {
    for (i, node) in site.nodes.iter().enumerate() {
        let on_net = node
            .interfaces
            .iter()
            .enumerate()
            .find(|(_, iface)| iface.network == network.name);
        match on_net {
            None => out.push(Finding::warning(
                format!("nodes[{i}].interfaces"),
                format!(
                    "{} has no interface on {}, the boot network: it cannot boot from the network",
                    node.hostname, network.name
                ),
                format!("attach it to {} with its `mac`", network.name),
            )),
            Some((k, iface)) if iface.mac.is_none() => out.push(Finding::warning(
                format!("nodes[{i}].interfaces[{k}].mac"),
                format!(
                    "{} has no MAC on {}: the boot server cannot tell it from an unknown machine",
                    node.hostname, network.name
                ),
                "add the MAC of the port the node boots from",
            )),
            Some((k, iface)) if netboot.mode == NetbootMode::Dhcp && iface.address.is_none() => {
                out.push(Finding::warning(
                    format!("nodes[{i}].interfaces[{k}].address"),
                    format!(
                        "{} has no address on {}: in dhcp mode the boot server hands each node its own",
                        node.hostname, network.name
                    ),
                    "add the node's address, or use `mode: proxy` beside the network's DHCP server",
                ))
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::site::{examples, load, validate, Finding, Severity, Site};

    fn netboot() -> Site {
        load::from_str(examples::get("netboot").unwrap(), "netboot").unwrap()
    }

    fn findings(site: &Site, severity: Severity) -> Vec<Finding> {
        validate::check(site, &Default::default())
            .into_iter()
            .filter(|f| f.severity == severity)
            .collect()
    }

    fn assert_finding(site: &Site, severity: Severity, key: &str, words: &str) {
        let found = findings(site, severity);
        assert!(
            found.iter().any(|f| f.problem.what == key
                && f.problem.message.contains(words)
                && !f.problem.fix.is_empty()),
            "expected a {severity:?} at {key} mentioning {words:?}, got {found:#?}"
        );
    }

    #[test]
    fn the_example_is_clean() {
        let site = netboot();
        assert!(findings(&site, Severity::Error).is_empty());
        assert!(
            findings(&site, Severity::Warning).is_empty(),
            "{:#?}",
            findings(&site, Severity::Warning)
        );
        assert_eq!(site.netboot_network().unwrap().name.as_str(), "mgmt");
    }

    #[test]
    fn unknown_keys_and_modes_are_refused_by_name() {
        let text = examples::get("netboot")
            .unwrap()
            .replace("mode: dhcp", "mode: relay");
        let err = load::from_str(&text, "x").unwrap_err();
        assert!(format!("{err:?}").contains("netboot.mode"), "{err:?}");
        let text = examples::get("netboot")
            .unwrap()
            .replace("http-port:", "http_port:");
        let err = load::from_str(&text, "x").unwrap_err();
        assert!(format!("{err:?}").contains("http-port"), "{err:?}");
    }

    #[test]
    fn the_address_must_be_a_free_host_address_of_the_boot_network() {
        let mut site = netboot();
        site.netboot.as_mut().unwrap().address = "10.20.1.2".parse().unwrap();
        assert_finding(
            &site,
            Severity::Error,
            "netboot.address",
            "not a host address of mgmt",
        );
        site.netboot.as_mut().unwrap().address = "10.20.0.1".parse().unwrap();
        assert_finding(&site, Severity::Error, "netboot.address", "gateway");
        site.netboot.as_mut().unwrap().address = "10.20.0.11".parse().unwrap();
        assert_finding(
            &site,
            Severity::Error,
            "netboot.address",
            "nodes[1].interfaces[0] (node1)",
        );
        site.netboot.as_mut().unwrap().address = "10.20.0.150".parse().unwrap();
        assert_finding(&site, Severity::Error, "netboot.address", "dhcp-range");
        site.netboot.as_mut().unwrap().address = "fd00::2".parse().unwrap();
        assert_finding(
            &site,
            Severity::Error,
            "netboot.address",
            "not an IPv4 address",
        );
    }

    #[test]
    fn the_network_must_exist_and_be_a_management_network() {
        let mut site = netboot();
        site.netboot.as_mut().unwrap().network = Some("nope".parse().unwrap());
        assert_finding(
            &site,
            Severity::Error,
            "netboot.network",
            "no network is named \"nope\"",
        );
        site.netboot.as_mut().unwrap().network = Some("demo-net".parse().unwrap());
        assert_finding(
            &site,
            Severity::Error,
            "netboot.network",
            "instances network",
        );
        site.netboot.as_mut().unwrap().http_port = 0;
        assert_finding(&site, Severity::Error, "netboot.http-port", "port 0");
    }

    #[test]
    fn debian_is_not_netbooted() {
        let mut site = netboot();
        site.site.distro = crate::site::Distro::Debian12;
        for n in &mut site.nodes {
            n.install_disk = None;
        }
        assert_finding(
            &site,
            Severity::Error,
            "netboot",
            "not installed by kickstart",
        );
    }

    #[test]
    fn nodes_it_cannot_boot_are_warned_about() {
        let mut site = netboot();
        site.nodes[1].interfaces[0].mac = None;
        site.nodes[2].interfaces[0].address = None;
        assert_finding(
            &site,
            Severity::Warning,
            "nodes[1].interfaces[0].mac",
            "node1 has no MAC on mgmt",
        );
        assert_finding(
            &site,
            Severity::Warning,
            "nodes[2].interfaces[0].address",
            "dhcp mode",
        );
        site.netboot.as_mut().unwrap().mode = crate::site::NetbootMode::Proxy;
        assert!(findings(&site, Severity::Warning)
            .iter()
            .all(|f| f.problem.what != "nodes[2].interfaces[0].address"));
    }
}
