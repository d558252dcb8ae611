//! What registration needs on the nodes themselves, over their own SSH
//! sessions (host keys pinned as in `aerie apply`): the frontend's public key
//! in root's authorized_keys, and the profile's command after a node was
//! deregistered. Connections are opened only for nodes that need them.

use crate::pool;
use crate::ssh::read::{self, FileState, ReadRequest};
use crate::ssh::write::{self, FileWrite, Owner};
use crate::ssh::{Connection, Options, Pins, SshError, Target};
use std::collections::HashMap;
use std::sync::Mutex;

pub const AUTHORIZED_KEYS: &str = "/root/.ssh/authorized_keys";

/// A node aerie connects to.
pub struct NodeTarget {
    pub host: String,
    pub target: Target,
}

/// Why a node step failed: a typed SSH failure, or the step's own message.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error("{0}")]
    Step(String),
}

impl NodeError {
    pub fn kind(&self) -> &'static str {
        match self {
            NodeError::Ssh(e) => e.kind(),
            NodeError::Step(_) => "node-step-failed",
        }
    }
}

/// Open sessions to the nodes, keyed by host.
#[derive(Default)]
pub struct Sessions {
    conns: Mutex<HashMap<String, Connection>>,
}

impl Sessions {
    /// Connect to every target (at most `parallel` at a time); failures per host.
    pub fn open(
        targets: Vec<NodeTarget>,
        opts: &Options,
        pins: &Pins,
        parallel: usize,
    ) -> (Sessions, HashMap<String, SshError>) {
        let results = pool::fan_out(targets, parallel, |t| {
            (t.host.clone(), Connection::open(&t.target, opts, pins))
        });
        let mut conns = HashMap::new();
        let mut errors = HashMap::new();
        for (host, r) in results {
            match r {
                Ok(c) => {
                    conns.insert(host, c);
                }
                Err(e) => {
                    errors.insert(host, e);
                }
            }
        }
        (
            Sessions {
                conns: Mutex::new(conns),
            },
            errors,
        )
    }

    /// Run argv on a connected node; a failure carries the command's own message.
    pub fn run(&self, host: &str, argv: &[String]) -> Result<(), NodeError> {
        let conns = self.conns.lock().expect("sessions");
        let conn = conns
            .get(host)
            .ok_or_else(|| NodeError::Step(format!("no session to {host}")))?;
        let words: Vec<&str> = argv.iter().map(String::as_str).collect();
        let out = conn.run(&words, None)?;
        if out.success() {
            Ok(())
        } else {
            Err(NodeError::Step(format!(
                "on {host}: `{}` failed (exit status {}): {}",
                crate::shell::join(argv).map_err(|e| NodeError::Step(e.to_string()))?,
                out.status,
                out.stderr_text()
            )))
        }
    }

    /// Add `key` (one `type base64 comment` line) to root's authorized_keys
    /// unless a line with the same key is there. Returns whether it was added.
    pub fn authorize(&self, host: &str, key: &str, run_id: &str) -> Result<bool, NodeError> {
        let conns = self.conns.lock().expect("sessions");
        let conn = conns
            .get(host)
            .ok_or_else(|| NodeError::Step(format!("no session to {host}")))?;
        use crate::bundle::converge::HostFiles;
        let state = read::read(
            conn,
            &ReadRequest {
                paths: &[AUTHORIZED_KEYS],
                ..Default::default()
            },
        )
        .map_err(|e| NodeError::Step(format!("cannot read {AUTHORIZED_KEYS}: {e}")))?;
        let current = state
            .read(AUTHORIZED_KEYS)
            .map_err(|e| NodeError::Step(format!("cannot read {AUTHORIZED_KEYS}: {e}")))?;
        let text = String::from_utf8_lossy(current.as_deref().unwrap_or_default()).into_owned();
        let Some(new) = with_key(&text, key) else {
            return Ok(false);
        };
        // An existing file keeps its mode and owner.
        let (mode, owner) = match state.file(AUTHORIZED_KEYS) {
            Some(FileState::File(f)) => (
                f.mode,
                Owner::Ids {
                    uid: f.uid,
                    gid: f.gid,
                },
            ),
            _ => (
                0o600,
                Owner::Named {
                    user: "root",
                    group: "root",
                },
            ),
        };
        let file = FileWrite {
            path: AUTHORIZED_KEYS,
            content: new.as_bytes(),
            mode,
            owner,
        };
        if let Some(e) = write::write(conn, run_id, &[file], &[]).failure {
            return Err(NodeError::Step(e.to_string()));
        }
        Ok(true)
    }
}

/// The authorized_keys text with `key` appended, or None when the key (type
/// and base64, whatever the comment) is there already.
pub fn with_key(text: &str, key: &str) -> Option<String> {
    let blob = |line: &str| {
        let mut w = line.split_whitespace();
        // Options may come first; the blob is the word after the key type.
        let words: Vec<&str> = w.by_ref().collect();
        words
            .windows(2)
            .find(|p| p[0].starts_with("ssh-") || p[0].starts_with("ecdsa-"))
            .map(|p| (p[0].to_string(), p[1].to_string()))
    };
    let wanted = blob(key)?;
    if text.lines().any(|l| blob(l).as_ref() == Some(&wanted)) {
        return None;
    }
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(key.trim());
    out.push('\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_added_once_whatever_the_comment() {
        let key = "ssh-rsa AAAAB3Nza root@fe1";
        let added = with_key("ssh-ed25519 AAAAC3 admin", key).unwrap();
        assert_eq!(
            added,
            "ssh-ed25519 AAAAC3 admin\nssh-rsa AAAAB3Nza root@fe1\n"
        );
        assert!(with_key(&added, "ssh-rsa AAAAB3Nza other-comment").is_none());
        assert!(with_key("from=\"10.0.0.1\" ssh-rsa AAAAB3Nza x\n", key).is_none());
        assert_eq!(with_key("", key).unwrap(), "ssh-rsa AAAAB3Nza root@fe1\n");
    }
}
