//! The ways reaching a host can fail, as types: callers (the per-host report,
//! the exit code, the tests) tell them apart without reading messages.

use std::path::PathBuf;

/// Why aerie could not get a working session on a host.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    /// No TCP connection (refused, timed out, no route, name not resolved).
    #[error("cannot connect to {addr}: {reason}")]
    Unreachable { addr: String, reason: String },

    /// The host's key is not pinned in aerie's known-hosts file.
    #[error(
        "the host key of {host} is not known ({key_type} {fingerprint}); check the fingerprint \
         on the host (`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub`), then rerun with \
         --accept-new-host-keys to pin it in {}",
        file.display()
    )]
    UnknownHostKey {
        host: String,
        key_type: String,
        fingerprint: String,
        file: PathBuf,
    },

    /// The host presents a different key from the one pinned: never accepted.
    #[error(
        "REFUSED: the host key of {host} has CHANGED (pinned {pinned}, now {key_type} {fingerprint}). \
         Someone may be intercepting the connection, or the host was reinstalled. If you know \
         it was reinstalled, run `aerie hosts forget {host}{file_flag}` and apply again with \
         --accept-new-host-keys"
    )]
    ChangedHostKey {
        host: String,
        pinned: String,
        key_type: String,
        fingerprint: String,
        /// ` --known-hosts FILE` when the file is not the default one.
        file_flag: String,
    },

    /// No offered key was accepted for the user.
    #[error("authentication as {user} failed; tried: {tried}")]
    AuthFailed { user: String, tried: String },

    /// The user is not root and sudo asks for a password (aerie never types one).
    #[error(
        "{user} is not root and `sudo -n` needs a password; allow {user} passwordless sudo \
         (NOPASSWD in sudoers) or connect as root (ssh.user in the site)"
    )]
    SudoNeedsPassword { user: String },

    /// sudo refused for another reason (not installed, user not in sudoers).
    #[error("{user} is not root and `sudo -n true` failed: {stderr}")]
    SudoFailed { user: String, stderr: String },

    /// The SSH protocol failed after the connection was made.
    #[error("ssh: {context}: {source}")]
    Protocol {
        context: String,
        #[source]
        source: ssh2::Error,
    },

    /// The connection broke (EOF, reset, timeout) in the middle of an exchange.
    #[error("ssh: {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl SshError {
    /// Whether the host could not be reached at all (vs. reached and refused or failed).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, SshError::Unreachable { .. })
    }

    /// A short machine-readable name for JSON reports.
    pub fn kind(&self) -> &'static str {
        match self {
            SshError::Unreachable { .. } => "unreachable",
            SshError::UnknownHostKey { .. } => "unknown-host-key",
            SshError::ChangedHostKey { .. } => "changed-host-key",
            SshError::AuthFailed { .. } => "auth-failed",
            SshError::SudoNeedsPassword { .. } => "sudo-needs-password",
            SshError::SudoFailed { .. } => "sudo-failed",
            SshError::Protocol { .. } => "ssh-protocol",
            SshError::Io { .. } => "connection-lost",
        }
    }

    pub(crate) fn protocol(context: impl Into<String>) -> impl FnOnce(ssh2::Error) -> SshError {
        let context = context.into();
        move |source| SshError::Protocol { context, source }
    }

    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> SshError {
        let context = context.into();
        move |source| SshError::Io { context, source }
    }
}
