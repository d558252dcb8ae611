//! `aerie status` against real-sshd test hosts: rows for an in-sync node, a
//! drifted one, one whose host key changed, one with no pinned key, an
//! unreachable one; reboot required from the running kernel's state and from
//! the mark `aerie apply` leaves in /run; registered
//! from the frontend's hypervisor list. The cloud tools on the frontend are
//! STAND-INS; the kernel state is read from FIXTURES (/srv/facts/proc/cmdline,
//! /srv/facts/sys/module/...: these machines cannot provide a node's real ones).

use crate::apply_support;
use crate::register_support;
use apply_support::*;
use register_support::*;
use serde_json::Value;

const ROOT: &str = "/srv/facts";

/// The host's kernel facts, as FIXTURES.
fn kernel_facts(h: &TestHost, cmdline: &str, nested: &str) {
    h.exec_ok(&format!(
        "mkdir -p {ROOT}/proc {ROOT}/sys/module/kvm_intel/parameters && \
         echo '{cmdline}' > {ROOT}/proc/cmdline && echo {nested} > {ROOT}/sys/module/kvm_intel/parameters/nested"
    ));
}

/// The host "booted" with this kernel: its facts, and /run cleared of aerie's marker.
fn kernel(h: &TestHost, cmdline: &str, nested: &str) {
    kernel_facts(h, cmdline, nested);
    h.exec_ok(&format!("rm -f {MARKER}"));
}

const MARKER: &str = "/run/aerie/reboot-required";
const BOOTED: &str = "BOOT_IMAGE=/vmlinuz ro intel_iommu=on iommu=pt";

