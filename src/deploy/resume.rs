//! The frontend's first-boot deploy remembers where it failed, so the next
//! start (a retry, a restart of the unit, a reboot) resumes from that step:
//! `/var/lib/aerie/deploy-resume`, JSON with the step and the SHA-256 of the
//! site file it was about (a changed site file starts from the beginning).

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Where `aerie deploy --local` records the step that failed.
pub const PATH: &str = "/var/lib/aerie/deploy-resume";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    pub step: String,
    pub site_sha256: String,
}

/// The recorded step, if there is one for this site file.
pub fn read(path: &Path, site_sha256: &str) -> anyhow::Result<Option<String>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let r: Resume = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{} is not aerie's deploy resume record; remove it to start from the first step",
            path.display()
        )
    })?;
    Ok((r.site_sha256 == site_sha256).then_some(r.step))
}

/// Record that `step` failed (atomically).
pub fn write(path: &Path, step: &str, site_sha256: &str) -> anyhow::Result<()> {
    let dir = crate::fsutil::parent_or_dot(path);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let r = Resume {
        step: step.to_string(),
        site_sha256: site_sha256.to_string(),
    };
    let mut json = serde_json::to_vec(&r).expect("the record serializes");
    json.push(b'\n');
    crate::fsutil::write_atomic(path, &json, 0o644, crate::fsutil::Overwrite::Allow)
}

/// Forget it (the deploy succeeded).
pub fn clear(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_for_one_site_file_and_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r");
        assert_eq!(read(&p, "aa").unwrap(), None);
        write(&p, "kolla", "aa").unwrap();
        assert_eq!(read(&p, "aa").unwrap().as_deref(), Some("kolla"));
        assert_eq!(read(&p, "bb").unwrap(), None, "another site file");
        clear(&p).unwrap();
        clear(&p).unwrap();
        assert_eq!(read(&p, "aa").unwrap(), None);
    }
}
