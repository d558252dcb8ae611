//! `aerie apply` against real sshd test hosts: the first run writes every file
//! and runs the triggered actions (stand-ins record them); the second changes
//! nothing and runs nothing; `--check` changes nothing; the ebtables rule exists
//! exactly once after two applies.

use crate::apply_support;
use apply_support::*;

const EBTABLES_CHECK: &str = "ebtables -t nat --check PREROUTING -p ipv4 --ip-dst 169.254.169.254 --ip-proto tcp --ip-dport 80 -j redirect --redirect-target ACCEPT";

#[test]
fn first_apply_writes_every_file_second_changes_nothing_standins_called_once() {
    let tb = testbed(3);
    let site = write_site(&tb, &site_yaml(&tb));
    let kh = known_hosts_copy(&tb);

    let first = apply(&tb, &site, &kh, &[]);
    assert!(first.status.success(), "{}", explain(&first));
    let r1 = report(&first);
    assert_eq!(r1["summary"]["changed"], 3, "{r1:#}");

    // The frontend: its nova.conf edits (alias, PciPassthroughFilter), created.
    let fe = host(&r1, "host1");
    assert_eq!(paths(fe, "files", "path"), ["/etc/nova/nova.conf"]);
    // A compute node: every bundle file written, with mode and owner.
    let c = host(&r1, "host2");
    let written = paths(c, "files", "path");
    assert_eq!(
        written,
        [
            "/etc/modprobe.d/mlx4_core.conf",
            "/etc/modprobe.d/kvm-nested.conf",
            "/etc/systemd/system/aerie-metadata-redirect.service",
            "/etc/default/grub",
            "/etc/nova/nova.conf"
        ],
        "{c:#}"
    );
    let h2 = tb.host(2);
    for p in &written {
        assert!(h2.upper.join(&p[1..]).is_file(), "{p} not in upper");
    }
    assert_eq!(
        h2.exec_ok("stat -c '%a %U %G' /etc/nova/nova.conf /etc/modprobe.d/mlx4_core.conf"),
        "640 root nova\n644 root root\n"
    );
    assert!(h2
        .exec_ok("cat /etc/default/grub")
        .contains("intel_iommu=on iommu=pt"));
    assert!(
        !c["reboot_required"].as_array().unwrap().is_empty(),
        "{c:#}"
    );
    // No temporary file left next to any written file.
    assert_eq!(h2.exec_ok("find /etc -name '.aerie-*'"), "");

    // Actions: the GRUB stand-ins (named so: the test rootfs has no grub2-mkconfig/grubby)
    // ran once, because /etc/default/grub changed; the ebtables rule went in.
    for h in &tb.hosts()[1..] {
        assert_eq!(
            h.standin_calls("grub2-mkconfig"),
            [["-o", "/boot/grub2/grub.cfg"]]
        );
        assert_eq!(
            h.standin_calls("grubby"),
            [["--update-kernel=ALL", "--args=intel_iommu=on iommu=pt"]]
        );
        h.exec_ok(EBTABLES_CHECK);
    }
    let restarts = |h: &TestHost| {
        h.standin_calls("systemctl")
            .into_iter()
            .filter(|c| c[0] == "try-restart")
            .count()
    };
    assert_eq!(restarts(tb.host(1)), 2);
    assert_eq!(restarts(tb.host(2)), 1);
    let calls_before: Vec<_> = tb.hosts().iter().map(calls).collect();

    // Second run: zero changes, no action ran.
    let second = apply(&tb, &site, &kh, &[]);
    assert!(second.status.success(), "{}", explain(&second));
    let r2 = report(&second);
    assert_eq!(r2["summary"]["ok"], 3, "{r2:#}");
    for h in tb.hosts() {
        let hr = host(&r2, &h.name);
        assert!(hr["files"].as_array().unwrap().is_empty(), "{hr:#}");
        assert!(hr["actions"].as_array().unwrap().is_empty(), "{hr:#}");
    }
    // Only the check-first commands were called again (systemctl is-enabled,
    // openstack flavor show), never an action.
    for (h, before) in tb.hosts().iter().zip(calls_before) {
        let after = calls(h);
        let new: Vec<_> = after[before.len()..].to_vec();
        assert!(
            new.iter()
                .all(|c| c == "systemctl is-enabled" || c == "openstack flavor"),
            "{}: {new:?}",
            h.name
        );
        assert_eq!(
            h.standin_calls("grub2-mkconfig").len(),
            if h.index == 1 { 0 } else { 1 }
        );
    }

    // The ebtables rule exists exactly once: deleting it once makes --check fail.
    for h in &tb.hosts()[1..] {
        h.exec_ok(&EBTABLES_CHECK.replace("--check", "-D"));
        assert!(
            !h.exec(EBTABLES_CHECK).status.success(),
            "rule was there twice"
        );
    }
}

/// Every stand-in call of a host as "program first-arg", in recording order per program.
fn calls(h: &TestHost) -> Vec<String> {
    let mut out = Vec::new();
    for (name, _) in STANDINS {
        for c in h.standin_calls(name) {
            out.push(format!("{name} {}", c.first().cloned().unwrap_or_default()));
        }
    }
    out
}

#[test]
fn check_changes_nothing_on_any_host() {
    let tb = testbed(2);
    let site = write_site(&tb, &site_yaml(&tb));
    let kh = known_hosts_copy(&tb);
    let before: Vec<_> = tb.hosts().iter().map(snapshot).collect();

    let out = apply(&tb, &site, &kh, &["--check", "--diff"]);
    assert!(out.status.success(), "{}", explain(&out));
    let r = report(&out);
    assert_eq!(r["check"], true);
    assert_eq!(r["summary"]["changed"], 2, "{r:#}");
    let c = host(&r, "host2");
    let grub = c["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "/etc/default/grub")
        .unwrap();
    assert_eq!(grub["written"], false);
    assert!(grub["diff"]
        .as_str()
        .unwrap()
        .contains("+GRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt\""));
    assert!(c["actions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["ran"] == false));

    let after: Vec<_> = tb.hosts().iter().map(snapshot).collect();
    assert_eq!(before, after, "--check changed a host's tree");
    for h in tb.hosts() {
        assert!(h.standin_calls("grub2-mkconfig").is_empty());
        assert!(!h.exec(EBTABLES_CHECK).status.success());
    }
}
