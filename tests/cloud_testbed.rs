//! The test bed's real OpenStack (tests/support/cloud.rs): keystone, placement, nova
//! and neutron from PyPI on real-sshd test hosts. One cloud for the whole binary (its
//! start-up is the expensive part), checked step by step in one test.

#[path = "support/cloud.rs"]
mod cloud;
#[path = "support/testbed.rs"]
mod testbed;

use cloud::{Cloud, PHYSNET};
use serde_json::Value;
use testbed::Testbed;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn real_cloud_registers_fake_computes_and_neutron_dnsmasq_offers_the_gateway() {
    let tb = Testbed::new(3).unwrap();
    let mut cloud = Cloud::start(&tb).unwrap();
    eprintln!("cloud start-up: {:?}", cloud.startup);

    // Credentials where the openstack profile's registration reads them, private.
    let rc = cloud.admin_openrc();
    let mode = std::os::unix::fs::MetadataExt::mode(&std::fs::metadata(&rc).unwrap());
    assert_eq!(mode & 0o777, 0o600);

    hypervisors_listed_after_discover_hosts(&cloud);
    neutron_dnsmasq_offers_the_subnet_gateway_on_the_vlan(&mut cloud);

    cloud.stop().unwrap();
    // Nothing of the cloud is left in the hosts: sshd only, no neutron namespace.
    for h in tb.hosts() {
        let ps = h.exec_ok("ps -e -o comm= | sort -u");
        let left: Vec<&str> = ps
            .lines()
            .filter(|c| *c != "sshd" && *c != "ps" && *c != "sort" && *c != "sh")
            .collect();
        assert!(left.is_empty(), "{}: left running: {left:?}", h.name);
        assert_eq!(h.exec_ok("ip netns list"), "", "{}", h.name);
    }
    assert!(!tb.dir().join("cloud").exists());
}

fn hypervisors_listed_after_discover_hosts(cloud: &Cloud) {
    // nova-compute registered its service; nothing is mapped into the cell yet.
    let services =
        json(&cloud.admin_ok("openstack compute service list --service nova-compute -f json"));
    let mut hosts: Vec<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Host"].as_str().unwrap())
        .collect();
    hosts.sort();
    assert_eq!(hosts, ["host2", "host3"], "{services:#}");
    let out = cloud.admin_ok("nova-manage cell_v2 discover_hosts --verbose");
    assert!(out.contains("host2") && out.contains("host3"), "{out}");
    let hv = json(&cloud.admin_ok("openstack hypervisor list -f json"));
    let mut names: Vec<&str> = hv
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["Hypervisor Hostname"].as_str().unwrap())
        .collect();
    names.sort();
    // The fake driver names its node after the host.
    assert_eq!(names, ["host2", "host3"], "{hv:#}");
}

fn neutron_dnsmasq_offers_the_subnet_gateway_on_the_vlan(cloud: &mut Cloud) {
    // The provider network the way the deployment issue creates it: VLAN segment from
    // the site, the site's gateway.
    cloud.admin_ok(&format!(
        "openstack network create demo-net --provider-network-type vlan \
         --provider-physical-network {PHYSNET} --provider-segment 101 -f json && \
         openstack subnet create demo-subnet --network demo-net --subnet-range 10.44.1.0/24 \
         --gateway 10.44.1.1 --allocation-pool start=10.44.1.10,end=10.44.1.200 -f json"
    ));
    // An instance's port: neutron's dnsmasq answers only the MACs of its ports.
    let port =
        json(&cloud.admin_ok("openstack port create --network demo-net client-port -f json"));
    let mac = port["mac_address"].as_str().unwrap().to_string();
    let ip = port["fixed_ips"][0]["ip_address"]
        .as_str()
        .unwrap()
        .to_string();
    cloud.wire_dhcp_ports("demo-net").unwrap();
    let offer = cloud.dhcp_offer(101, &mac).unwrap();
    let offer = offer.unwrap_or_else(|| panic!("no DHCP offer on VLAN 101\n{}", cloud.log_tails()));
    assert_eq!(offer.router, "10.44.1.1");
    assert_eq!(offer.ip, ip);
    // The same client on another VLAN: nothing answers.
    assert_eq!(cloud.dhcp_offer(102, &mac).unwrap(), None);
}
