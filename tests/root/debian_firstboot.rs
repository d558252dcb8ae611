//! A Debian 12 kolla frontend deploys its cloud at first boot from its cidata
//! volume, for real: the cached Debian 12 test image (scripts/make-test-debian-image.sh)
//! under a qcow2 overlay, under qemu (TCG, OVMF), with the volume `aerie iso
//! --config-only --cidata --node fe1` makes for tests/fixtures/debian-firstboot
//! (the built-in kolla profile, one node: the frontend) and a NIC on a tap in a
//! network namespace (the site's gateway address on it; nothing else, no
//! Debian mirror, no PyPI).
//!
//! On the first boot cloud-init writes the site, Kolla's passwords, root's
//! render-time key and the pinned host keys and the unit; aerie's first-boot
//! script converges, then enables `aerie-deploy.service` and, no reboot being
//! due, starts it, saying so on the serial console. The unit runs `aerie
//! deploy --local`: it waits for the nodes (fe1 answers on SSH with the key and
//! pin the volume installed), applies the hosts step to fe1 over SSH, and
//! fails at the kolla step: the kolla-ansible venv cannot be made here (the
//! profile's python3-venv could not be installed without a mirror, and pip
//! would find no PyPI). That failure, logged in /var/log/aerie/deploy.log,
//! recorded in /var/lib/aerie/deploy-resume and retried, is the proof that the
//! unit ran; no Kolla step succeeds and no site is marked deployed. Read over
//! SSH with the rendered host key pinned (no trust on first use): the unit is
//! enabled, the secrets are 0600 and owned by root, and neither the console
//! nor the log holds a password or a private key.
//!
//! One boot under TCG, 3-6 minutes on the 2-core machine; run it alone
//! (`flock /tmp/aerie-vm.lock`). A missing image, qemu or OVMF fails the test
//! naming scripts/test-deps.sh.

use crate::debian_image_boot::image;
use crate::debian_vm::{boot_timeout, ssh_pinned, tail, FIXTURE_KEY};
use crate::harness::{aerie, tool};
use crate::lab_support::Netns;
use crate::qemu::{self, BootSpec, Firmware, Media, Nic, Vm};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ADDR: &str = "10.44.52.10";
const GATEWAY: &str = "10.44.52.1/24";
const MAC: &str = "52:54:00:44:52:10";
/// Kolla's admin password in the test's secrets file (never to be printed).
const PASSWORD: &str = "vm-test-password-never-printed";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/debian-firstboot")
        .join(name)
}

/// A command on fe1, its host key pinned: (success, stdout then stderr).
fn ssh(ns: &Netns, key: &Path, known_hosts: &Path, command: &str) -> (bool, String) {
    ssh_pinned(ns, key, known_hosts, ADDR, command)
}

