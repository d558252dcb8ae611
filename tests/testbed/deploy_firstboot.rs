//! The kolla frontend deploys its cloud at first boot (the ISO road): its
//! kickstart carries the site, Kolla's passwords, the render-time keys and a
//! unit that waits for the nodes, runs `aerie deploy --local` (retried,
//! resumed from the failed step) and leaves the deployed marker. The unit is
//! checked by the real `systemd-analyze verify`; its command runs for real on
//! a frontend test host, reaching the other test hosts over SSH with the keys
//! the kickstarts install. STAND-INS, named: kolla-ansible (a recording script:
//! Kolla's deploy needs container images that cannot be fetched here, so no
//! container is started and no Kolla playbook runs) and the cloud's tools on
//! the frontend (tests/support/fake_cloud.py: openstack, docker exec nova_api
//! nova-manage).

use crate::apply_support::{explain, testbed, write_site, TestHost};
use crate::harness::{aerie, aerie_bin, tool};
use crate::register_support::{install_cloud_standins, write_state, STATE};
use crate::render_support::{kolla_venv, ksvalidator};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The stand-in `kolla-ansible` on the frontend: records its argv in
/// /var/log/aerie-standin/kolla-ansible.calls, fails Kolla's `deploy` once
/// while /var/lib/aerie-standin/fail-deploy exists (removing it), and on
/// post-deploy writes the admin credentials into --configdir as Kolla's
/// post-deploy does.
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
  printf 'export OS_AUTH_URL=http://10.44.1.1:5000/v3\nexport OS_USERNAME=admin\n' > "$conf/admin-openrc.sh"
fi
echo '{"_event":"v2_playbook_on_stats","stats":{"host1":{"failures":0,"unreachable":0}}}'
"#;

const VENV: &str = "/var/lib/aerie/kolla-ansible-20.6.0";

/// The body of the here-document that writes `path` in a kickstart.
fn heredoc(ks: &str, path: &str) -> String {
    let mut lines = ks.lines();
    let start = lines
        .by_ref()
        .find(|l| l.contains("cat > ") && l.contains(path) && l.contains("<<'"))
        .unwrap_or_else(|| panic!("no here-document for {path}"));
    let delim = start.rsplit("<<'").next().unwrap().trim_end_matches('\'');
    let mut body = String::new();
    for l in lines {
        if l == delim {
            return body;
        }
        body.push_str(l);
        body.push('\n');
    }
    panic!("unterminated here-document for {path}")
}

fn unit_line<'a>(unit: &'a str, key: &str) -> &'a str {
    unit.lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {unit}"))
}

/// The key a node's kickstart adds to root's authorized_keys in %post.
fn authorized_in_post(ks: &str) -> String {
    let line = ks
        .lines()
        .find(|l| l.starts_with("grep -qxF -- '") && l.contains("/root/.ssh/authorized_keys"))
        .expect("the kickstart authorizes a key");
    line.split('\'').nth(1).unwrap().to_string()
}

