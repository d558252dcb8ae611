//! What the boot server serves, from the site alone (pure): the boot network,
//! the server's address, and each node it can boot, found by MAC.

use crate::site::{NetbootMode, Site};
use ipnet::Ipv4Net;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

/// One node the server can boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootNode {
    pub hostname: String,
    /// Lower-case, colon-separated (`52:54:00:00:00:11`).
    pub mac: String,
    /// Its address on the boot network (handed out in dhcp mode).
    pub address: Option<Ipv4Addr>,
}

/// The boot server's whole plan.
#[derive(Debug, Clone)]
pub struct Plan {
    pub mode: NetbootMode,
    pub interface: String,
    pub server: Ipv4Addr,
    pub http_port: u16,
    pub network: Ipv4Net,
    pub network_name: String,
    pub gateway: Option<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
    pub domain: String,
    /// Addresses for machines no node names (dhcp mode): the network's dhcp-range.
    pub dynamic_range: Option<[Ipv4Addr; 2]>,
    pub nodes: Vec<BootNode>,
    by_mac: HashMap<String, usize>,
}

/// Why a site cannot be served (validation catches these first; this is the
/// guard for a site that skipped it).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotServable(pub String);

fn v4(addr: IpAddr) -> Option<Ipv4Addr> {
    match addr {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(_) => None,
    }
}

impl Plan {
    /// The plan of a validated site.
    pub fn new(site: &Site) -> Result<Plan, NotServable> {
        let netboot = site.netboot.as_ref().ok_or_else(|| {
            NotServable(format!(
                "site {} has no `netboot:` section; add one (mode, interface, address: see `aerie examples` → netboot, docs/pxe.md)",
                site.site.name
            ))
        })?;
        let net = site
            .netboot_network()
            .ok_or_else(|| NotServable("the site has no management network to boot on".into()))?;
        let network = match net.cidr.trunc() {
            ipnet::IpNet::V4(n) => n,
            ipnet::IpNet::V6(_) => {
                return Err(NotServable(format!(
                    "{} is an IPv6 network; PXE boots over DHCPv4",
                    net.name
                )))
            }
        };
        let server = v4(netboot.address)
            .ok_or_else(|| NotServable("netboot.address must be an IPv4 address".into()))?;
        let mut nodes = Vec::new();
        let mut by_mac = HashMap::new();
        for node in &site.nodes {
            let Some(iface) = node.interfaces.iter().find(|i| i.network == net.name) else {
                continue;
            };
            let Some(mac) = &iface.mac else { continue };
            let mac = mac.as_str().to_ascii_lowercase();
            if let Some(&first) = by_mac.get(&mac) {
                let first: &BootNode = &nodes[first];
                return Err(NotServable(format!(
                    "{mac} is the MAC of both {} and {}: every node needs its own",
                    first.hostname, node.hostname
                )));
            }
            by_mac.insert(mac.clone(), nodes.len());
            nodes.push(BootNode {
                hostname: node.hostname.to_string(),
                mac,
                address: iface.address.and_then(v4),
            });
        }
        Ok(Plan {
            mode: netboot.mode,
            interface: netboot.interface.to_string(),
            server,
            http_port: netboot.http_port,
            network,
            network_name: net.name.to_string(),
            gateway: net.gateway.and_then(v4),
            dns: site.site.dns.iter().copied().filter_map(v4).collect(),
            domain: site.site.domain.to_string(),
            dynamic_range: net.dhcp_range.and_then(|[a, b]| Some([v4(a)?, v4(b)?])),
            nodes,
            by_mac,
        })
    }

    /// `http://ADDRESS:PORT`, what every URL the nodes get starts with.
    pub fn base_url(&self) -> String {
        format!("http://{}:{}", self.server, self.http_port)
    }

    /// The node with this MAC (any case, `:` or `-` separated).
    pub fn node_by_mac(&self, mac: &str) -> Option<&BootNode> {
        let mac = normalize_mac(mac)?;
        self.by_mac.get(&mac).map(|&i| &self.nodes[i])
    }

    pub fn node(&self, hostname: &str) -> Option<&BootNode> {
        self.nodes.iter().find(|n| n.hostname == hostname)
    }
}

/// `52-54-00-AA-bb-01` or `52:54:00:aa:bb:01` → `52:54:00:aa:bb:01`; None if not a MAC.
pub fn normalize_mac(mac: &str) -> Option<String> {
    let parts: Vec<&str> = mac.split([':', '-']).collect();
    if parts.len() != 6
        || !parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return None;
    }
    Some(parts.join(":").to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::{examples, load};

    pub fn netboot_site() -> Site {
        load::from_str(examples::get("netboot").unwrap(), "netboot").unwrap()
    }

    #[test]
    fn nodes_are_found_by_mac_in_any_spelling() {
        let plan = Plan::new(&netboot_site()).unwrap();
        assert_eq!(plan.nodes.len(), 3);
        assert_eq!(plan.base_url(), "http://10.20.0.2:8080");
        assert_eq!(
            plan.node_by_mac("52-54-00-00-00-11").unwrap().hostname,
            "node1"
        );
        assert_eq!(
            plan.node_by_mac("52:54:00:00:00:12").unwrap().address,
            Some("10.20.0.12".parse().unwrap())
        );
        assert!(plan.node_by_mac("52:54:00:00:00:99").is_none());
        assert!(plan.node_by_mac("nonsense").is_none());
        assert_eq!(plan.dynamic_range.unwrap()[0].to_string(), "10.20.0.100");
    }

    #[test]
    fn a_site_without_netboot_says_what_to_add() {
        let mut site = netboot_site();
        site.netboot = None;
        let err = Plan::new(&site).unwrap_err().to_string();
        assert!(err.contains("no `netboot:` section"), "{err}");
    }

    #[test]
    fn a_mac_in_two_nodes_is_refused_naming_both() {
        let mut site = netboot_site();
        site.nodes[2].interfaces[0].mac = site.nodes[1].interfaces[0].mac.clone();
        let err = Plan::new(&site).unwrap_err().to_string();
        assert!(err.contains("both node1 and node2"), "{err}");
    }
}
