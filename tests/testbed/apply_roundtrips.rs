//! `aerie apply` costs each host one remote command to read and, when there is
//! something to do, one to write (counted by aerie's own SSH channel counter,
//! `AERIE_DEBUG_SSH`); an owner the host lacks fails in the read, before anything
//! is written; a failing action stops its host with that action's own message.

use crate::apply_support;
use apply_support::*;
use std::collections::BTreeMap;

/// Bundle files of a compute node, in bundle order.
const COMPUTE_FILES: [&str; 5] = [
    "/etc/modprobe.d/mlx4_core.conf",
    "/etc/modprobe.d/kvm-nested.conf",
    "/etc/systemd/system/aerie-metadata-redirect.service",
    "/etc/default/grub",
    "/etc/nova/nova.conf",
];

/// Apply with the channel counter on: (JSON report, channels per host, exit code).
fn counted(
    tb: &Testbed,
    site: &std::path::Path,
    kh: &std::path::Path,
    args: &[&str],
) -> (serde_json::Value, BTreeMap<String, usize>, Option<i32>) {
    let out = aerie_command(tb, "apply", site, kh, args)
        .env("AERIE_DEBUG_SSH", "1")
        .output();
    let channels = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("debug: ")?;
            let (host, n) = rest.split_once(": ")?;
            Some((
                host.to_string(),
                n.strip_suffix(" ssh channel(s)")?.parse().ok()?,
            ))
        })
        .collect();
    (report(&out), channels, out.status.code())
}

/// Apply the site where host1 succeeds and host2 fails: host2's report and channels.
fn apply_failing_host2(tb: &Testbed) -> (serde_json::Value, usize) {
    let site = write_site(tb, &site_yaml(tb));
    let kh = known_hosts_copy(tb);
    let (r, ch, code) = counted(tb, &site, &kh, &[]);
    assert_eq!(code, Some(2), "{r:#}");
    assert_eq!(status(&r, "host1"), "changed");
    (host(&r, "host2").clone(), ch["host2"])
}

fn per_host(tb: &Testbed, n: usize) -> BTreeMap<String, usize> {
    tb.hosts().iter().map(|h| (h.name.clone(), n)).collect()
}

#[test]
fn each_host_costs_one_read_and_at_most_one_write() {
    let tb = testbed(2);
    let site = write_site(&tb, &site_yaml(&tb));
    let kh = known_hosts_copy(&tb);

    let (r, ch, code) = counted(&tb, &site, &kh, &["--check", "--diff"]);
    assert_eq!(code, Some(0), "{r:#}");
    assert_eq!(r["summary"]["changed"], 2, "{r:#}");
    assert_eq!(
        ch,
        per_host(&tb, 1),
        "--check --diff: one round trip per host"
    );

    let (r, ch, code) = counted(&tb, &site, &kh, &[]);
    assert_eq!(code, Some(0), "{r:#}");
    assert_eq!(r["summary"]["changed"], 2, "{r:#}");
    assert_eq!(ch, per_host(&tb, 2), "first run: read, then write and act");

    let (r, ch, code) = counted(&tb, &site, &kh, &[]);
    assert_eq!(code, Some(0), "{r:#}");
    assert_eq!(r["summary"]["ok"], 2, "{r:#}");
    assert_eq!(ch, per_host(&tb, 1), "re-run: the read finds nothing to do");

    // A check-first action whose check now fails (the ebtables rule gone): a second
    // round trip re-checks and runs it, nothing else.
    let h2 = tb.host(2);
    h2.exec_ok(
        "ebtables -t nat -D PREROUTING -p ipv4 --ip-dst 169.254.169.254 --ip-proto tcp \
         --ip-dport 80 -j redirect --redirect-target ACCEPT",
    );
    let (r, ch, _) = counted(&tb, &site, &kh, &[]);
    assert_eq!((ch["host1"], ch["host2"]), (1, 2), "{r:#}");
    let hr = host(&r, "host2");
    assert!(hr["files"].as_array().unwrap().is_empty(), "{hr:#}");
    let ran = paths(hr, "actions", "command");
    assert_eq!(ran.len(), 1, "{hr:#}");
    assert!(
        ran[0].starts_with("ebtables -t nat -I PREROUTING"),
        "{hr:#}"
    );
}

