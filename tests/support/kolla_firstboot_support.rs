//! The kolla frontend's first boot (`aerie deploy --local`) on test hosts, shared by
//! tests/cloud/deploy_firstboot.rs (the real cloud of support/cloud.rs),
//! tests/testbed/kolla_deploy.rs (the site) and benches/firstboot.rs: the site
//! rendered as the ISO road does, the hosts left as their kickstarts and the
//! media leave them, the unit's command. STAND-INS, named: kolla-ansible (a
//! recording script; no container is started, no Kolla playbook runs) and
//! Kolla's `docker` on the frontend ([`docker_standin`]). The cloud the networks
//! and register steps reach is the caller's: the real one in the test, the
//! fake_cloud.py stand-ins in the bench.
#![allow(dead_code)]

use crate::apply_support::{write_site, TestHost, Testbed};
#[allow(unused_imports)] // the testbed crate takes only the site
pub use crate::firstboot_support::{authorized_in_post, heredoc, run_as_unit, unit_line};
use crate::harness::{aerie, aerie_bin};
use crate::render_support::kolla_venv;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The kolla site of a testbed: host1 the frontend, the others compute nodes,
/// one VLAN instances network (Debian 12).
pub fn kolla_site(tb: &Testbed) -> String {
    let mut s = String::from(
        "site:\n  name: kdeploy\n  domain: test.example.org\n  profile: kolla\n  distro: debian12\n\
         networks:\n\
         \x20 - name: mgmt\n    purpose: management\n    cidr: 10.44.0.0/22\n    gateway: 10.44.0.1\n\
         \x20 - name: demo-net\n    purpose: instances\n    cidr: 10.44.8.0/24\n    vlan: 101\n    gateway: 10.44.8.1\n    dhcp-range: [10.44.8.10, 10.44.8.200]\n\
         nodes:\n",
    );
    for h in tb.hosts() {
        let role = if h.index == 1 { "frontend" } else { "compute" };
        s.push_str(&format!(
            "  - hostname: {}\n    role: {role}\n    interfaces:\n      - network: mgmt\n        device: eth0\n        address: {}\n      - network: demo-net\n        device: eth1\n",
            h.name, h.addr
        ));
    }
    s
}

