//! The "site deployed" marker on the frontend: `/var/lib/aerie/deployed`, a
//! small JSON file that `aerie deploy --local` (the frontend's first boot)
//! writes atomically once every step succeeded. The first-boot unit does not
//! run again while it exists (`ConditionPathExists=!`), and `aerie status`
//! reads it for its cloud column. It lives here, below every road, so the road
//! that writes it and the one that reads it both import it downward.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Where the frontend keeps the marker.
pub const PATH: &str = "/var/lib/aerie/deployed";

/// What the marker says: which site (name and the SHA-256 of its file), by
/// which aerie, when (UTC, RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployed {
    pub site: String,
    pub site_sha256: String,
    pub aerie_version: String,
    pub time: String,
}

/// The SHA-256 of a site file's bytes, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Deployed {
    /// The marker for the site `name` whose file holds `site_file`, now.
    pub fn now(name: &str, site_file: &[u8]) -> Deployed {
        Deployed {
            site: name.to_string(),
            site_sha256: sha256_hex(site_file),
            aerie_version: env!("CARGO_PKG_VERSION").to_string(),
            time: crate::utc::rfc3339(crate::utc::now()),
        }
    }

    /// Whether the marker is about this site file (same name, same bytes).
    pub fn is_for(&self, name: &str, site_file: &[u8]) -> bool {
        self.site == name && self.site_sha256 == sha256_hex(site_file)
    }
}

/// The marker at `path`: None when there is none; an error naming the file
/// when it cannot be read or is not the marker's JSON.
pub fn read(path: &Path) -> anyhow::Result<Option<Deployed>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    serde_json::from_slice(&bytes).map(Some).with_context(|| {
        format!(
            "{} is not aerie's deployed marker (JSON with site, site_sha256, aerie_version, time); \
             remove it if the site is not deployed",
            path.display()
        )
    })
}

/// Write the marker at `path` atomically (0644; its directory made if missing).
pub fn write(path: &Path, marker: &Deployed) -> anyhow::Result<()> {
    let dir = crate::fsutil::parent_or_dot(path);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut json = serde_json::to_vec_pretty(marker).expect("the marker serializes");
    json.push(b'\n');
    crate::fsutil::write_atomic(path, &json, 0o644, crate::fsutil::Overwrite::Allow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_atomically_read_back_and_matched_by_site_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("var/lib/aerie/deployed");
        assert_eq!(read(&path).unwrap(), None);
        let m = Deployed::now("demo", b"site: {}\n");
        write(&path, &m).unwrap();
        let back = read(&path).unwrap().unwrap();
        assert_eq!(back, m);
        assert!(back.is_for("demo", b"site: {}\n"));
        assert!(!back.is_for("demo", b"site: {name: x}\n"));
        assert_eq!(back.site_sha256.len(), 64);
        let text = std::fs::read_to_string(&path).unwrap();
        for key in [
            "\"site\"",
            "\"site_sha256\"",
            "\"aerie_version\"",
            "\"time\"",
        ] {
            assert!(text.contains(key), "{text}");
        }
        // Nothing but the marker is left in its directory.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["deployed"]);
        std::fs::write(&path, "not json").unwrap();
        let e = format!("{:#}", read(&path).unwrap_err());
        assert!(e.contains("is not aerie's deployed marker"), "{e}");
    }
}
