//! What survives the server: which nodes finished installing (one marker file
//! each, written atomically when the node's %post calls back, removed by
//! `aerie pxe reinstall`), the latest status, and the running server's facts.
//! A marker per node lets `reinstall` change one node while a server runs.

use super::events::Tracker;
use crate::fsutil::{self, Overwrite};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The server's directory (`--dir`, default `aerie-pxe`).
#[derive(Debug, Clone)]
pub struct StateDir {
    pub dir: PathBuf,
}

/// The running server, as `aerie pxe status` finds it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServerInfo {
    pub pid: u32,
    pub url: String,
    pub mode: String,
    pub started: u64,
}

/// What an installed marker holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Installed {
    pub node: String,
    pub time: u64,
}

impl StateDir {
    pub fn new(dir: &Path) -> StateDir {
        StateDir {
            dir: dir.to_path_buf(),
        }
    }

    /// Make the directory: 0711, so dnsmasq (which drops to `nobody`) reaches
    /// its TFTP folder inside while only its owner lists it; its files are 0600.
    pub fn create(&self) -> anyhow::Result<()> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(self.dir.join("installed"))
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o711))
            .with_context(|| format!("cannot set the mode of {}", self.dir.display()))
    }

    fn marker(&self, node: &str) -> PathBuf {
        self.dir.join("installed").join(node)
    }

    pub fn is_installed(&self, node: &str) -> bool {
        self.marker(node).exists()
    }

    pub fn mark_installed(&self, node: &str) -> anyhow::Result<()> {
        let body = serde_json::to_vec(&Installed {
            node: node.to_string(),
            time: super::events::now(),
        })?;
        fsutil::write_atomic(&self.marker(node), &body, 0o600, Overwrite::Allow)
    }

    /// Forget that `node` was installed; true if it was.
    pub fn reinstall(&self, node: &str) -> anyhow::Result<bool> {
        match std::fs::remove_file(self.marker(node)) {
            Ok(()) => {
                fsutil::sync_dir(&self.dir.join("installed"))?;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => {
                Err(e).with_context(|| format!("cannot remove {}", self.marker(node).display()))
            }
        }
    }

    pub fn status_path(&self) -> PathBuf {
        self.dir.join("status.json")
    }

    pub fn server_path(&self) -> PathBuf {
        self.dir.join("server.json")
    }

    pub fn write_status(&self, tracker: &Tracker) -> anyhow::Result<()> {
        let body = serde_json::to_vec_pretty(tracker)?;
        fsutil::write_atomic(&self.status_path(), &body, 0o600, Overwrite::Allow)
    }

    pub fn read_status(&self) -> Option<Tracker> {
        let text = std::fs::read(self.status_path()).ok()?;
        serde_json::from_slice(&text).ok()
    }

    pub fn write_server(&self, info: &ServerInfo) -> anyhow::Result<()> {
        let body = serde_json::to_vec_pretty(info)?;
        fsutil::write_atomic(&self.server_path(), &body, 0o600, Overwrite::Allow)
    }

    /// The server that wrote server.json, if that process still runs.
    pub fn running_server(&self) -> Option<ServerInfo> {
        let text = std::fs::read(self.server_path()).ok()?;
        let info: ServerInfo = serde_json::from_slice(&text).ok()?;
        Path::new(&format!("/proc/{}", info.pid))
            .exists()
            .then_some(info)
    }

    pub fn clear_server(&self) {
        let _ = std::fs::remove_file(self.server_path());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_markers_survive_and_reinstall_removes_them() {
        let tmp = tempfile::tempdir().unwrap();
        let state = StateDir::new(&tmp.path().join("pxe"));
        state.create().unwrap();
        assert!(!state.is_installed("n1"));
        state.mark_installed("n1").unwrap();
        assert!(StateDir::new(&tmp.path().join("pxe")).is_installed("n1"));
        assert!(state.reinstall("n1").unwrap());
        assert!(!state.reinstall("n1").unwrap());
        assert!(!state.is_installed("n1"));
        let mut t = Tracker::new(["n1"]);
        t.advance("n1", super::super::events::Phase::Script);
        state.write_status(&t).unwrap();
        assert_eq!(state.read_status().unwrap(), t);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(tmp.path().join("pxe"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o711);
    }
}
