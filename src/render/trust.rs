//! The render-time keys a node installs (made once by `aerie render`, kept in
//! the site's secrets file, see `secrets.rs`), road-neutral: a compute node's
//! host key and the frontend's public key for root; the frontend's root key
//! pair, its host key when it deploys itself, and the known-hosts files that
//! pin every node it reaches. The kickstart road writes them in `%post`
//! (`kickstart/trust.ks.j2`), the cidata road (Debian 12) as cloud-init
//! `write_files`, `ssh_keys` and root's `ssh_authorized_keys`.

use super::first_boot::{frontend_key_path, File, KNOWN_HOSTS_PATH};
use super::secrets::{deploys_from_frontend, KeyPair, Secrets};
use crate::profile::Profile;
use crate::site::{Node, Role, Site};

/// What one node installs of the render-time keys.
#[derive(Debug, Clone)]
pub struct Trust<'a> {
    /// The frontend's root key pair (private 0600, public 0644); empty on a
    /// compute node.
    pub frontend_key: Vec<File>,
    /// The node's own ed25519 host key (`/etc/ssh/ssh_host_ed25519_key`).
    pub host_key: Option<&'a KeyPair>,
    /// Known-hosts files (0644): the frontend's pins of the nodes.
    pub known_hosts: Vec<File>,
    /// A public key for root's authorized_keys (added once): the frontend's.
    pub authorize: Option<&'a str>,
}

/// Where a node's host key lives.
pub const HOST_KEY_PATH: &str = "/etc/ssh/ssh_host_ed25519_key";

/// A host key pair as files (private 0600, public 0644).
pub fn host_key_files(kp: &KeyPair) -> [File; 2] {
    [
        File {
            path: HOST_KEY_PATH.into(),
            mode: 0o600,
            content: kp.private.clone(),
        },
        File {
            path: format!("{HOST_KEY_PATH}.pub"),
            mode: 0o644,
            content: format!("{}\n", kp.public),
        },
    ]
}

/// What `node` installs of `secrets`: None when its keys are not there.
pub fn for_node<'a>(
    site: &Site,
    node: &Node,
    profile: &Profile,
    secrets: &'a Secrets,
) -> Option<Trust<'a>> {
    match node.role {
        Role::Compute => Some(Trust {
            frontend_key: Vec::new(),
            host_key: Some(secrets.host_key(node.hostname.as_str())?),
            known_hosts: Vec::new(),
            authorize: secrets.frontend_key.as_ref().map(|k| k.public.as_str()),
        }),
        Role::Frontend => {
            let kp = secrets.frontend_key.as_ref()?;
            let (private, public) = frontend_key_path(profile)?;
            let itself = deploys_from_frontend(profile);
            let kh = known_hosts(site, profile, secrets);
            Some(Trust {
                frontend_key: vec![
                    File {
                        path: private,
                        mode: 0o600,
                        content: kp.private.clone(),
                    },
                    File {
                        path: public,
                        mode: 0o644,
                        content: format!("{}\n", kp.public),
                    },
                ],
                // It deploys itself over SSH: its own host key, its own key authorized.
                host_key: itself
                    .then(|| secrets.host_key(node.hostname.as_str()))
                    .flatten(),
                known_hosts: [KNOWN_HOSTS_PATH, "/root/.ssh/known_hosts"]
                    .into_iter()
                    .map(|path| File {
                        path: path.into(),
                        mode: 0o644,
                        content: kh.clone(),
                    })
                    .collect(),
                authorize: itself.then_some(kp.public.as_str()),
            })
        }
    }
}

/// The known-hosts lines naming every compute node (every node, the
/// frontend too, when it deploys itself) with its render-time host key.
fn known_hosts(site: &Site, profile: &Profile, secrets: &Secrets) -> String {
    let itself = deploys_from_frontend(profile);
    let mut out = if itself {
        String::from("# Every node's host key (the frontend's too), made by `aerie render`.\n")
    } else {
        String::from("# The compute nodes' host keys, made by `aerie render`.\n")
    };
    for n in site
        .nodes
        .iter()
        .filter(|n| itself || n.role == Role::Compute)
    {
        let Some(kp) = secrets.host_key(n.hostname.as_str()) else {
            continue;
        };
        let mut names: Vec<String> = Vec::new();
        if let Some(host) = n.ssh_host(site) {
            names.push(crate::ssh::known_hosts::host_pattern(&host, n.ssh_port()));
        }
        for name in [
            n.hostname.to_string(),
            format!("{}.{}", n.hostname, site.site.domain),
        ] {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let key: Vec<&str> = kp.public.split_whitespace().take(2).collect();
        out.push_str(&format!("{} {}\n", names.join(","), key.join(" ")));
    }
    out
}
