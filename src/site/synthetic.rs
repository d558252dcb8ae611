//! Large generated sites, for benchmarks and scale tests: one frontend and
//! `nodes - 1` compute nodes on a management network sized to fit, two
//! instance VLANs, every feature on.

use super::load;
use super::model::Site;

/// A valid site with `nodes` nodes (at least 1).
pub fn site(nodes: usize) -> Site {
    let text = yaml(nodes);
    load::from_str(&text, "synthetic").expect("the synthetic site parses")
}

/// The YAML text of [`site`].
pub fn yaml(nodes: usize) -> String {
    let nodes = nodes.max(1);
    let mut out = String::with_capacity(nodes * 220 + 2048);
    out.push_str(
        r#"site:
  name: synthetic
  domain: synthetic.example.org
  profile: openstack
  distro: rocky9
  dns: [192.0.2.53]
  ntp: [0.pool.ntp.org]
  ssh-keys:
    - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHFpYXJuZXhhbXBsZWtleW9ubHlub3RyZWFsMDAwMDA admin@laptop
networks:
  - name: mgmt
    purpose: management
    cidr: 10.32.0.0/16
    gateway: 10.32.0.1
  - name: demo-net
    purpose: instances
    cidr: 10.44.1.0/24
    vlan: 101
    gateway: 10.44.1.1
    dhcp-range: [10.44.1.10, 10.44.1.200]
  - name: demo2-net
    purpose: instances
    cidr: 10.44.2.0/24
    vlan: 102
    gateway: 10.44.2.1
    dhcp-range: [10.44.2.10, 10.44.2.200]
features:
  iommu: intel
  sriov:
    driver: mlx4_core
    num-vfs: 16
    probe-vf: 0
    passthrough:
      - alias: ib-vf
        vendor-id: "15b3"
        product-id: "1004"
    flavor: { name: m1.ib, vcpus: 4, ram-mb: 8192, disk-gb: 40, devices: 1 }
  metadata-redirect: true
  nested-kvm: true
nodes:
"#,
    );
    for i in 0..nodes {
        let (role, hostname) = if i == 0 {
            ("frontend", "fe1".to_string())
        } else {
            ("compute", format!("node{i}"))
        };
        let host = i + 10;
        let (hi, lo) = (host / 256, host % 256);
        let instances = if i % 2 == 0 { "demo-net" } else { "demo2-net" };
        out.push_str(&format!(
            "  - hostname: {hostname}\n    role: {role}\n    install-disk: sda\n    interfaces:\n      - network: mgmt\n        device: eth0\n        mac: \"52:54:00:{:02x}:{hi:02x}:{lo:02x}\"\n        address: 10.32.{hi}.{lo}\n      - network: {instances}\n        device: eth1\n",
            (host >> 16) & 0xff
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_sites_are_valid() {
        for n in [1, 2, 300, 1300] {
            let site = super::site(n);
            assert_eq!(site.nodes.len(), n);
            let findings = crate::site::validate::check(&site, &Default::default());
            assert!(findings.is_empty(), "{n} nodes: {findings:?}");
        }
    }
}
