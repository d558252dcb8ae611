//! One failing case per rule of the site contract, and the examples pass.

use super::*;
use crate::site::{examples, load, Finding, Severity};

fn lab() -> Site {
    load::from_str(examples::get("lab").unwrap(), "lab").unwrap()
}

fn errors(site: &Site) -> Vec<Finding> {
    check(site, &Context::default())
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .collect()
}

/// The site has an error at exactly `key` whose message contains `words`.
fn assert_error(site: &Site, key: &str, words: &str) {
    let found = errors(site);
    assert!(
        found
            .iter()
            .any(|f| f.problem.what == key && f.problem.message.contains(words)),
        "expected an error at {key} mentioning {words:?}, got {found:#?}"
    );
    assert!(
        found.iter().all(|f| !f.problem.fix.is_empty()),
        "a finding without a fix: {found:#?}"
    );
}

fn parse_error(yaml_from: &str, yaml_to: &str) -> Finding {
    let text = examples::get("lab")
        .unwrap()
        .replacen(yaml_from, yaml_to, 1);
    assert_ne!(
        text,
        examples::get("lab").unwrap(),
        "{yaml_from:?} not in the example"
    );
    let err = load::from_str(&text, "lab").expect_err("the site should not parse");
    err.0.findings.into_iter().next().unwrap()
}

#[test]
fn every_example_is_valid_without_warnings() {
    for (name, _, text) in examples::EXAMPLES {
        let site = load::from_str(text, name).unwrap();
        let findings = check(&site, &Context::default());
        assert!(findings.is_empty(), "{name}: {findings:#?}");
    }
}

#[test]
fn cidr_that_does_not_parse() {
    let f = parse_error("cidr: 10.44.1.0/24", "cidr: 10.44.1.0/33");
    assert_eq!(f.problem.what, "networks[1].cidr");
    assert!(f.problem.message.contains("10.44.1.0/33"), "{f:?}");
    assert!(f.line.is_some() && f.column.is_some());
}

#[test]
fn cidr_with_host_bits() {
    let mut site = lab();
    site.networks[1].cidr = "10.44.1.7/24".parse().unwrap();
    assert_error(&site, "networks[1].cidr", "host bits");
}

#[test]
fn value_outside_its_list() {
    for (from, to, key) in [
        ("profile: openstack", "profile: openstak", "site.profile"),
        ("distro: rocky9", "distro: rocky8", "site.distro"),
        (
            "purpose: instances",
            "purpose: tenant",
            "networks[1].purpose",
        ),
        ("role: compute", "role: storage", "nodes[1].role"),
        ("iommu: intel", "iommu: arm", "features.iommu"),
    ] {
        let f = parse_error(from, to);
        assert_eq!(f.problem.what, key);
        assert!(f.problem.message.contains("unknown variant"), "{f:?}");
    }
}

#[test]
fn site_and_network_names_outside_the_charset() {
    assert_eq!(
        parse_error("name: lab", "name: Lab_1").problem.what,
        "site.name"
    );
    assert_eq!(
        parse_error("name: mgmt", "name: mgmt net").problem.what,
        "networks[0].name"
    );
}

#[test]
fn dns_server_that_is_not_an_address() {
    let f = parse_error("dns: [192.0.2.53]", "dns: [ns1.example.org]");
    assert_eq!(f.problem.what, "site.dns[0]");
}

#[test]
fn password_hash_that_is_not_sha512_crypt() {
    let f = parse_error(
        "root-password-hash: \"$6$aerielabsalt$",
        "root-password-hash: \"$1$aerielabsalt$",
    );
    assert_eq!(f.problem.what, "site.root-password-hash");
}

#[test]
fn gateway_outside_its_cidr() {
    let mut site = lab();
    site.networks[1].gateway = Some("10.44.9.1".parse().unwrap());
    assert_error(
        &site,
        "networks[1].gateway",
        "10.44.9.1 is outside 10.44.1.0/24",
    );
}