fn write_mode(path: &Path, text: &str, mode: u32) {
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

fn calls(fe: &TestHost) -> Vec<String> {
    std::fs::read_to_string(fe.path("/var/log/aerie-standin/kolla-ansible.calls"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn kolla_frontend_deploys_at_first_boot_waits_for_the_nodes_resumes_and_marks_the_site_standin() {
    let tb = testbed(3);
    let (fe, n2, n3) = (tb.host(1), tb.host(2), tb.host(3));
    // An EL 9 site: its frontend is installed by kickstart (a Debian 12 site's
    // nodes boot from their cloud-init volume instead).
    let site_path = write_site(
        &tb,
        &crate::kolla_deploy::site(&tb).replace("distro: debian12", "distro: rocky9"),
    );
    let out_dir = tb.dir().join("rendered");
    aerie()
        .env("AERIE_KOLLA_VENV", kolla_venv())
        .arg("render")
        .arg(&site_path)
        .arg("-o")
        .arg(&out_dir)
        .run();
    let ks = |h: &TestHost| std::fs::read_to_string(out_dir.join(&h.name).join("ks.cfg")).unwrap();
    let fe_ks = ks(fe);

    // The unit, as the kickstart writes it: real systemd-analyze finds nothing to say.
    let unit = heredoc(&fe_ks, "/etc/systemd/system/aerie-deploy.service");
    let units = tb.dir().join("units");
    write_mode(&units.join("aerie-deploy.service"), &unit, 0o644);
    let (ok, said) = tool("systemd-analyze")
        .arg("verify")
        .arg(units.join("aerie-deploy.service"))
        .outcome();
    assert!(
        ok && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );
    assert_eq!(
        unit_line(&unit, "ConditionPathExists=!"),
        "/var/lib/aerie/deployed"
    );
    assert_eq!(unit_line(&unit, "Restart="), "on-failure");
    assert!(fe_ks.contains("systemctl enable aerie-deploy.service"));
    assert!(
        !fe_ks.contains("aerie-register.service"),
        "deploy registers"
    );
    for h in [n2, n3] {
        assert!(!ks(h).contains("aerie-deploy"), "{}", h.name);
    }
    // pykickstart accepts every kickstart of the site as a whole.
    for h in tb.hosts() {
        let (ok, out) = tool(ksvalidator())
            .args(["-v", "RHEL9"])
            .arg(out_dir.join(&h.name).join("ks.cfg"))
            .outcome();
        assert!(ok, "{}: ksvalidator: {out}", h.name);
    }
    let exec_start = unit_line(&unit, "ExecStart=");
    assert!(
        exec_start.contains(" --wait-nodes 3600 ") && exec_start.contains(" --retry-delay 60 ")
    );
    // The same command with a short wait and retry delay (the test's only change).
    let command = |wait: u64, retries: u32| {
        exec_start
            .replace(" --wait-nodes 3600 ", &format!(" --wait-nodes {wait} "))
            .replace(" --retry-delay 60 ", " --retry-delay 1 ")
            .replace(" --retries 5 ", &format!(" --retries {retries} "))
    };

    // The hosts as their kickstarts and the media leave them.
    as_kickstart_leaves(
        fe,
        &fe_ks,
        &[
            "/root/.ssh/id_ed25519",
            "/root/.ssh/id_ed25519.pub",
            "/etc/aerie/known_hosts",
            "/root/.ssh/known_hosts",
            "/etc/aerie/site.yaml",
            "/etc/aerie/site.secrets.yaml",
        ],
    );
    for h in [n2, n3] {
        as_kickstart_leaves(h, &ks(h), &[]);
    }
    std::fs::create_dir_all(fe.path("/usr/local/sbin")).unwrap();
    std::fs::copy(aerie_bin(), fe.path("/usr/local/sbin/aerie")).unwrap();
    standin_venv(fe);
    install_cloud_standins(fe);
    let mut state = crate::register_support::cloud_state(&tb, &[]);
    // Kolla names compute services by host name.
    for (name, n) in state["nodes"].as_object_mut().unwrap() {
        n["fqdn"] = serde_json::Value::String(name.clone());
    }
    write_state(fe, &state);
    let marker = fe.path("/var/lib/aerie/deployed");
    let passwords = heredoc(&fe_ks, "/etc/aerie/site.secrets.yaml");
    let admin = passwords
        .lines()
        .find_map(|l| l.trim().strip_prefix("keystone_admin_password: "))
        .expect("Kolla's passwords on the frontend")
        .to_string();

    // 1. A node does not answer: the unit waits, names it, fails; no marker, nothing ran.
    n3.kill_sshd();
    let started = std::time::Instant::now();
    let run = fe.exec(&command(3, 5));
    let said = explain(&run);
    assert_eq!(run.status.code(), Some(69), "{said}");
    assert!(started.elapsed().as_secs() >= 3, "{said}");
    assert!(
        said.contains("waiting for host3: not answering yet"),
        "{said}"
    );
    assert!(
        said.contains("did not answer within 3 s: host3 ("),
        "{said}"
    );
    assert!(!said.contains("waiting for host2"), "{said}");
    assert!(!marker.exists());
    assert!(calls(fe).is_empty(), "{:?}", calls(fe));

    // 2. Nodes up; Kolla's deploy fails once and no retry is left: the failed
    //    step is recorded, no marker.
    n3.start_sshd();
    std::fs::write(fe.path("/var/lib/aerie-standin/fail-deploy"), "").unwrap();
    let started = std::time::Instant::now();
    let run = fe.exec(&command(30, 0));
    let first = started.elapsed();
    let said = explain(&run);
    assert_eq!(run.status.code(), Some(2), "{said}");
    assert!(
        said.contains("task:  nova : Running Nova bootstrap container"),
        "{said}"
    );
    assert_eq!(
        calls(fe),
        ["install-deps", "bootstrap-servers", "prechecks", "deploy"]
    );
    let resume = std::fs::read_to_string(fe.path("/var/lib/aerie/deploy-resume")).unwrap();
    assert!(resume.contains("\"step\":\"kolla\""), "{resume}");
    assert!(!marker.exists());

    // 3. The unit starts again (systemd's Restart=on-failure): it resumes at the
    //    kolla step; deploy fails once more and is retried after the delay,
    //    from that step; then networks and register; the marker is written.
    std::fs::write(fe.path("/var/log/aerie-standin/kolla-ansible.calls"), "").unwrap();
    std::fs::write(fe.path("/var/lib/aerie-standin/fail-deploy"), "").unwrap();
    let started = std::time::Instant::now();
    let run = fe.exec(&command(30, 5));
    let second = started.elapsed();
    let said = explain(&run);
    assert!(run.status.success(), "{said}");
    assert!(said.contains("resuming at step kolla"), "{said}");
    assert!(!said.contains("step 1/4 hosts"), "{said}");
    assert!(
        said.contains("retry 1 of 5 in 1 s, from step kolla"),
        "{said}"
    );
    assert_eq!(
        calls(fe),
        [
            "install-deps",
            "bootstrap-servers",
            "prechecks",
            "deploy",
            "install-deps",
            "bootstrap-servers",
            "prechecks",
            "deploy",
            "post-deploy"
        ]
    );
    // The networks step made the provider network with Kolla's admin credentials,
    // register discovered the compute nodes in the nova_api container.
    let cloud: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fe.path(STATE)).unwrap()).unwrap();
    assert_eq!(cloud["networks"][0]["name"], "demo-net", "{cloud:#}");
    assert_eq!(cloud["networks"][0]["provider:segmentation_id"], 101);
    assert_eq!(cloud["subnets"][0]["gateway_ip"], "10.44.8.1");
    assert_eq!(cloud["nodes"]["host2"]["mapped"], true, "{cloud:#}");
    assert_eq!(
        crate::register_support::calls(fe, "docker"),
        ["exec nova_api nova-manage cell_v2 discover_hosts --verbose"]
    );
    // The marker: this site file, this aerie; the resume record is gone.
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&marker).unwrap()).unwrap();
    let site_file = std::fs::read(fe.path("/etc/aerie/site.yaml")).unwrap();
    assert_eq!(m["site"], "kdeploy");
    assert_eq!(
        m["site_sha256"],
        aerie::site::deployed::sha256_hex(&site_file)
    );
    assert_eq!(m["aerie_version"], env!("CARGO_PKG_VERSION"));
    assert!(m["time"].as_str().unwrap().ends_with('Z'), "{m}");
    assert!(!fe.path("/var/lib/aerie/deploy-resume").exists());
    // The log: only root reads it, and it holds no secret.
    let log = fe.path("/var/log/aerie/deploy.log");
    let meta = std::fs::metadata(&log).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("aerie deploy: marked kdeploy deployed"),
        "{text}"
    );
    assert!(
        text.contains("waiting for host3"),
        "the log keeps every run"
    );
    assert!(!text.contains(&admin), "a Kolla password is in the log");
    assert!(!text.contains("PRIVATE KEY"), "a private key is in the log");

    // 4. A second start does nothing: systemd's condition holds it back, and
    //    the command itself finds the marker.
    assert!(
        marker.exists(),
        "ConditionPathExists=!/var/lib/aerie/deployed"
    );
    let before = std::fs::read(&marker).unwrap();
    let run = fe.exec(&command(30, 5));
    let said = explain(&run);
    assert!(run.status.success(), "{said}");
    assert!(said.contains("is already deployed"), "{said}");
    assert_eq!(calls(fe).len(), 9);
    assert_eq!(std::fs::read(&marker).unwrap(), before);
    eprintln!(
        "first-boot deploy (stand-in kolla-ansible, 3 test hosts): failing run {:.1} s, resumed run with one retry {:.1} s",
        first.as_secs_f64(),
        second.as_secs_f64()
    );
    tb.teardown().unwrap();
}
