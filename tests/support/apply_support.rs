//! Shared by the tests/testbed/apply_*.rs tests: a site whose nodes are the testbed's
//! hosts, the stand-ins those hosts need, and running `aerie apply` in the lab.
#![allow(dead_code)]

pub use crate::harness::Run;
pub use crate::testbed::{TestHost, Testbed};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The instances network the site's frontend hands a gateway for (inside the testbed's
/// namespaces only; not the hosts' own 10.44.0.0/22).
pub const DEMO_CIDR: &str = "10.44.8.0/24";
pub const DEMO_GATEWAY: &str = "10.44.8.1";

/// Programs the bundles call that the minimal test rootfs lacks. Honest STAND-INS: they
/// record their arguments and exit 0 (so `systemctl is-enabled` and `openstack flavor
/// show` checks pass, and their actions are not needed).
pub const STANDINS: &[(&str, &str)] = &[
    ("grub2-mkconfig", "/usr/sbin/grub2-mkconfig"),
    ("grubby", "/usr/sbin/grubby"),
    ("systemctl", "/usr/bin/systemctl"),
    ("openstack", "/usr/bin/openstack"),
];

/// A testbed of `n` hosts with the stand-ins, and the groups the OpenStack packages
/// would have created (nova, neutron own the config files aerie creates).
pub fn testbed(n: usize) -> Testbed {
    let mut b = Testbed::builder().hosts(n);
    for (name, path) in STANDINS {
        b = b.standin(name, path);
    }
    let tb = b.build().expect("testbed");
    for h in tb.hosts() {
        prepare_host(h);
    }
    tb
}

/// Groups an OpenStack host has; the write leaves `upper` with /etc/group changes,
/// so tests snapshot `upper` after this.
pub fn prepare_host(h: &TestHost) {
    h.exec_ok("groupadd -r nova && groupadd -r neutron");
    // The admin credentials file the openstack profile sources before its cloud
    // commands (the PCI flavor action): a STAND-IN, as the `openstack` stand-in reads
    // none. The cloud crate's real cloud writes real ones there (Cloud::admin_openrc).
    h.exec_ok("umask 077 && echo '# STAND-IN admin credentials' > /root/keystonerc_admin");
}

/// The site: host1 is the frontend, the others compute nodes; every feature on.
pub fn site_yaml(tb: &Testbed) -> String {
    site_yaml_users(tb, &[])
}

/// [`site_yaml`] with `ssh.user` set for some hosts (by 1-based index).
pub fn site_yaml_users(tb: &Testbed, users: &[(usize, &str)]) -> String {
    let mut s = format!(
        "site:\n  name: testlab\n  domain: test.example.org\n  profile: openstack\n  distro: rocky9\n\
         networks:\n\
         \x20 - name: mgmt\n    purpose: management\n    cidr: 10.44.0.0/22\n    gateway: 10.44.0.1\n\
         \x20 - name: demo-net\n    purpose: instances\n    cidr: {DEMO_CIDR}\n    vlan: 101\n    gateway: {DEMO_GATEWAY}\n    dhcp-range: [10.44.8.10, 10.44.8.200]\n\
         features:\n  iommu: intel\n  sriov:\n    driver: mlx4_core\n    num-vfs: 4\n    probe-vf: 0\n\
         \x20   passthrough:\n      - alias: ib-vf\n        vendor-id: \"15b3\"\n        product-id: \"1004\"\n\
         \x20   flavor: {{ name: m1.ib, vcpus: 2, ram-mb: 2048, disk-gb: 10, devices: 1 }}\n\
         \x20 metadata-redirect: true\n  nested-kvm: true\n\
         nodes:\n"
    );
    for h in tb.hosts() {
        let role = if h.index == 1 { "frontend" } else { "compute" };
        let ssh = users
            .iter()
            .find(|(i, _)| *i == h.index)
            .map(|(_, u)| format!("    ssh: {{ user: {u} }}\n"))
            .unwrap_or_default();
        s.push_str(&format!(
            "  - hostname: {}\n    role: {role}\n{ssh}    interfaces:\n      - network: mgmt\n        device: eth0\n        address: {}\n      - network: demo-net\n        device: eth1\n",
            h.name, h.addr
        ));
    }
    s
}

