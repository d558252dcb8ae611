//! `aerie status` against real-sshd test hosts, where no cloud is needed: an
//! unreachable frontend (registered and the cloud column unknown, and why), and
//! reboot required from the mark `aerie apply` leaves in /run until the host
//! boots. The kernel state is read from FIXTURES (/srv/facts/proc/cmdline,
//! /srv/facts/sys/module/...: these machines cannot provide a node's real ones).
//! The rows against the real cloud (in sync, drifted, changed and unknown keys,
//! unreachable, registered, the cloud column) are tests/cloud/status_cloud.rs.

use crate::apply_support;
use crate::harness::node;
use apply_support::*;
use serde_json::Value;

const ROOT: &str = "/srv/facts";

/// The host's kernel facts, as FIXTURES.
fn kernel_facts(h: &TestHost, cmdline: &str, nested: &str) {
    h.exec_ok(&format!(
        "mkdir -p {ROOT}/proc {ROOT}/sys/module/kvm_intel/parameters && \
         echo '{cmdline}' > {ROOT}/proc/cmdline && echo {nested} > {ROOT}/sys/module/kvm_intel/parameters/nested"
    ));
}

const MARKER: &str = "/run/aerie/reboot-required";
const BOOTED: &str = "BOOT_IMAGE=/vmlinuz ro intel_iommu=on iommu=pt";

fn status_of(
    tb: &Testbed,
    site: &std::path::Path,
    kh: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec!["--facts-root", ROOT, "--connect-timeout", "2"];
    args.extend_from_slice(extra);
    aerie(tb, "status", site, kh, &args)
}

#[test]
fn unreachable_frontend_leaves_registered_unknown_and_says_why() {
    let tb = testbed(2);
    let site = write_site(&tb, &site_yaml(&tb));
    let kh = known_hosts_copy(&tb);
    tb.host(1).kill_sshd();
    let out = status_of(&tb, &site, &kh, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let r = report(&out);
    assert_eq!(node(&r, "host2")["registered"], Value::Null);
    let why = r["registered_error"].as_str().unwrap();
    assert!(
        why.contains("cannot ask the frontend host1: cannot connect to 10.44.1.1"),
        "{why}"
    );
    // The cloud column: unknown, for the same reason; the frontend's own row says
    // it is unreachable (no deployed marker read).
    assert_eq!(r["cloud_error"].as_str(), Some(why));
    assert_eq!(node(&r, "host2")["cloud"], Value::Null);
    assert_eq!(node(&r, "host1")["cloud"], Value::Null);
    assert_eq!(node(&r, "host1")["reachable"], false);
    // The rest of status still works: host2's own row.
    assert_eq!(node(&r, "host2")["reachable"], true);
    assert_eq!(node(&r, "host2")["host_key"], "pinned");
    let out = lab_aerie(&tb, "status", &site, &kh)
        .args(["--facts-root", ROOT, "--connect-timeout", "2"])
        .output();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("cloud: cannot ask the frontend host1: cannot connect")),
        "{text}"
    );
}

#[test]
fn apply_marks_reboot_required_once_status_reports_it_until_booted_standin() {
    use std::os::unix::fs::MetadataExt;
    let tb = testbed(2);
    let site = write_site(&tb, &site_yaml(&tb));
    let kh = known_hosts_copy(&tb);
    let h2 = tb.host(2);
    let out = apply(&tb, &site, &kh, &[]);
    assert!(out.status.success(), "{}", explain(&out));
    let reasons: Vec<String> = host(&report(&out), "host2")["reboot_required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    assert!(!reasons.is_empty());
    let marker = h2.path(MARKER);
    let text = std::fs::read_to_string(&marker).unwrap();
    assert_eq!(text.lines().collect::<Vec<_>>(), reasons, "{text}");
    let meta = std::fs::metadata(&marker).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o644);
    let stamp = |m: &std::fs::Metadata| (m.ino(), m.mtime(), m.mtime_nsec());

    // A second, no-op apply leaves the marker as it was.
    let out = apply(&tb, &site, &kh, &[]);
    assert!(out.status.success(), "{}", explain(&out));
    assert_eq!(status(&report(&out), "host2"), "ok");
    assert_eq!(stamp(&std::fs::metadata(&marker).unwrap()), stamp(&meta));

    // The kernel facts are those of the new setup, but the host has not booted
    // since: the marker says so.
    kernel_facts(h2, BOOTED, "Y");
    let r = report(&status_of(&tb, &site, &kh, &["--nodes", "host2"]));
    assert_eq!(node(&r, "host2")["reboot_required"], true, "{r:#}");
    let expected: Vec<String> = reasons
        .iter()
        .map(|x| format!("not booted since aerie's change: {x}"))
        .collect();
    assert_eq!(
        node(&r, "host2")["reboot_reasons"],
        serde_json::json!(expected)
    );

    // "Rebooted": /run cleared. A drift then checked with --check writes no marker.
    h2.exec_ok(&format!("rm -f {MARKER}"));
    h2.exec_ok("echo 'options kvm_intel nested=0' > /etc/modprobe.d/kvm-nested.conf");
    let out = apply(&tb, &site, &kh, &["--check"]);
    assert!(out.status.success(), "{}", explain(&out));
    assert_eq!(status(&report(&out), "host2"), "changed");
    assert!(!marker.exists(), "--check wrote the marker");
    h2.exec_ok("rm /etc/modprobe.d/kvm-nested.conf");
    let out = apply(&tb, &site, &kh, &["--hosts", "host2"]);
    assert!(out.status.success(), "{}", explain(&out));
    h2.exec_ok(&format!("rm -f {MARKER}"));
    let r = report(&status_of(&tb, &site, &kh, &["--nodes", "host2"]));
    assert_eq!(node(&r, "host2")["reboot_required"], false, "{r:#}");
    assert_eq!(node(&r, "host2")["reboot_reasons"], serde_json::json!([]));
}