#[test]
fn gateway_on_network_or_broadcast_address() {
    let mut site = lab();
    site.networks[1].gateway = Some("10.44.1.0".parse().unwrap());
    assert_error(&site, "networks[1].gateway", "network address");
    site.networks[1].gateway = Some("10.44.1.255".parse().unwrap());
    assert_error(&site, "networks[1].gateway", "broadcast address");
}

#[test]
fn dhcp_range_outside_cidr_or_on_edges() {
    let mut site = lab();
    site.networks[1].dhcp_range =
        Some(["10.44.1.10".parse().unwrap(), "10.44.3.5".parse().unwrap()]);
    assert_error(&site, "networks[1].dhcp-range[1]", "outside");
    site.networks[1].dhcp_range =
        Some(["10.44.1.0".parse().unwrap(), "10.44.1.20".parse().unwrap()]);
    assert_error(&site, "networks[1].dhcp-range[0]", "network address");
    site.networks[1].dhcp_range = Some([
        "10.44.1.10".parse().unwrap(),
        "10.44.1.255".parse().unwrap(),
    ]);
    assert_error(&site, "networks[1].dhcp-range[1]", "broadcast address");
}

#[test]
fn dhcp_range_reversed() {
    let mut site = lab();
    site.networks[1].dhcp_range = Some([
        "10.44.1.200".parse().unwrap(),
        "10.44.1.10".parse().unwrap(),
    ]);
    assert_error(&site, "networks[1].dhcp-range", "after its end");
}

#[test]
fn dhcp_range_containing_the_gateway() {
    let mut site = lab();
    site.networks[1].gateway = Some("10.44.1.50".parse().unwrap());
    assert_error(
        &site,
        "networks[1].dhcp-range",
        "contains the gateway 10.44.1.50",
    );
}

#[test]
fn dhcp_range_containing_a_node_address() {
    let mut site = lab();
    site.networks[0].dhcp_range =
        Some(["10.20.0.5".parse().unwrap(), "10.20.0.100".parse().unwrap()]);
    assert_error(&site, "networks[0].dhcp-range", "10.20.0.11");
}

#[test]
fn overlapping_cidrs() {
    let mut site = lab();
    site.networks[2].cidr = "10.44.0.0/16".parse().unwrap();
    site.networks[2].gateway = Some("10.44.2.1".parse().unwrap());
    assert_error(&site, "networks[2].cidr", "overlaps 10.44.1.0/24");
}

#[test]
fn vlan_outside_range() {
    let mut site = lab();
    site.networks[1].vlan = Some(4095);
    assert_error(&site, "networks[1].vlan", "outside 1..4094");
    site.networks[1].vlan = Some(0);
    assert_error(&site, "networks[1].vlan", "outside 1..4094");
}

#[test]
fn two_networks_with_one_vlan() {
    let mut site = lab();
    site.networks[2].vlan = Some(101);
    assert_error(&site, "networks[2].vlan", "already used by networks[1]");
}

#[test]
fn duplicate_network_name() {
    let mut site = lab();
    site.networks[2].name = "demo-net".parse().unwrap();
    assert_error(&site, "networks[2].name", "already used");
}

#[test]
fn duplicate_hostname() {
    let mut site = lab();
    site.nodes[2].hostname = "node1".parse().unwrap();
    assert_error(
        &site,
        "nodes[2].hostname",
        "already the host name of nodes[1]",
    );
}

#[test]
fn a_third_duplicate_names_the_first_use() {
    let mut site = lab();
    site.nodes[1].hostname = "fe1".parse().unwrap();
    site.nodes[2].hostname = "fe1".parse().unwrap();
    assert_error(
        &site,
        "nodes[1].hostname",
        "already the host name of nodes[0]",
    );
    assert_error(
        &site,
        "nodes[2].hostname",
        "already the host name of nodes[0]",
    );
}

#[test]
fn duplicate_address() {
    let mut site = lab();
    site.nodes[2].interfaces[0].address = Some("10.20.0.11".parse().unwrap());
    assert_error(
        &site,
        "nodes[2].interfaces[0].address",
        "already used by nodes[1]",
    );
}

