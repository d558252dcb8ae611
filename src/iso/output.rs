//! The output ISO: never overwritten without --force, written to a temp path
//! in the same directory (xorriso needs a path that does not exist yet, or it
//! appends a session) and renamed at the end; room checked first.

use super::IsoError;
use crate::fsutil::{parent_or_dot, Overwrite, Staged};
use std::path::Path;

/// Refuse an existing output without `force`; the directory must exist.
pub fn check_target(out: &Path, force: bool) -> anyhow::Result<()> {
    if out.exists() && !force {
        return Err(crate::fsutil::already_exists(out).into());
    }
    if out.is_dir() {
        anyhow::bail!(
            "{} is a directory; -o names the ISO file to write",
            out.display()
        );
    }
    let dir = parent_or_dot(out);
    if !dir.is_dir() {
        anyhow::bail!(
            "{} does not exist; create it or choose another -o",
            dir.display()
        );
    }
    Ok(())
}

/// Free bytes in `dir`'s file system, from `df -Pk` (None if df cannot tell).
pub fn free_bytes(dir: &Path) -> Option<u64> {
    let out = crate::exec::run(std::process::Command::new("df").arg("-Pk").arg(dir)).ok()?;
    crate::facts::df_available_kib(&String::from_utf8_lossy(&out.stdout)).map(|kib| kib * 1024)
}

/// Errors with [`IsoError::NoRoom`] when `dir` has less than `need` bytes free.
pub fn check_room(dir: &Path, need: u64) -> anyhow::Result<()> {
    if let Some(free) = free_bytes(dir) {
        if free < need {
            return Err(IsoError::NoRoom {
                dir: dir.to_path_buf(),
                free_mb: free >> 20,
                need_mb: need.div_ceil(1 << 20),
            }
            .into());
        }
    }
    Ok(())
}

/// An empty file next to `out`, mode 0600 (every ISO aerie writes carries
/// secrets: kickstarts with the root password hash, the site's keys), that
/// xorriso writes into as into a blank medium; removed on drop (and when
/// aerie is interrupted) unless [`TempOutput::persist`] renamed it.
pub struct TempOutput {
    staged: Staged,
}

impl TempOutput {
    pub fn new(out: &Path) -> anyhow::Result<TempOutput> {
        Ok(TempOutput {
            staged: Staged::file_beside(out)?,
        })
    }

    pub fn path(&self) -> &Path {
        self.staged.path()
    }

    /// Rename to `out` (replacing it only with `force`) by the one atomic
    /// write: a crash never leaves a half-written ISO under the name.
    pub fn persist(self, out: &Path, force: bool) -> anyhow::Result<()> {
        let overwrite = if force {
            Overwrite::Allow
        } else {
            Overwrite::Refuse
        };
        self.staged.commit(out, overwrite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_output_never_exists_and_is_cleaned_up() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.iso");
        let t = TempOutput::new(&out).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(t.path()).unwrap();
        assert_eq!((meta.len(), meta.permissions().mode() & 0o777), (0, 0o600));
        std::fs::write(t.path(), b"iso").unwrap();
        drop(t);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let t = TempOutput::new(&out).unwrap();
        std::fs::write(t.path(), b"iso").unwrap();
        t.persist(&out, false).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"iso");
        let t = TempOutput::new(&out).unwrap();
        std::fs::write(t.path(), b"two").unwrap();
        assert!(t.persist(&out, false).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(check_target(&out, false).is_err());
        assert!(check_target(&out, true).is_ok());
    }

    #[test]
    fn room_check() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_room(dir.path(), 1).is_ok());
        let err = check_room(dir.path(), u64::MAX / 2).unwrap_err();
        assert!(err.to_string().contains("MiB free"), "{err}");
    }
}
