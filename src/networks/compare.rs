//! What differs between the site's network and the cloud's, each difference
//! with its fix. Neutron cannot change a network's provider attributes or a
//! subnet's range in place: those fixes are the site's value or deleting the
//! object (once nothing uses it) and running `aerie networks` again. The rest
//! is one `openstack … set` command, given as typed; aerie runs none of them.

use super::cloud::{Net, Subnet};
use super::plan::{gateway_arg, pool_arg, Wanted};
use ipnet::IpNet;
use serde::Serialize;
use std::net::IpAddr;

/// One value the cloud holds that the site does not say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// `network-type`, `physnet`, `segment`, `shared`, `network`, `cidr`, `gateway`,
    /// `allocation-pool`, `dns`, `dhcp`.
    pub field: String,
    pub site: String,
    pub cloud: String,
    pub fix: String,
}

fn typed(argv: &[&str]) -> String {
    crate::shell::join(argv).unwrap_or_else(|_| argv.join(" "))
}

fn or_none(v: Option<String>) -> String {
    v.unwrap_or_else(|| "none".into())
}

/// The network's provider attributes and sharing.
pub fn network(w: &Wanted, n: &Net) -> Vec<Difference> {
    let recreate = |site_key: &str, cloud: &str| {
        format!(
            "Neutron does not change a network's provider attributes in place: make `{site_key}` say {cloud}, \
             or, once no port uses it (`{}`), `{}` and run `aerie networks` again",
            typed(&["openstack", "port", "list", "--network", &w.name]),
            typed(&["openstack", "network", "delete", &w.name])
        )
    };
    let mut out = Vec::new();
    let segment = w.segment.map(|v| v.to_string());
    let cloud_segment = n.segment.map(|v| v.to_string());
    let vlan_key = format!("{}.vlan", w.key);
    let cloud_type = or_none(n.network_type.clone());
    if n.network_type.as_deref() != Some(w.network_type()) {
        out.push(Difference {
            field: "network-type".into(),
            site: w.network_type().into(),
            cloud: cloud_type.clone(),
            fix: recreate(&vlan_key, &cloud_type),
        });
    }
    if n.physnet.as_deref() != Some(w.physnet.as_str()) {
        let cloud = or_none(n.physnet.clone());
        out.push(Difference {
            field: "physnet".into(),
            site: w.physnet.clone(),
            fix: recreate("site.physnet", &cloud),
            cloud,
        });
    }
    // A flat network has no segment; only a VLAN's is compared.
    if w.segment.is_some() && cloud_segment != segment {
        let cloud = or_none(cloud_segment);
        out.push(Difference {
            field: "segment".into(),
            site: or_none(segment),
            fix: recreate(&vlan_key, &cloud),
            cloud,
        });
    }
    if n.shared != w.share {
        let flag = if w.share { "--share" } else { "--no-share" };
        out.push(Difference {
            field: "shared".into(),
            site: w.share.to_string(),
            cloud: n.shared.to_string(),
            fix: typed(&["openstack", "network", "set", flag, &w.name]),
        });
    }
    out
}

fn addr(s: &str) -> Option<IpAddr> {
    s.parse().ok()
}

/// The subnet's network, range, gateway, pool, DNS servers and DHCP.
pub fn subnet(w: &Wanted, network_id: &str, s: &Subnet) -> Vec<Difference> {
    let want = &w.subnet;
    let name = want.name.as_str();
    let mut out = Vec::new();
    let delete = |site_key: &str, cloud: &str| {
        format!(
            "Neutron does not change a subnet's {} in place: make `{site_key}` say {cloud}, or, once no \
             port uses it, `{}` and run `aerie networks` again",
            if site_key.ends_with(".cidr") { "range" } else { "network" },
            typed(&["openstack", "subnet", "delete", name])
        )
    };
    if s.network_id != network_id {
        out.push(Difference {
            field: "network".into(),
            site: format!("{} ({network_id})", w.name),
            cloud: s.network_id.clone(),
            fix: format!(
                "the subnet named {name} belongs to another network: rename it (`{}`) or, once no port \
                 uses it, `{}`; then run `aerie networks` again",
                typed(&["openstack", "subnet", "set", "--name", "NEW-NAME", name]),
                typed(&["openstack", "subnet", "delete", name])
            ),
        });
        return out;
    }
    if s.cidr.parse::<IpNet>().ok() != Some(want.cidr) {
        out.push(Difference {
            field: "cidr".into(),
            site: want.cidr.to_string(),
            fix: delete(&format!("{}.cidr", w.key), &s.cidr),
            cloud: s.cidr.clone(),
        });
    }
    out.extend(
        [
            gateway(w, s),
            allocation_pool(w, s),
            dns(w, s),
            dhcp(name, s),
        ]
        .into_iter()
        .flatten(),
    );
    out
}