#[test]
fn duplicate_mac() {
    let mut site = lab();
    site.nodes[2].interfaces[0].mac = Some("52:54:00:00:00:11".parse().unwrap());
    assert_error(
        &site,
        "nodes[2].interfaces[0].mac",
        "already used by nodes[1]",
    );
}

#[test]
fn address_outside_its_network() {
    let mut site = lab();
    site.nodes[1].interfaces[0].address = Some("10.21.0.11".parse().unwrap());
    assert_error(
        &site,
        "nodes[1].interfaces[0].address",
        "outside 10.20.0.0/24",
    );
}

#[test]
fn address_equal_to_gateway_network_or_broadcast() {
    let mut site = lab();
    let key = "nodes[1].interfaces[0].address";
    site.nodes[1].interfaces[0].address = Some("10.20.0.1".parse().unwrap());
    assert_error(&site, key, "gateway");
    site.nodes[1].interfaces[0].address = Some("10.20.0.0".parse().unwrap());
    assert_error(&site, key, "network address");
    site.nodes[1].interfaces[0].address = Some("10.20.0.255".parse().unwrap());
    assert_error(&site, key, "broadcast address");
}

#[test]
fn interface_naming_no_network() {
    let mut site = lab();
    site.nodes[1].interfaces[1].network = "storage".parse().unwrap();
    assert_error(
        &site,
        "nodes[1].interfaces[1].network",
        "no network is named",
    );
}

#[test]
fn not_exactly_one_frontend() {
    let mut site = lab();
    site.nodes[1].role = Role::Frontend;
    assert_error(&site, "nodes[1].role", "a second frontend");
    site.nodes[0].role = Role::Compute;
    site.nodes[1].role = Role::Compute;
    assert_error(&site, "nodes", "no node has `role: frontend`");
}

#[test]
fn num_vfs_outside_what_the_driver_allows() {
    let mut site = lab();
    site.features.sriov.as_mut().unwrap().num_vfs = 127;
    assert_error(&site, "features.sriov.num-vfs", "1 to 126");
    site.features.sriov.as_mut().unwrap().num_vfs = 0;
    assert_error(&site, "features.sriov.num-vfs", "1 to 126");
    let sriov = site.features.sriov.as_mut().unwrap();
    sriov.driver = "igb".parse().unwrap();
    sriov.num_vfs = 8;
    sriov.probe_vf = None;
    assert_error(&site, "features.sriov.num-vfs", "1 to 7");
}

#[test]
fn unknown_sriov_driver() {
    let mut site = lab();
    site.features.sriov.as_mut().unwrap().driver = "e1000".parse().unwrap();
    assert_error(&site, "features.sriov.driver", "does not know");
}

#[test]
fn pci_id_that_is_not_four_hex_digits() {
    let f = parse_error("vendor-id: \"15b3\"", "vendor-id: \"15b\"");
    assert_eq!(f.problem.what, "features.sriov.passthrough[0].vendor-id");
}

#[test]
fn values_with_newlines_control_or_shell_metacharacters() {
    for (from, to, key) in [
        (
            "domain: lab.example.org",
            "domain: \"lab.example.org;reboot\"",
            "site.domain",
        ),
        ("timezone: UTC", "timezone: \"UTC$(id)\"", "site.timezone"),
        (
            "device: eth1",
            "device: \"eth1\\nrm\"",
            "nodes[0].interfaces[1].device",
        ),
        (
            "install-disk: sda",
            "install-disk: \"sda`id`\"",
            "nodes[0].install-disk",
        ),
        (
            "driver: mlx4_core",
            "driver: \"mlx4_core|x\"",
            "features.sriov.driver",
        ),
        ("user: root", "user: \"root;id\"", "nodes[0].ssh.user"),
        (
            "name: m1.ib",
            "name: \"m1.ib&\"",
            "features.sriov.flavor.name",
        ),
        (
            "ntp: [0.pool.ntp.org]",
            "ntp: [\"0.pool.ntp.org\\u0007\"]",
            "site.ntp[0]",
        ),
        ("admin@laptop", "admin@laptop\\n", "site.ssh-keys[0]"),
    ] {
        let f = parse_error(from, to);
        assert_eq!(f.problem.what, key, "{f:?}");
        assert!(
            f.problem.message.contains("not allowed") || f.problem.message.contains("contains"),
            "{f:?}"
        );
    }
}

