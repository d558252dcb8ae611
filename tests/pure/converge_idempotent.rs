//! Converging: applying any bundle twice equals applying it once, on an empty
//! host and on a host with the distribution's own files; and actions fire
//! only when their files changed.

use crate::harness;
use crate::render_support;

use aerie::bundle::converge::{plan, write_local, Firing, LocalRoot};
use aerie::bundle::{HostBundle, Trigger};
use harness::{aerie, OutputText};
use render_support::*;
use std::path::Path;

/// A root seeded with packaged files the bundles edit.
fn fresh_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    write_accounts(root.path());
    root
}

fn seeded_root() -> tempfile::TempDir {
    let root = fresh_root();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let put = |path: &str, from: &Path| {
        let target = root.path().join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from, target).unwrap();
    };
    put("etc/default/grub", &fixtures.join("grub/rocky9"));
    put("etc/nova/nova.conf", &fixtures.join("nova.conf"));
    put(
        "etc/eucalyptus/eucalyptus.conf",
        &fixtures.join("eucalyptus.conf"),
    );
    put("etc/neutron/dhcp_agent.ini", &fixtures.join("nova.conf"));
    root
}

fn all_bundles() -> Vec<HostBundle> {
    example_names()
        .into_iter()
        .flat_map(|n| aerie::concerns::bundles(&example_site(n)))
        .collect()
}

/// The lab example's compute node node1.
fn lab_node1() -> HostBundle {
    aerie::concerns::bundles(&example_site("lab"))
        .into_iter()
        .find(|b| b.hostname == "node1")
        .unwrap()
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_under(dir)
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read(dir.join(&p)).unwrap(),
            )
        })
        .collect()
}

#[test]
fn applying_any_bundle_twice_equals_applying_it_once() {
    for seeded in [false, true] {
        for bundle in all_bundles() {
            let dir = if seeded { seeded_root() } else { fresh_root() };
            let root = LocalRoot(dir.path().to_path_buf());
            let first = plan(&bundle, &root).unwrap();
            // A bundle with nothing in it (the kolla frontend: Kolla makes
            // its files; an openstack frontend without PCI passthrough) has
            // nothing to do, anywhere.
            if bundle.files.is_empty() && bundle.edits.is_empty() {
                assert_eq!(first.changed().count(), 0, "{}", bundle.hostname);
                continue;
            }
            assert!(
                first.changed().count() > 0,
                "{}: nothing to do on a fresh host",
                bundle.hostname
            );
            write_local(&first, &root).unwrap();
            let after_once = snapshot(dir.path());

            let second = plan(&bundle, &root).unwrap();
            let changed: Vec<_> = second.changed().map(|f| f.path.clone()).collect();
            assert!(
                changed.is_empty(),
                "{} (seeded {seeded}): second delivery changes {changed:?}",
                bundle.hostname
            );
            for a in &second.actions {
                if let Trigger::Changed { .. } = a.action.trigger {
                    assert_eq!(
                        a.firing,
                        Firing::Idle,
                        "{}: {:?} fires again",
                        bundle.hostname,
                        a.action.argv
                    );
                }
            }
            write_local(&second, &root).unwrap();
            assert_eq!(snapshot(dir.path()), after_once, "{}", bundle.hostname);
        }
    }
}

#[test]
fn actions_fire_only_for_their_changed_files() {
    let bundle = lab_node1();
    let dir = seeded_root();
    let root = LocalRoot(dir.path().to_path_buf());
    // The GRUB file already holds the arguments: no regeneration.
    let grub = dir.path().join("etc/default/grub");
    let text = std::fs::read_to_string(&grub).unwrap();
    let args = vec!["intel_iommu=on".to_string(), "iommu=pt".to_string()];
    std::fs::write(&grub, aerie::bundle::grub::ensure_kernel_args(&text, &args)).unwrap();
    let p = plan(&bundle, &root).unwrap();
    let firing = |program: &str| {
        p.actions
            .iter()
            .find(|a| a.action.argv[0] == program)
            .map(|a| a.firing.clone())
            .unwrap()
    };
    assert_eq!(firing("grub2-mkconfig"), Firing::Idle);
    assert_eq!(firing("ebtables"), Firing::AfterCheck);
    match firing("systemctl") {
        Firing::AfterCheck => {} // enable unless enabled, listed first
        other => panic!("{other:?}"),
    }
    let restart = p
        .actions
        .iter()
        .find(|a| a.action.argv.get(1).map(String::as_str) == Some("try-restart"))
        .unwrap();
    assert_eq!(
        restart.firing,
        Firing::Changed(vec!["/etc/nova/nova.conf".into()])
    );
}

