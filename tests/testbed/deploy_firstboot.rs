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

use crate::apply_support::{explain, testbed, TestHost};
use crate::harness::tool;
use crate::kolla_firstboot_support::*;
use crate::register_support::STATE;
use crate::render_support::ksvalidator;
use std::os::unix::fs::PermissionsExt;

#[test]
fn kolla_frontend_deploys_at_first_boot_waits_for_the_nodes_resumes_and_marks_the_site_standin() {
    let tb = testbed(3);
    let (fe, n2, n3) = (tb.host(1), tb.host(2), tb.host(3));
    let out_dir = render(&tb);
    let ks = |h: &TestHost| ks(&out_dir, h);
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
    let command = |wait: u64, retries: u32| command(exec_start, wait, retries);
    prepare_hosts(&tb, &out_dir);
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
    let run = run_as_unit(fe, &command(3, 5));
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
    let run = run_as_unit(fe, &command(30, 0));
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
    let run = run_as_unit(fe, &command(30, 5));
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
    // Kolla's admin credentials, written by post-deploy into the config dir,
    // are where the profile's steps source them on the frontend: 0600, the
    // same bytes.
    let rc = fe.path("/etc/kolla/admin-openrc.sh");
    assert_eq!(
        std::fs::read(&rc).unwrap(),
        std::fs::read(fe.path("/etc/aerie/kdeploy-kolla/admin-openrc.sh")).unwrap()
    );
    assert_eq!(
        std::fs::metadata(&rc).unwrap().permissions().mode() & 0o7777,
        0o600
    );
    assert!(
        said.contains("admin-openrc.sh: delivered /etc/aerie/kdeploy-kolla/admin-openrc.sh to /etc/kolla/admin-openrc.sh (0600)"),
        "{said}"
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
    let run = run_as_unit(fe, &command(30, 5));
    let said = explain(&run);
    assert!(run.status.success(), "{said}");
    assert!(said.contains("is already deployed"), "{said}");
    assert_eq!(calls(fe).len(), 9);
    assert_eq!(std::fs::read(&marker).unwrap(), before);
    tb.teardown().unwrap();
}
