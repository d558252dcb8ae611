//! `aerie register`'s results, for people (text) and programs (JSON).

use super::{NodeReport, Status};
use serde::Serialize;
use std::fmt::Write;

/// Nodes per outcome.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub registered: usize,
    pub already_registered: usize,
    pub failed: usize,
    pub unreachable: usize,
}

impl Summary {
    pub fn of(nodes: &[NodeReport]) -> Summary {
        let mut s = Summary::default();
        for n in nodes {
            match n.status {
                Status::Registered => s.registered += 1,
                Status::AlreadyRegistered => s.already_registered += 1,
                Status::Failed => s.failed += 1,
                Status::Unreachable => s.unreachable += 1,
            }
        }
        s
    }

    pub fn all_succeeded(&self) -> bool {
        self.failed == 0 && self.unreachable == 0
    }
}

/// The PCI passthrough flavor (the frontend bundle's check-first action).
#[derive(Debug, Clone, Serialize)]
pub struct FlavorReport {
    pub command: String,
    /// `present` (its check passed), `created`, or `failed`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The whole run as JSON.
#[derive(Serialize)]
pub struct RunReport<'a> {
    pub frontend: &'a str,
    /// The cloud's initialisation steps, when the profile has any.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub initialize: &'a [super::init::InitReport],
    pub summary: Summary,
    pub nodes: &'a [NodeReport],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flavor: Option<&'a FlavorReport>,
}

/// One node's lines.
pub fn node_text(n: &NodeReport) -> String {
    let label = match n.status {
        Status::Registered => "registered",
        Status::AlreadyRegistered => "already registered",
        Status::Failed => "FAILED",
        Status::Unreachable => "UNREACHABLE",
    };
    let mut out = format!("{:<14} {label} [{}]\n", n.host, n.address);
    if n.deregistered {
        out.push_str("    old registration removed (--reinstalled)\n");
    }
    for c in &n.commands {
        let _ = writeln!(out, "    ran: {c}");
    }
    if let Some(e) = &n.error {
        let _ = writeln!(out, "    error: {}", e.replace('\n', "\n      "));
    }
    out
}

/// One initialisation step's lines.
pub fn init_text(r: &super::init::InitReport) -> String {
    use super::init::InitStatus;
    let label = match r.status {
        InitStatus::AlreadyDone => "already done",
        InitStatus::Done => "done",
        InitStatus::Failed => "FAILED",
    };
    let mut out = format!("initialize     {}: {label}\n", r.step);
    if r.status != InitStatus::AlreadyDone {
        let _ = writeln!(out, "    ran: {}", r.command);
    }
    if let Some(e) = &r.error {
        let _ = writeln!(out, "    error: {}", e.replace('\n', "\n      "));
    }
    out
}

pub fn flavor_text(f: &FlavorReport) -> String {
    let mut out = format!("flavor         {}: {}\n", f.status, f.command);
    if let Some(e) = &f.error {
        let _ = writeln!(out, "    error: {e}");
    }
    out
}

pub fn summary_text(s: &Summary) -> String {
    let total = s.registered + s.already_registered + s.failed + s.unreachable;
    format!(
        "{total} node(s): {} registered, {} already registered, {} failed, {} unreachable",
        s.registered, s.already_registered, s.failed, s.unreachable
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deregistered_then_failed_says_so() {
        let mut n = NodeReport::new("node2", "10.0.0.12");
        n.deregistered = true;
        n.fail(Status::Failed, "not-up", "not up after 5 s");
        let text = node_text(&n);
        assert!(text.contains("FAILED"), "{text}");
        assert!(
            text.contains("DEREGISTERED by this run but NOT registered again"),
            "{text}"
        );
        assert!(text.contains("aerie register --nodes node2"), "{text}");
        let s = Summary::of(&[n]);
        assert!(!s.all_succeeded());
        assert_eq!(
            summary_text(&s),
            "1 node(s): 0 registered, 0 already registered, 1 failed, 0 unreachable"
        );
    }
}