/// A user `name` in the host who logs in with the testbed's client key; `sudoers` is
/// its sudoers line (e.g. `ALL=(ALL) NOPASSWD: ALL`), or none.
pub fn add_user(h: &TestHost, name: &str, sudoers: Option<&str>) {
    h.exec_ok(&format!(
        "useradd -m -s /bin/sh {name} && usermod -p '*' {name} && mkdir -p /home/{name}/.ssh && \
         cp /root/.ssh/authorized_keys /home/{name}/.ssh/ && chown -R {name}: /home/{name}/.ssh && \
         chmod 700 /home/{name}/.ssh"
    ));
    if let Some(line) = sudoers {
        h.exec_ok(&format!(
            "echo '{name} {line}' > /etc/sudoers.d/{name} && chmod 440 /etc/sudoers.d/{name}"
        ));
    }
}

/// Write the site into the testbed dir; returns its path.
pub fn write_site(tb: &Testbed, text: &str) -> PathBuf {
    let p = tb.dir().join("site.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

/// A private copy of the known-hosts file the harness wrote (aerie may change it).
pub fn known_hosts_copy(tb: &Testbed) -> PathBuf {
    let p = tb.dir().join("aerie_known_hosts");
    std::fs::copy(tb.known_hosts_file(), &p).unwrap();
    p
}

/// `aerie apply SITE --known-hosts KH --identity KEY --output json ARGS...` in the lab.
pub fn apply(tb: &Testbed, site: &Path, known_hosts: &Path, args: &[&str]) -> Output {
    aerie(tb, "apply", site, known_hosts, args)
}

/// `aerie COMMAND SITE --known-hosts KH --identity KEY --output json ARGS...` in the lab.
pub fn aerie(tb: &Testbed, command: &str, site: &Path, kh: &Path, args: &[&str]) -> Output {
    aerie_command(tb, command, site, kh, args).output()
}

/// The run [`aerie`] makes (in the lab), for tests that add to its environment or do
/// not wait for it.
pub fn aerie_command(tb: &Testbed, command: &str, site: &Path, kh: &Path, args: &[&str]) -> Run {
    lab_aerie(tb, command, site, kh)
        .args(["--output", "json"])
        .args(args)
}

/// `aerie COMMAND SITE --known-hosts KH --identity KEY` in the lab, HOME the testbed's
/// dir, no SSH agent: add args and run it.
pub fn lab_aerie(tb: &Testbed, command: &str, site: &Path, kh: &Path) -> Run {
    crate::harness::aerie()
        .arg(command)
        .arg(site)
        .arg("--known-hosts")
        .arg(kh)
        .arg("--identity")
        .arg(tb.client_key())
        .env("HOME", tb.dir())
        .env_remove("SSH_AUTH_SOCK")
        .in_netns(tb.lab_netns())
}

/// The JSON report of a run.
pub fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "aerie printed no JSON ({e}); status {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The report of one host.
pub fn host<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == name)
        .unwrap_or_else(|| panic!("no report for {name}: {report:#}"))
}

pub fn status(report: &Value, name: &str) -> String {
    host(report, name)["status"].as_str().unwrap().to_string()
}

pub fn paths(host_report: &Value, key: &str, field: &str) -> Vec<String> {
    host_report[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f[field].as_str().unwrap().to_string())
        .collect()
}

/// Per file of a host report, whether it was written.
pub fn written(host_report: &Value) -> Vec<bool> {
    host_report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["written"].as_bool().unwrap())
        .collect()
}

/// Every file of `upper` as "path mode sha256", for before/after comparisons. sshd's own
/// login records (var/log/btmp, wtmp, lastlog) and runtime state under /run (sudo's
/// timestamps) are left out: sshd and sudo write them, not aerie.
pub fn snapshot(h: &TestHost) -> Vec<String> {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::MetadataExt;
    h.changed_files()
        .into_iter()
        .filter(|p| {
            !p.starts_with("run")
                && !["var/log/btmp", "var/log/wtmp", "var/log/lastlog"]
                    .contains(&p.to_str().unwrap())
        })
        .map(|p| {
            let full = h.upper.join(&p);
            let meta = std::fs::symlink_metadata(&full).unwrap();
            let content = if meta.file_type().is_file() {
                std::fs::read(&full).unwrap()
            } else {
                Vec::new()
            };
            let digest: String = Sha256::digest(&content)
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("{} {:o} {digest}", p.display(), meta.mode())
        })
        .collect()
}

/// Debug text for a failed assertion.
pub fn explain(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
