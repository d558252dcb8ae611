//! The ISO road registers by itself: the frontend's kickstart carries the site
//! file and a first-boot unit running `aerie register --local`. Rendered and
//! checked with ksvalidator (the render tests' helpers); the unit's command run
//! for real on a frontend test host for Eucalyptus, whose tools are STAND-INS
//! (fake_cloud.py: they cannot run here). The openstack profile's first boot
//! runs against the real cloud: tests/cloud/register_firstboot.rs.

use crate::apply_support;
use crate::firstboot_support::{authorized_in_post, heredoc, run_unit_command, unit_line};
use crate::harness;
use crate::harness::node;
use crate::register_support;
use crate::render_support;
use apply_support::*;
use harness::{aerie_bin, tool};
use register_support::*;
use render_support::*;

#[test]
fn frontend_kickstart_carries_the_site_and_a_first_boot_unit_ksvalidator_accepts() {
    for name in ["lab", "eucalyptus"] {
        let site = example_site(name);
        let rendered = render_site(&site, Default::default());
        let fe = site.frontend().unwrap().hostname.to_string();
        let file = |path: &str| {
            let f = rendered
                .files
                .iter()
                .find(|f| f.path == path)
                .unwrap_or_else(|| panic!("{name}: no {path}"));
            String::from_utf8(f.content.clone()).unwrap()
        };
        let ks = file(&format!("{fe}/ks.cfg"));
        // The site file is the site itself.
        let text = heredoc(&ks, "/etc/aerie/site.yaml");
        let back = aerie::site::load::from_str(&text, "kickstart").unwrap();
        assert_eq!(back, site, "{name}");
        assert!(ks.contains("chmod 0600 /etc/aerie/site.yaml"), "{name}");
        // The unit: after the cloud's services, once, until it succeeds.
        let unit = heredoc(&ks, "/etc/systemd/system/aerie-register.service");
        // Eucalyptus reaches the nodes itself, with the keys made at render time.
        let reach = if name == "eucalyptus" {
            " --known-hosts /etc/aerie/known_hosts --identity /root/.ssh/id_ed25519"
        } else {
            ""
        };
        assert_eq!(
            unit_line(&unit, "ExecStart="),
            format!(
                "/usr/local/sbin/aerie register --local /etc/aerie/site.yaml --timeout 3600{reach}"
            )
        );
        assert_eq!(
            unit_line(&unit, "ConditionPathExists=!"),
            "/var/lib/aerie/registered"
        );
        assert_eq!(unit_line(&unit, "Restart="), "on-failure");
        assert!(unit_line(&unit, "After=").contains(if name == "lab" {
            "openstack-nova-api.service"
        } else {
            "eucalyptus-cloud.service"
        }));
        assert!(
            ks.contains("systemctl enable aerie-register.service"),
            "{name}"
        );
        // Compute nodes do not get it.
        for n in site
            .nodes
            .iter()
            .filter(|n| n.role == aerie::site::Role::Compute)
        {
            assert!(!file(&format!("{}/ks.cfg", n.hostname)).contains("aerie-register"));
        }
        // pykickstart accepts the frontend's kickstart as a whole.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ks.cfg");
        std::fs::write(&path, &ks).unwrap();
        let (ok, out) = tool(ksvalidator())
            .args(["-v", "RHEL9"])
            .arg(&path)
            .outcome();
        assert!(ok, "{name}: ksvalidator: {out}");
    }
}

fn render_cli(site: &std::path::Path, out_dir: &std::path::Path) {
    let out = harness::aerie()
        .arg("render")
        .arg(site)
        .arg("-o")
        .arg(out_dir)
        .arg("--force")
        .run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains("PRIVATE KEY") && !stderr.contains("PRIVATE KEY"),
        "render printed a private key"
    );
}