#[test]
fn a_debian12_kolla_frontend_enables_and_runs_its_first_boot_deploy() {
    let (image, _facts) = image();
    qemu::check_tools().unwrap();
    let dir = tempfile::Builder::new()
        .prefix("aerie-debfb-")
        .tempdir()
        .unwrap();
    let path = |name: &str| dir.path().join(name);
    let key = path("id_ed25519");
    tool("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "aerie-test", "-f"])
        .arg(&key)
        .run();
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let site = std::fs::read_to_string(fixture("site.yaml")).unwrap();
    assert!(site.contains(FIXTURE_KEY));
    std::fs::write(path("site.yaml"), site.replace(FIXTURE_KEY, public.trim())).unwrap();
    // Kolla's passwords as `aerie render` keeps them (the keys are made by iso).
    std::fs::write(
        path("debfb.secrets.yaml"),
        format!("kolla-passwords: |\n  keystone_admin_password: {PASSWORD}\n"),
    )
    .unwrap();
    std::fs::set_permissions(
        path("debfb.secrets.yaml"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();

    // The frontend's volume, with this aerie on it, as a user makes it.
    let known_hosts = path("known_hosts");
    let (ok, out) = aerie()
        .args([
            "iso",
            "site.yaml",
            "--config-only",
            "--cidata",
            "--node",
            "fe1",
        ])
        .args(["-o", "fe1.iso"])
        .env("AERIE_KNOWN_HOSTS", &known_hosts)
        .cwd(dir.path())
        .outcome();
    assert!(ok, "{out}");

    let ns = Netns::new();
    ns.run("ip", &["link", "set", "lo", "up"]);
    ns.run("ip", &["tuntap", "add", "dev", "tap0", "mode", "tap"]);
    ns.run("ip", &["addr", "add", GATEWAY, "dev", "tap0"]);
    ns.run("ip", &["link", "set", "tap0", "up"]);
    let disk = path("fe1.qcow2");
    qemu::overlay(&image, &disk).unwrap();
    let spec = BootSpec::new(&disk, Firmware::Uefi, Media::Overlay)
        .cdrom(path("fe1.iso"))
        .nic(Nic {
            netns: ns.name.clone(),
            tap: "tap0".into(),
            mac: MAC.into(),
        })
        .reboots()
        .deadline(boot_timeout() * 2);
    let started = Instant::now();
    let mut vm = Vm::start(&spec).unwrap();

    // 1. The console: converged, then the unit enabled and started (no reboot due).
    let log = vm
        .wait_for("the first boot's word on aerie-deploy.service", |l| {
            l.contains("aerie: aerie-deploy.service")
                || l.contains("aerie: converge FAILED")
                || l.contains("aerie: cannot")
                || l.contains("aerie: this cidata volume")
        })
        .unwrap();
    let enabled = started.elapsed();
    assert!(
        log.contains("aerie: converged on /var/lib/aerie/bundle.json"),
        "{}",
        tail(&log)
    );
    assert!(
        log.contains(
            "aerie: aerie-deploy.service enabled and started: aerie deploy --local runs now \
             (journalctl -u aerie-deploy.service, /var/log/aerie/deploy.log)"
        ),
        "{}",
        tail(&log)
    );
    assert!(!log.contains("aerie: reboot required"), "{}", tail(&log));

    // 2. Over SSH (the rendered key pinned): the unit ran `aerie deploy
    // --local`, passed the wait and the hosts step, failed at kolla, and
    // is retrying from there.
    let until = Instant::now() + boot_timeout();
    let deploy_log = loop {
        let (ok, out) = ssh(&ns, &key, &known_hosts, "cat /var/log/aerie/deploy.log");
        if ok && out.contains("aerie deploy: retry 1 of 5 in 60 s, from step kolla") {
            break out;
        }
        assert!(
            Instant::now() < until,
            "no retry of the kolla step after {:?}; the log:\n{out}\nserial log tail:\n{}",
            boot_timeout(),
            tail(&vm.log().unwrap())
        );
        std::thread::sleep(Duration::from_secs(5));
    };
    let ran = started.elapsed();
    for want in [
        "aerie deploy: waiting up to 3600 s for 1 node(s) to answer on SSH",
        "aerie deploy: step 1/4 hosts",
        "aerie deploy: step 2/4 kolla",
        "aerie deploy: step kolla failed; after fixing it, resume with:",
    ] {
        assert!(deploy_log.contains(want), "{want}:\n{deploy_log}");
    }
    assert!(!deploy_log.contains("step hosts failed"), "{deploy_log}");
    let facts = |command: &str| {
        let (ok, out) = ssh(&ns, &key, &known_hosts, command);
        assert!(ok, "on the VM: `{command}` failed:\n{out}");
        out
    };
    assert_eq!(
        facts("systemctl is-enabled aerie-deploy.service").trim(),
        "enabled"
    );
    assert!(
        facts("cat /var/lib/aerie/deploy-resume").contains("kolla"),
        "the failed step is recorded"
    );
    let (deployed, _) = ssh(&ns, &key, &known_hosts, "test -e /var/lib/aerie/deployed");
    assert!(!deployed, "a site marked deployed without Kolla");
    let modes = facts(
        "stat -c '%n %a %U' /etc/aerie/site.yaml /etc/aerie/site.secrets.yaml \
         /root/.ssh/id_ed25519 /var/log/aerie/deploy.log",
    );
    for line in modes.lines() {
        assert!(line.ends_with(" 600 root"), "{modes}");
    }
    assert!(
        facts("cat /etc/aerie/site.secrets.yaml").contains(PASSWORD),
        "Kolla's passwords on the frontend"
    );
    let journal = facts("journalctl -u aerie-deploy.service --no-pager");
    assert!(
        journal.contains("aerie deploy: step 2/4 kolla"),
        "{journal}"
    );

    // Nothing secret reached the console, the log or the journal.
    let console = vm.log().unwrap();
    for (what, text) in [
        ("console", &console),
        ("deploy log", &deploy_log),
        ("journal", &journal),
    ] {
        assert!(!text.contains(PASSWORD), "Kolla's password in the {what}");
        assert!(!text.contains("PRIVATE KEY"), "a private key in the {what}");
    }
    eprintln!(
        "debian12 kolla frontend: unit enabled and started after {enabled:.0?}, \
         deploy --local at its kolla retry after {ran:.0?}"
    );
    vm.kill();
}