#[test]
fn unknown_key() {
    let f = parse_error("gateway: 10.20.0.1", "gatway: 10.20.0.1");
    assert_eq!(f.problem.what, "networks[0].gatway");
    assert!(f.problem.fix.contains("did you mean `gateway`"), "{f:?}");
    let f = parse_error("nested-kvm: true", "nested_kvm: true");
    assert_eq!(f.problem.what, "features.nested_kvm");
    assert!(f.problem.fix.contains("nested-kvm"), "{f:?}");
}

#[test]
fn all_errors_come_in_one_run() {
    let mut site = lab();
    site.networks[1].gateway = Some("10.44.9.1".parse().unwrap());
    site.networks[2].vlan = Some(5000);
    site.nodes[2].hostname = "node1".parse().unwrap();
    let keys: Vec<String> = errors(&site).into_iter().map(|f| f.problem.what).collect();
    for key in [
        "networks[1].gateway",
        "networks[2].vlan",
        "nodes[2].hostname",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} missing from {keys:?}");
    }
}

#[test]
fn warnings_for_risky_but_legal_sites() {
    let mut site = lab();
    site.networks[0].gateway = None;
    let context = Context {
        local_networks: vec!["10.44.0.0/16".parse().unwrap()],
    };
    let findings = check(&site, &context);
    assert!(
        findings.iter().all(|f| f.severity == Severity::Warning),
        "{findings:#?}"
    );
    assert!(findings
        .iter()
        .any(|f| f.problem.what == "networks[0].gateway"));
    assert!(findings.iter().any(
        |f| f.problem.what == "networks[1].cidr" && f.problem.message.contains("this machine")
    ));
}

fn debian(site: &mut Site) {
    site.site.distro = Distro::Debian12;
}

#[test]
fn debian12_fits_openstack_without_kickstart_keys() {
    let mut site = lab();
    debian(&mut site);
    for node in &mut site.nodes {
        node.install_disk = None;
    }
    assert_eq!(errors(&site), [], "a Debian OpenStack site is valid");
}

#[test]
fn debian12_refuses_install_disk_by_its_key() {
    let mut site = lab();
    debian(&mut site);
    site.nodes[1].install_disk = Some("sda".parse().unwrap());
    assert_error(&site, "nodes[1].install-disk", "not installed by kickstart");
}

#[test]
fn debian12_refuses_eucalyptus() {
    let mut site = lab();
    debian(&mut site);
    site.site.profile = ProfileName::Eucalyptus;
    assert_error(&site, "site.distro", "Eucalyptus ships EL packages only");
}

#[test]
fn debian12_parses_and_a_misspelling_names_the_key() {
    let text = examples::get("lab")
        .unwrap()
        .replacen("distro: rocky9", "distro: debian12", 1);
    let site = load::from_str(&text, "lab").unwrap();
    assert_eq!(site.site.distro, Distro::Debian12);
    let f = parse_error("distro: rocky9", "distro: debian-12");
    assert!(f.to_string().contains("distro"), "{f}");
}

