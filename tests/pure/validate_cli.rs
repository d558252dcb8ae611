//! `aerie validate` driven as a user runs it: the real binary on real files.

use crate::harness;
use harness::{aerie, file_names};

const LAB: &str = include_str!("../../examples/lab.yaml");

/// (rule, text in lab.yaml, replacement, key the error must name)
const INVALID: &[(&str, &str, &str, &str)] = &[
    (
        "cidr does not parse",
        "cidr: 10.44.1.0/24",
        "cidr: 10.44.1.300/24",
        "networks[1].cidr",
    ),
    (
        "profile outside its list",
        "profile: openstack",
        "profile: nebula",
        "site.profile",
    ),
    (
        "distro outside its list",
        "distro: rocky9",
        "distro: rhel6",
        "site.distro",
    ),
    (
        "purpose outside its list",
        "purpose: management",
        "purpose: mgmt",
        "networks[0].purpose",
    ),
    (
        "role outside its list",
        "role: frontend",
        "role: head",
        "nodes[0].role",
    ),
    (
        "iommu outside its list",
        "iommu: intel",
        "iommu: yes",
        "features.iommu",
    ),
    (
        "site name charset",
        "name: lab\n",
        "name: My_Lab\n",
        "site.name",
    ),
    (
        "network name charset",
        "name: demo-net",
        "name: demo.net",
        "networks[1].name",
    ),
    (
        "dns not an address",
        "dns: [192.0.2.53]",
        "dns: [dns.example]",
        "site.dns[0]",
    ),
    (
        "password hash not sha512",
        "\"$6$aerielabsalt$",
        "\"$5$aerielabsalt$",
        "site.root-password-hash",
    ),
    (
        "gateway outside cidr",
        "gateway: 10.44.1.1",
        "gateway: 10.44.9.1",
        "networks[1].gateway",
    ),
    (
        "gateway is the network address",
        "gateway: 10.44.1.1",
        "gateway: 10.44.1.0",
        "networks[1].gateway",
    ),
    (
        "gateway is the broadcast address",
        "gateway: 10.44.1.1",
        "gateway: 10.44.1.255",
        "networks[1].gateway",
    ),
    (
        "dhcp-range outside cidr",
        "[10.44.1.10, 10.44.1.200]",
        "[10.44.1.10, 10.44.7.200]",
        "networks[1].dhcp-range[1]",
    ),
    (
        "dhcp-range on the broadcast",
        "[10.44.1.10, 10.44.1.200]",
        "[10.44.1.10, 10.44.1.255]",
        "networks[1].dhcp-range[1]",
    ),
    (
        "dhcp-range contains the gateway",
        "[10.44.1.10, 10.44.1.200]",
        "[10.44.1.1, 10.44.1.200]",
        "networks[1].dhcp-range",
    ),
    (
        "dhcp-range contains a node address",
        "    vlan: null\n",
        "    vlan: null\n    dhcp-range: [10.20.0.2, 10.20.0.50]\n",
        "networks[0].dhcp-range",
    ),
    (
        "overlapping cidrs",
        "cidr: 10.44.2.0/24",
        "cidr: 10.44.0.0/22",
        "networks[2].cidr",
    ),
    (
        "vlan outside 1..4094",
        "vlan: 102",
        "vlan: 4095",
        "networks[2].vlan",
    ),
    (
        "two networks with one vlan",
        "vlan: 102",
        "vlan: 101",
        "networks[2].vlan",
    ),
    (
        "duplicate network name",
        "name: demo2-net",
        "name: demo-net",
        "networks[2].name",
    ),
    (
        "duplicate hostname",
        "hostname: node2",
        "hostname: node1",
        "nodes[2].hostname",
    ),
    (
        "duplicate address",
        "address: 10.20.0.12",
        "address: 10.20.0.11",
        "nodes[2].interfaces[0].address",
    ),
    (
        "duplicate mac",
        "mac: \"52:54:00:00:00:12\"",
        "mac: \"52:54:00:00:00:11\"",
        "nodes[2].interfaces[0].mac",
    ),
    (
        "address outside its network",
        "address: 10.20.0.12",
        "address: 10.20.1.12",
        "nodes[2].interfaces[0].address",
    ),
    (
        "address is the gateway",
        "address: 10.20.0.12",
        "address: 10.20.0.1",
        "nodes[2].interfaces[0].address",
    ),
    (
        "address is the broadcast",
        "address: 10.20.0.12",
        "address: 10.20.0.255",
        "nodes[2].interfaces[0].address",
    ),
    (
        "interface naming no network",
        "      - network: demo2-net",
        "      - network: storage-net",
        "nodes[2].interfaces[1].network",
    ),
    (
        "two frontends",
        "role: compute",
        "role: frontend",
        "nodes[1].role",
    ),
    (
        "num-vfs beyond the driver",
        "num-vfs: 16",
        "num-vfs: 500",
        "features.sriov.num-vfs",
    ),
    (
        "pci id not four hex digits",
        "product-id: \"1004\"",
        "product-id: \"10g4\"",
        "features.sriov.passthrough[0].product-id",
    ),
    (
        "shell metacharacters",
        "domain: lab.example.org",
        "domain: \"lab.example.org; reboot\"",
        "site.domain",
    ),
    (
        "newline in a value",
        "device: eth1",
        "device: \"eth1\\nip link del eth0\"",
        "nodes[0].interfaces[1].device",
    ),
    (
        "time zone outside the tz database",
        "timezone: UTC",
        "timezone: Europe/Berln",
        "site.timezone",
    ),
    (
        "a time zone read as an option",
        "timezone: UTC",
        "timezone: --help",
        "site.timezone",
    ),
    (
        "an NTP server read as an option",
        "ntp: [0.pool.ntp.org]",
        "ntp: [--help]",
        "site.ntp[0]",
    ),
    (
        "an SR-IOV alias read as an option",
        "alias: ib-vf",
        "alias: --help",
        "features.sriov.passthrough[0].alias",
    ),
    (
        "a flavor name read as an option",
        "name: m1.ib,",
        "name: --help,",
        "features.sriov.flavor.name",
    ),
    (
        "an install disk read as an option",
        "install-disk: sda",
        "install-disk: --help",
        "nodes[0].install-disk",
    ),
    (
        "an ssh host read as an option",
        "host: 10.20.0.10",
        "host: --help",
        "nodes[0].ssh.host",
    ),
    (
        "a device read as an option",
        "device: eth0",
        "device: -x",
        "nodes[0].interfaces[0].device",
    ),
    (
        "unknown key",
        "nested-kvm: true",
        "nested-kvm: true\n  nested-kvn: true",
        "features.nested-kvn",
    ),
];

