//! The test bed's real OpenStack (tests/support/cloud.rs): keystone, placement, nova
//! and neutron from PyPI on real-sshd test hosts. One cloud for the whole binary (its
//! start-up is the expensive part), checked step by step in one test.

use crate::apply_support;
use crate::cloud;
use crate::harness::{json, node};
use crate::testbed;
use apply_support::{aerie, known_hosts_copy, report, site_yaml, write_site};
use cloud::Cloud;
use testbed::Testbed;

#[test]
fn real_cloud_registers_fake_computes_and_neutron_dnsmasq_offers_the_gateway() {
    let tb = Testbed::new(3).unwrap();
    let mut cloud = Cloud::start(&tb).unwrap();
    eprintln!("cloud start-up: {:?}", cloud.startup);

    // Credentials where the openstack profile's registration reads them, private.
    let rc = cloud.admin_openrc();
    let mode = std::os::unix::fs::MetadataExt::mode(&std::fs::metadata(&rc).unwrap());
    assert_eq!(mode & 0o777, 0o600);

    aerie_register_maps_the_computes_then_a_rerun_changes_nothing(&tb, &cloud);
    a_compute_dead_of_the_start_race_is_started_again_any_other_death_fails(&mut cloud);
    crate::networks::aerie_networks_gives_neutrons_dnsmasq_the_sites_gateways(&tb, &mut cloud);

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

/// `aerie register` with the openstack profile, against the real nova: it waits for
/// each nova-compute, runs `nova-manage cell_v2 discover_hosts`, checks the hypervisor
/// list and makes the PCI flavor; a second run changes nothing in nova's databases.
fn aerie_register_maps_the_computes_then_a_rerun_changes_nothing(tb: &Testbed, cloud: &Cloud) {
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
    assert!(cloud.mapped_hosts().is_empty());

    let site = write_site(tb, &site_yaml(tb));
    let kh = known_hosts_copy(tb);
    let args = ["--poll-interval", "0.5", "--timeout", "120"];
    let t = std::time::Instant::now();
    let out = aerie(tb, "register", &site, &kh, &args);
    assert!(
        out.status.success(),
        "after {:?}: {}\nfrontend sshd log:\n{}",
        t.elapsed(),
        cloud::explain(&out),
        std::fs::read_to_string(&tb.host(1).sshd_log).unwrap_or_default()
    );
    let r = report(&out);
    for h in ["host2", "host3"] {
        assert_eq!(node(&r, h)["status"], "registered", "{r:#}");
    }
    assert_eq!(r["flavor"]["status"], "created", "{r:#}");
    assert_eq!(cloud.mapped_hosts(), ["host2", "host3"]);
    // The fake driver names its node after the host.
    assert_eq!(cloud.hypervisors(), ["host2", "host3"]);
    // The PCI flavor, once, with the site's alias.
    let flavor = json(&cloud.admin_ok("openstack flavor show m1.ib -f json"));
    assert_eq!(flavor["vcpus"], 2, "{flavor:#}");
    assert!(
        flavor["properties"].to_string().contains("ib-vf:1"),
        "{flavor:#}"
    );

    // A second run: nothing changes in nova's host mappings, compute nodes or flavors.
    let before = cloud.nova_snapshot();
    let out = aerie(tb, "register", &site, &kh, &args);
    assert!(out.status.success(), "{}", cloud::explain(&out));
    let r = report(&out);
    for h in ["host2", "host3"] {
        assert_eq!(node(&r, h)["status"], "already-registered", "{r:#}");
    }
    assert_eq!(r["flavor"]["status"], "present", "{r:#}");
    assert_eq!(cloud.nova_snapshot(), before);
}

/// The harness's answer to nova 34's start-up race: a nova-compute that died of it
/// is started again (and comes up), one that died otherwise fails the wait.
fn a_compute_dead_of_the_start_race_is_started_again_any_other_death_fails(cloud: &mut Cloud) {
    cloud.crash_compute(3, true).unwrap();
    cloud.wait_computes_up(&["host3"], 300).unwrap();
    assert_eq!(cloud.race_restarts(3), 1);
    cloud.crash_compute(3, false).unwrap();
    let e = cloud.wait_computes_up(&["host3"], 300).unwrap_err();
    assert!(
        format!("{e:#}").contains("host3:nova-compute exited"),
        "{e:#}"
    );
    assert_eq!(cloud.race_restarts(3), 1);
    // Up again for what follows (the child that died is the harness's to replace).
    cloud.stop_compute(3).unwrap();
    cloud.start_compute(3).unwrap();
    cloud.wait_computes_up(&["host3"], 300).unwrap();
}
