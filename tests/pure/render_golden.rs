//! Golden trees: `aerie render` of each case under tests/golden/<case>/ must
//! equal expected/ byte for byte (and mode for mode). AERIE_BLESS=1 rewrites
//! expected/ (see tests/golden/README.md).

use crate::harness;
use crate::render_support;

use render_support::files_under;

use harness::{aerie, blessing, diff, BLESS_HINT};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// relative path -> (mode, bytes), skipping the MODES listing itself.
fn tree(dir: &Path) -> BTreeMap<String, (u32, Vec<u8>)> {
    files_under(dir)
        .into_iter()
        .filter(|rel| rel != Path::new("MODES"))
        .map(|rel| {
            let p = dir.join(&rel);
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777;
            (
                rel.display().to_string(),
                (mode, std::fs::read(&p).unwrap()),
            )
        })
        .collect()
}

/// The golden form of a rendered tree: Kolla's inventory is kept as its
/// difference from the multinode inventory kolla-ansible ships (no context
/// lines: what aerie changed, not a copy of Kolla's file).
fn golden_form(mut t: BTreeMap<String, (u32, Vec<u8>)>) -> BTreeMap<String, (u32, Vec<u8>)> {
    if let Some((mode, bytes)) = t.remove("kolla/inventory") {
        let multinode =
            render_support::kolla_venv().join("share/kolla-ansible/ansible/inventory/multinode");
        let kolla = std::fs::read_to_string(&multinode).unwrap();
        let ours = String::from_utf8(bytes).unwrap();
        let diff = similar::TextDiff::from_lines(&kolla, &ours)
            .unified_diff()
            .context_radius(0)
            .header("multinode (kolla-ansible)", "kolla/inventory (aerie)")
            .to_string();
        t.insert("kolla/inventory.diff".into(), (mode, diff.into_bytes()));
    }
    t
}

fn modes_listing(t: &BTreeMap<String, (u32, Vec<u8>)>) -> String {
    t.iter()
        .map(|(p, (m, _))| format!("{m:04o} {p}\n"))
        .collect()
}

#[test]
fn every_example_has_a_golden_case_with_the_same_site() {
    for (name, _, text) in aerie::site::examples::EXAMPLES {
        let site = golden_dir().join(name).join("site.yaml");
        let golden = std::fs::read_to_string(&site).unwrap_or_else(|_| {
            panic!("no golden case for example {name}: add {}", site.display())
        });
        assert_eq!(
            &golden,
            text,
            "{} differs from the built-in example",
            site.display()
        );
    }
}

#[test]
fn render_matches_the_golden_trees() {
    let bless = blessing();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("site.yaml").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 3, "golden cases missing");
    let mut failures = Vec::new();
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("render");
        let args: Vec<String> = std::fs::read_to_string(case.join("args"))
            .map(|t| {
                t.lines()
                    .map(str::to_string)
                    .filter(|l| !l.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        aerie()
            .env("AERIE_KOLLA_VENV", render_support::kolla_venv())
            .arg("render")
            .arg(case.join("site.yaml"))
            .arg("-o")
            .arg(&target)
            .args(&args)
            .run();
        let got = golden_form(tree(&target));
        let expected_dir = case.join("expected");
        if bless {
            let _ = std::fs::remove_dir_all(&expected_dir);
            std::fs::create_dir_all(&expected_dir).unwrap();
            for (rel, (mode, bytes)) in &got {
                let p = expected_dir.join(rel);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, bytes).unwrap();
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(*mode)).unwrap();
            }
            std::fs::write(expected_dir.join("MODES"), modes_listing(&got)).unwrap();
            continue;
        }
        // Git does not keep modes beyond the executable bit: compare the
        // content of expected/ and the modes from expected/MODES.
        let want = tree(&expected_dir);
        let want_modes = std::fs::read_to_string(expected_dir.join("MODES")).unwrap_or_default();
        let got_paths: Vec<_> = got.keys().collect();
        let want_paths: Vec<_> = want.keys().collect();
        if got_paths != want_paths {
            failures.push(format!(
                "{name}: files differ:\n got {got_paths:?}\nwant {want_paths:?}"
            ));
            continue;
        }
        for (rel, (_, bytes)) in &got {
            if &want[rel].1 != bytes {
                let diff = diff(
                    std::str::from_utf8(&want[rel].1).unwrap_or(""),
                    std::str::from_utf8(bytes).unwrap_or(""),
                );
                failures.push(format!("{name}/{rel}:\n{diff}"));
            }
        }
        if modes_listing(&got) != want_modes {
            failures.push(format!(
                "{name}: modes differ:\n{}\nwant\n{want_modes}",
                modes_listing(&got)
            ));
        }
    }
    assert!(failures.is_empty(), "{}\n{BLESS_HINT}", failures.join("\n"));
}
