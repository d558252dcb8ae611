//! Shared helpers for the render tests: rendering the built-in examples, and
//! pykickstart's validator (a missing tool fails the test and names the setup
//! command).
#![allow(dead_code)]

use crate::harness::find_tool;
use aerie::profile::Profile;
use aerie::render::{self, Options, Rendered, Templates};
use aerie::site::{self, examples, Site, Source};
use std::path::{Path, PathBuf};

/// `aerie render --example NAME -o DIR/out` by the real binary: the temporary
/// folder and `out` in it.
pub fn render_example_cli(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    crate::harness::aerie()
        .args(["render", "--example", name, "-o"])
        .arg(&out)
        .run();
    (tmp, out)
}

/// A node's rendered bundle (`OUT/NODE/bundle.json`) as JSON.
pub fn bundle_json(out: &Path, node: &str) -> serde_json::Value {
    crate::harness::json(&std::fs::read_to_string(out.join(node).join("bundle.json")).unwrap())
}

/// pykickstart's validator: $AERIE_KSVALIDATOR or the test venv's.
pub fn ksvalidator() -> PathBuf {
    let path = std::env::var("AERIE_KSVALIDATOR")
        .unwrap_or_else(|_| "/opt/aerie-test/venv/bin/ksvalidator".to_string());
    find_tool(&path)
}

/// The test venv with the kolla profile's kolla-ansible
/// ($AERIE_TEST_KOLLA_VENV or /opt/aerie-test/kolla; scripts/test-deps.sh makes it).
pub fn kolla_venv() -> PathBuf {
    let dir = std::env::var("AERIE_TEST_KOLLA_VENV")
        .unwrap_or_else(|_| "/opt/aerie-test/kolla".to_string());
    find_tool(&format!("{dir}/bin/kolla-ansible"));
    PathBuf::from(dir)
}

pub fn example_site(name: &str) -> Site {
    site::load_valid(&Source::Example(name.to_string()), &Default::default())
        .unwrap_or_else(|e| panic!("example {name}: {e:#}"))
        .0
}

pub fn example_names() -> Vec<&'static str> {
    examples::EXAMPLES.iter().map(|(n, _, _)| *n).collect()
}

/// The fixed secrets of the golden eucalyptus case (test keys, not secret),
/// for sites whose profile needs render-time keys; None for the others.
pub fn fixture_secrets(site: &Site, profile: &Profile) -> Option<render::secrets::Secrets> {
    if !render::secrets::needed(profile) {
        return None;
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/eucalyptus")
        .join(format!("{}.secrets.yaml", site.site.name));
    let text = std::fs::read_to_string(&path).ok()?;
    Some(render::secrets::Secrets::parse(&text, &path.display().to_string()).unwrap())
}

/// Render as `aerie render` does; the eucalyptus example with the golden case's secrets.
pub fn render_site(site: &Site, options: Options) -> Rendered {
    let profile = Profile::built_in(site.site.profile);
    let templates = Templates::new(None).unwrap();
    let secrets = fixture_secrets(site, &profile);
    render::render_site_with(site, &profile, &templates, options, secrets.as_ref()).unwrap()
}

/// Every example rendered both ways (full and minimal), written to a temporary
/// directory: (label, directory, rendered).
pub fn rendered_examples() -> Vec<(String, tempfile::TempDir, Rendered)> {
    let mut out = Vec::new();
    for name in example_names() {
        for minimal in [false, true] {
            let site = example_site(name);
            let rendered = render_site(&site, Options { minimal });
            let dir = tempfile::tempdir().unwrap();
            let target = dir.path().join("out");
            render::output::write(&target, &rendered, render::output::Replace::Never).unwrap();
            let label = format!("{name}{}", if minimal { " (minimal)" } else { "" });
            out.push((label, dir, rendered));
        }
    }
    out
}

/// The accounts the cloud packages create before aerie's files arrive (nova,
/// neutron, eucalyptus): the groups that own the shared files aerie edits.
pub fn write_accounts(root: &std::path::Path) {
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnova:x:162:162::/var/lib/nova:/sbin/nologin\nneutron:x:164:164::/var/lib/neutron:/sbin/nologin\neucalyptus:x:165:165::/var/lib/eucalyptus:/sbin/nologin\n",
    )
    .unwrap();
    std::fs::write(
        root.join("etc/group"),
        "root:x:0:\nnova:x:162:\nneutron:x:164:\neucalyptus:x:165:\n",
    )
    .unwrap();
}

/// Every file below `dir` (not directories; symlinked directories are not
/// followed), as sorted paths relative to `dir`.
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}
