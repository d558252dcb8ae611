//! Converging: applying any bundle twice equals applying it once, on an empty
//! host and on a host with the distribution's own files; and actions fire
//! only when their files changed.

mod render_support;

use aerie::bundle::converge::{plan, write_local, Firing, LocalRoot};
use aerie::bundle::{HostBundle, Trigger};
use render_support::*;
use std::path::Path;

/// A root seeded with packaged files the bundles edit.
fn seeded_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
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
        .flat_map(|n| aerie::host::bundles(&example_site(n)))
        .collect()
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn applying_any_bundle_twice_equals_applying_it_once() {
    for seeded in [false, true] {
        for bundle in all_bundles() {
            let dir = if seeded {
                seeded_root()
            } else {
                tempfile::tempdir().unwrap()
            };
            let root = LocalRoot(dir.path().to_path_buf());
            let first = plan(&bundle, &root).unwrap();
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
    let site = example_site("lab");
    let bundle = aerie::host::bundles(&site)
        .into_iter()
        .find(|b| b.hostname == "node1")
        .unwrap();
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
    let site = example_site("lab");
    let bundle = aerie::host::bundles(&site)
        .into_iter()
        .find(|b| b.hostname == "node1")
        .unwrap();
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