/// The subnet's gateway (the router offered), or none.
fn gateway(w: &Wanted, s: &Subnet) -> Option<Difference> {
    let want = &w.subnet;
    if s.gateway.as_deref().and_then(addr) == want.gateway {
        return None;
    }
    let cloud = or_none(s.gateway.clone());
    Some(Difference {
        field: "gateway".into(),
        site: gateway_arg(want.gateway),
        fix: format!(
            "`{}`, or make `{}.gateway` say {cloud}",
            typed(&[
                "openstack",
                "subnet",
                "set",
                "--gateway",
                &gateway_arg(want.gateway),
                &want.name
            ]),
            w.key
        ),
        cloud,
    })
}

/// The subnet's allocation pool, when the site has a DHCP range.
fn allocation_pool(w: &Wanted, s: &Subnet) -> Option<Difference> {
    let pool = w.subnet.pool?;
    let cloud: Vec<(Option<IpAddr>, Option<IpAddr>)> =
        s.pools.iter().map(|(a, b)| (addr(a), addr(b))).collect();
    if cloud == [(Some(pool[0]), Some(pool[1]))] {
        return None;
    }
    let shown: Vec<String> = s.pools.iter().map(|(a, b)| format!("{a}-{b}")).collect();
    Some(Difference {
        field: "allocation-pool".into(),
        site: format!("{}-{}", pool[0], pool[1]),
        cloud: list_or_none(&shown),
        fix: format!(
            "`{}`, or make `{}.dhcp-range` say what the cloud has",
            typed(&[
                "openstack",
                "subnet",
                "set",
                "--no-allocation-pool",
                "--allocation-pool",
                &pool_arg(pool),
                &w.subnet.name
            ]),
            w.key
        ),
    })
}

/// The subnet's DNS servers, in order.
fn dns(w: &Wanted, s: &Subnet) -> Option<Difference> {
    let want = &w.subnet;
    let cloud_dns: Vec<Option<IpAddr>> = s.dns.iter().map(|d| addr(d)).collect();
    let want_dns: Vec<Option<IpAddr>> = want.dns.iter().map(|d| Some(*d)).collect();
    if cloud_dns == want_dns {
        return None;
    }
    let mut argv = vec!["openstack", "subnet", "set", "--no-dns-nameservers"];
    let servers: Vec<String> = want.dns.iter().map(ToString::to_string).collect();
    for d in &servers {
        argv.extend(["--dns-nameserver", d.as_str()]);
    }
    argv.push(&want.name);
    Some(Difference {
        field: "dns".into(),
        site: list_or_none(&servers),
        cloud: list_or_none(&s.dns),
        fix: format!(
            "`{}`, or make `site.dns` say what the cloud has",
            typed(&argv)
        ),
    })
}

/// DHCP on the subnet (the instances' gateway comes by it).
fn dhcp(name: &str, s: &Subnet) -> Option<Difference> {
    (!s.dhcp).then(|| Difference {
        field: "dhcp".into(),
        site: "enabled".into(),
        cloud: "disabled".into(),
        fix: format!(
            "`{}`: without DHCP no instance is offered the gateway",
            typed(&["openstack", "subnet", "set", "--dhcp", name])
        ),
    })
}

