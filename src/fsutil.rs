//! Writing files the safe way: a temporary file in the same directory, synced,
//! then renamed over the target, so a reader never sees half a file and a
//! failure leaves the old file untouched.

use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Whether an existing file may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    Refuse,
    Allow,
}

/// Write `bytes` to `path` atomically with permission bits `mode`.
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    overwrite: Overwrite,
) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if overwrite == Overwrite::Refuse && path.exists() {
        return Err(crate::exit::AlreadyExists {
            path: path.display().to_string(),
            remedy: "give --force to replace it".to_string(),
        }
        .into());
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".aerie-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .with_context(|| {
            format!(
                "cannot set the mode of a temporary file in {}",
                dir.display()
            )
        })?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    match overwrite {
        Overwrite::Allow => tmp.persist(path).map(|_| ()).map_err(|e| e.error),
        Overwrite::Refuse => tmp.persist_noclobber(path).map(|_| ()).map_err(|e| e.error),
    }
    .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
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
