//! Converging a host on its bundle, as a pure plan: given the bundle and a way
//! to read the host's current files, the new content of every file, which
//! changed, and which actions fire. The SSH road and `aerie converge` both
//! carry out this one plan; only reading and writing differ.

use super::{Action, HostBundle, Stage, Trigger};
use std::io;
use std::path::{Path, PathBuf};

/// Read access to a host's files.
pub trait HostFiles {
    /// The file's bytes, or `None` when it does not exist.
    fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>>;
}

/// A host whose `/` is a local directory (the local machine is `LocalRoot("/")`).
#[derive(Debug, Clone)]
pub struct LocalRoot(pub PathBuf);

impl LocalRoot {
    /// Where a host path lives under this root.
    pub fn resolve(&self, path: &str) -> PathBuf {
        self.0.join(path.trim_start_matches('/'))
    }
}

impl HostFiles for LocalRoot {
    fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.resolve(path)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Why a plan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cannot read {path} on the host: {source}")]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{path} on the host is not UTF-8 text; aerie edits only text files")]
    NotText { path: String },
}

/// The outcome for one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    pub path: String,
    pub content: Vec<u8>,
    /// Used only when the file is written: a file that exists keeps its
    /// mode and owner when only edited.
    pub mode: u32,
    pub owner: String,
    pub group: String,
    pub existed: bool,
    pub changed: bool,
}

/// Whether an action runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Firing {
    /// One of its files changed.
    Changed(Vec<String>),
    /// Its check runs first; it runs when the check fails.
    AfterCheck,
    /// Nothing it depends on changed.
    Idle,
}

/// An action and whether it fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedAction {
    pub action: Action,
    pub firing: Firing,
}

/// Everything a delivery does to one host, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub files: Vec<PlannedFile>,
    pub actions: Vec<PlannedAction>,
}

impl Plan {
    pub fn changed(&self) -> impl Iterator<Item = &PlannedFile> {
        self.files.iter().filter(|f| f.changed)
    }
}

/// The plan for `bundle` on a host whose files `host` reads.
pub fn plan(bundle: &HostBundle, host: &dyn HostFiles) -> Result<Plan, PlanError> {
    let mut files: Vec<PlannedFile> = Vec::new();
    for path in bundle.paths() {
        let current = host.read(path).map_err(|source| PlanError::Read {
            path: path.to_string(),
            source,
        })?;
        let existed = current.is_some();
        let whole = bundle.files.iter().rev().find(|f| f.path == path);
        let mut text = match whole {
            Some(f) => f.content.clone(),
            None => match &current {
                Some(bytes) => {
                    String::from_utf8(bytes.clone()).map_err(|_| PlanError::NotText {
                        path: path.to_string(),
                    })?
                }
                None => String::new(),
            },
        };
        for e in bundle.edits.iter().filter(|e| e.path == path) {
            text = e.edit.apply(&text);
        }
        let (mode, owner, group) = match (whole, bundle.edits.iter().find(|e| e.path == path)) {
            (Some(f), _) => (f.mode, f.owner.clone(), f.group.clone()),
            (None, Some(e)) => (e.mode, e.owner.clone(), e.group.clone()),
            (None, None) => unreachable!("every path comes from a file or an edit"),
        };
        let content = text.into_bytes();
        let changed = current.as_deref() != Some(content.as_slice());
        files.push(PlannedFile {
            path: path.to_string(),
            content,
            mode,
            owner,
            group,
            existed,
            changed,
        });
    }
    let changed: Vec<&str> = files
        .iter()
        .filter(|f| f.changed)
        .map(|f| f.path.as_str())
        .collect();
    let actions = bundle
        .actions
        .iter()
        .map(|a| PlannedAction {
            action: a.clone(),
            firing: match &a.trigger {
                Trigger::Changed { paths } => {
                    let hit: Vec<String> = paths
                        .iter()
                        .filter(|p| changed.contains(&p.as_str()))
                        .cloned()
                        .collect();
                    if hit.is_empty() {
                        Firing::Idle
                    } else {
                        Firing::Changed(hit)
                    }
                }
                Trigger::Unless { .. } => Firing::AfterCheck,
            },
        })
        .collect();
    Ok(Plan { files, actions })
}

