//! Host keys are pinned: an unknown key is refused unless --accept-new-host-keys,
//! a changed key is refused always (with the remedy), `aerie hosts forget` then
//! --accept-new-host-keys recovers. Other hosts are never affected.

use crate::apply_support;
use crate::harness;
use apply_support::*;

fn aerie_hosts(tb: &Testbed, args: &[&str]) -> std::process::Output {
    harness::aerie()
        .arg("hosts")
        .args(args)
        .env("HOME", tb.dir())
        .run()
}

#[test]
fn changed_key_refused_even_with_accept_then_forget_and_accept_recovers() {
    let tb = testbed(2);
    let site = write_site(&tb, &site_yaml(&tb));
    let kh = known_hosts_copy(&tb);
    let first = apply(&tb, &site, &kh, &[]);
    assert!(first.status.success(), "{}", explain(&first));

    // host2 is "reinstalled": a new host key.
    let h2 = tb.host(2);
    h2.regenerate_host_key();
    let before = snapshot(h2);
    for extra in [&[][..], &["--accept-new-host-keys"][..]] {
        let out = apply(&tb, &site, &kh, extra);
        assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
        let r = report(&out);
        assert_eq!(status(&r, "host1"), "ok");
        let hr = host(&r, "host2");
        assert_eq!(hr["status"], "failed");
        assert_eq!(hr["error_kind"], "changed-host-key");
        let msg = hr["error"].as_str().unwrap();
        assert!(msg.contains("CHANGED"), "{msg}");
        assert!(
            msg.contains(&format!(
                "aerie hosts forget 10.44.1.2 --known-hosts {}",
                kh.display()
            )),
            "{msg}"
        );
        assert_eq!(snapshot(h2), before, "a refused host was touched");
    }

    let kh_arg = kh.to_str().unwrap();
    let out = aerie_hosts(&tb, &["forget", "10.44.1.2", "--known-hosts", kh_arg]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("forgot 1 key"));
    let listed =
        String::from_utf8_lossy(&aerie_hosts(&tb, &["list", "--known-hosts", kh_arg]).stdout)
            .into_owned();
    assert!(
        listed.contains("10.44.1.1") && !listed.contains("10.44.1.2"),
        "{listed}"
    );

    // Without the flag (and no terminal to ask at), still refused: unknown now.
    let out = apply(&tb, &site, &kh, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        host(&report(&out), "host2")["error_kind"],
        "unknown-host-key"
    );

    let out = apply(&tb, &site, &kh, &["--accept-new-host-keys"]);
    assert!(out.status.success(), "{}", explain(&out));
    assert_eq!(status(&report(&out), "host2"), "ok");
    let pinned = std::fs::read_to_string(&kh).unwrap();
    assert!(pinned.contains(&h2.known_hosts_line()), "{pinned}");
}

#[test]
fn unknown_key_refused_with_its_fingerprint_others_applied() {
    let tb = testbed(2);
    let site = write_site(&tb, &site_yaml(&tb));
    let kh = tb.dir().join("only_host1");
    std::fs::write(&kh, tb.host(1).known_hosts_line() + "\n").unwrap();
    let h2 = tb.host(2);
    let before = snapshot(h2);

    let out = apply(&tb, &site, &kh, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let r = report(&out);
    assert_eq!(status(&r, "host1"), "changed");
    let hr = host(&r, "host2");
    assert_eq!(hr["error_kind"], "unknown-host-key");
    // The fingerprint ssh-keygen prints for the host's key.
    let keygen = h2.exec_ok("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub");
    let fp = keygen.split_whitespace().nth(1).unwrap();
    let msg = hr["error"].as_str().unwrap();
    assert!(
        msg.contains(fp) && msg.contains("--accept-new-host-keys"),
        "{msg}"
    );
    assert_eq!(snapshot(h2), before);
    assert!(!std::fs::read_to_string(&kh).unwrap().contains("10.44.1.2"));
}
