//! `aerie networks` on the test bed's real neutron: aerie's own step creates the
//! example site's provider networks, and neutron's own dnsmasq (started by its DHCP
//! agent) offers a DHCP client on each VLAN the site's external gateway as its
//! router; a rerun changes nothing in neutron's database; a subnet changed by hand is
//! reported with its fix, not recreated.

use crate::apply_support::{aerie, known_hosts_copy, report};
use crate::cloud::{self, Cloud, PHYSNET};
use crate::harness::json;
use crate::testbed::Testbed;
use serde_json::Value;
use std::time::Instant;

/// The example site (demo-net: VLAN 101, gateway 10.44.1.1; demo2-net: VLAN 102,
/// gateway 10.44.2.1; DNS 192.0.2.53) with its frontend fe1 at the test bed's frontend.
fn example_site(tb: &Testbed) -> std::path::PathBuf {
    let example = include_str!("../../examples/lab.yaml");
    let text = example.replacen(
        "ssh: { host: 10.20.0.10, user: root, port: 22 }",
        &format!("ssh: {{ host: {}, user: root, port: 22 }}", tb.host(1).addr),
        1,
    );
    assert_ne!(text, example, "the example's fe1 ssh line moved");
    let path = tb.dir().join("lab-networks.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn networks(r: &Value) -> Vec<(&str, &str)> {
    r["networks"]
        .as_array()
        .unwrap_or_else(|| panic!("no networks in {r:#}"))
        .iter()
        .map(|n| {
            (
                n["network"].as_str().unwrap(),
                n["status"].as_str().unwrap(),
            )
        })
        .collect()
}

pub fn aerie_networks_gives_neutrons_dnsmasq_the_sites_gateways(tb: &Testbed, cloud: &mut Cloud) {
    let site = example_site(tb);
    let kh = known_hosts_copy(tb);
    assert_eq!(
        cloud.sql("SELECT COUNT(*) FROM neutron.networks"),
        "0\n",
        "the test cloud starts with no network"
    );

    // First run: both networks and subnets created, by aerie's step.
    let t = Instant::now();
    let out = aerie(tb, "networks", &site, &kh, &[]);
    let first = t.elapsed();
    assert!(out.status.success(), "{}", cloud::explain(&out));
    let r = report(&out);
    assert_eq!(
        networks(&r),
        [("demo-net", "created"), ("demo2-net", "created")],
        "{r:#}"
    );
    // Two listings, then per network a create and its subnet's create.
    assert_eq!(r["calls"], 6, "{r:#}");
    eprintln!(
        "aerie networks, 2 networks created: {first:?}, {} openstack commands",
        r["calls"]
    );

    // Neutron holds what the site says.
    for (name, vlan, gateway, pool) in [
        ("demo-net", 101, "10.44.1.1", ("10.44.1.10", "10.44.1.200")),
        ("demo2-net", 102, "10.44.2.1", ("10.44.2.10", "10.44.2.200")),
    ] {
        let net = json(&cloud.admin_ok(&format!("openstack network show {name} -f json")));
        assert_eq!(net["provider:network_type"], "vlan", "{net:#}");
        assert_eq!(net["provider:physical_network"], PHYSNET, "{net:#}");
        assert_eq!(net["provider:segmentation_id"], vlan, "{net:#}");
        assert_eq!(net["shared"], true, "{net:#}");
        let sub = json(&cloud.admin_ok(&format!("openstack subnet show {name}-subnet -f json")));
        assert_eq!(sub["gateway_ip"], gateway, "{sub:#}");
        assert_eq!(sub["allocation_pools"][0]["start"], pool.0, "{sub:#}");
        assert_eq!(sub["allocation_pools"][0]["end"], pool.1, "{sub:#}");
        assert_eq!(
            sub["dns_nameservers"],
            serde_json::json!(["192.0.2.53"]),
            "{sub:#}"
        );
        assert_eq!(sub["enable_dhcp"], true, "{sub:#}");
    }

    // An instance's port on each network (neutron's dnsmasq answers only the MACs
    // of its ports); a DHCP client with that MAC on the network's VLAN is offered
    // the site's external gateway as its router, by neutron's own dnsmasq.
    for (name, vlan, router) in [
        ("demo-net", 101, "10.44.1.1"),
        ("demo2-net", 102, "10.44.2.1"),
    ] {
        let port = json(&cloud.admin_ok(&format!(
            "openstack port create --network {name} {name}-client -f json"
        )));
        let mac = port["mac_address"].as_str().unwrap().to_string();
        let ip = port["fixed_ips"][0]["ip_address"]
            .as_str()
            .unwrap()
            .to_string();
        cloud.wire_dhcp_ports(name).unwrap();
        let offer = cloud
            .dhcp_offer(vlan, &mac)
            .unwrap()
            .unwrap_or_else(|| panic!("no DHCP offer on VLAN {vlan}\n{}", cloud.log_tails()));
        assert_eq!(offer.router, router, "{name}: {offer:?}");
        assert_eq!(offer.ip, ip, "{name}: {offer:?}");
        assert_eq!(offer.subnet, "255.255.255.0", "{name}: {offer:?}");
        // Where the router comes from: neutron's own options file for the network's
        // dnsmasq (`tag:subnet-<id>,option:router,<gateway>`), not a config file of
        // aerie's: the test bed's dhcp_agent.ini sets no dnsmasq_config_file, so the
        // agent passes `--conf-file=/dev/null` (neutron/agent/linux/dhcp.py), from
        // the first dnsmasq of each network on, with no agent restart.
        let net_id = cloud
            .admin_ok(&format!("openstack network show {name} -f value -c id"))
            .trim()
            .to_string();
        let subnet_id = cloud
            .admin_ok(&format!(
                "openstack subnet show {name}-subnet -f value -c id"
            ))
            .trim()
            .to_string();
        let fe = cloud.frontend();
        let opts =
            std::fs::read_to_string(fe.path(&format!("/var/lib/neutron/dhcp/{net_id}/opts")))
                .unwrap_or_else(|e| panic!("{name}: neutron's opts file: {e}"));
        assert!(
            opts.lines()
                .any(|l| l == format!("tag:subnet-{subnet_id},option:router,{router}")),
            "{name}: {opts}"
        );
        let dnsmasq = fe.exec_ok("ps -eo args | grep '^dnsmasq' || true");
        let mine: Vec<&str> = dnsmasq.lines().filter(|l| l.contains(&net_id)).collect();
        assert_eq!(mine.len(), 1, "{name}: {dnsmasq}");
        assert!(mine[0].contains(" --conf-file=/dev/null"), "{}", mine[0]);
        // The same client on a VLAN of no network: nothing answers.
        assert_eq!(cloud.dhcp_offer(vlan + 50, &mac).unwrap(), None, "{name}");
    }

    // A second run changes nothing: neutron's rows (subnet revisions included) and
    // the CLI's subnet listing are the same after it; it only read.
    let subnets = || cloud.admin_ok("openstack subnet list --long -f json");
    let (db_before, list_before) = (cloud.neutron_snapshot(), subnets());
    let t = Instant::now();
    let out = aerie(tb, "networks", &site, &kh, &[]);
    let rerun = t.elapsed();
    assert!(out.status.success(), "{}", cloud::explain(&out));
    let r = report(&out);
    assert_eq!(
        networks(&r),
        [("demo-net", "present"), ("demo2-net", "present")],
        "{r:#}"
    );
    for n in r["networks"].as_array().unwrap() {
        assert_eq!(n["commands"], serde_json::json!([]), "{r:#}");
    }
    assert_eq!(
        r["calls"], 4,
        "two listings and one show per network: {r:#}"
    );
    assert_eq!(cloud.neutron_snapshot(), db_before);
    assert_eq!(json(&subnets()), json(&list_before));
    eprintln!(
        "aerie networks, no-op rerun: {rerun:?}, {} openstack commands",
        r["calls"]
    );

    // A subnet changed by hand: reported with what differs and its fix, exit 2,
    // and left as it is (same id, same gateway, nothing created or deleted).
    cloud.admin_ok("openstack subnet set --gateway 10.44.2.254 demo2-net-subnet");
    let changed = cloud.neutron_snapshot();
    let out = aerie(tb, "networks", &site, &kh, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", cloud::explain(&out));
    let r = report(&out);
    assert_eq!(
        networks(&r),
        [("demo-net", "present"), ("demo2-net", "differs")],
        "{r:#}"
    );
    let d = &r["networks"][1]["differences"];
    assert_eq!(d.as_array().unwrap().len(), 1, "{r:#}");
    assert_eq!(d[0]["field"], "gateway", "{r:#}");
    assert_eq!(d[0]["site"], "10.44.2.1", "{r:#}");
    assert_eq!(d[0]["cloud"], "10.44.2.254", "{r:#}");
    assert!(
        d[0]["fix"]
            .as_str()
            .unwrap()
            .starts_with("`openstack subnet set --gateway 10.44.2.1 demo2-net-subnet`"),
        "{r:#}"
    );
    assert_eq!(r["networks"][1]["commands"], serde_json::json!([]), "{r:#}");
    assert_eq!(
        cloud.neutron_snapshot(),
        changed,
        "aerie changed the hand-made state"
    );
    // The fix it names puts things back, and the next run finds them as the site says.
    cloud.admin_ok(d[0]["fix"].as_str().unwrap().split('`').nth(1).unwrap());
    let out = aerie(tb, "networks", &site, &kh, &[]);
    assert!(out.status.success(), "{}", cloud::explain(&out));
    assert_eq!(
        networks(&report(&out)),
        [("demo-net", "present"), ("demo2-net", "present")]
    );
}