/// Write the plan's changed files under a local root, atomically, with
/// their modes and owners (new files) or keeping the old ones (edited files).
/// Every owner is resolved before the first write, so a name the host does
/// not know stops the run with nothing written.
pub fn write_local(plan: &Plan, root: &LocalRoot) -> anyhow::Result<Vec<String>> {
    use anyhow::Context;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let mut writes = Vec::new();
    for f in plan.changed() {
        let target = root.resolve(&f.path);
        let (mode, ids) = match std::fs::metadata(&target) {
            Ok(meta) if f.existed => (meta.permissions().mode() & 0o7777, (meta.uid(), meta.gid())),
            _ => (
                f.mode,
                owner_ids(&root.0, &f.owner, &f.group)
                    .with_context(|| format!("cannot give {} its owner", f.path))?,
            ),
        };
        writes.push((f, target, mode, ids));
    }
    let mut written = Vec::new();
    for (f, target, mode, (uid, gid)) in writes {
        let dir = target.parent().unwrap_or(Path::new("/"));
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        crate::fsutil::write_atomic(&target, &f.content, mode, crate::fsutil::Overwrite::Allow)?;
        // Only root may give files away; elsewhere (tests, rendering) keep ours.
        if let Err(e) = std::os::unix::fs::chown(&target, Some(uid), Some(gid)) {
            if e.kind() != io::ErrorKind::PermissionDenied {
                return Err(e).with_context(|| format!("cannot chown {}", target.display()));
            }
        }
        let _ = std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode));
        written.push(f.path.clone());
    }
    Ok(written)
}

/// Numeric ids for user and group names, from the root's own passwd and
/// group. A name the host does not know is an error, as on the SSH road
/// (its read round trip asks for the names): a file must never silently end
/// up owned by root when the bundle says otherwise.
fn owner_ids(root: &Path, owner: &str, group: &str) -> anyhow::Result<(u32, u32)> {
    let lookup = |file: &str, name: &str| -> anyhow::Result<u32> {
        if name == "root" {
            return Ok(0);
        }
        let path = root.join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        text.lines()
            .find_map(|l| {
                let mut fields = l.split(':');
                (fields.next()? == name).then(|| fields.nth(1)?.parse().ok())?
            })
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{name:?} is not in {}: install the package that creates it first",
                    path.display()
                )
            })
    };
    Ok((lookup("etc/passwd", owner)?, lookup("etc/group", group)?))
}

/// Where a host is marked as needing a reboot: under /run, which a reboot
/// clears, so the mark goes away by itself once the host has booted again.
pub const REBOOT_MARKER: &str = "/run/aerie/reboot-required";

/// Where a node's first boot (the cloud-init volume's script) says why it
/// stopped before converging, or that its converge failed: one `aerie:` line,
/// as on the console. Under /var, so it outlives reboots; gone once a rerun
/// converges. `aerie status` shows it.
pub const FIRST_BOOT_MARK: &str = "/var/lib/aerie/first-boot-failed";

/// The bundle's reboot reasons whose concern has a changed file in `plan`.
pub fn reboot_reasons(bundle: &HostBundle, plan: &Plan) -> Vec<String> {
    let changed_concerns: Vec<_> = plan
        .changed()
        .flat_map(|f| {
            bundle
                .files
                .iter()
                .filter(|x| x.path == f.path)
                .map(|x| x.concern)
                .chain(
                    bundle
                        .edits
                        .iter()
                        .filter(|x| x.path == f.path)
                        .map(|x| x.concern),
                )
                .collect::<Vec<_>>()
        })
        .collect();
    bundle
        .reboot_required
        .iter()
        .filter(|r| changed_concerns.contains(&r.concern))
        .map(|r| r.reason.clone())
        .collect()
}

/// The new content of the reboot marker (one reason a line: those it already
/// holds, then the new ones), or `None` when it needs no write.
pub fn reboot_marker(current: Option<&[u8]>, reasons: &[String]) -> Option<Vec<u8>> {
    if reasons.is_empty() {
        return None;
    }
    let old = current.map(String::from_utf8_lossy).unwrap_or_default();
    let mut lines: Vec<&str> = old.lines().filter(|l| !l.trim().is_empty()).collect();
    for r in reasons {
        if !lines.contains(&r.as_str()) {
            lines.push(r);
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    (current != Some(text.as_bytes())).then(|| text.into_bytes())
}

/// The reasons a reboot marker holds.
pub fn marker_reasons(content: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(content)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The actions of a plan that may run in `stage` (install-time runs only
/// install-stage actions; a running host runs all).
pub fn runnable(plan: &Plan, running: bool) -> impl Iterator<Item = &PlannedAction> {
    plan.actions
        .iter()
        .filter(move |a| running || a.action.stage == Stage::Install)
        .filter(|a| a.firing != Firing::Idle)
}

#[cfg(test)]
mod marker_tests {
    use super::*;

    #[test]
    fn marker_adds_new_reasons_once_and_skips_needless_writes() {
        let a = vec!["a".to_string()];
        let ab = vec!["a".to_string(), "b".to_string()];
        assert_eq!(reboot_marker(None, &[]), None);
        assert_eq!(reboot_marker(None, &ab), Some(b"a\nb\n".to_vec()));
        assert_eq!(reboot_marker(Some(b"a\nb\n"), &a), None);
        assert_eq!(reboot_marker(Some(b"b\n"), &a), Some(b"b\na\n".to_vec()));
        assert_eq!(reboot_marker(Some(b""), &a), Some(b"a\n".to_vec()));
        assert_eq!(marker_reasons(b"a\n\n b \n"), ["a", "b"]);
    }
}
