//! The yes at a terminal: `aerie apply` on a real pseudo-terminal, in the
//! testbed's lab namespace, against a host whose key is not pinned. It asks
//! once, naming the host and the key's SHA256 fingerprint; "n" refuses the
//! host (nothing written there, the pin file as it was), "y" applies it and
//! pins its key. The other host, pinned already, is never asked about.

use crate::apply_support;
use crate::pty;

use apply_support::*;
use pty::Terminal;

fn apply_at_terminal(tb: &Testbed, site: &std::path::Path, kh: &std::path::Path) -> Terminal {
    let key = tb.client_key();
    let args = [
        "apply",
        site.to_str().unwrap(),
        "--known-hosts",
        kh.to_str().unwrap(),
        "--identity",
        key.to_str().unwrap(),
    ];
    Terminal::spawn_under(
        &["ip", "netns", "exec", tb.lab_netns()],
        &args,
        tb.dir(),
        tb.dir(),
    )
}

#[test]
fn unknown_key_asked_at_the_terminal_no_refuses_yes_applies_and_pins() {
    let tb = testbed(2);
    let site = write_site(&tb, &site_yaml(&tb));
    let kh = tb.dir().join("only_host1");
    std::fs::write(&kh, tb.host(1).known_hosts_line() + "\n").unwrap();
    let pins_before = std::fs::read_to_string(&kh).unwrap();
    let h2 = tb.host(2);
    let before = snapshot(h2);
    let before1 = snapshot(tb.host(1));
    let keygen = h2.exec_ok("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub");
    let fp = keygen.split_whitespace().nth(1).unwrap().to_string();
    assert!(fp.starts_with("SHA256:"), "{keygen}");
    let shown = format!("The host key of 10.44.1.2 is not pinned yet: ssh-ed25519 {fp}");

    // No: host2 refused and untouched, nothing pinned; host1 applied.
    let mut t = apply_at_terminal(&tb, &site, &kh);
    t.confirm("Trust this key for 10.44.1.2?", false);
    t.expect("2 host(s): 0 ok, 1 changed, 1 failed, 0 unreachable");
    let seen = t.seen().to_string();
    assert!(seen.contains(&shown), "{seen}");
    assert!(
        seen.contains(&format!(
            "the host key of 10.44.1.2 is not known (ssh-ed25519 {fp})"
        )),
        "{seen}"
    );
    assert_eq!(t.exit_code(), 2, "{seen}");
    assert_eq!(snapshot(h2), before, "a refused host was touched");
    assert!(!h2.path("/run/aerie/reboot-required").exists());
    assert_eq!(std::fs::read_to_string(&kh).unwrap(), pins_before);
    assert_ne!(
        snapshot(tb.host(1)),
        before1,
        "the pinned host was not applied"
    );

    // Yes: host2 applied, its key pinned; asked about once, about host2 only.
    let mut t = apply_at_terminal(&tb, &site, &kh);
    t.confirm("Trust this key for 10.44.1.2?", true);
    t.expect("2 host(s): 1 ok, 1 changed, 0 failed, 0 unreachable");
    let seen = t.seen().to_string();
    assert!(seen.contains(&shown), "{seen}");
    assert!(!seen.contains("10.44.1.1 is not pinned"), "{seen}");
    assert_eq!(seen.matches("is not pinned yet").count(), 1, "{seen}");
    assert_eq!(t.exit_code(), 0, "{seen}");
    assert_eq!(
        std::fs::read_to_string(&kh).unwrap(),
        format!("{pins_before}{}\n", h2.known_hosts_line())
    );
    assert_ne!(snapshot(h2), before);
    assert!(h2.path("/etc/modprobe.d/kvm-nested.conf").exists());
    assert!(h2.path("/run/aerie/reboot-required").exists());
}
