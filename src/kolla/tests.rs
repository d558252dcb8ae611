//! Kolla's inputs from the kolla example, against a small multinode-shaped
//! inventory written for these tests (the real one is read from the
//! installed kolla-ansible in tests/pure/kolla_render.rs).

use super::*;
use crate::site::{examples, load, ProfileName};

const MULTINODE: &str = "# top groups\n[control]\n# a comment kept\nexample01\n\n[network]\nexample02\n\n[compute]\nexample03\n\n[monitoring]\nexample04\n\n[storage]\nexample05\n\n[deployment]\nlocalhost ansible_connection=local\n\n[nova:children]\ncontrol\n";

fn site() -> Site {
    load::from_str(examples::get("kolla").unwrap(), "kolla").unwrap()
}

fn source() -> Source {
    Source {
        version: "20.6.0".into(),
        multinode: MULTINODE.into(),
        passwords: "keystone_admin_password: test\n".into(),
    }
}

fn files(site: &Site, virt: VirtType) -> Result<Vec<KollaFile>, InputError> {
    inputs(
        site,
        &Profile::built_in(ProfileName::Kolla),
        &source(),
        virt,
    )
}

fn file<'a>(files: &'a [KollaFile], path: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("no {path}"))
        .content
}

#[test]
fn inventory_puts_the_site_hosts_in_kollas_top_groups_only() {
    let out = files(&site(), VirtType::Kvm).unwrap();
    let inv = file(&out, "inventory");
    assert!(
        inv.contains("[control]\nfe1\n# a comment kept\n\n"),
        "{inv}"
    );
    assert!(inv.contains("[network]\nfe1\n\n"), "{inv}");
    assert!(inv.contains("[compute]\nnode1\nnode2\n\n"), "{inv}");
    assert!(inv.contains("[storage]\nfe1\n"), "{inv}");
    assert!(!inv.contains("example0"), "{inv}");
    assert!(inv.contains("[deployment]\nlocalhost ansible_connection=local\n"));
    assert!(inv.contains("[nova:children]\ncontrol\n"));
    let fe1 = file(&out, "host_vars/fe1.yml");
    assert!(fe1.contains("ansible_host: \"10.20.0.10\"\n"), "{fe1}");
    assert!(fe1.contains("network_interface: \"eth0\"\n"), "{fe1}");
    assert!(
        fe1.contains("neutron_external_interface: \"eth1\"\n"),
        "{fe1}"
    );
}

#[test]
fn an_inventory_without_a_top_group_names_the_version() {
    let mut src = source();
    src.multinode = src.multinode.replace("[storage]", "[storage2]");
    let err = inputs(
        &site(),
        &Profile::built_in(ProfileName::Kolla),
        &src,
        VirtType::Kvm,
    )
    .unwrap_err();
    assert_eq!(err.key, "profile.kolla.version");
    assert!(err.message.contains("storage"), "{err}");
}

#[test]
fn globals_carry_the_frontend_the_registry_and_the_virt_type() {
    let out = files(&site(), VirtType::Qemu).unwrap();
    let g = file(&out, "globals.yml");
    for line in [
        "kolla_base_distro: \"rocky\"",
        "kolla_internal_vip_address: \"10.20.0.10\"",
        "enable_haproxy: \"no\"",
        "neutron_plugin_agent: \"openvswitch\"",
        "enable_neutron_provider_networks: \"yes\"",
        "nova_compute_virt_type: \"qemu\"",
        "docker_registry: \"registry.lab.example.org:4000\"",
    ] {
        assert!(g.lines().any(|l| l == line), "{line} not in\n{g}");
    }
    let mut no_registry = site();
    no_registry.site.container_registry = None;
    let out = files(&no_registry, VirtType::Kvm).unwrap();
    assert!(!file(&out, "globals.yml").contains("docker_registry"));
    let pw = out.iter().find(|f| f.path == "passwords.yml").unwrap();
    assert_eq!(pw.mode, 0o600);
}

#[test]
fn overrides_carry_pci_and_the_vlan_ranges() {
    let mut s = site();
    s.networks[2].vlan = Some(104);
    let out = files(&s, VirtType::Kvm).unwrap();
    let ml2 = file(&out, "config/neutron/ml2_conf.ini");
    assert!(
        ml2.contains("network_vlan_ranges = physnet1:101:101,physnet1:104:104\n"),
        "{ml2}"
    );
    let sched = file(&out, "config/nova/nova-scheduler.conf");
    assert_eq!(sched.matches("PciPassthroughFilter").count(), 1, "{sched}");
    let node1 = file(&out, "config/nova/node1/nova.conf");
    assert!(node1.contains("device_spec = {"), "{node1}");
    assert!(!out.iter().any(|f| f.path == "config/nova/fe1/nova.conf"));
}

#[test]
fn a_node_without_an_instances_device_is_named() {
    let mut s = site();
    s.nodes[1].interfaces[1].device = None;
    let err = files(&s, VirtType::Kvm).unwrap_err();
    assert_eq!(err.key, "nodes[1].interfaces");
    assert!(err.message.contains("node1"), "{err}");
}

#[test]
fn source_debug_hides_the_passwords() {
    assert!(!format!("{:?}", source()).contains("test"));
}
