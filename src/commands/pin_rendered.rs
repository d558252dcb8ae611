//! The host key aerie made for a node pinned where the SSH roads look: when
//! `aerie iso --cidata` writes a volume that installs a node's render-time
//! host key, that key becomes the node's pin in aerie's known-hosts file
//! (`--known-hosts FILE`, `$AERIE_KNOWN_HOSTS`, or the default), so `aerie
//! status` and `aerie apply` check it from the first connection: no trust on
//! first use, and no step of the operator's own.

use crate::render::secrets::KeyPair;
use crate::site::{Node, Site};
use crate::ssh::known_hosts::{self, KnownHosts, Pinned};
use anyhow::Context;
use std::path::PathBuf;

/// Pin `kp`'s public half for `node`'s SSH address in `file` (default:
/// aerie's known-hosts file); the line to print says what happened.
pub fn pin(
    site: &Site,
    node: &Node,
    kp: &KeyPair,
    file: Option<PathBuf>,
) -> anyhow::Result<String> {
    let path = file.unwrap_or_else(known_hosts::default_path);
    let host = node.hostname.as_str();
    let Some(addr) = node.ssh_host(site) else {
        return Ok(format!(
            "  {host}'s host key is not pinned: the node has neither ssh.host nor a management address"
        ));
    };
    let pattern = known_hosts::host_pattern(&addr, node.ssh_port());
    let (key_type, key) = known_hosts::parse_public_key(&kp.public)
        .with_context(|| format!("the secrets' host key of {host} is not an SSH public key"))?;
    let fingerprint = known_hosts::fingerprint(&key);
    let mut file = KnownHosts::load(&path)?;
    let comment = format!("{host}'s host key from aerie iso --cidata");
    let pinned = file.pin(&pattern, &key_type, &key, &comment);
    if pinned != Pinned::Kept {
        file.save(&path)
            .with_context(|| format!("cannot pin {host}'s host key in {}", path.display()))?;
    }
    let at = path.display();
    Ok(match pinned {
        Pinned::Added => {
            format!("  pinned {host}'s host key ({pattern} {key_type} {fingerprint}) in {at}")
        }
        Pinned::Kept => format!(
            "  {host}'s host key ({pattern} {key_type} {fingerprint}) was pinned already in {at}"
        ),
        Pinned::Replaced { old } => {
            let old: Vec<String> = old
                .iter()
                .map(|e| format!("{} {}", e.key_type, known_hosts::fingerprint(&e.key)))
                .collect();
            format!(
                "  pinned {host}'s host key ({pattern} {key_type} {fingerprint}) in {at}, replacing {}: \
                 the node shows the new key once it boots from this volume",
                old.join(", ")
            )
        }
    })
}
