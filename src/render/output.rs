//! Writing a rendered tree: into a sibling temporary directory first, then
//! renamed into place, so the output directory is never half-written. An
//! existing non-empty directory is replaced only with `--force`, or (for
//! `aerie build`) when it carries aerie's own marker.

use super::Rendered;
use anyhow::Context;
use std::path::Path;

/// The file that marks a directory as aerie's own output.
pub const MARKER: &str = ".aerie-output";

/// When an existing, non-empty output directory may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Never (without `--force`).
    Never,
    /// When it holds aerie's marker: an earlier `aerie render`/`build`.
    IfMarked,
    /// Always (`--force`).
    Always,
}

/// What happened to the output directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Replaced,
}

fn is_empty_dir(dir: &Path) -> std::io::Result<bool> {
    Ok(std::fs::read_dir(dir)?.next().is_none())
}

/// Write `rendered` as the directory `dir`.
pub fn write(dir: &Path, rendered: &Rendered, replace: Replace) -> anyhow::Result<Outcome> {
    use std::os::unix::fs::PermissionsExt;
    let exists = dir.exists();
    if exists {
        if !dir.is_dir() {
            return Err(crate::exit::AlreadyExists {
                path: dir.display().to_string(),
                remedy: "it is not a directory; choose another -o".into(),
            }
            .into());
        }
        let empty = is_empty_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        let marked = dir.join(MARKER).is_file();
        let allowed =
            empty || replace == Replace::Always || (replace == Replace::IfMarked && marked);
        if !allowed {
            let remedy = if replace == Replace::IfMarked {
                "it is not aerie output (no .aerie-output marker); give --force to replace it, or choose another -o"
            } else {
                "it is not empty; give --force to replace it"
            };
            return Err(crate::exit::AlreadyExists {
                path: dir.display().to_string(),
                remedy: remedy.into(),
            }
            .into());
        }
    }
    let parent = crate::fsutil::parent_or_dot(dir);
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".aerie-render-")
        .tempdir_in(parent)
        .with_context(|| {
            format!(
                "cannot create a temporary directory in {}",
                parent.display()
            )
        })?;
    for f in &rendered.files {
        let path = tmp.path().join(&f.path);
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
        }
        std::fs::write(&path, &f.content)
            .with_context(|| format!("cannot write {}", path.display()))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(f.mode))
            .with_context(|| format!("cannot set the mode of {}", path.display()))?;
    }
    std::fs::write(
        tmp.path().join(MARKER),
        "This directory was written by aerie; `aerie build` may replace it.\n",
    )?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))?;
    let staged = tmp.keep();
    let outcome = if exists {
        let old = tempfile::Builder::new()
            .prefix(".aerie-old-")
            .tempdir_in(parent)?
            .keep();
        std::fs::remove_dir(&old)?;
        std::fs::rename(dir, &old)
            .with_context(|| format!("cannot move {} aside", dir.display()))?;
        if let Err(e) = std::fs::rename(&staged, dir) {
            let _ = std::fs::rename(&old, dir);
            let _ = std::fs::remove_dir_all(&staged);
            return Err(e)
                .with_context(|| format!("cannot rename the new tree to {}", dir.display()));
        }
        crate::fsutil::sync_dir(parent)?;
        std::fs::remove_dir_all(&old)
            .with_context(|| format!("cannot remove the old {}", old.display()))?;
        Outcome::Replaced
    } else {
        if let Err(e) = std::fs::rename(&staged, dir) {
            let _ = std::fs::remove_dir_all(&staged);
            return Err(e)
                .with_context(|| format!("cannot rename the new tree to {}", dir.display()));
        }
        crate::fsutil::sync_dir(parent)?;
        Outcome::Created
    };
    Ok(outcome)
}