#[test]
fn instances_networks_on_two_devices_of_one_node_cannot_share_the_physnet() {
    let mut site = lab();
    // node1: demo-net on eth1, and demo2-net on eth2.
    let mut extra = site.nodes[1].interfaces[1].clone();
    extra.network = "demo2-net".parse().unwrap();
    extra.device = Some("eth2".parse().unwrap());
    site.nodes[1].interfaces.push(extra);
    assert_error(
        &site,
        "nodes[1].interfaces[2].device",
        "node1 reaches demo2-net on eth2, but demo-net on eth1",
    );
    let found = errors(&site);
    let f = found
        .iter()
        .find(|f| f.problem.what == "nodes[1].interfaces[2].device");
    assert!(
        f.unwrap()
            .problem
            .message
            .contains("one physnet (physnet1)"),
        "{found:#?}"
    );
    // The same device, tagged by each network's VLAN: one trunk, valid.
    site.nodes[1].interfaces[2].device = Some("eth1".parse().unwrap());
    assert!(errors(&site).is_empty(), "{:#?}", errors(&site));
    // The physnet named in the site is the one the message names.
    site.site.physnet = Some("trunk-a".parse().unwrap());
    site.nodes[1].interfaces[2].device = Some("eth2".parse().unwrap());
    assert_error(
        &site,
        "nodes[1].interfaces[2].device",
        "one physnet (trunk-a)",
    );
}

#[test]
fn two_untagged_instances_networks_cannot_share_the_physnet() {
    let mut site = lab();
    site.networks[1].vlan = None;
    assert!(errors(&site).is_empty(), "one flat network is fine");
    site.networks[2].vlan = None;
    assert_error(
        &site,
        "networks[2].vlan",
        "demo2-net is untagged, and so is networks[1] (demo-net)",
    );
}

#[test]
fn eucalyptus_sites_have_no_physnet_rule() {
    let mut site = lab();
    site.site.profile = ProfileName::Eucalyptus;
    site.networks[1].vlan = None;
    site.networks[2].vlan = None;
    let found = errors(&site);
    assert!(
        !found.iter().any(|f| f.problem.what.ends_with(".vlan")),
        "{found:#?}"
    );
}

#[test]
fn physnet_key_parses_and_refuses_a_bad_name() {
    let text = examples::get("lab").unwrap().replacen(
        "timezone: UTC",
        "timezone: UTC\n  physnet: physnet-ext",
        1,
    );
    let site = load::from_str(&text, "lab").unwrap();
    assert_eq!(site.physnet(), "physnet-ext");
    assert_eq!(lab().physnet(), "physnet1");
    let f = parse_error("timezone: UTC", "timezone: UTC\n  physnet: \"phys net\"");
    assert_eq!(f.problem.what, "site.physnet");
}

fn eucalyptus() -> Site {
    load::from_str(examples::get("eucalyptus").unwrap(), "eucalyptus").unwrap()
}

fn with_bmc(site: &mut Site, i: usize, yaml: &str) {
    site.nodes[i].bmc = Some(serde_norway::from_str(yaml).unwrap());
}

#[test]
fn two_nodes_on_one_bmc_system() {
    let mut site = lab();
    let bmc = "{type: redfish, address: 'https://10.9.0.5', user: admin}";
    with_bmc(&mut site, 0, bmc);
    with_bmc(
        &mut site,
        1,
        "{type: redfish, address: '10.9.0.5:443', user: root}",
    );
    assert_error(
        &site,
        "nodes[1].bmc.address",
        "nodes[0] (fe1) already uses this BMC",
    );
    assert_error(&site, "nodes[0].bmc.system-id", "2 nodes share this BMC");
    // One BMC for several systems is right when each node names its system.
    with_bmc(
        &mut site,
        0,
        "{type: redfish, address: 'https://10.9.0.5', user: admin, system-id: '1'}",
    );
    with_bmc(
        &mut site,
        1,
        "{type: redfish, address: 'https://10.9.0.5', user: admin, system-id: '2'}",
    );
    assert!(errors(&site).is_empty(), "{:#?}", errors(&site));
}

