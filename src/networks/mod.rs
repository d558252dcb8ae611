//! `aerie networks`: the site's instances networks as the cloud's provider
//! networks, the Neutron way. Each instances network becomes a network on the
//! site's physnet (`--provider-network-type vlan`, `--provider-segment` its
//! VLAN; the one untagged network: `flat`) with one subnet whose gateway is the
//! network's external gateway, its allocation pool the site's DHCP range and
//! its DNS servers the site's. Neutron's DHCP agent then offers that gateway
//! as the router to every instance on the network.
//!
//! `plan.rs` says what the site wants (pure), `cloud.rs` reads what the
//! `openstack` CLI says exists, `compare.rs` names every difference with its
//! fix, `run.rs` drives the CLI on the frontend (through `register`'s
//! [`Frontend`]: argv only, the profile's credentials sourced). Networks and
//! subnets are found by name: one that exists and matches is left alone, one
//! that differs is reported (what differs, and how to fix it), never deleted
//! or recreated.

mod cloud;
mod compare;
mod plan;
pub mod report;
mod run;

pub use compare::Difference;
pub use plan::{wanted, Wanted, WantedSubnet};
pub use run::{run, run_on, Mode};

use serde::Serialize;

/// Where one network ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// This run created the network, its subnet, or both.
    Created,
    /// Both existed as the site says: nothing was run for them.
    Present,
    /// Absent, and this run only checks (`--check`): the commands say what would run.
    Missing,
    /// What exists differs from the site: reported, left as it is.
    Differs,
    /// A command failed, or what exists is ambiguous (two networks of one name).
    Failed,
}

/// What happened to one of the site's instances networks.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkReport {
    pub network: String,
    pub subnet: String,
    /// The site's key for it (`networks[1]`).
    pub key: String,
    pub status: Status,
    /// The commands that changed the cloud, as typed.
    pub commands: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub physnet: String,
    pub networks: Vec<NetworkReport>,
    /// Every command run on the frontend (listings, shows, creates): what the step costs.
    pub calls: usize,
    /// The run could not start (the frontend unreachable, the listings failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Report {
    /// Nothing failed or differs (a check's missing networks are no failure).
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
            && self.networks.iter().all(|n| {
                matches!(
                    n.status,
                    Status::Created | Status::Present | Status::Missing
                )
            })
    }
}

/// Hears about the run as it goes (the progress display).
pub trait Observer: Sync {
    /// `done` of `total` networks finished; `what` is the current step.
    fn step(&self, _done: usize, _total: usize, _what: &str) {}
}

/// An observer that ignores everything.
pub struct Quiet;
impl Observer for Quiet {}
