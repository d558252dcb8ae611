//! Bad input to the qemu lab, inside a network namespace made by the test:
//! a bridge or tap name already taken is refused before anything is made
//! (clear message with the fix); a failure half-way (a stand-in qemu that
//! refuses to start) rolls back everything already made; an ISO aerie made
//! is booted as it is (and survives the rollback), one made for another site
//! is refused.

use crate::harness;
use crate::lab_support;
use lab_support::*;
use std::path::Path;

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn up(ns: &Netns, work: &Path, iso: &Path) -> (std::process::Output, String) {
    ns.aerie(&args(&small_lab_up(iso, "1")), work)
}

#[test]
fn a_taken_bridge_name_is_refused_and_nothing_is_made() {
    let ns = Netns::new();
    let work = tempfile::tempdir().unwrap();
    let iso = fixture_iso(work.path());
    ns.run("ip", &["link", "add", "ae-lab-b1", "type", "bridge"]);
    let (out, text) = up(&ns, work.path(), &iso);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("\"ae-lab-b1\" already exists"), "{text}");
    assert!(text.contains("nothing was made"), "{text}");
    assert!(text.contains("--prefix PREFIX"), "{text}");
    assert!(text.contains("ip link delete ae-lab-b1"), "{text}");
    assert_eq!(ns.links(), ["ae-lab-b1", "lo"]);
    assert!(!ns.nft_ruleset().contains("table"));
    assert!(!work.path().join("lab").exists());
}

#[test]
fn a_taken_tap_name_is_refused_and_nothing_is_made() {
    let ns = Netns::new();
    let work = tempfile::tempdir().unwrap();
    let iso = fixture_iso(work.path());
    ns.run(
        "ip",
        &["tuntap", "add", "dev", "ae-lab-t1-0", "mode", "tap"],
    );
    let (out, text) = up(&ns, work.path(), &iso);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("\"ae-lab-t1-0\" already exists"), "{text}");
    assert_eq!(ns.links(), ["ae-lab-t1-0", "lo"]);
    assert!(!work.path().join("lab").exists());
}

#[test]
fn a_taken_nat_table_is_refused() {
    let ns = Netns::new();
    let work = tempfile::tempdir().unwrap();
    let iso = fixture_iso(work.path());
    ns.run("nft", &["add", "table", "ip", "aerie_ae_lab"]);
    let (out, text) = up(&ns, work.path(), &iso);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("nftables table \"ip aerie_ae_lab\" already exists"),
        "{text}"
    );
    assert!(text.contains("nft delete table ip aerie_ae_lab"), "{text}");
    assert_eq!(ns.links(), ["lo"]);
}

/// `lab up` with a stand-in qemu-system-x86_64 that refuses to start, found
/// first on PATH, so the failure comes after the installer ISO, disks,
/// bridges, taps, NAT and forwarding were made. stderr as text.
fn up_with_refusing_qemu(ns: &Netns, work: &Path, iso: &Path) -> (std::process::Output, String) {
    let bin = tempfile::tempdir().unwrap();
    let standin = bin.path().join("qemu-system-x86_64");
    std::fs::write(
        &standin,
        "#!/bin/sh\necho 'stand-in qemu: refusing to start' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&standin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    let out = harness::aerie()
        .args(small_lab_up(iso, "1"))
        .env("PATH", path)
        .cwd(work)
        .in_netns(&ns.name)
        .output();
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, text)
}

#[test]
fn a_failure_half_way_rolls_back_everything() {
    let ns = Netns::new();
    let work = tempfile::tempdir().unwrap();
    let iso = fixture_iso(work.path());
    let forward_before = ns.ip_forward();
    let (out, text) = up_with_refusing_qemu(&ns, work.path(), &iso);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("lab/installer.iso"), "{text}");
    assert!(text.contains("cannot start the VM fe1"), "{text}");
    assert!(text.contains("stand-in qemu: refusing to start"), "{text}");
    assert!(
        text.contains("everything it had made was removed"),
        "{text}"
    );
    assert!(
        text.contains("rollback: deleted bridge ae-lab-b0"),
        "{text}"
    );
    assert_eq!(ns.links(), ["lo"], "interfaces left behind");
    assert!(!ns.nft_ruleset().contains("table"), "{}", ns.nft_ruleset());
    assert_eq!(ns.ip_forward(), forward_before);
    assert!(!work.path().join("lab").exists(), "the lab folder is left");
    assert!(iso.is_file(), "the base was removed");
}

#[test]
fn an_iso_aerie_made_is_booted_as_it_is_and_one_for_another_site_is_refused() {
    let ns = Netns::new();
    let work = tempfile::tempdir().unwrap();
    let base = fixture_iso(work.path());
    let make = |example: &str, out: &Path| {
        let (o, text) = ns.aerie(
            &[
                "iso",
                "--example",
                example,
                "--base",
                base.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--no-binary",
            ],
            work.path(),
        );
        assert!(o.status.success(), "aerie iso failed:\n{text}");
    };

    let mine = work.path().join("aerie-lab.iso");
    make("lab", &mine);
    let (out, text) = up_with_refusing_qemu(&ns, work.path(), &mine);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("was made by aerie: the VMs boot it as it is"),
        "{text}"
    );
    assert!(!text.contains("installer.iso"), "{text}");
    assert!(text.contains("cannot start the VM fe1"), "{text}");
    assert!(mine.is_file(), "the rollback removed the operator's ISO");
    assert!(!work.path().join("lab").exists(), "the lab folder is left");
    assert_eq!(ns.links(), ["lo"]);

    let other = work.path().join("aerie-eucalyptus.iso");
    make("eucalyptus", &other);
    let (out, text) = up(&ns, work.path(), &other);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("was made by aerie, but not for this lab"),
        "{text}"
    );
    assert!(text.contains("aerie iso SITE --base BASE"), "{text}");
    assert!(!work.path().join("lab").exists());
    assert_eq!(ns.links(), ["lo"]);
    assert!(other.is_file());

    // A distribution ISO that carries its own /ks/ has no aerie stamp: it
    // is a base, remastered into the lab's installer ISO.
    let theirs = work.path().join("theirs-ks");
    std::fs::create_dir_all(&theirs).unwrap();
    std::fs::write(theirs.join("frontend.cfg"), "# theirs\n").unwrap();
    let custom = work.path().join("custom.iso");
    ns.run(
        "xorriso",
        &[
            "-indev",
            base.to_str().unwrap(),
            "-outdev",
            custom.to_str().unwrap(),
            "-boot_image",
            "any",
            "replay",
            "-map",
            theirs.to_str().unwrap(),
            "/ks",
        ],
    );
    let (out, text) = up_with_refusing_qemu(&ns, work.path(), &custom);
    assert!(!out.status.success(), "{text}");
    assert!(!text.contains("was made by aerie"), "{text}");
    assert!(text.contains("/lab/installer.iso (EL9"), "{text}");
    assert!(
        text.contains("the base's own /ks/ (1 file(s): /ks/frontend.cfg) is replaced by aerie's"),
        "{text}"
    );
    assert!(text.contains("cannot start the VM fe1"), "{text}");
    assert!(!work.path().join("lab").exists());
    assert_eq!(ns.links(), ["lo"]);
}
