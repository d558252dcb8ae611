//! `aerie register` on a Eucalyptus site, against real-sshd test hosts: the
//! frontend's SSH key goes to the nodes (over their own pinned sessions), then
//! the release's registration tools run on the frontend. Those tools are
//! STAND-INS here (Eucalyptus cannot run on these machines) that record their
//! calls and answer like `euca_conf` / euca2ools do.

use crate::apply_support;
use crate::harness::node;
use crate::register_support;
use apply_support::*;
use register_support::*;

fn setup(n: usize) -> (Testbed, std::path::PathBuf, std::path::PathBuf) {
    let tb = testbed(n);
    install_cloud_standins(tb.host(1));
    // The cloud is initialised already (tests/testbed/eucalyptus_init.rs is
    // about that): these tests are about the nodes.
    write_state(tb.host(1), &eucalyptus_initialised(tb.host(1), &tb));
    let site = write_site(
        &tb,
        &site_yaml(&tb).replace("profile: openstack", "profile: eucalyptus"),
    );
    let kh = known_hosts_copy(&tb);
    (tb, site, kh)
}

/// euca_conf's calls about nodes (not the initialisation's checks).
fn node_calls(fe: &TestHost) -> Vec<String> {
    calls(fe, "euca_conf")
        .into_iter()
        .filter(|c| c.contains("-nodes"))
        .collect()
}

fn authorized_keys(h: &TestHost) -> String {
    std::fs::read_to_string(h.path("/root/.ssh/authorized_keys")).unwrap()
}

#[test]
fn release_4_plus_copies_the_frontend_key_registers_each_node_once_standin() {
    let (tb, site, kh) = setup(4);
    let fe = tb.host(1);
    let mut state = read_state(fe);
    state["fail"] = serde_json::json!({
        "register:10.44.1.4": "euserv-register-service: error (InternalError): Failed to register node host4: Connection refused to 10.44.1.4:8775"
    });
    write_state(fe, &state);
    let out = aerie(&tb, "register", &site, &kh, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let r = report(&out);

    // The frontend got a key (generated: it had none), and every node trusts it.
    let fe_key = fe.exec_ok("cat /root/.ssh/id_ed25519.pub");
    let fe_key = fe_key.trim();
    assert!(fe_key.starts_with("ssh-ed25519 "), "{fe_key}");
    for h in [2, 3, 4] {
        let keys = authorized_keys(tb.host(h));
        assert!(keys.contains(fe_key), "host{h}: {keys}");
        assert!(
            keys.lines().count() >= 2,
            "the test client's key was kept: {keys}"
        );
    }
    for h in ["host2", "host3"] {
        assert_eq!(node(&r, h)["status"], "registered", "{r:#}");
    }
    assert_eq!(
        calls(fe, "euserv-register-service"),
        [
            "-t node -h 10.44.1.2 host2",
            "-t node -h 10.44.1.3 host3",
            "-t node -h 10.44.1.4 host4"
        ]
    );
    let h4 = node(&r, "host4");
    assert_eq!(h4["error_kind"], "command-failed");
    assert!(
        h4["error"]
            .as_str()
            .unwrap()
            .contains("Failed to register node host4: Connection refused"),
        "{h4:#}"
    );

    // Fixed; run again: only host4 is registered, no node's keys file changes.
    state = read_state(fe);
    state["fail"] = serde_json::json!({});
    write_state(fe, &state);
    let keys_before: Vec<_> = (2..=4).map(|h| snapshot(tb.host(h))).collect();
    let out = aerie(&tb, "register", &site, &kh, &[]);
    assert!(out.status.success(), "{}", explain(&out));
    let r = report(&out);
    assert_eq!(node(&r, "host2")["status"], "already-registered");
    assert_eq!(node(&r, "host4")["status"], "registered");
    assert_eq!(calls(fe, "euserv-register-service").len(), 4);
    let keys_after: Vec<_> = (2..=4).map(|h| snapshot(tb.host(h))).collect();
    assert_eq!(keys_before, keys_after);

    // And a third time: nothing at all.
    let out = aerie(&tb, "register", &site, &kh, &[]);
    assert!(out.status.success(), "{}", explain(&out));
    assert_eq!(report(&out)["summary"]["already_registered"], 3);
    assert_eq!(calls(fe, "euserv-register-service").len(), 4);
}

#[test]
fn release_3_registers_in_one_batch_and_says_which_got_in_when_it_fails_standin() {
    let (tb, site, kh) = setup(3);
    let fe = tb.host(1);
    // Eucalyptus 3.4: the same profile data with another release (a data file).
    let profile = tb.dir().join("eucalyptus-3.yaml");
    std::fs::write(
        &profile,
        include_str!("../../profiles/eucalyptus.yaml")
            .replace("release: \"5\"", "release: \"3.4\""),
    )
    .unwrap();
    let mut state = read_state(fe);
    state["unreachable"] = serde_json::json!(["10.44.1.3"]);
    write_state(fe, &state);
    let p = profile.to_str().unwrap();
    let out = aerie(&tb, "register", &site, &kh, &["--profile", p]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert_eq!(
        node_calls(fe),
        [
            "--list-nodes",
            "--register-nodes 10.44.1.2 10.44.1.3",
            "--list-nodes"
        ]
    );
    let r = report(&out);
    let h3 = node(&r, "host3");
    let msg = h3["error"].as_str().unwrap();
    assert!(
        msg.contains("could not synchronize keys with 10.44.1.3"),
        "{msg}"
    );
    assert!(!msg.contains("DOES list"), "{msg}");
    // host2 did get in although the batch command failed: the report says so.
    let h2 = node(&r, "host2");
    assert_eq!(h2["status"], "failed");
    assert!(
        h2["error"]
            .as_str()
            .unwrap()
            .contains("the cloud DOES list host2 now"),
        "{h2:#}"
    );

    state = read_state(fe);
    state["unreachable"] = serde_json::json!([]);
    write_state(fe, &state);
    let out = aerie(&tb, "register", &site, &kh, &["--profile", p]);
    assert!(out.status.success(), "{}", explain(&out));
    let r = report(&out);
    assert_eq!(node(&r, "host2")["status"], "already-registered");
    assert_eq!(node(&r, "host3")["status"], "registered");
    assert_eq!(
        node_calls(fe)[3..],
        ["--list-nodes", "--register-nodes 10.44.1.3", "--list-nodes"]
    );
}

#[test]
fn an_unreachable_node_gets_no_key_and_is_not_registered_standin() {
    let (tb, site, kh) = setup(3);
    tb.host(3).kill_sshd();
    let out = aerie(&tb, "register", &site, &kh, &["--connect-timeout", "2"]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let r = report(&out);
    assert_eq!(node(&r, "host2")["status"], "registered");
    let h3 = node(&r, "host3");
    assert_eq!(h3["status"], "unreachable");
    assert!(
        h3["error"]
            .as_str()
            .unwrap()
            .contains("cannot connect to 10.44.1.3"),
        "{h3:#}"
    );
    assert_eq!(
        calls(tb.host(1), "euserv-register-service"),
        ["-t node -h 10.44.1.2 host2"]
    );
}
