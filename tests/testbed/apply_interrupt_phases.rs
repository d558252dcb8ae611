//! The host's sshd (and every process in it) killed at two exact moments of the
//! write round trip, held there by a wrapped coreutils program on that host: while
//! the files are being staged (all staged, nothing renamed yet: every target is as it was)
//! and between two renames (the first file is whole and reported written, the
//! others untouched). The next apply converges and leaves no temporary file.
//! (`apply_interrupt.rs` kills at moments in time; these are moments in the script.)

use crate::apply_support;
use apply_support::*;
use std::time::{Duration, Instant};

const FILES: [&str; 5] = [
    "/etc/modprobe.d/mlx4_core.conf",
    "/etc/modprobe.d/kvm-nested.conf",
    "/etc/systemd/system/aerie-metadata-redirect.service",
    "/etc/default/grub",
    "/etc/nova/nova.conf",
];
const HELD: &str = "/tmp/aerie-test-held";

/// Wrap `program` on the host: its `nth` call (from 0) marks [`HELD`] and sleeps
/// (until the kill); the others run the real program.
fn hold_at(h: &TestHost, program: &str, nth: u32) {
    let p = h
        .exec_ok(&format!("command -v {program}"))
        .trim()
        .to_string();
    h.exec_ok(&format!(
        "cp -p {p} {p}.real && rm -f /tmp/aerie-test-calls {HELD}"
    ));
    let wrapper = format!(
        "#!/bin/sh\n\
         n=$(cat /tmp/aerie-test-calls 2>/dev/null || echo 0)\n\
         echo $((n + 1)) > /tmp/aerie-test-calls\n\
         if [ \"$n\" -eq {nth} ]; then : > {HELD}; sleep 60; fi\n\
         exec {p}.real \"$@\"\n"
    );
    std::fs::write(h.path(&p), wrapper).unwrap();
}

/// Put the real program back.
fn unhold(h: &TestHost, program: &str) {
    let p = h
        .exec_ok(&format!("command -v {program}"))
        .trim()
        .to_string();
    std::fs::rename(h.path(&format!("{p}.real")), h.path(&p)).unwrap();
    std::fs::remove_file(h.path(HELD)).unwrap();
}

/// Start an apply, wait until the victim is held, kill its sshd; the JSON report.
fn apply_killed_when_held(tb: &Testbed, victim: &TestHost) -> serde_json::Value {
    let site = tb.dir().join("site.yaml");
    let kh = tb.dir().join("aerie_known_hosts");
    let child = aerie_command(tb, "apply", &site, &kh, &[])
        .command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !victim.path(HELD).exists() {
        assert!(
            Instant::now() < deadline,
            "the write never reached the hold"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // Let what the script printed before the hold reach aerie.
    std::thread::sleep(Duration::from_millis(300));
    victim.kill_sshd();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    report(&out)
}

#[test]
fn killed_while_staging_or_between_renames_no_file_is_partial_and_the_report_is_exact() {
    let tb = testbed(2);
    write_site(&tb, &site_yaml(&tb));
    known_hosts_copy(&tb);
    let site = tb.dir().join("site.yaml");
    let kh = tb.dir().join("aerie_known_hosts");
    let victim = tb.host(2);
    let exists = || -> Vec<bool> { FILES.iter().map(|p| victim.path(p).exists()).collect() };

    // 1. Held at the last bundle file's chown: all five staged, nothing renamed.
    hold_at(victim, "chown", 4);
    let r = apply_killed_when_held(&tb, victim);
    assert_eq!(status(&r, "host1"), "changed", "{r:#}");
    assert_eq!(status(&r, "host2"), "failed", "{r:#}");
    assert_eq!(written(host(&r, "host2")), [false; 5], "{r:#}");
    assert_eq!(exists(), [false; 5], "a file was renamed while staging");
    assert_eq!(
        victim.exec_ok("find /etc -name '.aerie-*' | wc -l").trim(),
        "5",
        "not every file was staged"
    );
    victim.start_sshd();
    unhold(victim, "chown");

    // 2. Held at the second rename: the first file is in place and whole.
    hold_at(victim, "mv", 1);
    let r = apply_killed_when_held(&tb, victim);
    assert_eq!(
        written(host(&r, "host2")),
        [true, false, false, false, false],
        "{r:#}"
    );
    assert_eq!(exists(), [true, false, false, false, false]);
    let first = std::fs::read(victim.path(FILES[0])).unwrap();
    victim.start_sshd();
    unhold(victim, "mv");

    // 3. The next apply converges, sweeps the killed runs' temporary files, and the
    //    file renamed before the kill was already whole.
    let out = apply(&tb, &site, &kh, &[]);
    assert!(out.status.success(), "{}", explain(&out));
    let r = report(&out);
    assert_eq!(
        paths(host(&r, "host2"), "files", "path"),
        &FILES[1..],
        "{r:#}"
    );
    assert_eq!(std::fs::read(victim.path(FILES[0])).unwrap(), first);
    assert_eq!(exists(), [true; 5]);
    assert_eq!(victim.exec_ok("find /etc -name '.aerie-*'"), "");
    let again = apply(&tb, &site, &kh, &[]);
    assert_eq!(status(&report(&again), "host2"), "ok");
}