#[test]
fn edited_files_keep_their_mode_and_whole_files_get_theirs() {
    use std::os::unix::fs::PermissionsExt;
    let bundle = lab_node1();
    let dir = seeded_root();
    let nova = dir.path().join("etc/nova/nova.conf");
    std::fs::set_permissions(&nova, std::fs::Permissions::from_mode(0o640)).unwrap();
    let root = LocalRoot(dir.path().to_path_buf());
    write_local(&plan(&bundle, &root).unwrap(), &root).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&nova), 0o640);
    assert_eq!(
        mode(&dir.path().join("etc/modprobe.d/mlx4_core.conf")),
        0o644
    );
}

#[test]
fn bundles_round_trip_through_json() {
    for bundle in all_bundles() {
        let back: HostBundle = serde_json::from_str(&bundle.to_json()).unwrap();
        assert_eq!(back, bundle);
        for f in &bundle.files {
            assert!(
                f.content.is_empty() || f.content.ends_with('\n'),
                "{}",
                f.path
            );
        }
    }
}

#[test]
fn an_owner_the_host_does_not_know_stops_the_run_before_any_write() {
    let site = example_site("lab");
    let bundle = aerie::concerns::bundles(&site)
        .into_iter()
        .find(|b| b.hostname == "fe1")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    std::fs::write(dir.path().join("etc/group"), "root:x:0:\n").unwrap();
    let root = LocalRoot(dir.path().to_path_buf());
    let err = write_local(&plan(&bundle, &root).unwrap(), &root).unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("is not in") && text.contains("etc/group"),
        "{text}"
    );
    let left: Vec<String> = files_under(dir.path())
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    assert_eq!(
        left,
        ["etc/group", "etc/passwd"],
        "files were written: {left:?}"
    );
}

/// `aerie converge --root DIR BUNDLE`, the real binary.
fn converge_cli(bundle: &Path, root: &Path, extra: &[&str]) -> String {
    aerie()
        .arg("converge")
        .arg(bundle)
        .arg("--root")
        .arg(root)
        .args(extra)
        .run()
        .stdout_text()
}

#[test]
fn converge_marks_reboot_required_under_its_root_but_not_at_install() {
    let bundle = aerie::concerns::bundles(&example_site("lab"))
        .into_iter()
        .find(|b| !b.reboot_required.is_empty())
        .expect("a bundle that needs a reboot");
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("bundle.json");
    std::fs::write(&file, serde_json::to_string(&bundle).unwrap()).unwrap();
    let marker = |root: &Path| root.join("run/aerie/reboot-required");

    let running = fresh_root();
    let out = converge_cli(&file, running.path(), &[]);
    let reasons: Vec<String> = bundle
        .reboot_required
        .iter()
        .map(|r| r.reason.clone())
        .collect();
    let text = std::fs::read_to_string(marker(running.path())).unwrap();
    assert_eq!(text.lines().collect::<Vec<_>>(), reasons, "{out}");
    for r in &reasons {
        assert!(out.contains(&format!("reboot required: {r}")), "{out}");
    }
    // "Rebooted" (/run cleared), then converged again: nothing changed, no marker.
    std::fs::remove_file(marker(running.path())).unwrap();
    let out = converge_cli(&file, running.path(), &[]);
    assert!(!marker(running.path()).exists(), "{out}");
    assert!(!out.contains("reboot required"), "{out}");

    let dry = fresh_root();
    converge_cli(&file, dry.path(), &["--dry-run"]);
    assert!(!marker(dry.path()).exists());
    let install = fresh_root();
    converge_cli(&file, install.path(), &["--install"]);
    assert!(!marker(install.path()).exists());
}