#[test]
fn a_missing_group_fails_in_the_read_before_anything_is_written() {
    let tb = testbed(2);
    let h2 = tb.host(2);
    h2.exec_ok("groupdel nova");
    let (hr, channels) = apply_failing_host2(&tb);
    assert_eq!(hr["status"], "failed", "{hr:#}");
    assert_eq!(hr["error_kind"], "missing-owner", "{hr:#}");
    let msg = hr["error"].as_str().unwrap();
    for part in [
        "group nova",
        "/etc/nova/nova.conf",
        "install the profile's packages",
        "deploy the host first",
        "nothing was written",
    ] {
        assert!(msg.contains(part), "{part:?} not in: {msg}");
    }
    assert_eq!(channels, 1, "the failure comes from the read round trip");
    assert_eq!(written(&hr), [false; 5], "{hr:#}");
    // Nothing written: no bundle file, no temporary file, no backup, no reboot mark.
    for p in COMPUTE_FILES {
        assert!(!h2.path(p).exists(), "{p} was written");
    }
    assert_eq!(h2.exec_ok("find /etc -name '.aerie-*'"), "");
    assert!(!h2.path("/var/lib/aerie").exists());
    assert!(!h2.path("/run/aerie/reboot-required").exists());
    assert!(h2.standin_calls("grub2-mkconfig").is_empty());

    // A file that already exists keeps its owner and needs no group: with nova.conf
    // there (root:root 0644), the same host converges without the nova group.
    h2.exec_ok("mkdir -p /etc/nova && : > /etc/nova/nova.conf && chmod 644 /etc/nova/nova.conf");
    let site = tb.dir().join("site.yaml");
    let (r, _, code) = counted(&tb, &site, &known_hosts_copy(&tb), &[]);
    assert_eq!(code, Some(0), "{r:#}");
    assert_eq!(status(&r, "host2"), "changed");
    assert_eq!(
        h2.exec_ok("stat -c '%a %U %G' /etc/nova/nova.conf"),
        "644 root root\n"
    );
    assert!(h2.exec_ok("cat /etc/nova/nova.conf").contains("[pci]"));
}

#[test]
fn a_failing_action_stops_its_host_with_its_own_message() {
    let tb = testbed(2);
    let h2 = tb.host(2);
    // GRUB's real tools talk on stderr when they succeed; the failing one must be the
    // only message in the error.
    h2.exec_ok(
        "mv /usr/sbin/grub2-mkconfig /usr/sbin/grub2-mkconfig.standin && \
         printf '#!/bin/sh\\necho \"Generating grub configuration file ...\" >&2\\n\
         exec /usr/sbin/grub2-mkconfig.standin \"$@\"\\n' > /usr/sbin/grub2-mkconfig && \
         chmod 755 /usr/sbin/grub2-mkconfig && \
         printf '#!/bin/sh\\necho \"some output\"\\necho \"grubby: no kernel images found\" >&2\\n\
         exit 3\\n' > /usr/sbin/grubby",
    );
    let (hr, channels) = apply_failing_host2(&tb);
    assert_eq!(hr["error_kind"], "action-failed", "{hr:#}");
    assert_eq!(
        hr["error"],
        "`grubby '--update-kernel=ALL' '--args=intel_iommu=on iommu=pt'` failed (exit status 3): \
         grubby: no kernel images found",
        "{hr:#}"
    );
    assert_eq!(channels, 2);
    // Every file was written before the actions; the action before it ran, none after.
    assert_eq!(paths(&hr, "files", "path"), COMPUTE_FILES);
    assert_eq!(written(&hr), [true; 5], "{hr:#}");
    assert_eq!(
        paths(&hr, "actions", "command"),
        ["grub2-mkconfig -o /boot/grub2/grub.cfg"]
    );
    assert_eq!(h2.standin_calls("grub2-mkconfig").len(), 1);
    assert!(h2
        .standin_calls("systemctl")
        .iter()
        .all(|c| c[0] == "is-enabled"));
    assert!(!h2
        .exec(
            "ebtables -t nat --check PREROUTING -p ipv4 --ip-dst 169.254.169.254 --ip-proto tcp \
             --ip-dport 80 -j redirect --redirect-target ACCEPT"
        )
        .status
        .success());
}
