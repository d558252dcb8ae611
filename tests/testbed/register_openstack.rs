//! `aerie register` on an OpenStack site, against real-sshd test hosts. The
//! frontend (host1) holds STAND-INS for `openstack` and `nova-manage` that record
//! their calls and answer in the real formats (JSON for `openstack … -f json`) from a
//! state file: they inject what a real cloud does not do on demand (nodes that come
//! up late or never, never mapped, failing commands). The same registration against
//! the real nova (tests/support/cloud.rs) is in tests/cloud/cloud_testbed.rs.

use crate::apply_support;
use crate::register_support;
use apply_support::*;
use register_support::*;

const FAST: &[&str] = &["--poll-interval", "0.1"];

fn setup(
    n: usize,
    up_after: &[(usize, Option<i64>)],
) -> (Testbed, std::path::PathBuf, std::path::PathBuf) {
    let tb = testbed(n);
    install_cloud_standins(tb.host(1));
    write_state(tb.host(1), &cloud_state(&tb, up_after));
    let site = write_site(&tb, &site_yaml(&tb));
    let kh = known_hosts_copy(&tb);
    (tb, site, kh)
}

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v: Vec<&str> = FAST.to_vec();
    v.extend_from_slice(extra);
    v
}

#[test]
fn waits_for_late_nodes_reports_one_never_up_then_second_run_changes_nothing_standin() {
    // host2 up at once, host3 up after 4 looks at the service list, host4 never.
    let (tb, site, kh) = setup(4, &[(3, Some(4)), (4, Some(-1))]);
    let fe = tb.host(1);
    let out = aerie(&tb, "register", &site, &kh, &args(&["--timeout", "3"]));
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let r = report(&out);
    assert_eq!(node(&r, "host2")["status"], "registered", "{r:#}");
    assert_eq!(node(&r, "host3")["status"], "registered", "{r:#}");
    let h4 = node(&r, "host4");
    assert_eq!(h4["status"], "failed");
    assert_eq!(h4["error_kind"], "not-up");
    let msg = h4["error"].as_str().unwrap();
    assert!(
        msg.contains("not up after 3 s")
            && msg.contains("openstack compute service list --service nova-compute -f json")
            && msg.contains("State=down"),
        "{msg}"
    );
    // The wait polled until host3 came up (4 down looks), and beyond for host4.
    let lists = calls(fe, "openstack")
        .iter()
        .filter(|c| c.starts_with("compute service list --service nova-compute -f json"))
        .count();
    assert!(lists >= 6, "service list polled {lists} times");
    // One discovery, after the wait, for the nodes that came up.
    assert_eq!(
        calls(fe, "nova-manage"),
        ["cell_v2 discover_hosts --verbose"]
    );
    let state = read_state(fe);
    assert_eq!(state["nodes"]["host3"]["mapped"], true);
    assert_eq!(state["nodes"]["host4"]["mapped"], serde_json::Value::Null);
    // Verified against the hypervisor list, before and after.
    let hv = calls(fe, "openstack")
        .iter()
        .filter(|c| *c == "hypervisor list -f json")
        .count();
    assert_eq!(hv, 2);
    // The PCI passthrough flavor: checked, absent, created once.
    assert_eq!(r["flavor"]["status"], "created", "{r:#}");
    let flavor_calls: Vec<String> = calls(fe, "openstack")
        .into_iter()
        .filter(|c| c.starts_with("flavor"))
        .collect();
    assert_eq!(
        flavor_calls,
        [
            "flavor show m1.ib",
            "flavor create m1.ib --vcpus 2 --ram 2048 --disk 10 --property pci_passthrough:alias=ib-vf:1"
        ]
    );

    // Second run over the registered nodes: nothing is run, nothing changes.
    let before_calls = calls(fe, "openstack").len();
    let before_state = read_state(fe);
    let out = aerie(
        &tb,
        "register",
        &site,
        &kh,
        &args(&["--nodes", "host2,host3"]),
    );
    assert!(out.status.success(), "{}", explain(&out));
    let r = report(&out);
    for h in ["host2", "host3"] {
        assert_eq!(node(&r, h)["status"], "already-registered", "{r:#}");
        assert_eq!(node(&r, h)["commands"], serde_json::json!([]));
    }
    assert_eq!(r["flavor"]["status"], "present");
    assert_eq!(
        calls(fe, "nova-manage").len(),
        1,
        "discover_hosts ran again"
    );
    let new_calls: Vec<String> = calls(fe, "openstack")[before_calls..].to_vec();
    assert_eq!(new_calls, ["hypervisor list -f json", "flavor show m1.ib"]);
    assert_eq!(read_state(fe), before_state);
}

#[test]
fn a_node_the_cloud_never_sees_and_one_never_mapped_are_reported_each_standin() {
    // host2 never appears in the service list; host3 is up but discovery never maps
    // it (its compute node record is missing); host4 is fine.
    let (tb, site, kh) = setup(4, &[(2, None)]);
    let fe = tb.host(1);
    let mut state = read_state(fe);
    state["nodes"]["host3"]["never_mapped"] = true.into();
    write_state(fe, &state);
    let out = aerie(&tb, "register", &site, &kh, &args(&["--timeout", "1"]));
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let r = report(&out);
    let h2 = node(&r, "host2");
    assert_eq!(h2["error_kind"], "not-up");
    assert!(
        h2["error"].as_str().unwrap().ends_with("not listed"),
        "{h2:#}"
    );
    let h3 = node(&r, "host3");
    assert_eq!(h3["error_kind"], "not-registered", "{h3:#}");
    let msg = h3["error"].as_str().unwrap();
    assert!(
        msg.contains("nova-manage cell_v2 discover_hosts --verbose")
            && msg.contains("host3 is not in `openstack hypervisor list -f json`"),
        "{msg}"
    );
    assert_eq!(node(&r, "host4")["status"], "registered");
    assert_eq!(r["summary"]["failed"], 2);
}

