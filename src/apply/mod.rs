//! `aerie apply`'s engine: bring running hosts to their bundles over SSH, in
//! parallel, idempotently. Per host (`host.rs`): connect, read every bundle
//! file and what the plan needs in one remote command, plan (the bundle's own
//! pure converge plan), check the owners of new files (`owners.rs`), write
//! changed files atomically and run the actions that fire in a second one.
//! `crate::pool` bounds the fan-out; a failing host never stops the others.
//! What happened per host is a [`HostReport`]; `report.rs` prints them as text
//! or JSON.

mod diff;
mod host;
mod owners;
pub mod report;
pub mod run_id;
pub mod select;

use crate::bundle::HostBundle;
use crate::pool;
use crate::ssh;
use serde::Serialize;

/// One host to bring to its bundle.
pub struct HostJob {
    /// The node's hostname in the site.
    pub node: String,
    pub target: ssh::Target,
    pub bundle: HostBundle,
}

/// How the run behaves.
#[derive(Clone)]
pub struct Settings {
    /// Compute and report; change nothing on any host.
    pub check: bool,
    /// Keep unified diffs of changed files in the reports.
    pub diff: bool,
    pub parallel: usize,
    /// Names this run's backup directory on the hosts.
    pub run_id: String,
    pub ssh: ssh::Options,
}

/// Where a host ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Already in its bundle's state: nothing written, nothing run.
    Ok,
    /// Files written and/or actions run (with --check: would be).
    Changed,
    /// Reached, but something failed (host key, auth, sudo, a write, an action).
    Failed,
    /// No connection at all.
    Unreachable,
}

/// A file that differs from its bundle state.
#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    pub path: String,
    /// The file did not exist.
    pub created: bool,
    /// Written (false with --check, or when the run failed before it).
    pub written: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// An action that ran (or, with --check, would run).
#[derive(Debug, Clone, Serialize)]
pub struct ActionRun {
    pub command: String,
    /// Why it fires: the changed files, or its check having failed.
    pub why: String,
    /// Ran (false with --check).
    pub ran: bool,
}

/// What happened on one host.
#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    pub host: String,
    pub address: String,
    pub status: Status,
    pub files: Vec<FileChange>,
    pub actions: Vec<ActionRun>,
    /// Why the host needs a reboot for this run's changes to take effect.
    pub reboot_required: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A stable name for the failure (`unreachable`, `changed-host-key`, `write-failed`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    pub seconds: f64,
    /// SSH channels (remote commands) the host cost: the round trips, for
    /// `AERIE_DEBUG_SSH` and the benchmark; not part of the report.
    #[serde(skip)]
    pub ssh_channels: usize,
}

/// Hears about hosts as they start, progress and finish (progress display).
pub trait Observer: Sync {
    fn started(&self, _host: &str) {}
    fn step(&self, _host: &str, _what: &str) {}
    fn finished(&self, _report: &HostReport) {}
}

/// An observer that ignores everything.
pub struct Quiet;
impl Observer for Quiet {}

/// Apply every job on a bounded pool; reports come back in job order.
pub fn run(
    jobs: Vec<HostJob>,
    settings: &Settings,
    pins: &ssh::Pins,
    observer: &dyn Observer,
) -> Vec<HostReport> {
    pool::fan_out(jobs, settings.parallel, |job| {
        observer.started(&job.node);
        let report = host::apply(&job, settings, pins, observer);
        observer.finished(&report);
        report
    })
}
