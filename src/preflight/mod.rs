//! `aerie preflight`: read each node's hardware facts over SSH (`facts.rs`,
//! one round trip, under a root prefix) and check them against the site and
//! the profile's per-role needs (`checks.rs`, pure). Nothing is changed.

mod checks;
pub mod facts;

use crate::pool;
use crate::profile::{PreflightSpec, Profile};
use crate::site::{Node, Site};
use crate::ssh::{Connection, Options, Pins, Target};
use checks::{Check, Outcome};
use serde::Serialize;
use std::fmt::Write;

/// One node to check.
pub struct Job<'a> {
    pub node: &'a Node,
    pub target: Target,
    pub address: String,
}

/// Where a node ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostOutcome {
    Pass,
    Fail,
    /// Reached, but the facts could not be read (host key, auth, script).
    Error,
    Unreachable,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    pub host: String,
    pub address: String,
    pub role: String,
    pub outcome: HostOutcome,
    pub checks: Vec<Check>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
}

/// Check every job, at most `parallel` at a time; reports in job order.
#[allow(clippy::too_many_arguments)]
pub fn run(
    site: &Site,
    profile: &Profile,
    spec: &PreflightSpec,
    jobs: Vec<Job>,
    opts: &Options,
    pins: &Pins,
    root: &str,
    parallel: usize,
) -> Vec<HostReport> {
    pool::fan_out(jobs, parallel, |job| {
        let needs = spec.role(job.node.role);
        let mut r = HostReport {
            host: job.node.hostname.to_string(),
            address: job.address.clone(),
            role: job.node.role.as_str().to_string(),
            outcome: HostOutcome::Pass,
            checks: Vec::new(),
            error: None,
            error_kind: None,
        };
        let facts = Connection::open(&job.target, opts, pins)
            .map_err(facts::FactsError::from)
            .and_then(|c| facts::read(&c, root, &checks::disk_paths(needs)));
        match facts {
            Ok(f) => {
                r.checks = checks::run(site, job.node, profile, needs, &f);
                if r.checks.iter().any(|c| c.outcome == Outcome::Fail) {
                    r.outcome = HostOutcome::Fail;
                }
            }
            Err(e) => {
                r.outcome = match &e {
                    facts::FactsError::Ssh(s) if s.is_unreachable() => HostOutcome::Unreachable,
                    _ => HostOutcome::Error,
                };
                r.error_kind = Some(match &e {
                    facts::FactsError::Ssh(s) => s.kind().to_string(),
                    facts::FactsError::Script { .. } => "facts-failed".to_string(),
                });
                r.error = Some(e.to_string());
            }
        }
        r
    })
}

/// The pass/fail table, with the remedy under each failure.
pub fn table(reports: &[HostReport]) -> String {
    let mut out = format!(
        "{:<12} {:<22} {:<6} {}\n",
        "HOST", "CHECK", "RESULT", "DETAIL"
    );
    for r in reports {
        if let Some(e) = &r.error {
            let label = if r.outcome == HostOutcome::Unreachable {
                "UNREACHABLE"
            } else {
                "ERROR"
            };
            let _ = writeln!(out, "{:<12} {:<22} {label} {e}", r.host, "-");
            continue;
        }
        for c in &r.checks {
            let result = match c.outcome {
                Outcome::Pass => "pass",
                Outcome::Fail => "FAIL",
            };
            let _ = writeln!(
                out,
                "{:<12} {:<22} {result:<6} {}",
                r.host, c.problem.what, c.problem.message
            );
            if let Some(remedy) = c.remedy() {
                let _ = writeln!(out, "{:<12} {:<22} {:<6} remedy: {remedy}", "", "", "");
            }
        }
    }
    let failed = reports
        .iter()
        .filter(|r| r.outcome != HostOutcome::Pass)
        .count();
    let _ = writeln!(
        out,
        "{} node(s): {} passed, {} did not",
        reports.len(),
        reports.len() - failed,
        failed
    );
    out
}
