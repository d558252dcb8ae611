//! The kolla profile's render: Kolla-Ansible's inputs from the kolla example
//! with the real kolla-ansible of the test venv (its multinode inventory, its
//! kolla-genpwd), read back by Ansible's own inventory parser.

use crate::harness::{aerie, tool};
use crate::render_support::kolla_venv;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn render(dir: &Path, out: &str) -> std::process::Output {
    aerie()
        .env("AERIE_KOLLA_VENV", kolla_venv())
        .cwd(dir)
        .args(["render", "site.yaml", "-o", out])
        .run()
}

/// `aerie render site.yaml -o out` with `venv` as the kolla venv must exit
/// `code`; its stderr.
fn render_refused(dir: &Path, venv: &Path, code: i32) -> String {
    let out = aerie()
        .env("AERIE_KOLLA_VENV", venv)
        .cwd(dir)
        .args(["render", "site.yaml", "-o", "out"])
        .code(code)
        .run();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A stand-in venv in `dir` holding another kolla-ansible (22.2.0): its
/// dist-info and bin/ only.
fn other_kolla_venv(dir: &Path) -> PathBuf {
    let other = dir.join("other");
    std::fs::create_dir_all(
        other.join("lib/python3.11/site-packages/kolla_ansible-22.2.0.dist-info"),
    )
    .unwrap();
    std::fs::create_dir_all(other.join("bin")).unwrap();
    std::fs::write(other.join("bin/kolla-ansible"), "").unwrap();
    other
}

fn site_in(dir: &Path, text: &str) {
    std::fs::write(dir.join("site.yaml"), text).unwrap();
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn passwords_come_from_kolla_genpwd_once_private_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    site_in(dir.path(), aerie::site::examples::get("kolla").unwrap());
    let first = render(dir.path(), "a");
    let pw = std::fs::read_to_string(dir.path().join("a/kolla/passwords.yml")).unwrap();
    assert_eq!(mode(&dir.path().join("a/kolla/passwords.yml")), 0o600);
    assert_eq!(mode(&dir.path().join("kolla.secrets.yaml")), 0o600);
    // kolla-genpwd filled every key of kolla's template.
    let values: Vec<&str> = pw
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && l.contains(':'))
        .filter_map(|l| l.split_once(':').map(|(_, v)| v.trim()))
        .collect();
    assert!(values.len() > 50, "{} keys", values.len());
    let admin = pw
        .lines()
        .find_map(|l| l.strip_prefix("keystone_admin_password: "))
        .expect("keystone_admin_password");
    assert!(admin.len() >= 20, "a generated password");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(!said.contains(admin), "a password was printed: {said}");
    let secrets_before = std::fs::read(dir.path().join("kolla.secrets.yaml")).unwrap();
    // Stable: a second render gives the same tree and leaves the secrets alone.
    let second = render(dir.path(), "b");
    assert!(!String::from_utf8_lossy(&second.stderr).contains("wrote"));
    for rel in [
        "kolla/passwords.yml",
        "kolla/globals.yml",
        "kolla/inventory",
    ] {
        assert_eq!(
            std::fs::read(dir.path().join("a").join(rel)).unwrap(),
            std::fs::read(dir.path().join("b").join(rel)).unwrap(),
            "{rel} changed between renders"
        );
    }
    assert_eq!(
        std::fs::read(dir.path().join("kolla.secrets.yaml")).unwrap(),
        secrets_before
    );
}

/// The hosts Ansible puts in `group` (through every child group).
fn hosts_of(inventory: &Path, group: &str) -> Vec<String> {
    let out = tool(kolla_venv().join("bin/ansible-inventory"))
        .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "false")
        .arg("-i")
        .arg(inventory)
        .args(["--graph", group])
        .run();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut hosts: Vec<String> = text
        .lines()
        .map(|l| l.trim_start_matches([' ', '|']).trim_start_matches("--"))
        .filter(|l| !l.starts_with('@') && !l.is_empty())
        .map(str::to_string)
        .collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