fn row<'a>(r: &'a Value, host: &str) -> &'a Value {
    r["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["host"] == host)
        .unwrap_or_else(|| panic!("no {host}: {r:#}"))
}

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
fn rows_for_in_sync_drifted_changed_key_unknown_key_unreachable_standin() {
    let tb = testbed(6);
    let site = write_site(&tb, &site_yaml(&tb));
    let kh = known_hosts_copy(&tb);
    let out = apply(&tb, &site, &kh, &[]);
    assert!(out.status.success(), "{}", explain(&out));
    let fe = tb.host(1);
    install_cloud_standins(fe);
    // Registered with the cloud: host2, host3, host6; host4, host5 not.
    let mut state = cloud_state(&tb, &[]);
    for h in ["host2", "host3", "host6"] {
        state["nodes"][h]["mapped"] = true.into();
    }
    write_state(fe, &state);
    for h in tb.hosts() {
        kernel(h, BOOTED, "Y");
    }
    // host3: drifted (a local edit), and still running the old kernel command line.
    tb.host(3)
        .exec_ok("echo 'options kvm_intel nested=0' > /etc/modprobe.d/kvm-nested.conf");
    kernel(tb.host(3), "BOOT_IMAGE=/vmlinuz ro", "N");
    // host4: reinstalled (a new host key); host6: down.
    tb.host(4).regenerate_host_key();
    tb.host(6).kill_sshd();
    // host5: its key is not pinned in this known-hosts file.
    let text = std::fs::read_to_string(&kh).unwrap();
    let kh5 = tb.dir().join("kh-without-host5");
    std::fs::write(
        &kh5,
        text.lines()
            .filter(|l| !l.starts_with("10.44.1.5 "))
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    )
    .unwrap();
    // What the hosts hold, but the stand-in cloud's own state and call log.
    let hosts_state = || -> Vec<Vec<String>> {
        tb.hosts()
            .iter()
            .take(5)
            .map(|h| {
                snapshot(h)
                    .into_iter()
                    .filter(|l| !l.contains("aerie-standin/"))
                    .collect()
            })
            .collect()
    };
    let before = hosts_state();

    let out = status_of(&tb, &site, &kh5, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let r = report(&out);
    let fields = |h: &str| {
        let x = row(&r, h);
        (
            x["reachable"].clone(),
            x["host_key"].as_str().unwrap().to_string(),
            x["in_sync"].clone(),
            x["reboot_required"].clone(),
            x["registered"].clone(),
        )
    };
    use serde_json::json;
    assert_eq!(
        fields("host1"),
        (
            json!(true),
            "pinned".into(),
            json!(true),
            json!(false),
            Value::Null
        )
    );
    assert_eq!(
        fields("host2"),
        (
            json!(true),
            "pinned".into(),
            json!(true),
            json!(false),
            json!(true)
        )
    );
    assert_eq!(
        fields("host3"),
        (
            json!(true),
            "pinned".into(),
            json!(false),
            json!(true),
            json!(true)
        )
    );
    assert_eq!(
        fields("host4"),
        (
            json!(true),
            "changed".into(),
            Value::Null,
            Value::Null,
            json!(false)
        )
    );
    assert_eq!(
        fields("host5"),
        (
            json!(true),
            "unknown".into(),
            Value::Null,
            Value::Null,
            json!(false)
        )
    );
    assert_eq!(
        fields("host6"),
        (
            json!(false),
            "unchecked".into(),
            Value::Null,
            Value::Null,
            json!(true)
        )
    );
    assert_eq!(
        row(&r, "host3")["drift"],
        json!(["/etc/modprobe.d/kvm-nested.conf"])
    );
    assert_eq!(
        row(&r, "host3")["reboot_reasons"],
        json!([
            "the running kernel's command line lacks intel_iommu=on iommu=pt",
            "kvm_intel runs with nested=N"
        ])
    );
    assert!(row(&r, "host4")["error"]
        .as_str()
        .unwrap()
        .contains("CHANGED"));
    // Status pins nothing and changes nothing.
    assert!(!std::fs::read_to_string(&kh5)
        .unwrap()
        .contains("10.44.1.5 "));
    assert_eq!(before, hosts_state());
    // (apply's flavor check ran through the harness's own openstack stand-in before.)
    let ours: Vec<String> = calls(fe, "openstack")
        .into_iter()
        .filter(|c| !c.starts_with("flavor show"))
        .collect();
    assert_eq!(
        ours,
        ["--os-compute-api-version 2.53 hypervisor list -f json"]
    );

    // The table for people.
    let out = lab_aerie(&tb, "status", &site, &kh)
        .args([
            "--facts-root",
            ROOT,
            "--nodes",
            "host2,host3",
            "--connect-timeout",
            "2",
        ])
        .output();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("host2        10.44.1.2        yes       pinned    yes     no      yes"),
        "{text}"
    );
    assert!(
        text.contains("host3        10.44.1.3        yes       pinned    NO      YES     yes"),
        "{text}"
    );
    assert!(
        text.contains("differs from its bundle: /etc/modprobe.d/kvm-nested.conf"),
        "{text}"
    );
    assert!(text.contains("2 node(s): 1 as they should be"), "{text}");

    // Only healthy nodes: exit 0.
    let out = status_of(&tb, &site, &kh, &["--nodes", "host1,host2"]);
    assert!(out.status.success(), "{}", explain(&out));
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
    assert_eq!(row(&r, "host2")["registered"], Value::Null);
    let why = r["registered_error"].as_str().unwrap();
    assert!(
        why.contains("cannot ask the frontend host1: cannot connect to 10.44.1.1"),
        "{why}"
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
    assert_eq!(row(&r, "host2")["reboot_required"], true, "{r:#}");
    let expected: Vec<String> = reasons
        .iter()
        .map(|x| format!("not booted since aerie's change: {x}"))
        .collect();
    assert_eq!(
        row(&r, "host2")["reboot_reasons"],
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
    assert_eq!(row(&r, "host2")["reboot_required"], false, "{r:#}");
    assert_eq!(row(&r, "host2")["reboot_reasons"], serde_json::json!([]));
}
