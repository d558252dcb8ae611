//! The test bed's real OpenStack (tests/support/cloud.rs): keystone, placement, nova
//! and neutron from PyPI on real-sshd test hosts. One cloud for the whole binary (its
//! start-up is the expensive part), checked step by step in one test.

use crate::apply_support;
use crate::cloud;
use crate::harness;
use crate::testbed;
use apply_support::{aerie, known_hosts_copy, report, site_yaml, write_site};
use cloud::{Cloud, PHYSNET};
use serde_json::Value;
use testbed::{TestHost, Testbed};

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

    aerie_register_maps_the_computes_then_a_rerun_changes_nothing(&tb, &cloud);
    neutron_dnsmasq_offers_the_subnet_gateway_on_the_vlan(&mut cloud);
    aeries_dhcp_option_tag_file_changes_nothing_on_neutrons_dnsmasq(&mut cloud);

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
    assert_eq!(cloud.sql("SELECT host FROM nova_api.host_mappings"), "");

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
    assert_eq!(
        cloud.sql("SELECT host FROM nova_api.host_mappings ORDER BY host"),
        "host2\nhost3\n"
    );
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
    // The PCI flavor, once, with the site's alias.
    let flavor = json(&cloud.admin_ok("openstack flavor show m1.ib -f json"));
    assert_eq!(flavor["vcpus"], 2, "{flavor:#}");
    assert!(
        flavor["properties"].to_string().contains("ib-vf:1"),
        "{flavor:#}"
    );

    // A second run: nothing changes in nova's host mappings, compute nodes or flavors.
    let snapshot = || {
        cloud.sql(
            "SELECT host, cell_id FROM nova_api.host_mappings ORDER BY host; \
             SELECT name, flavorid, vcpus, memory_mb FROM nova_api.flavors ORDER BY name; \
             SELECT `key`, value FROM nova_api.flavor_extra_specs ORDER BY `key`; \
             SELECT host, hypervisor_hostname, mapped FROM nova.compute_nodes ORDER BY host",
        )
    };
    let before = snapshot();
    let out = aerie(tb, "register", &site, &kh, &args);
    assert!(out.status.success(), "{}", cloud::explain(&out));
    let r = report(&out);
    for h in ["host2", "host3"] {
        assert_eq!(node(&r, h)["status"], "already-registered", "{r:#}");
    }
    assert_eq!(r["flavor"]["status"], "present", "{r:#}");
    assert_eq!(snapshot(), before);
}

fn node<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == name)
        .unwrap_or_else(|| panic!("no report for {name}: {report:#}"))
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

/// Today's dhcp-gateway concern writes `dhcp-option=tag:<network>,option:router,GW`
/// lines and points neutron's DHCP agent at them (`dnsmasq_config_file`). Neutron's
/// dnsmasq loads the file, but only ever sets the tags `subnet-<uuid>`, `port-<uuid>`,
/// `ipxe`, `ipxe6`: a subnet without a gateway gets no router from it.
fn aeries_dhcp_option_tag_file_changes_nothing_on_neutrons_dnsmasq(cloud: &mut Cloud) {
    // The file exactly as aerie renders it for the example site's frontend
    // (demo2-net: VLAN 102, gateway 10.44.2.1).
    let out_dir = cloud.frontend().dir.join("render");
    harness::aerie()
        .args(["render", "--example", "lab", "-o"])
        .arg(&out_dir)
        .run();
    let file = std::fs::read_to_string(out_dir.join("fe1/root/etc/dnsmasq-nova.conf")).unwrap();
    assert!(
        file.contains("dhcp-option=tag:demo2-net,option:router,10.44.2.1"),
        "{file}"
    );
    let fe = cloud.frontend();
    std::fs::write(fe.path("/etc/dnsmasq-nova.conf"), &file).unwrap();
    // aerie's edit of dhcp_agent.ini: [DEFAULT] dnsmasq_config_file.
    fe.exec_ok(
        "sed -i 's|^\\[DEFAULT\\]$|[DEFAULT]\\ndnsmasq_config_file = /etc/dnsmasq-nova.conf|' \
         /etc/neutron/dhcp_agent.ini && grep -q '^dnsmasq_config_file = /etc/dnsmasq-nova.conf$' \
         /etc/neutron/dhcp_agent.ini",
    );
    cloud.restart_dhcp_agent().unwrap();
    // demo2-net on its VLAN, with no gateway of neutron's own.
    cloud.admin_ok(&format!(
        "openstack network create demo2-net --provider-network-type vlan \
         --provider-physical-network {PHYSNET} --provider-segment 102 -f json && \
         openstack subnet create demo2-subnet --network demo2-net --subnet-range 10.44.2.0/24 \
         --gateway none --allocation-pool start=10.44.2.10,end=10.44.2.200 -f json"
    ));
    let port =
        json(&cloud.admin_ok("openstack port create --network demo2-net client2-port -f json"));
    let mac = port["mac_address"].as_str().unwrap().to_string();
    let net_id = cloud
        .admin_ok("openstack network show demo2-net -f value -c id")
        .trim()
        .to_string();
    cloud.wire_dhcp_ports("demo2-net").unwrap();
    // Neutron's dnsmasq for demo2-net did load aerie's file. Waited for, not
    // taken from the first process seen: in about one run in four here the new
    // network's first dnsmasq comes with `--conf-file=/dev/null` (a test-bed race
    // not yet understood; the restarted agent is checked to be the only one). One
    // more agent restart then respawns it from the agent's current configuration.
    let find = |fe: &TestHost, secs: u64| -> Result<String, String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let cmdline = fe.exec_ok("ps -eo args | grep '^dnsmasq' || true");
            if let Some(l) = cmdline
                .lines()
                .find(|l| l.contains(&net_id) && l.contains("--conf-file=/etc/dnsmasq-nova.conf"))
            {
                return Ok(l.to_string());
            }
            if std::time::Instant::now() > deadline {
                return Err(cmdline);
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    };
    let line = match find(fe, 60) {
        Ok(line) => line,
        Err(seen) => {
            eprintln!("demo2-net's dnsmasq without aerie's file; restarting the agent:\n{seen}");
            cloud.restart_dhcp_agent().unwrap();
            let fe = cloud.frontend();
            find(fe, 120).unwrap_or_else(|seen| {
                panic!(
                    "no dnsmasq for {net_id} with --conf-file=/etc/dnsmasq-nova.conf:\n{seen}\n{}\n{}\n{}",
                    fe.exec_ok("ps -eo pid,ppid,lstart,args | grep -a -e neutron -e dnsmasq || true"),
                    fe.exec_ok("cat /etc/neutron/dhcp_agent.ini"),
                    cloud.log_tails()
                )
            })
        }
    };
    assert!(line.contains("set:subnet-"), "{line}");
    // ...and the client on demo2-net's VLAN is offered an address but no router.
    let offer = cloud
        .dhcp_offer(102, &mac)
        .unwrap()
        .unwrap_or_else(|| panic!("no DHCP offer on VLAN 102\n{}", cloud.log_tails()));
    assert_eq!(offer.router, "", "{offer:?}");
    assert_eq!(offer.subnet, "255.255.255.0");
}