#[test]
fn ansible_reads_the_inventory_with_kollas_service_groups_resolved() {
    let dir = tempfile::tempdir().unwrap();
    site_in(dir.path(), aerie::site::examples::get("kolla").unwrap());
    render(dir.path(), "out");
    let inv = dir.path().join("out/kolla/inventory");
    for (group, want) in [
        ("control", &["fe1"][..]),
        ("network", &["fe1"]),
        ("monitoring", &["fe1"]),
        ("storage", &["fe1"]),
        ("compute", &["node1", "node2"]),
        // Kolla's own service groups, through its :children sections.
        ("nova-api", &["fe1"]),
        ("nova-scheduler", &["fe1"]),
        ("nova-conductor", &["fe1"]),
        ("neutron-server", &["fe1"]),
        ("neutron-l3-agent", &["fe1"]),
        ("neutron-dhcp-agent", &["fe1"]),
        ("openvswitch", &["fe1", "node1", "node2"]),
        ("mariadb", &["fe1"]),
        ("keystone", &["fe1"]),
        ("deployment", &["localhost"]),
    ] {
        assert_eq!(hosts_of(&inv, group), want, "group {group}");
    }
    let vars = tool(kolla_venv().join("bin/ansible-inventory"))
        .arg("-i")
        .arg(&inv)
        .args(["--host", "node2"])
        .run();
    let vars: serde_json::Value = serde_json::from_slice(&vars.stdout).unwrap();
    assert_eq!(vars["ansible_host"], "10.20.0.12");
    assert_eq!(vars["network_interface"], "eth0");
    assert_eq!(vars["neutron_external_interface"], "eth1");
}

#[test]
fn a_missing_or_other_kolla_ansible_is_named_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    site_in(dir.path(), aerie::site::examples::get("kolla").unwrap());
    let err = render_refused(dir.path(), &dir.path().join("no-venv"), 69);
    assert!(
        err.contains("kolla-ansible 20.6.0 is not installed"),
        "{err}"
    );
    assert!(err.contains("pip install 'kolla-ansible==20.6.0'"), "{err}");
    assert!(!dir.path().join("out").exists(), "nothing half-written");
    // A venv with another kolla-ansible.
    let err = render_refused(dir.path(), &other_kolla_venv(dir.path()), 69);
    assert!(err.contains("holds kolla-ansible 22.2.0"), "{err}");
    assert!(err.contains("drives kolla-ansible 20.6.0"), "{err}");
}

#[test]
fn a_node_without_an_instances_device_is_refused_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let text = aerie::site::examples::get("kolla").unwrap().replacen(
        "      - network: demo2-net\n        device: eth1\n",
        "      - network: demo2-net\n",
        1,
    );
    site_in(dir.path(), &text);
    let err = render_refused(dir.path(), &kolla_venv(), 65);
    assert!(err.contains("nodes[2].interfaces[1].device"), "{err}");
    assert!(err.contains("neutron_external_interface"), "{err}");
    assert!(!dir.path().join("out").exists());
}

#[test]
fn the_overrides_pass_oslo_config_validator() {
    let dir = tempfile::tempdir().unwrap();
    site_in(dir.path(), aerie::site::examples::get("kolla").unwrap());
    render(dir.path(), "out");
    let validator = crate::harness::find_tool(crate::cloud_config_validator::VALIDATOR);
    for (file, namespaces) in [
        ("config/nova/node1/nova.conf", &["nova.conf"][..]),
        ("config/nova/nova-api.conf", &["nova.conf"]),
        ("config/nova/nova-scheduler.conf", &["nova.conf"]),
        ("config/neutron/ml2_conf.ini", &["neutron.ml2"]),
    ] {
        let mut run = tool(&validator).arg("--fatal-warnings");
        for ns in namespaces {
            run = run.args(["--namespace", ns]);
        }
        run.arg("--input-file")
            .arg(dir.path().join("out/kolla").join(file))
            .run();
    }
}

#[test]
fn deploy_refuses_a_profile_kolla_does_not_deploy_and_another_kolla_ansible() {
    let out = aerie().args(["deploy", "--example", "lab"]).code(64).run();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no `kolla:` section"), "{err}");
    // Another kolla-ansible: refused before anything runs, with the command
    // that resumes.
    let dir = tempfile::tempdir().unwrap();
    site_in(dir.path(), aerie::site::examples::get("kolla").unwrap());
    let other = other_kolla_venv(dir.path());
    let out = aerie()
        .cwd(dir.path())
        .args(["deploy", "site.yaml", "--step", "kolla", "--kolla-venv"])
        .arg(&other)
        .code(69)
        .run();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds kolla-ansible 22.2.0"), "{err}");
    assert!(err.contains("resume with:"), "{err}");
    assert!(err.contains("--step kolla"), "{err}");
    assert!(!err.contains("step 1/4"), "{err}");
    assert!(!dir.path().join("kolla-kolla").exists(), "nothing written");
}
