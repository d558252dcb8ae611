//! Authentication, in the order the operator expects: ssh-agent, then the
//! keys given with `--identity`, then `~/.ssh/id_*`. Passwords are never used.

use super::SshError;
use ssh2::Session;
use std::path::{Path, PathBuf};

/// Where keys come from.
#[derive(Debug, Clone, Default)]
pub struct Identities {
    /// Ask ssh-agent (when `SSH_AUTH_SOCK` is set).
    pub agent: bool,
    /// Private key files named by the operator, in order.
    pub files: Vec<PathBuf>,
    /// Then the usual `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`.
    pub defaults: bool,
}

impl Identities {
    /// The key files to try, in order (missing default keys are skipped).
    pub fn key_files(&self) -> Vec<PathBuf> {
        let mut out = self.files.clone();
        if self.defaults {
            if let Some(home) = std::env::var_os("HOME") {
                let ssh = Path::new(&home).join(".ssh");
                for name in ["id_ed25519", "id_ecdsa", "id_rsa"] {
                    let path = ssh.join(name);
                    if path.is_file() && !out.contains(&path) {
                        out.push(path);
                    }
                }
            }
        }
        out
    }
}

/// Authenticate `user`, or say everything that was tried.
pub fn authenticate(session: &Session, user: &str, ids: &Identities) -> Result<(), SshError> {
    let mut tried: Vec<String> = Vec::new();
    if ids.agent && std::env::var_os("SSH_AUTH_SOCK").is_some() {
        match session.userauth_agent(user) {
            Ok(()) if session.authenticated() => return Ok(()),
            Ok(()) => tried.push("ssh-agent".into()),
            Err(e) => tried.push(format!("ssh-agent ({})", e.message())),
        }
    }
    for key in ids.key_files() {
        match session.userauth_pubkey_file(user, None, &key, None) {
            Ok(()) if session.authenticated() => return Ok(()),
            Ok(()) => tried.push(key.display().to_string()),
            Err(e) => tried.push(format!("{} ({})", key.display(), e.message())),
        }
    }
    if tried.is_empty() {
        tried.push("nothing: no ssh-agent, no --identity, no ~/.ssh/id_* key".into());
    }
    Err(SshError::AuthFailed {
        user: user.to_string(),
        tried: tried.join(", "),
    })
}