/// The stand-in `kolla-ansible` on the frontend: records its argv in
/// /var/log/aerie-standin/kolla-ansible.calls, fails Kolla's `deploy` once
/// while /var/lib/aerie-standin/fail-deploy exists (removing it), and on
/// post-deploy writes the admin credentials into --configdir as Kolla's
/// post-deploy does: those of the cloud the caller runs ([`OPENRC_STAGED`]).
const STANDIN: &str = r#"#!/bin/sh
# STAND-IN for kolla-ansible (aerie's first-boot test): records, runs nothing.
mkdir -p /var/log/aerie-standin
echo "$*" >> /var/log/aerie-standin/kolla-ansible.calls
sub=$1
conf=
while [ $# -gt 0 ]; do [ "$1" = --configdir ] && conf=$2; shift; done
echo '{"_event":"v2_playbook_on_play_start","play":{"name":"Apply role nova"}}'
if [ "$sub" = deploy ] && [ -e /var/lib/aerie-standin/fail-deploy ]; then
  rm /var/lib/aerie-standin/fail-deploy
  echo '{"_event":"v2_runner_on_failed","task":{"name":"nova : Running Nova bootstrap container"},"hosts":{"host1":{"failed":true,"msg":"Container exited with non-zero return code 1"}}}'
  echo '{"_event":"v2_playbook_on_stats","stats":{"host1":{"failures":1,"unreachable":0}}}'
  exit 2
fi
if [ "$sub" = post-deploy ]; then
  (umask 077; cp /var/lib/aerie-standin/admin-openrc.sh "$conf/admin-openrc.sh") || exit 1
fi
echo '{"_event":"v2_playbook_on_stats","stats":{"host1":{"failures":0,"unreachable":0}}}'
"#;

pub const VENV: &str = "/var/lib/aerie/kolla-ansible-20.6.0";

/// On the frontend: the admin credentials of the cloud the test runs, which the
/// stand-in's post-deploy hands on as Kolla's `admin-openrc.sh` ([`kolla_cloud`]).
pub const OPENRC_STAGED: &str = "/var/lib/aerie-standin/admin-openrc.sh";

/// STAND-IN for Kolla's container engine on the frontend (no container runs
/// here): records its arguments (`/var/log/aerie-standin/docker.log`, as the
/// testbed's stand-ins do) and runs the command Kolla's `nova_api` container
/// would run on the frontend itself, where the cloud's config and tools are
/// (`docker exec nova_api nova-manage ARGS` -> `nova-manage ARGS`); any other
/// call fails, naming itself.
pub fn docker_standin(fe: &TestHost) {
    fe.install_standin("docker", "/usr/bin/docker");
    let recorder = crate::testbed::standin_script("docker");
    let script = recorder.replace(
        "\nexit 0\n",
        "\nif [ \"$1 $2 $3\" = 'exec nova_api nova-manage' ]; then shift 3; exec nova-manage \"$@\"; fi\n\
         echo \"docker STAND-IN (aerie test): no container runs here: docker $*\" >&2\nexit 125\n",
    );
    assert_ne!(script, recorder, "the testbed's stand-in script changed");
    write_mode(&fe.path("/usr/bin/docker"), &script, 0o755);
}

/// The frontend's side of the cloud the test runs: Kolla's post-deploy (the
/// stand-in) hands on `openrc` (that cloud's admin credentials) as
/// `admin-openrc.sh`, and Kolla's `docker` is [`docker_standin`].
pub fn kolla_cloud(fe: &TestHost, openrc: &str) {
    write_mode(&fe.path(OPENRC_STAGED), openrc, 0o600);
    docker_standin(fe);
}

pub fn write_mode(path: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A host as its kickstart's trust %post leaves it: the render-time host key,
/// the frontend's key authorized, and (the frontend) the files it installs.
fn as_kickstart_leaves(h: &TestHost, ks: &str, files: &[&str]) {
    h.install_host_key(
        &heredoc(ks, "/etc/ssh/ssh_host_ed25519_key"),
        &heredoc(ks, "/etc/ssh/ssh_host_ed25519_key.pub"),
    );
    let key = authorized_in_post(ks);
    let ak = h.path("/root/.ssh/authorized_keys");
    let mut text = std::fs::read_to_string(&ak).unwrap_or_default();
    text.push_str(&format!("{key}\n"));
    std::fs::write(&ak, text).unwrap();
    for path in files {
        let mode = if path.ends_with(".pub") || path.contains("known_hosts") {
            0o644
        } else {
            0o600
        };
        write_mode(&h.path(path), &heredoc(ks, path), mode);
    }
}

/// The kolla-ansible venv the unit names, on the frontend: the real
/// kolla-ansible's dist-info (its version) and multinode inventory, the
/// stand-in as bin/kolla-ansible.
fn standin_venv(fe: &TestHost) {
    let real = kolla_venv();
    let dist = "lib/python3.11/site-packages/kolla_ansible-20.6.0.dist-info";
    let inv = "share/kolla-ansible/ansible/inventory/multinode";
    let v = fe.path(VENV);
    std::fs::create_dir_all(v.join(dist).parent().unwrap()).unwrap();
    let out = std::process::Command::new("cp")
        .arg("-r")
        .arg(real.join(dist))
        .arg(v.join(dist))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    std::fs::create_dir_all(v.join(inv).parent().unwrap()).unwrap();
    std::fs::copy(real.join(inv), v.join(inv)).unwrap();
    write_mode(&v.join("bin/kolla-ansible"), STANDIN, 0o755);
}

pub fn calls(fe: &TestHost) -> Vec<String> {
    std::fs::read_to_string(fe.path("/var/log/aerie-standin/kolla-ansible.calls"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

/// Render the testbed's kolla site (EL 9: its frontend is installed by
/// kickstart) as the ISO road does; returns the output directory.
pub fn render(tb: &Testbed) -> PathBuf {
    let site_path = write_site(
        tb,
        &kolla_site(tb).replace("distro: debian12", "distro: rocky9"),
    );
    let out_dir = tb.dir().join("rendered");
    aerie()
        .env("AERIE_KOLLA_VENV", kolla_venv())
        .arg("render")
        .arg(&site_path)
        .arg("-o")
        .arg(&out_dir)
        .run();
    out_dir
}

/// A host's rendered kickstart.
pub fn ks(out_dir: &Path, h: &TestHost) -> String {
    std::fs::read_to_string(out_dir.join(&h.name).join("ks.cfg")).unwrap()
}

/// The unit's ExecStart with the wait, the retries and a 1 s retry delay.
pub fn command(exec_start: &str, wait: u64, retries: u32) -> String {
    exec_start
        .replace(" --wait-nodes 3600 ", &format!(" --wait-nodes {wait} "))
        .replace(" --retry-delay 60 ", " --retry-delay 1 ")
        .replace(" --retries 5 ", &format!(" --retries {retries} "))
}

/// Every host as its kickstart and the media leave it (host keys installed:
/// each host's sshd restarted); the frontend with aerie and the kolla-ansible
/// stand-in in the unit's venv. The cloud comes after ([`kolla_cloud`]).
pub fn prepare_hosts(tb: &Testbed, out_dir: &Path) {
    let fe = tb.host(1);
    as_kickstart_leaves(
        fe,
        &ks(out_dir, fe),
        &[
            "/root/.ssh/id_ed25519",
            "/root/.ssh/id_ed25519.pub",
            "/etc/aerie/known_hosts",
            "/root/.ssh/known_hosts",
            "/etc/aerie/site.yaml",
            "/etc/aerie/site.secrets.yaml",
        ],
    );
    for h in &tb.hosts()[1..] {
        as_kickstart_leaves(h, &ks(out_dir, h), &[]);
    }
    std::fs::create_dir_all(fe.path("/usr/local/sbin")).unwrap();
    std::fs::copy(aerie_bin(), fe.path("/usr/local/sbin/aerie")).unwrap();
    standin_venv(fe);
}
