//! Bad input, one kind per host in one run: unreachable, wrong user, sudo wanting
//! a password, a bundle path that is a directory, a full disk. Each is a clear
//! per-host error; the healthy hosts (root, and a non-root user with passwordless
//! sudo) are done; the exit status says some host failed; nothing is half-written.

use crate::apply_support;
use apply_support::*;

#[test]
fn each_bad_host_fails_alone_with_a_clear_error_and_nothing_half_written() {
    let tb = testbed(7);
    // host1: frontend, fine (root).
    // host2: down.
    tb.host(2).kill_sshd();
    // host3: the site's user does not exist there.
    // host4: a user whose sudo wants a password.
    add_user(tb.host(4), "ops", Some("ALL=(ALL) ALL"));
    // host5: a bundle path is a directory.
    tb.host(5)
        .exec_ok("mkdir -p /etc/modprobe.d/kvm-nested.conf");
    // host6: the disk under /etc/modprobe.d is full.
    tb.host(6).exec_ok(
        "mount -t tmpfs -o size=16k tmpfs /etc/modprobe.d && \
         (dd if=/dev/zero of=/etc/modprobe.d/filler bs=1k count=64 2>/dev/null; true)",
    );
    // host7: a non-root user with passwordless sudo: works.
    add_user(tb.host(7), "ops", Some("ALL=(ALL) NOPASSWD: ALL"));
    let site = write_site(
        &tb,
        &site_yaml_users(&tb, &[(3, "nosuchuser"), (4, "ops"), (7, "ops")]),
    );
    let kh = known_hosts_copy(&tb);
    let before: Vec<_> = tb.hosts().iter().map(snapshot).collect();

    let out = apply(&tb, &site, &kh, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let r = report(&out);
    let summary = &r["summary"];
    assert_eq!(
        (
            &summary["changed"],
            &summary["failed"],
            &summary["unreachable"]
        ),
        (&2.into(), &4.into(), &1.into()),
        "{r:#}"
    );
    let expect = [
        (
            "host2",
            "unreachable",
            "unreachable",
            "cannot connect to 10.44.1.2",
        ),
        (
            "host3",
            "failed",
            "auth-failed",
            "authentication as nosuchuser failed",
        ),
        (
            "host4",
            "failed",
            "sudo-needs-password",
            "`sudo -n` needs a password",
        ),
        (
            "host5",
            "failed",
            "read-failed",
            "/etc/modprobe.d/kvm-nested.conf",
        ),
        ("host6", "failed", "write-failed", "No space left on device"),
    ];
    for (name, st, kind, text) in expect {
        let hr = host(&r, name);
        assert_eq!(hr["status"], st, "{hr:#}");
        assert_eq!(hr["error_kind"], kind, "{hr:#}");
        let msg = hr["error"].as_str().unwrap();
        assert!(msg.contains(text), "{name}: {msg}");
    }
    assert!(host(&r, "host5")["error"]
        .as_str()
        .unwrap()
        .contains("directory"));
    assert_eq!(status(&r, "host1"), "changed");
    assert_eq!(status(&r, "host7"), "changed");
    // Through sudo, the files got root's ownership and the bundle's modes.
    assert_eq!(
        tb.host(7)
            .exec_ok("stat -c '%a %U %G' /etc/nova/nova.conf /etc/modprobe.d/mlx4_core.conf"),
        "640 root nova\n644 root root\n"
    );

    // Hosts refused before reading (auth, sudo) or while reading (directory) are untouched.
    for i in [3, 4, 5] {
        assert_eq!(snapshot(tb.host(i)), before[i - 1], "host{i} changed");
    }
    // The full disk: no partial file and no temporary file left in the full directory.
    let h6 = tb.host(6);
    assert_eq!(h6.exec_ok("ls -A /etc/modprobe.d"), "filler\n");
    let hr6 = host(&r, "host6");
    assert!(hr6["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["written"] == false));
}

#[test]
fn unknown_node_in_hosts_is_a_usage_error() {
    let tb = testbed(1);
    let site = write_site(&tb, &site_yaml(&tb));
    let kh = known_hosts_copy(&tb);
    let out = apply(&tb, &site, &kh, &["--hosts", "host1,nosuch"]);
    assert_eq!(out.status.code(), Some(64), "{}", explain(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nosuch") && err.contains("host1"), "{err}");
}