#[test]
fn plain_http_bmc_is_a_warning_and_cannot_be_pinned() {
    let mut site = lab();
    with_bmc(
        &mut site,
        2,
        "{type: redfish, address: 'http://10.9.0.7:8000', user: admin}",
    );
    let all = check(&site, &Context::default());
    assert!(
        all.iter().any(|f| f.severity == Severity::Warning
            && f.problem.what == "nodes[2].bmc.address"
            && f.problem.message.contains("in clear")),
        "{all:#?}"
    );
    assert!(errors(&site).is_empty());
    let pin = format!("sha256:{}", "ab".repeat(32));
    with_bmc(
        &mut site,
        2,
        &format!(
            "{{type: redfish, address: 'http://10.9.0.7', user: admin, tls-fingerprint: '{pin}'}}"
        ),
    );
    assert_error(&site, "nodes[2].bmc.tls-fingerprint", "plain http");
}

#[test]
fn bad_bmc_values_name_their_key() {
    let text = examples::get("eucalyptus").unwrap();
    for (from, to, key, words) in [
        ("type: redfish", "type: ipmi", "nodes[0].bmc.type", "ipmi"),
        (
            "address: https://10.30.1.10",
            "address: https://10.30.1.10/redfish",
            "nodes[0].bmc.address",
            "path",
        ),
        (
            "tls-fingerprint: \"sha256:",
            "tls-fingerprint: \"sha1:",
            "nodes[0].bmc.tls-fingerprint",
            "not a TLS fingerprint",
        ),
        (
            "system-id: System.Embedded.1",
            "system-id: a/b",
            "nodes[1].bmc.system-id",
            "not allowed in a Redfish system id",
        ),
        (
            "user: admin",
            "user: ad min",
            "nodes[0].bmc.user",
            "not allowed in a BMC user name",
        ),
        (
            "user: admin",
            "user: admin\n      password: x",
            "nodes[0].bmc",
            "password",
        ),
    ] {
        let bad = text.replacen(from, to, 1);
        assert_ne!(bad, text, "{from:?} not in the example");
        let err = load::from_str(&bad, "eucalyptus").expect_err(to);
        let f = &err.0.findings[0];
        assert!(
            f.problem.what.starts_with(key) && f.to_string().contains(words),
            "{to:?}: {f:#?}"
        );
        assert!(!f.problem.fix.is_empty(), "{f:#?}");
    }
    assert!(eucalyptus().nodes.iter().all(|n| n.bmc.is_some()));
}

fn kolla() -> Site {
    load::from_str(examples::get("kolla").unwrap(), "kolla").unwrap()
}

#[test]
fn the_kolla_example_is_valid() {
    assert!(errors(&kolla()).is_empty(), "{:#?}", errors(&kolla()));
}

#[test]
fn kolla_needs_an_instances_device_on_every_node() {
    let mut site = kolla();
    site.nodes[2].interfaces[1].device = None;
    assert_error(
        &site,
        "nodes[2].interfaces[1].device",
        "neutron_external_interface",
    );
    site.nodes[2].interfaces.truncate(1);
    assert_error(
        &site,
        "nodes[2].interfaces",
        "no interface on an instances network",
    );
}

#[test]
fn kolla_maps_the_instances_vlans_of_a_node_to_one_device() {
    let mut site = kolla();
    let mut second = site.nodes[1].interfaces[1].clone();
    second.network = "demo2-net".parse().unwrap();
    second.device = Some("eth2".parse().unwrap());
    site.nodes[1].interfaces.push(second);
    assert_error(&site, "nodes[1].interfaces[2].device", "one physnet");
}

#[test]
fn kolla_refuses_distros_its_prechecks_refuse() {
    let mut site = kolla();
    site.site.distro = Distro::Alma9;
    assert_error(&site, "site.distro", "Kolla-Ansible 2025.1");
}

#[test]
fn a_container_registry_is_for_the_kolla_profile_only() {
    let mut site = lab();
    site.site.container_registry = Some("registry.example.org:4000".parse().unwrap());
    assert_error(&site, "site.container-registry", "profile: kolla");
    assert!("https://r.example.org"
        .parse::<crate::site::fields::Registry>()
        .is_err());
    assert!("-r:1".parse::<crate::site::fields::Registry>().is_err());
}