/// Eucalyptus: the frontend must put its key on the nodes, over SSH with strict
/// host-key checking. The keys are made at render time: each node's kickstart
/// installs its host key and authorizes the frontend's key; the frontend's
/// installs its key and pins the nodes' host keys. The unit's command then
/// reaches the nodes with no `--accept-new-host-keys` and copies nothing.
#[test]
fn eucalyptus_first_boot_reaches_the_nodes_with_render_time_keys_strictly_standin() {
    let tb = testbed(3);
    let fe = tb.host(1);
    install_cloud_standins(fe);
    write_state(fe, &eucalyptus_initialised(fe, &tb));
    let site_path = write_site(
        &tb,
        &site_yaml(&tb).replace("profile: openstack", "profile: eucalyptus"),
    );
    let out_dir = tb.dir().join("rendered");
    render_cli(&site_path, &out_dir);
    let ks = |host: &str| std::fs::read_to_string(out_dir.join(host).join("ks.cfg")).unwrap();
    let fe_ks = ks("host1");
    let unit = heredoc(&fe_ks, "/etc/systemd/system/aerie-register.service");
    let exec_start = unit_line(&unit, "ExecStart=");
    assert!(!exec_start.contains("accept-new"), "{exec_start}");
    assert!(
        exec_start
            .contains("--known-hosts /etc/aerie/known_hosts --identity /root/.ssh/id_ed25519"),
        "{exec_start}"
    );
    // The nodes as their kickstarts leave them: host key, the frontend's key authorized.
    let fe_public = heredoc(&fe_ks, "/root/.ssh/id_ed25519.pub");
    for h in [2, 3] {
        let host = tb.host(h);
        let node_ks = ks(&host.name);
        let private = heredoc(&node_ks, "/etc/ssh/ssh_host_ed25519_key");
        let public = heredoc(&node_ks, "/etc/ssh/ssh_host_ed25519_key.pub");
        host.install_host_key(&private, &public);
        let key = authorized_in_post(&node_ks);
        assert_eq!(key, fe_public.trim());
        let mut ak = std::fs::OpenOptions::new()
            .append(true)
            .open(host.path("/root/.ssh/authorized_keys"))
            .unwrap();
        use std::io::Write;
        writeln!(ak, "{key}").unwrap();
    }
    // The frontend as its kickstart leaves it.
    fe.exec_ok("mkdir -p /etc/aerie /usr/local/sbin /root/.ssh && chmod 0700 /root/.ssh");
    for (path, mode) in [
        ("/etc/aerie/site.yaml", 0o600),
        ("/root/.ssh/id_ed25519", 0o600),
        ("/root/.ssh/id_ed25519.pub", 0o644),
        ("/etc/aerie/known_hosts", 0o644),
        ("/root/.ssh/known_hosts", 0o644),
    ] {
        use std::os::unix::fs::PermissionsExt;
        let p = fe.path(path);
        std::fs::write(&p, heredoc(&fe_ks, path)).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    std::fs::copy(aerie_bin(), fe.path("/usr/local/sbin/aerie")).unwrap();
    let before = std::fs::read_to_string(fe.path("/etc/aerie/known_hosts")).unwrap();

    let r = run_unit_command(fe, exec_start);
    for h in ["host2", "host3"] {
        let n = node(&r, h);
        assert_eq!(n["status"], "registered", "{r:#}");
        // The key was already authorized: the copy step changed nothing.
        assert!(
            !n["commands"]
                .to_string()
                .contains("added the frontend's key"),
            "{r:#}"
        );
    }
    assert_eq!(
        calls(fe, "euserv-register-service"),
        ["-t node -h 10.44.1.2 host2", "-t node -h 10.44.1.3 host3"]
    );
    // Strict checking: nothing new was pinned.
    assert_eq!(
        std::fs::read_to_string(fe.path("/etc/aerie/known_hosts")).unwrap(),
        before
    );
    // A rerun (the unit retried) changes nothing.
    let run = fe.exec(&format!("{exec_start} --output json"));
    assert!(run.status.success(), "{}", explain(&run));
    let r: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(r["summary"]["already_registered"], 2);
    assert_eq!(calls(fe, "euserv-register-service").len(), 2);
}

#[test]
fn render_keeps_its_secrets_private_and_reuses_them() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let euca = example_site("eucalyptus");
    let site_path = dir.path().join("site.yaml");
    std::fs::write(&site_path, aerie::site::load::to_yaml(&euca)).unwrap();
    let secrets = dir.path().join(format!("{}.secrets.yaml", euca.site.name));
    render_cli(&site_path, &dir.path().join("a"));
    let meta = std::fs::metadata(&secrets).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let first = std::fs::read(&secrets).unwrap();
    render_cli(&site_path, &dir.path().join("b"));
    assert_eq!(
        std::fs::read(&secrets).unwrap(),
        first,
        "the secrets changed"
    );
    for host in ["clc", "nc1", "nc2"] {
        let a = std::fs::read(dir.path().join("a").join(host).join("ks.cfg")).unwrap();
        let b = std::fs::read(dir.path().join("b").join(host).join("ks.cfg")).unwrap();
        assert!(a == b, "{host}: the re-rendered kickstart differs");
    }
    // An openstack site needs no secrets: none are made.
    let lab_dir = tempfile::tempdir().unwrap();
    let lab = example_site("lab");
    let lab_path = lab_dir.path().join("site.yaml");
    std::fs::write(&lab_path, aerie::site::load::to_yaml(&lab)).unwrap();
    render_cli(&lab_path, &lab_dir.path().join("out"));
    let names = crate::harness::file_names(lab_dir.path());
    assert!(!names.iter().any(|n| n.contains("secrets")), "{names:?}");
}
