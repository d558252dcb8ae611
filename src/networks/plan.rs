//! What the site wants in Neutron (pure): one provider network and one subnet
//! per instances network, and the `openstack` commands that create them.

use crate::site::{Purpose, Site};
use ipnet::IpNet;
use serde::Serialize;
use std::net::IpAddr;

/// One instances network as a Neutron provider network.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wanted {
    /// The site's key (`networks[1]`), for messages.
    pub key: String,
    pub name: String,
    pub physnet: String,
    /// The VLAN id; none: the physnet's flat (untagged) network.
    pub segment: Option<u16>,
    pub share: bool,
    pub subnet: WantedSubnet,
}

/// Its one subnet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WantedSubnet {
    pub name: String,
    pub cidr: IpNet,
    /// The external gateway, offered as the router; none: no router.
    pub gateway: Option<IpAddr>,
    /// The site's DHCP range; none: Neutron's default (the whole range but the gateway).
    pub pool: Option<[IpAddr; 2]>,
    /// The site's DNS servers of the subnet's address family, in order.
    pub dns: Vec<IpAddr>,
}

impl Wanted {
    pub fn network_type(&self) -> &'static str {
        if self.segment.is_some() {
            "vlan"
        } else {
            "flat"
        }
    }
}

/// The subnet of network `name` is named `<name>-subnet`.
pub fn subnet_name(network: &str) -> String {
    format!("{network}-subnet")
}

/// Every instances network of the site, in site order.
pub fn wanted(site: &Site, share: bool) -> Vec<Wanted> {
    site.networks
        .iter()
        .enumerate()
        .filter(|(_, n)| n.purpose == Purpose::Instances)
        .map(|(i, n)| Wanted {
            key: format!("networks[{i}]"),
            name: n.name.to_string(),
            physnet: site.physnet().to_string(),
            segment: n.vlan,
            share,
            subnet: WantedSubnet {
                name: subnet_name(n.name.as_str()),
                cidr: n.cidr,
                gateway: n.gateway,
                pool: n.dhcp_range,
                dns: site
                    .site
                    .dns
                    .iter()
                    .filter(|d| d.is_ipv4() == matches!(n.cidr, IpNet::V4(_)))
                    .copied()
                    .collect(),
            },
        })
        .collect()
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| w.to_string()).collect()
}

/// `openstack network create` for `w`, printing the new network as JSON.
pub fn create_network(w: &Wanted) -> Vec<String> {
    let mut argv = words(&["openstack", "network", "create"]);
    argv.extend(words(&["--provider-network-type", w.network_type()]));
    argv.extend(words(&["--provider-physical-network", &w.physnet]));
    if let Some(vlan) = w.segment {
        argv.extend(words(&["--provider-segment", &vlan.to_string()]));
    }
    if w.share {
        argv.push("--share".into());
    }
    argv.extend(words(&["-f", "json", &w.name]));
    argv
}

/// `--gateway`'s value: the address, or `none`.
pub fn gateway_arg(gateway: Option<IpAddr>) -> String {
    gateway.map_or_else(|| "none".to_string(), |g| g.to_string())
}

/// `--allocation-pool`'s value.
pub fn pool_arg([start, end]: [IpAddr; 2]) -> String {
    format!("start={start},end={end}")
}

/// `openstack subnet create` for `w` on the network with id `network_id`.
pub fn create_subnet(w: &Wanted, network_id: &str) -> Vec<String> {
    let s = &w.subnet;
    let version = if matches!(s.cidr, IpNet::V4(_)) {
        "4"
    } else {
        "6"
    };
    let mut argv = words(&["openstack", "subnet", "create", "--network", network_id]);
    argv.extend(words(&["--subnet-range", &s.cidr.to_string()]));
    argv.extend(words(&["--ip-version", version]));
    argv.extend(words(&["--gateway", &gateway_arg(s.gateway)]));
    if let Some(pool) = s.pool {
        argv.extend(words(&["--allocation-pool", &pool_arg(pool)]));
    }
    for d in &s.dns {
        argv.extend(words(&["--dns-nameserver", &d.to_string()]));
    }
    argv.extend(words(&["--dhcp", "-f", "json", &s.name]));
    argv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::{examples, load};

    fn lab() -> Site {
        load::from_str(examples::get("lab").unwrap(), "lab").unwrap()
    }

    #[test]
    fn the_example_sites_instances_networks_with_their_gateways() {
        let w = wanted(&lab(), true);
        assert_eq!(w.len(), 2);
        assert_eq!(
            crate::shell::join(create_network(&w[0])).unwrap(),
            "openstack network create --provider-network-type vlan --provider-physical-network physnet1 \
             --provider-segment 101 --share -f json demo-net"
        );
        assert_eq!(
            crate::shell::join(create_subnet(&w[1], "NET-ID")).unwrap(),
            "openstack subnet create --network NET-ID --subnet-range 10.44.2.0/24 --ip-version 4 \
             --gateway 10.44.2.1 --allocation-pool 'start=10.44.2.10,end=10.44.2.200' \
             --dns-nameserver 192.0.2.53 --dhcp -f json demo2-net-subnet"
        );
    }

    #[test]
    fn untagged_is_flat_no_gateway_is_none_and_dns_keeps_its_family() {
        let mut site = lab();
        site.networks[1].vlan = None;
        site.networks[1].gateway = None;
        site.networks[1].dhcp_range = None;
        site.site.dns.push("2001:db8::53".parse().unwrap());
        let w = &wanted(&site, false)[0];
        let net = crate::shell::join(create_network(w)).unwrap();
        assert_eq!(
            net,
            "openstack network create --provider-network-type flat --provider-physical-network physnet1 \
             -f json demo-net"
        );
        let sub = crate::shell::join(create_subnet(w, "id")).unwrap();
        assert!(sub.contains("--gateway none"), "{sub}");
        assert!(!sub.contains("--allocation-pool"), "{sub}");
        assert!(!sub.contains("2001:db8::53"), "{sub}");
    }
}
