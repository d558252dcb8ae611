//! Kolla's inputs in the config dir (Kolla's `--configdir`): the files of
//! render's `kolla/` tree, written through render's output (temp sibling,
//! renamed, its marker) only when they differ from what is there.

use crate::render::{self, output};
use std::path::{Path, PathBuf};

/// Kolla's inputs for the site as render's tree.
pub fn rendered(
    site: &crate::site::Site,
    profile: &crate::profile::Profile,
    source: &crate::kolla::Source,
    virt: crate::kolla::VirtType,
) -> anyhow::Result<render::Rendered> {
    let files = crate::kolla::inputs(site, profile, source, virt)?
        .into_iter()
        .map(|f| render::OutFile {
            path: f.path,
            mode: f.mode,
            content: f.content.into_bytes(),
        })
        .collect();
    Ok(render::Rendered {
        files,
        bundles: Vec::new(),
    })
}

/// Bring `dir` to `rendered`; with `check`, write nothing and return the
/// lines of what would change (`would write F (new)`, ...). Says what it did
/// through `note` (the command's stderr) and `would` (its stdout).
pub fn bring(
    dir: &Path,
    rendered: &render::Rendered,
    check: bool,
    note: &dyn Fn(&str),
    would: &dyn Fn(&str),
) -> anyhow::Result<()> {
    let changes = tree_changes(dir, rendered);
    if changes.is_empty() {
        note(&format!("kolla inputs: {} unchanged", dir.display()));
    } else if check {
        note(&format!(
            "kolla inputs: {} would be written:",
            dir.display()
        ));
        for c in &changes {
            would(&format!("would {c}"));
        }
    } else {
        output::write(dir, rendered, output::Replace::IfMarked)?;
        note(&format!("kolla inputs: wrote {}", dir.display()));
    }
    Ok(())
}

/// How `dir` differs from these files, one line per file (`write F (new)`,
/// `write F (changed)`, `chmod 0600 F`, `remove F`); empty: a rerun writes
/// nothing. What Kolla's post-deploy writes there (`admin-openrc.sh`,
/// `clouds.yaml`, ...) is Kolla's, not a difference.
pub fn tree_changes(dir: &Path, rendered: &render::Rendered) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut found = std::collections::BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                found.insert(rel.to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    let mut expected = std::collections::BTreeSet::new();
    for f in &rendered.files {
        let rel = PathBuf::from(&f.path);
        let p = dir.join(&rel);
        let shown = p.display();
        match std::fs::read(&p) {
            Err(_) => out.push(format!("write {shown} (new)")),
            Ok(c) if c != f.content => out.push(format!("write {shown} (changed)")),
            Ok(_) => {
                let mode = std::fs::metadata(&p).map_or(0, |m| m.permissions().mode() & 0o7777);
                if mode != f.mode {
                    out.push(format!("chmod {:04o} {shown}", f.mode));
                }
            }
        }
        expected.insert(rel);
    }
    let marker = PathBuf::from(output::MARKER);
    if !found.contains(&marker) {
        out.push(format!("write {} (new)", dir.join(&marker).display()));
    }
    expected.insert(marker);
    expected.extend(super::openrc::POST_DEPLOY_WRITES.iter().map(PathBuf::from));
    for extra in found.difference(&expected) {
        out.push(format!("remove {}", dir.join(extra).display()));
    }
    out
}
