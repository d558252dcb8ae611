//! The lab a site becomes: its VMs (memory, CPUs, disk, NICs with MACs) and
//! networks (bridge names, the gateway the host plays, NAT). Pure.

use super::netdev::IFNAME_MAX;
use crate::site::{Purpose, Role, Site};
use ipnet::IpNet;
use std::net::IpAddr;

/// Choices for the lab's VMs that the site does not make.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Memory of every VM; default per role.
    pub memory_mib: Option<u32>,
    /// CPUs of every VM; default per role.
    pub cpus: Option<u32>,
    pub disk_gb: u32,
}

impl Role {
    /// A lab VM's default memory: the frontend runs the cloud's services.
    pub fn lab_memory_mib(self) -> u32 {
        match self {
            Role::Frontend => 4096,
            Role::Compute => 2048,
        }
    }

    pub fn lab_cpus(self) -> u32 {
        2
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NetPlan {
    pub name: String,
    pub purpose: Purpose,
    pub cidr: IpNet,
    pub vlan: Option<u16>,
    pub bridge: String,
    /// The host's address on the bridge (the site's gateway): only the
    /// management network, untagged, is routed and NATed by the host.
    pub host_address: Option<IpAddr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NicPlan {
    pub network: String,
    pub mac: String,
    pub address: Option<IpAddr>,
    pub tap: String,
    pub bridge: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VmPlan {
    pub name: String,
    pub role: Role,
    pub memory_mib: u32,
    pub cpus: u32,
    pub disk_gb: u32,
    pub nics: Vec<NicPlan>,
    pub address: Option<IpAddr>,
    pub ssh_user: String,
    pub ssh_port: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LabPlan {
    pub site: String,
    pub prefix: String,
    pub networks: Vec<NetPlan>,
    pub vms: Vec<VmPlan>,
    /// The nftables table holding the NAT rules.
    pub nft_table: String,
}

impl LabPlan {
    pub fn memory_mib(&self) -> u64 {
        self.vms.iter().map(|v| u64::from(v.memory_mib)).sum()
    }

    pub fn disk_mib(&self) -> u64 {
        self.vms.iter().map(|v| u64::from(v.disk_gb) * 1024).sum()
    }

    pub fn bridges(&self) -> Vec<String> {
        self.networks.iter().map(|n| n.bridge.clone()).collect()
    }

    pub fn taps(&self) -> Vec<String> {
        self.vms
            .iter()
            .flat_map(|v| v.nics.iter().map(|n| n.tap.clone()))
            .collect()
    }

    /// Networks the host routes and NATs.
    pub fn nat_sources(&self) -> Vec<IpNet> {
        self.networks
            .iter()
            .filter(|n| n.host_address.is_some())
            .map(|n| n.cidr.trunc())
            .collect()
    }
}

/// The prefix of the lab's interface names: `ae-` and up to 6 characters of
/// the site name (interface names are at most 15 characters).
pub fn default_prefix(site: &str) -> String {
    let short: String = site
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(6)
        .collect();
    format!("ae-{}", short.to_ascii_lowercase())
}

/// A prefix must leave room for `-t99-9` and be a valid interface name.
pub fn check_prefix(prefix: &str) -> Result<(), String> {
    let ok = !prefix.is_empty()
        && prefix.len() <= 9
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--prefix {prefix:?}: use 1 to 9 letters, digits, '-' or '_' (interface names are at most {IFNAME_MAX} characters)"
        ))
    }
}

/// A MAC for a NIC the site gives none: locally administered, stable per lab.
fn generated_mac(node: usize, nic: usize) -> String {
    format!("52:54:00:ae:{:02x}:{:02x}", node & 0xff, nic & 0xff)
}

/// The lab of a (validated) site.
pub fn plan(site: &Site, sizes: &Sizes, prefix: &str) -> Result<LabPlan, String> {
    check_prefix(prefix)?;
    let used: Vec<&str> = site
        .nodes
        .iter()
        .flat_map(|n| n.interfaces.iter().map(|i| i.network.as_str()))
        .collect();
    let networks: Vec<NetPlan> = site
        .networks
        .iter()
        .filter(|n| used.contains(&n.name.as_str()))
        .enumerate()
        .map(|(i, n)| NetPlan {
            name: n.name.to_string(),
            purpose: n.purpose,
            cidr: n.cidr,
            vlan: n.vlan,
            bridge: format!("{prefix}-b{i}"),
            host_address: (n.purpose == Purpose::Management && n.vlan.is_none())
                .then(|| n.gateway.or_else(|| n.cidr.hosts().next()))
                .flatten(),
        })
        .collect();
    let mut vms = Vec::new();
    for (ni, node) in site.nodes.iter().enumerate() {
        let nics = node
            .interfaces
            .iter()
            .enumerate()
            .map(|(k, iface)| {
                let net = networks
                    .iter()
                    .find(|n| n.name == iface.network.as_str())
                    .expect("a used network is planned");
                NicPlan {
                    network: net.name.clone(),
                    mac: iface.mac.as_ref().map_or_else(
                        || generated_mac(ni, k),
                        |m| m.to_string().to_ascii_lowercase(),
                    ),
                    address: iface.address,
                    tap: format!("{prefix}-t{ni}-{k}"),
                    bridge: net.bridge.clone(),
                }
            })
            .collect::<Vec<_>>();
        if let Some(n) = nics.iter().find(|n| n.tap.len() > IFNAME_MAX) {
            return Err(format!(
                "tap name {} is over {IFNAME_MAX} characters: give a shorter --prefix",
                n.tap
            ));
        }
        vms.push(VmPlan {
            name: node.hostname.to_string(),
            role: node.role,
            memory_mib: sizes.memory_mib.unwrap_or(node.role.lab_memory_mib()),
            cpus: sizes.cpus.unwrap_or(node.role.lab_cpus()),
            disk_gb: sizes.disk_gb,
            nics,
            address: node.management_address(site),
            ssh_user: node.ssh_user().to_string(),
            ssh_port: node.ssh_port(),
        });
    }
    Ok(LabPlan {
        site: site.site.name.to_string(),
        prefix: prefix.to_string(),
        nft_table: format!("aerie_{}", prefix.replace('-', "_")),
        networks,
        vms,
    })
}

/// The lab example, the default sizes and the plan they make (prefix
/// `ae-lab`), for the lab's unit tests.
#[cfg(test)]
pub(super) mod fixture {
    use super::*;

    pub fn lab() -> Site {
        crate::site::load::from_str(crate::site::examples::get("lab").unwrap(), "lab").unwrap()
    }

    pub fn sizes() -> Sizes {
        Sizes {
            memory_mib: None,
            cpus: None,
            disk_gb: 20,
        }
    }

    pub fn lab_plan() -> LabPlan {
        plan(&lab(), &sizes(), "ae-lab").unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lab_example_becomes_three_vms_on_three_bridges() {
        let p = fixture::lab_plan();
        assert_eq!(p.bridges(), ["ae-lab-b0", "ae-lab-b1", "ae-lab-b2"]);
        assert_eq!(p.vms.len(), 3);
        assert_eq!(p.vms[0].memory_mib, 4096);
        assert_eq!(p.vms[1].memory_mib, 2048);
        assert_eq!(p.vms[0].nics[0].mac, "52:54:00:00:00:10");
        assert_eq!(p.vms[0].nics[1].mac, "52:54:00:ae:00:01");
        assert_eq!(p.vms[2].nics[1].tap, "ae-lab-t2-1");
        assert_eq!(p.vms[2].nics[1].bridge, "ae-lab-b2");
        assert_eq!(
            p.networks[0].host_address,
            Some("10.20.0.1".parse().unwrap())
        );
        assert_eq!(p.networks[1].host_address, None);
        assert_eq!(p.nat_sources(), ["10.20.0.0/24".parse::<IpNet>().unwrap()]);
        assert!(p.taps().iter().all(|t| t.len() <= IFNAME_MAX));
    }

    #[test]
    fn prefixes_are_checked() {
        assert_eq!(default_prefix("My Site!"), "ae-mysite");
        assert!(check_prefix("ae-lab").is_ok());
        assert!(check_prefix("much-too-long").is_err());
        assert!(check_prefix("a b").is_err());
    }
}