#[test]
fn a_failing_registration_command_is_reported_per_node_with_its_message_standin() {
    let (tb, site, kh) = setup(3, &[]);
    let fe = tb.host(1);
    let mut state = read_state(fe);
    state["fail"] = serde_json::json!({
        "discover": "ERROR: Could not connect to the cell database: (pymysql.err.OperationalError) (2003, \"Can't connect to MySQL server on 'fe1'\")"
    });
    write_state(fe, &state);
    let out = aerie(&tb, "register", &site, &kh, &args(&[]));
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let r = report(&out);
    for h in ["host2", "host3"] {
        let n = node(&r, h);
        assert_eq!(n["status"], "failed");
        assert_eq!(n["error_kind"], "command-failed");
        let msg = n["error"].as_str().unwrap();
        assert!(
            msg.contains("`nova-manage cell_v2 discover_hosts --verbose` failed (exit status 1)")
                && msg.contains("Can't connect to MySQL server"),
            "{msg}"
        );
    }
    // Text output carries the same message.
    let out = lab_aerie(&tb, "register", &site, &kh).args(FAST).output();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("host2          FAILED [10.44.1.2]"), "{text}");
    assert!(text.contains("Can't connect to MySQL server"), "{text}");
    assert!(
        text.contains("2 node(s): 0 registered, 0 already registered, 2 failed"),
        "{text}"
    );
}

#[test]
fn unreachable_frontend_is_reported_on_every_node() {
    let (tb, site, kh) = setup(3, &[]);
    tb.host(1).kill_sshd();
    let out = aerie(
        &tb,
        "register",
        &site,
        &kh,
        &args(&["--connect-timeout", "2"]),
    );
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let r = report(&out);
    assert_eq!(r["summary"]["unreachable"], 2);
    for h in ["host2", "host3"] {
        let n = node(&r, h);
        assert_eq!(n["status"], "unreachable");
        let msg = n["error"].as_str().unwrap();
        assert!(
            msg.starts_with("the frontend host1 (10.44.1.1): cannot connect to 10.44.1.1")
                && msg.ends_with("nothing was registered"),
            "{msg}"
        );
    }
}

#[test]
fn reinstalled_node_deregistered_and_registered_again_new_key_only_with_flag_standin() {
    let (tb, site, kh) = setup(3, &[]);
    let fe = tb.host(1);
    let out = aerie(&tb, "register", &site, &kh, &args(&[]));
    assert!(out.status.success(), "{}", explain(&out));

    // host2 is reinstalled: a new host key.
    let h2 = tb.host(2);
    h2.regenerate_host_key();
    let before = read_state(fe);
    let out = aerie(
        &tb,
        "register",
        &site,
        &kh,
        &args(&["--reinstalled", "host2"]),
    );
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let r = report(&out);
    let n = node(&r, "host2");
    assert_eq!(n["error_kind"], "changed-host-key", "{n:#}");
    assert!(
        n["error"]
            .as_str()
            .unwrap()
            .contains("aerie register --reinstalled host2 --accept-new-host-keys"),
        "{n:#}"
    );
    assert_eq!(n["deregistered"], false);
    assert_eq!(node(&r, "host3")["status"], "already-registered");
    assert!(
        !calls(fe, "openstack")
            .iter()
            .any(|c| c.contains("service delete")),
        "deregistered without a trusted key"
    );
    assert_eq!(
        read_state(fe)["nodes"]["host2"]["mapped"],
        before["nodes"]["host2"]["mapped"]
    );

    let out = aerie(
        &tb,
        "register",
        &site,
        &kh,
        &args(&["--reinstalled", "host2", "--accept-new-host-keys"]),
    );
    assert!(out.status.success(), "{}", explain(&out));
    let r = report(&out);
    let n = node(&r, "host2");
    assert_eq!(n["status"], "registered", "{n:#}");
    assert_eq!(n["deregistered"], true);
    assert_eq!(
        n["commands"],
        serde_json::json!([
            "openstack compute service delete 2",
            "on host2: systemctl restart openstack-nova-compute",
            "nova-manage cell_v2 discover_hosts --verbose"
        ])
    );
    assert_eq!(
        calls(h2, "systemctl").last().unwrap(),
        "restart openstack-nova-compute"
    );
    assert_eq!(calls(fe, "nova-manage").len(), 2);
    let state = read_state(fe);
    assert_eq!(state["nodes"]["host2"]["mapped"], true);
    assert_ne!(
        state["nodes"]["host2"]["service_id"], 2,
        "a new service record"
    );
    // The new key is pinned, the old one gone.
    let pinned = std::fs::read_to_string(&kh).unwrap();
    assert!(pinned.contains(&h2.known_hosts_line()), "{pinned}");
    assert_eq!(pinned.matches("10.44.1.2 ").count(), 1, "{pinned}");
}
