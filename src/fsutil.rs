//! Writing files the one safe way: a temporary file in the same directory,
//! fsynced, renamed over the target, then the directory fsynced, so a reader
//! never sees half a file, a crash never leaves one under the name, and a
//! failure leaves the old file untouched.
//!
//! Interrupted (SIGINT, SIGTERM), aerie removes what it was staging before
//! it exits: every staged file is listed by [`crate::interrupt`] until it is
//! committed or dropped.

use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Whether an existing file may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    Refuse,
    Allow,
}

/// The directory `path` is in: its parent, or `.` for a bare file name.
pub fn parent_or_dot(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Make a rename (or a new entry) in `dir` durable.
pub fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync the directory {}", dir.display()))
}

/// Flush the dirty data of the file system holding `path` to disk
/// (syncfs(2)): after writing many files into one folder, cheaper than one
/// fsync per file, and it leaves the machine's other file systems alone.
pub fn sync_filesystem(path: &Path) -> anyhow::Result<()> {
    std::fs::File::open(path)
        .and_then(|f| rustix::fs::syncfs(&f).map_err(std::io::Error::from))
        .with_context(|| format!("cannot sync the file system of {}", path.display()))
}

/// Flush every file system's dirty data to disk (sync(2)), for writes that
/// may land on any of them (a converge's actions write /boot, /etc, ...);
/// needs no `sync` program.
pub fn sync_all_filesystems() {
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
}

/// The error for an existing output when `--force` was not given.
pub fn already_exists(path: &Path) -> crate::exit::AlreadyExists {
    crate::exit::AlreadyExists {
        path: path.display().to_string(),
        remedy: "give --force to replace it".to_string(),
    }
}

/// A new file's name beside its target (same directory, so the final rename
/// is atomic). Removed on drop unless [`Staged::commit`] moved it into place,
/// and removed if aerie is interrupted.
pub struct Staged {
    path: tempfile::TempPath,
    _interrupt: crate::interrupt::Registration,
}

impl Staged {
    /// An empty file beside `target`, readable by its owner only (0600;
    /// [`write_atomic`] then gives it its mode). xorriso writes a new image
    /// into such an empty file as into a blank medium.
    pub fn file_beside(target: &Path) -> anyhow::Result<Staged> {
        let dir = parent_or_dot(target);
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".aerie-tmp")
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?
            .into_temp_path();
        let _interrupt = crate::interrupt::remove_on_interrupt(&path);
        Ok(Staged { path, _interrupt })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// fsync the file, rename it to `target` (an existing one is replaced
    /// only with [`Overwrite::Allow`]), fsync the directory.
    pub fn commit(self, target: &Path, overwrite: Overwrite) -> anyhow::Result<()> {
        std::fs::File::open(&self.path)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot sync {}", self.path.display()))?;
        let renamed = match overwrite {
            Overwrite::Allow => self.path.persist(target),
            Overwrite::Refuse => self.path.persist_noclobber(target),
        };
        match renamed {
            Ok(()) => {}
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(already_exists(target).into())
            }
            Err(e) => {
                return Err(anyhow::Error::from(e.error)
                    .context(format!("cannot write {}", target.display())))
            }
        }
        sync_dir(parent_or_dot(target))
    }
}

/// Write `bytes` to `path` atomically with permission bits `mode`.
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    overwrite: Overwrite,
) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if overwrite == Overwrite::Refuse && path.exists() {
        return Err(already_exists(path).into());
    }
    let staged = Staged::file_beside(path)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(staged.path())
        .with_context(|| format!("cannot open {}", staged.path().display()))?;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", staged.path().display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    drop(file);
    staged.commit(path, overwrite)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn refuses_to_overwrite_without_permission() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.yaml");
        write_atomic(&path, b"one", 0o600, Overwrite::Refuse).unwrap();
        let err = write_atomic(&path, b"two", 0o600, Overwrite::Refuse).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        write_atomic(&path, b"two", 0o600, Overwrite::Allow).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
    }

    #[test]
    fn sets_mode_and_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        write_atomic(&path, b"x", 0o600, Overwrite::Refuse).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