/// The items joined with `, `, or `none`.
fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::{examples, load};

    fn demo() -> Wanted {
        let site = load::from_str(examples::get("lab").unwrap(), "lab").unwrap();
        super::super::plan::wanted(&site, true).remove(0)
    }

    fn net() -> Net {
        Net {
            id: "n1".into(),
            name: "demo-net".into(),
            network_type: Some("vlan".into()),
            physnet: Some("physnet1".into()),
            segment: Some(101),
            shared: true,
        }
    }

    fn sub() -> Subnet {
        Subnet {
            id: "s1".into(),
            name: "demo-net-subnet".into(),
            network_id: "n1".into(),
            cidr: "10.44.1.0/24".into(),
            gateway: Some("10.44.1.1".into()),
            pools: vec![("10.44.1.10".into(), "10.44.1.200".into())],
            dns: vec!["192.0.2.53".into()],
            dhcp: true,
        }
    }

    #[test]
    fn what_the_site_says_has_no_difference() {
        assert_eq!(network(&demo(), &net()), []);
        assert_eq!(subnet(&demo(), "n1", &sub()), []);
    }

    #[test]
    fn another_segment_or_physnet_is_reported_with_the_way_out() {
        let mut n = net();
        n.segment = Some(105);
        n.physnet = Some("physnet2".into());
        let d = network(&demo(), &n);
        assert_eq!(d.len(), 2, "{d:#?}");
        assert_eq!(
            (d[0].field.as_str(), d[0].cloud.as_str()),
            ("physnet", "physnet2")
        );
        assert!(
            d[0].fix.contains("make `site.physnet` say physnet2"),
            "{}",
            d[0].fix
        );
        assert_eq!(
            (d[1].field.as_str(), d[1].site.as_str(), d[1].cloud.as_str()),
            ("segment", "101", "105")
        );
        assert!(
            d[1].fix.contains("`networks[1].vlan` say 105"),
            "{}",
            d[1].fix
        );
        assert!(
            d[1].fix.contains("`openstack network delete demo-net`"),
            "{}",
            d[1].fix
        );
        n = net();
        n.shared = false;
        assert_eq!(
            network(&demo(), &n)[0].fix,
            "openstack network set --share demo-net"
        );
    }

    #[test]
    fn gateway_pool_dns_and_range_each_with_its_fix() {
        let mut s = sub();
        s.gateway = Some("10.44.1.254".into());
        s.pools = vec![("10.44.1.10".into(), "10.44.1.100".into())];
        s.dns = vec![];
        let d = subnet(&demo(), "n1", &s);
        let fields: Vec<&str> = d.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["gateway", "allocation-pool", "dns"]);
        assert_eq!(d[0].cloud, "10.44.1.254");
        assert!(d[0]
            .fix
            .starts_with("`openstack subnet set --gateway 10.44.1.1 demo-net-subnet`"));
        assert!(d[1]
            .fix
            .contains("--no-allocation-pool --allocation-pool 'start=10.44.1.10,end=10.44.1.200'"));
        assert!(d[2]
            .fix
            .contains("--no-dns-nameservers --dns-nameserver 192.0.2.53 demo-net-subnet"));
        assert_eq!(
            (d[2].site.as_str(), d[2].cloud.as_str()),
            ("192.0.2.53", "none")
        );
        s = sub();
        s.dhcp = false;
        let d = subnet(&demo(), "n1", &s);
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].field.as_str(), d[0].cloud.as_str()),
            ("dhcp", "disabled")
        );
        assert!(d[0]
            .fix
            .starts_with("`openstack subnet set --dhcp demo-net-subnet`"));
        s = sub();
        s.cidr = "10.44.9.0/24".into();
        let d = subnet(&demo(), "n1", &s);
        assert_eq!(d[0].field, "cidr");
        assert!(
            d[0].fix.contains("`networks[1].cidr` say 10.44.9.0/24"),
            "{}",
            d[0].fix
        );
        // On another network: only that is said (the rest would be noise).
        let d = subnet(&demo(), "other", &sub());
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].field, "network");
    }
}
