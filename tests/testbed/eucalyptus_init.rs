//! The Eucalyptus frontend initialises its cloud before any node is
//! registered (the profile's `initialize:` data, as Silvereye's first boot
//! did): database, system credentials, walrus, cluster, storage controller,
//! each checked first. The Eucalyptus tools cannot run here: they are
//! STAND-INS (tests/support/fake_cloud.py) that record their calls, keep the
//! cloud's state and fail a step when told; the checks and the order are
//! aerie's, run over SSH on a real sshd frontend.

use crate::apply_support::*;
use crate::harness::node;
use crate::register_support::*;

fn steps(r: &serde_json::Value) -> Vec<(String, String)> {
    r["initialize"]
        .as_array()
        .unwrap_or_else(|| panic!("no initialize in {r:#}"))
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn the_cloud_is_initialised_in_order_once_before_the_nodes_and_a_failing_step_stops_it_standin() {
    let tb = testbed(3);
    let fe = tb.host(1);
    install_cloud_standins(fe);
    // A frontend fresh from its kickstart: no database, no credentials yet.
    fe.exec_ok("rm -f /root/eucarc");
    let mut state = serde_json::json!({});
    state["fail"] = serde_json::json!({
        "service:cc-host1": "euserv-register-service: error (InternalError): cluster cc-host1: host 10.44.1.1 did not answer on port 8774"
    });
    write_state(fe, &state);
    let site = write_site(
        &tb,
        &site_yaml(&tb).replace("profile: openstack", "profile: eucalyptus"),
    );
    let kh = known_hosts_copy(&tb);

    // 1. The cluster's registration fails: the steps before it are done, the
    //    storage controller is not tried, no node is registered, and every
    //    node's report says which step failed with the tool's own message.
    let out = aerie(&tb, "register", &site, &kh, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let r = report(&out);
    assert_eq!(
        steps(&r),
        pairs(&[
            ("cloud", "done"),
            ("system credentials", "done"),
            ("walrus", "done"),
            ("cluster", "failed"),
        ])
    );
    let cluster = &r["initialize"][3];
    assert_eq!(
        cluster["command"],
        "euserv-register-service -t cluster -h 10.44.1.1 -z one cc-host1"
    );
    assert!(
        cluster["error"]
            .as_str()
            .unwrap()
            .contains("did not answer on port 8774"),
        "{cluster:#}"
    );
    for h in ["host2", "host3"] {
        let n = node(&r, h);
        assert_eq!(n["status"], "failed", "{r:#}");
        assert_eq!(n["error_kind"], "init-failed");
        let msg = n["error"].as_str().unwrap();
        assert!(
            msg.contains("initialisation failed at step cluster")
                && msg.contains("did not answer on port 8774")
                && msg.contains("no node was registered"),
            "{msg}"
        );
    }
    assert_eq!(calls(fe, "clcadmin-initialize-cloud").len(), 1);
    assert_eq!(
        calls(fe, "euserv-register-service"),
        [
            "-t walrusbackend -h 10.44.1.1 walrus-host1",
            "-t cluster -h 10.44.1.1 -z one cc-host1"
        ]
    );
    // The system credentials landed where the profile sources them, private.
    let mode = fe.exec_ok("stat -c %a /root/eucarc");
    assert_eq!(mode.trim(), "600");
    // The text report says the same.
    let text = lab_aerie(&tb, "register", &site, &kh).output();
    let said = String::from_utf8_lossy(&text.stdout);
    assert!(
        said.contains("initialize     cloud: already done"),
        "{said}"
    );
    assert!(said.contains("initialize     cluster: FAILED"), "{said}");

    // 2. Fixed: a rerun skips what is done, finishes the cluster and the
    //    storage controller, then registers the nodes.
    let mut state = read_state(fe);
    state["fail"] = serde_json::json!({});
    write_state(fe, &state);
    let before = calls(fe, "euserv-register-service").len();
    let out = aerie(&tb, "register", &site, &kh, &[]);
    assert!(out.status.success(), "{}", explain(&out));
    let r = report(&out);
    assert_eq!(
        steps(&r),
        pairs(&[
            ("cloud", "already-done"),
            ("system credentials", "already-done"),
            ("walrus", "already-done"),
            ("cluster", "done"),
            ("storage controller", "done"),
        ])
    );
    assert_eq!(
        calls(fe, "euserv-register-service")[before..],
        [
            "-t cluster -h 10.44.1.1 -z one cc-host1",
            "-t storage -h 10.44.1.1 -z one sc-host1",
            "-t node -h 10.44.1.2 host2",
            "-t node -h 10.44.1.3 host3"
        ]
    );
    assert_eq!(calls(fe, "clcadmin-initialize-cloud").len(), 1);

    // 3. Once more: every step already done, nothing registered.
    let before = calls(fe, "euserv-register-service").len();
    let out = aerie(&tb, "register", &site, &kh, &[]);
    assert!(out.status.success(), "{}", explain(&out));
    let r = report(&out);
    assert!(steps(&r).iter().all(|(_, s)| s == "already-done"), "{r:#}");
    assert_eq!(r["summary"]["already_registered"], 2);
    assert_eq!(calls(fe, "euserv-register-service").len(), before);
    tb.teardown().unwrap();
}
