//! Trust made at render time, not on first contact: when the profile needs the
//! frontend's key on the nodes (`registration: copy-frontend-key`), render makes
//! the frontend's root key pair and one ed25519 host key pair per compute node,
//! ONCE, and keeps them in a secrets file (mode 0600, beside the site file by
//! default: `<site dir>/<site name>.secrets.yaml`), so re-rendering is stable.
//! The kickstarts install them: the nodes know the frontend's key and the
//! frontend knows the nodes' host keys before either first boots. Private keys
//! are never logged or printed (`Debug` hides them).
//!
//! A Debian 12 site gets a host key for every node too: its nodes boot from
//! their cloud-init volume, which installs that key, so the SSH roads pin the
//! key aerie made instead of trusting whatever answers first.

use crate::profile::Profile;
use crate::site::{Role, Site};
use anyhow::Context;
use std::path::Path;

pub use crate::site::secrets::{default_path, KeyPair, KollaPasswords, Secrets};

/// Whether the profile needs render-time trust (the frontend's key on the
/// nodes): it copies the frontend's key, or the frontend deploys the cloud at
/// its first boot (`kolla:`, `aerie deploy --local`).
pub fn needed(profile: &Profile) -> bool {
    profile
        .registration
        .as_ref()
        .is_some_and(|r| r.copy_frontend_key.is_some())
        || deploys_from_frontend(profile)
}

/// Whether the frontend deploys the cloud itself at first boot (`aerie deploy
/// --local`): it then reaches every node over SSH, itself included.
pub fn deploys_from_frontend(profile: &Profile) -> bool {
    profile.kolla.is_some()
}

/// Whether the site's nodes get their host keys from their cloud-init volume
/// (Debian 12: not installed by kickstart).
pub fn host_keys_on_cidata(site: &Site) -> bool {
    !site.site.distro.installs_by_kickstart()
}

/// Whether rendering `site` with `profile` reads or makes a secrets file.
pub fn wanted(site: &Site, profile: &Profile) -> bool {
    needed(profile) || host_keys_on_cidata(site)
}

impl Secrets {
    /// Add what `site` needs and is missing; true when something was made:
    /// the frontend's key and the compute nodes' host keys when the profile
    /// copies the frontend's key, every node's host key on a Debian site.
    pub fn complete(
        &mut self,
        site: &Site,
        profile: &Profile,
        keygen: &mut dyn FnMut(&str) -> anyhow::Result<KeyPair>,
    ) -> anyhow::Result<bool> {
        let mut made = false;
        let every_node = host_keys_on_cidata(site);
        if needed(profile) && self.frontend_key.is_none() {
            let fe = site
                .frontend()
                .map(|n| format!("root@{}.{}", n.hostname, site.site.domain))
                .unwrap_or_else(|| "root@frontend".into());
            self.frontend_key = Some(keygen(&fe)?);
            made = true;
        }
        let keyed = |n: &&crate::site::Node| {
            every_node
                || (needed(profile) && n.role == Role::Compute)
                || deploys_from_frontend(profile)
        };
        for n in site.nodes.iter().filter(keyed) {
            let host = n.hostname.to_string();
            if let std::collections::btree_map::Entry::Vacant(e) = self.host_keys.entry(host) {
                let kp = keygen(&format!("{}.{}", e.key(), site.site.domain))?;
                e.insert(kp);
                made = true;
            }
        }
        Ok(made)
    }
}

/// A new ed25519 key pair from `ssh-keygen` (in a private temporary directory).
pub fn ssh_keygen(comment: &str) -> anyhow::Result<KeyPair> {
    let dir = tempfile::Builder::new()
        .prefix(".aerie-keygen-")
        .tempdir()
        .context("cannot create a temporary directory for ssh-keygen")?;
    let key = dir.path().join("key");
    let mut cmd = crate::exec::command(
        "ssh-keygen",
        ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"],
    );
    cmd.arg(&key);
    crate::exec::run(&mut cmd)?;
    let private = std::fs::read_to_string(&key).context("cannot read ssh-keygen's key")?;
    let public = std::fs::read_to_string(key.with_extension("pub"))
        .context("cannot read ssh-keygen's public key")?;
    Ok(KeyPair {
        private,
        public: public.trim().to_string(),
    })
}

/// Read the secrets at `path` (a missing file is empty), make what the site
/// lacks, and write the file back (0600, atomically) when something was made.
pub fn load_or_make(
    path: &Path,
    site: &Site,
    profile: &Profile,
    keygen: &mut dyn FnMut(&str) -> anyhow::Result<KeyPair>,
) -> anyhow::Result<Secrets> {
    let mut secrets = crate::site::secrets::read(path)?;
    if secrets.complete(site, profile, keygen)? {
        crate::site::secrets::write(path, &secrets)?;
        eprintln!(
            "wrote {} (new SSH keys for the site; keep it private)",
            path.display()
        );
    }
    Ok(secrets)
}

/// The kolla profile's secrets: passwords.yml made once by `genpwd` (never
/// printed) and kept in the secrets file (0600, atomically).
pub fn load_or_make_kolla(
    path: &Path,
    genpwd: &mut dyn FnMut() -> anyhow::Result<String>,
) -> anyhow::Result<Secrets> {
    let mut secrets = crate::site::secrets::read(path)?;
    if secrets.kolla_passwords.is_none() {
        secrets.kolla_passwords = Some(KollaPasswords::new(genpwd()?));
        crate::site::secrets::write(path, &secrets)?;
        eprintln!(
            "wrote {} (new Kolla passwords for the site; keep it private)",
            path.display()
        );
    }
    Ok(secrets)
}
