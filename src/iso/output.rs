//! The output ISO: never overwritten without --force, written to a temp path
//! in the same directory (xorriso needs a path that does not exist yet, or it
//! appends a session) and renamed at the end; room checked first.

use super::IsoError;
use crate::exit::AlreadyExists;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// The output's directory (`.` for a bare file name).
pub fn dir_of(out: &Path) -> PathBuf {
    match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The error for an output that exists when --force was not given.
fn exists(out: &Path) -> AlreadyExists {
    AlreadyExists {
        path: out.display().to_string(),
        remedy: "give --force to replace it".into(),
    }
}

/// Refuse an existing output without `force`; the directory must exist.
pub fn check_target(out: &Path, force: bool) -> anyhow::Result<()> {
    if out.exists() && !force {
        return Err(exists(out).into());
    }
    if out.is_dir() {
        anyhow::bail!(
            "{} is a directory; -o names the ISO file to write",
            out.display()
        );
    }
    let dir = dir_of(out);
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
    parse_df(&String::from_utf8_lossy(&out.stdout))
}

/// The "Available" column (KiB) of `df -Pk`'s second line, in bytes.
pub fn parse_df(text: &str) -> Option<u64> {
    let line = text.lines().nth(1)?;
    let kib: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some(kib * 1024)
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

/// A path next to `out` that does not exist; removed on drop unless
/// [`TempOutput::persist`] renamed it.
pub struct TempOutput {
    path: tempfile::TempPath,
}

impl TempOutput {
    pub fn new(out: &Path) -> anyhow::Result<TempOutput> {
        let dir = dir_of(out);
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".aerie-tmp")
            .tempfile_in(&dir)
            .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?
            .into_temp_path();
        std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        Ok(TempOutput { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rename to `out` (replacing it only with `force`), after one fsync of
    /// the data: a crash never leaves a half-written ISO under the name.
    pub fn persist(self, out: &Path, force: bool) -> anyhow::Result<()> {
        std::fs::File::open(&self.path)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot sync {}", self.path.display()))?;
        if force {
            self.path
                .persist(out)
                .map_err(|e| e.error)
                .with_context(|| format!("cannot rename the new ISO to {}", out.display()))?;
        } else {
            match self.path.persist_noclobber(out) {
                Ok(()) => {}
                Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(exists(out).into())
                }
                Err(e) => {
                    return Err(anyhow::Error::from(e.error)
                        .context(format!("cannot rename the new ISO to {}", out.display())))
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_df() {
        let t = "Filesystem     1024-blocks      Used Available Capacity Mounted on\n/dev/sda1 100 50 42 55% /\n";
        assert_eq!(parse_df(t), Some(42 * 1024));
        assert_eq!(parse_df("garbage"), None);
    }

    #[test]
    fn temp_output_never_exists_and_is_cleaned_up() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.iso");
        let t = TempOutput::new(&out).unwrap();
        assert!(!t.path().exists());
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
