//! `aerie register` on an OpenStack site whose frontend cannot be reached: no cloud
//! is needed to show that every node is reported and nothing registered. Everything
//! `aerie register` does against a cloud runs against the test bed's real OpenStack
//! (tests/support/cloud.rs) in tests/cloud/register_openstack.rs.

use crate::apply_support::*;
use crate::harness::node;

#[test]
fn unreachable_frontend_is_reported_on_every_node() {
    let tb = testbed(3);
    let site = write_site(&tb, &site_yaml(&tb));
    let kh = known_hosts_copy(&tb);
    tb.host(1).kill_sshd();
    let out = aerie(
        &tb,
        "register",
        &site,
        &kh,
        &["--poll-interval", "0.1", "--connect-timeout", "2"],
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
