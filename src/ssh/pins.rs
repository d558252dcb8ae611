//! Host-key pinning during a run: every session checks the key its host
//! presents against aerie's known-hosts file. Unknown keys are refused unless
//! the operator allowed new keys (flag, or a yes at the terminal); a changed
//! key is always refused.

use super::known_hosts::{self, KnownHosts, Verdict};
use super::SshError;
use std::path::PathBuf;
use std::sync::Mutex;

/// Asks the operator about one unknown key: (host pattern, key type, fingerprint) -> trust?
pub type AskFn = dyn Fn(&str, &str, &str) -> bool + Send + Sync;

/// What to do with a key no pin exists for.
pub enum NewKeys {
    Refuse,
    Accept,
    Ask(Box<AskFn>),
}

/// The known-hosts file of this run, shared by every session.
pub struct Pins {
    path: PathBuf,
    is_default: bool,
    file: Mutex<KnownHosts>,
    new_keys: NewKeys,
    /// Hosts whose changed key may replace the pinned one when new keys are
    /// accepted (the operator said they were reinstalled).
    replaceable: Vec<String>,
}

impl Pins {
    pub fn load(path: Option<PathBuf>, new_keys: NewKeys) -> anyhow::Result<Pins> {
        let is_default = path.is_none();
        let path = path.unwrap_or_else(known_hosts::default_path);
        let file = KnownHosts::load(&path)?;
        Ok(Pins {
            path,
            is_default,
            file: Mutex::new(file),
            new_keys,
            replaceable: Vec::new(),
        })
    }

    /// Let these host patterns' changed keys replace their pins, with
    /// [`NewKeys::Accept`] only (`aerie register --reinstalled`).
    pub fn replacing(mut self, patterns: Vec<String>) -> Pins {
        self.replaceable = patterns;
        self
    }

    /// The key types pinned for this host, to ask the server for those first.
    pub fn key_types(&self, pattern: &str) -> Vec<String> {
        self.file.lock().expect("pins lock").key_types(pattern)
    }

    /// Accept the key or say why not; a newly trusted key is written to the file at once.
    pub fn verify(&self, pattern: &str, key_type: &str, key: &[u8]) -> Result<(), SshError> {
        let fingerprint = known_hosts::fingerprint(key);
        let mut file = self.file.lock().expect("pins lock");
        match file.check(pattern, key_type, key) {
            Verdict::Match => Ok(()),
            Verdict::Changed { .. }
                if matches!(self.new_keys, NewKeys::Accept)
                    && self.replaceable.iter().any(|p| p == pattern) =>
            {
                file.forget(pattern);
                file.add(pattern, key_type, key, "");
                file.save(&self.path).map_err(|e| SshError::Io {
                    context: format!("cannot pin the new key of {pattern}"),
                    source: std::io::Error::other(format!("{e:#}")),
                })
            }
            Verdict::Changed { pinned } => Err(SshError::ChangedHostKey {
                host: pattern.to_string(),
                pinned: pinned
                    .iter()
                    .map(|e| format!("{} {}", e.key_type, known_hosts::fingerprint(&e.key)))
                    .collect::<Vec<_>>()
                    .join(", "),
                key_type: key_type.to_string(),
                fingerprint,
                file_flag: if self.is_default {
                    String::new()
                } else {
                    // The file was read already: its path has no NUL byte.
                    let path = self.path.display().to_string();
                    let word = crate::shell::quote(&path).expect("a path the OS took");
                    format!(" --known-hosts {word}")
                },
            }),
            Verdict::Unknown => {
                let trusted = match &self.new_keys {
                    NewKeys::Refuse => false,
                    NewKeys::Accept => true,
                    NewKeys::Ask(ask) => ask(pattern, key_type, &fingerprint),
                };
                if !trusted {
                    return Err(SshError::UnknownHostKey {
                        host: pattern.to_string(),
                        key_type: key_type.to_string(),
                        fingerprint,
                        file: self.path.clone(),
                    });
                }
                file.add(pattern, key_type, key, "");
                file.save(&self.path).map_err(|e| SshError::Io {
                    context: format!("cannot pin the key of {pattern}"),
                    source: std::io::Error::other(format!("{e:#}")),
                })
            }
        }
    }
}
