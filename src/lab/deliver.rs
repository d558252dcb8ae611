//! Deliver the bundles to the vagrant lab's VMs through the SSH road
//! (`crate::apply`), reaching each VM as `vagrant ssh-config` says: its
//! address, port, user and private key. Host keys are pinned in the lab's
//! own known-hosts file (`DIR/known_hosts`): the VMs are new, their keys are
//! accepted on first sight there and never touch the user's own file.

use super::vagrant::SshEndpoint;
use crate::apply::{self, HostJob, HostReport, Settings, Status};
use crate::bundle::HostBundle;
use crate::ssh::{self, NewKeys, Pins};
use std::path::Path;

/// The apply jobs: one per node that has both an SSH endpoint and a bundle.
pub fn jobs(endpoints: &[SshEndpoint], bundles: &[HostBundle]) -> Vec<(HostJob, Option<String>)> {
    endpoints
        .iter()
        .filter_map(|e| {
            let bundle = bundles.iter().find(|b| b.hostname == e.host)?.clone();
            Some((
                HostJob {
                    node: e.host.clone(),
                    target: ssh::Target {
                        host: e.hostname.clone(),
                        port: e.port,
                        user: e.user.clone(),
                    },
                    bundle,
                },
                e.identity_file.clone(),
            ))
        })
        .collect()
}

/// Apply every node's bundle; returns the per-host reports.
pub fn deliver(
    dir: &Path,
    endpoints: &[SshEndpoint],
    bundles: &[HostBundle],
) -> anyhow::Result<Vec<HostReport>> {
    let jobs = jobs(endpoints, bundles);
    let pins = Pins::load(Some(dir.join("known_hosts")), NewKeys::Accept)?;
    let identities = ssh::auth::Identities {
        agent: false,
        files: jobs
            .iter()
            .filter_map(|(_, key)| key.as_ref().map(Into::into))
            .collect(),
        defaults: false,
    };
    let options = ssh::Options {
        identities,
        ..ssh::Options::default()
    };
    let settings = Settings {
        check: false,
        diff: false,
        parallel: 4,
        run_id: apply::run_id::new(),
        ssh: options,
    };
    Ok(apply::run(
        jobs.into_iter().map(|(job, _)| job).collect(),
        &settings,
        &pins,
        &apply::Quiet,
    ))
}

/// One line per host, and whether every host got its bundle.
pub fn summary(reports: &[HostReport]) -> (Vec<String>, bool) {
    let mut ok = true;
    let lines = reports
        .iter()
        .map(|r| match r.status {
            Status::Ok => format!("  {}: bundle already in place", r.host),
            Status::Changed => format!(
                "  {}: bundle delivered ({} file(s), {} action(s))",
                r.host,
                r.files.len(),
                r.actions.len()
            ),
            Status::Failed | Status::Unreachable => {
                ok = false;
                format!(
                    "  {}: bundle NOT delivered: {}",
                    r.host,
                    r.error.as_deref().unwrap_or("failed")
                )
            }
        })
        .collect();
    (lines, ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_pair_endpoints_with_bundles() {
        let site =
            crate::site::load::from_str(crate::site::examples::get("lab").unwrap(), "lab").unwrap();
        let bundles = crate::concerns::bundles(&site);
        let endpoints = vec![SshEndpoint {
            host: "node1".into(),
            hostname: "192.168.121.7".into(),
            user: "vagrant".into(),
            port: 22,
            identity_file: Some("/lab/.vagrant/machines/node1/libvirt/private_key".into()),
        }];
        let jobs = jobs(&endpoints, &bundles);
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].0.node, "node1");
        assert_eq!(jobs[0].0.target.host, "192.168.121.7");
        assert_eq!(jobs[0].0.bundle.hostname, "node1");
    }
}
