//! What every command that reaches hosts over SSH shares: a node's target,
//! the session options and the pinned host keys from the common flags.

use crate::cli::ReachArgs;
use crate::exit::UsageError;
use crate::site::{Node, Site};
use crate::ssh::{self, NewKeys, Pins};
use std::time::Duration;

/// Where to connect for a node, or a usage error saying why aerie cannot.
pub fn target(site: &Site, node: &Node) -> Result<ssh::Target, UsageError> {
    let host = node.ssh_host(site).ok_or_else(|| {
        UsageError(format!(
            "node {} has neither ssh.host nor an address on a management network: aerie cannot reach it",
            node.hostname
        ))
    })?;
    Ok(ssh::Target {
        host,
        port: node.ssh_port(),
        user: node.ssh_user().to_string(),
    })
}

/// The address as the known-hosts file and the reports write it.
pub fn address(t: &ssh::Target) -> String {
    ssh::known_hosts::host_pattern(&t.host, t.port)
}

/// The session options from the common flags.
pub fn options(args: &ReachArgs) -> ssh::Options {
    session_options(args.connect_timeout, &args.identity)
}

/// The session options: the connect timeout (at least 1 s) and the keys to
/// offer (ssh-agent's, the given files, then ~/.ssh/id_*).
pub fn session_options(connect_timeout: u64, identity: &[std::path::PathBuf]) -> ssh::Options {
    ssh::Options {
        connect_timeout: Duration::from_secs(connect_timeout.max(1)),
        identities: ssh::auth::Identities {
            agent: true,
            files: identity.to_vec(),
            defaults: true,
        },
        ..Default::default()
    }
}

/// The pins; unknown keys are accepted only with `accept`.
pub fn pins(args: &ReachArgs, accept: bool) -> anyhow::Result<Pins> {
    let new_keys = if accept {
        NewKeys::Accept
    } else {
        NewKeys::Refuse
    };
    Pins::load(args.known_hosts.known_hosts.clone(), new_keys)
}

/// The compute nodes a run is about: all, or those named (each must be a compute node).
pub fn compute_nodes<'a>(site: &'a Site, names: &[String]) -> Result<Vec<&'a Node>, UsageError> {
    let picked = crate::apply::select::nodes(site, names, None)
        .map_err(|e| UsageError(e.0.replace("--hosts", "--nodes")))?;
    let frontends: Vec<&str> = picked
        .iter()
        .filter(|n| n.role != crate::site::Role::Compute)
        .map(|n| n.hostname.as_str())
        .collect();
    if !names.is_empty() && !frontends.is_empty() {
        return Err(UsageError(format!(
            "--nodes names {}, which is not a compute node",
            frontends.join(", ")
        )));
    }
    let nodes: Vec<&Node> = picked
        .into_iter()
        .filter(|n| n.role == crate::site::Role::Compute)
        .collect();
    if nodes.is_empty() {
        return Err(UsageError("the site has no compute node".into()));
    }
    Ok(nodes)
}
