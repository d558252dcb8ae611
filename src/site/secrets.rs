//! The site's secrets file: what must never be in the site file itself.
//!
//! One YAML file per site, mode 0600, beside the site file by default
//! (`<site dir>/<site name>.secrets.yaml`, `--secrets FILE` overrides it). It
//! holds the SSH keys `aerie render` makes once (the frontend's root key pair,
//! each compute node's host key) and each node's BMC password (written by
//! `aerie init` or `aerie bmc password`). `Debug` never shows a private key or
//! a password, and nothing here prints them.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An OpenSSH key pair: the private key file's text and the public key line.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct KeyPair {
    pub private: String,
    pub public: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("private", &"(hidden)")
            .field("public", &self.public)
            .finish()
    }
}

/// A BMC password as the operator gave it (Redfish sends it in every
/// request's basic authentication). Never shown.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BmcPassword(String);

impl BmcPassword {
    pub fn new(text: String) -> BmcPassword {
        BmcPassword(text)
    }

    /// The password itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for BmcPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BmcPassword(hidden)")
    }
}

impl Drop for BmcPassword {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// What the secrets file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Secrets {
    /// root's key pair on the frontend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontend_key: Option<KeyPair>,
    /// Each compute node's ed25519 host key, by host name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub host_keys: BTreeMap<String, KeyPair>,
    /// Each node's BMC password, by host name (`nodes[].bmc` in the site).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bmc_passwords: BTreeMap<String, BmcPassword>,
    /// The kolla profile's passwords.yml, as kolla-genpwd made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kolla_passwords: Option<KollaPasswords>,
}

/// Kolla's passwords.yml (kolla-genpwd's output). Never shown.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KollaPasswords(String);

impl KollaPasswords {
    pub fn new(text: String) -> KollaPasswords {
        KollaPasswords(text)
    }

    /// The file's text, for the one place that writes it (kolla/passwords.yml).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for KollaPasswords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KollaPasswords(hidden)")
    }
}

const HEADER: &str = "# aerie: this site's secrets (SSH keys made once by `aerie render`, BMC\n\
# passwords), kept so that re-rendering gives the same keys. PRIVATE: keep\n\
# this file mode 0600, out of version control; delete a key entry to have\n\
# render make a new key.\n";

/// Where the secrets live by default: beside the site file, else (a built-in
/// example) beside `fallback` (the output, or the working directory).
pub fn default_path(site_file: Option<&Path>, site_name: &str, fallback: &Path) -> PathBuf {
    let beside = site_file.unwrap_or(fallback);
    crate::fsutil::parent_or_dot(beside).join(format!("{site_name}.secrets.yaml"))
}

impl Secrets {
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<Secrets> {
        serde_norway::from_str(text).with_context(|| format!("cannot read the secrets {origin}"))
    }

    pub fn to_yaml(&self) -> String {
        format!(
            "{HEADER}{}",
            serde_norway::to_string(self).expect("secrets serialize")
        )
    }

    /// The host key of a compute node, made at render time.
    pub fn host_key(&self, host: &str) -> Option<&KeyPair> {
        self.host_keys.get(host)
    }

    /// The BMC password of a node.
    pub fn bmc_password(&self, host: &str) -> Option<&BmcPassword> {
        self.bmc_passwords.get(host)
    }
}

/// Read the secrets at `path`; a missing file is empty. A file others can
/// read is made 0600 first, with a warning.
pub fn read(path: &Path) -> anyhow::Result<Secrets> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("cannot make {} private", path.display()))?;
                eprintln!(
                    "warning: {} was readable by others (mode {mode:04o}); now 0600",
                    path.display()
                );
            }
            Secrets::parse(&text, &path.display().to_string())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Secrets::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Write the secrets to `path`: 0600, atomically, replacing the old file.
pub fn write(path: &Path, secrets: &Secrets) -> anyhow::Result<()> {
    crate::fsutil::write_atomic(
        path,
        secrets.to_yaml().as_bytes(),
        0o600,
        crate::fsutil::Overwrite::Allow,
    )
    .with_context(|| format!("cannot write the secrets {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_private_keys_and_passwords() {
        let kp = KeyPair {
            private: "SECRET".into(),
            public: "ssh-ed25519 AAAA x".into(),
        };
        assert!(!format!("{kp:?}").contains("SECRET"));
        let mut s = Secrets::default();
        s.bmc_passwords
            .insert("n1".into(), BmcPassword::new("hunter2".into()));
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn yaml_round_trips() {
        let mut s = Secrets {
            frontend_key: Some(KeyPair {
                private: "-----BEGIN-----\nabc\n-----END-----\n".into(),
                public: "ssh-ed25519 AAAA root@fe".into(),
            }),
            ..Default::default()
        };
        s.bmc_passwords
            .insert("node1".into(), BmcPassword::new("p: w#".into()));
        let back = Secrets::parse(&s.to_yaml(), "test").unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn a_file_others_can_read_is_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.secrets.yaml");
        std::fs::write(&path, "bmc-passwords:\n  n1: pw\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let s = read(&path).unwrap();
        assert_eq!(s.bmc_password("n1").unwrap().expose(), "pw");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read(&dir.path().join("none")).unwrap(), Secrets::default());
    }
}