#[test]
fn the_example_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("site.yaml"), LAB).unwrap();
    let out = aerie().args(["validate"]).cwd(dir.path()).output();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid (0 errors"));
}

#[test]
fn every_rule_exits_65_names_the_key_and_writes_nothing() {
    for (rule, from, to, key) in INVALID {
        assert!(LAB.contains(from), "{rule}: {from:?} is not in the example");
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site.yaml");
        std::fs::write(&site, LAB.replacen(from, to, 1)).unwrap();
        let before = (file_names(dir.path()), std::fs::read(&site).unwrap());
        let out = aerie()
            .args(["validate", "site.yaml"])
            .cwd(dir.path())
            .output();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(65), "{rule}: {stderr}");
        assert!(
            stderr.contains(&format!("{key}:")),
            "{rule}: stderr does not name {key}:\n{stderr}"
        );
        assert!(stderr.contains("fix: "), "{rule}: no fix given:\n{stderr}");
        assert_eq!(
            (file_names(dir.path()), std::fs::read(&site).unwrap()),
            before,
            "{rule}"
        );
    }
}

#[test]
fn json_output_carries_the_same_findings() {
    let dir = tempfile::tempdir().unwrap();
    let text = LAB
        .replacen("gateway: 10.44.1.1", "gateway: 10.44.9.1", 1)
        .replacen("vlan: 102", "vlan: 101", 1);
    std::fs::write(dir.path().join("site.yaml"), text).unwrap();
    let out = aerie()
        .args(["validate", "--output", "json"])
        .cwd(dir.path())
        .output();
    assert_eq!(out.status.code(), Some(65));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], false);
    let keys: Vec<&str> = json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["networks[1].gateway", "networks[2].vlan"]);
    assert!(json["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("10.44.9.1 is outside 10.44.1.0/24"));
}

#[test]
fn syntax_errors_give_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("site.yaml"),
        LAB.replacen("  domain: lab", "  domain: [lab", 1),
    )
    .unwrap();
    let out = aerie().args(["validate"]).cwd(dir.path()).output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "{stderr}");
    assert!(
        stderr.contains("line ") && stderr.contains("column "),
        "{stderr}"
    );
}

#[test]
fn exit_codes_for_usage_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = aerie()
        .args(["validate", "--no-such-flag"])
        .cwd(dir.path())
        .output();
    assert_eq!(out.status.code(), Some(64));
    let out = aerie()
        .args(["validate", "missing.yaml"])
        .cwd(dir.path())
        .output();
    assert_eq!(out.status.code(), Some(66));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.yaml"));
    let out = aerie()
        .args(["validate", "--example", "nope"])
        .cwd(dir.path())
        .output();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("lab"));
}

#[test]
fn completions_and_man_pages_are_generated() {
    let dir = tempfile::tempdir().unwrap();
    let out = aerie()
        .args(["completions", "bash"])
        .cwd(dir.path())
        .output();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("validate"));
    let out = aerie().args(["man", "-o", "man"]).cwd(dir.path()).output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("man/aerie.1").exists());
    assert!(dir.path().join("man/aerie-validate.1").exists());
}

#[test]
fn init_writes_the_example_and_never_overwrites_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = aerie()
        .args(["init", "--example", "lab"])
        .cwd(dir.path())
        .output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let site = dir.path().join("site.yaml");
    assert_eq!(std::fs::read_to_string(&site).unwrap(), LAB);
    std::fs::write(&site, "mine").unwrap();
    let out = aerie()
        .args(["init", "--example", "lab"])
        .cwd(dir.path())
        .output();
    assert_eq!(out.status.code(), Some(73));
    assert_eq!(std::fs::read_to_string(&site).unwrap(), "mine");
    let out = aerie()
        .args(["init", "--example", "lab", "--force"])
        .cwd(dir.path())
        .output();
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&site).unwrap(), LAB);
}
