//! The results of a run, for people (text) and programs (JSON), and the exit
//! code they mean.

use super::{HostReport, Status};
use serde::Serialize;
use std::fmt::Write;

/// Hosts per outcome.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub ok: usize,
    pub changed: usize,
    pub failed: usize,
    pub unreachable: usize,
}

impl Summary {
    pub fn of(reports: &[HostReport]) -> Summary {
        let mut s = Summary::default();
        for r in reports {
            match r.status {
                Status::Ok => s.ok += 1,
                Status::Changed => s.changed += 1,
                Status::Failed => s.failed += 1,
                Status::Unreachable => s.unreachable += 1,
            }
        }
        s
    }

    /// Every host reached and brought to (or, with --check, compared with) its bundle.
    pub fn all_succeeded(&self) -> bool {
        self.failed == 0 && self.unreachable == 0
    }
}

/// The whole run as JSON.
#[derive(Serialize)]
pub struct RunReport<'a> {
    pub run_id: &'a str,
    pub check: bool,
    pub summary: Summary,
    pub hosts: &'a [HostReport],
}

/// One host's block of text.
pub fn host_text(r: &HostReport, check: bool) -> String {
    let mut out = String::new();
    let label = match r.status {
        Status::Ok => "ok",
        Status::Changed if check => "would change",
        Status::Changed => "changed",
        Status::Failed => "FAILED",
        Status::Unreachable => "UNREACHABLE",
    };
    let _ = write!(out, "{:<14} {label}", r.host);
    if r.status == Status::Changed {
        let _ = write!(
            out,
            ": {} file(s), {} action(s)",
            r.files.len(),
            r.actions.len()
        );
    }
    let _ = writeln!(out, " [{}, {:.2} s]", r.address, r.seconds);
    for f in &r.files {
        let state = match (f.created, f.written || check) {
            (_, false) => "not written",
            (true, true) => "created",
            (false, true) => "changed",
        };
        let verb = if check && state != "not written" {
            format!("would be {state}")
        } else {
            state.to_string()
        };
        let _ = writeln!(out, "    {} ({verb})", f.path);
        if let Some(d) = &f.diff {
            for line in d.lines() {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    for a in &r.actions {
        let verb = if a.ran { "ran" } else { "would run" };
        let _ = writeln!(out, "    {verb}: {} ({})", a.command, a.why);
    }
    for reason in &r.reboot_required {
        let _ = writeln!(out, "    reboot required: {reason}");
    }
    if let Some(e) = &r.error {
        let _ = writeln!(out, "    error: {e}");
    }
    out
}

/// The closing line.
pub fn summary_text(s: &Summary, check: bool) -> String {
    let total = s.ok + s.changed + s.failed + s.unreachable;
    let changed = if check { "would change" } else { "changed" };
    let mut line = format!(
        "{total} host(s): {} ok, {} {changed}, {} failed, {} unreachable",
        s.ok, s.changed, s.failed, s.unreachable
    );
    if check {
        line.push_str(" (--check: nothing was changed on any host)");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::super::{ActionRun, FileChange};
    use super::*;

    fn report(status: Status) -> HostReport {
        HostReport {
            host: "node1".into(),
            address: "10.0.0.1".into(),
            status,
            files: vec![],
            actions: vec![],
            reboot_required: vec![],
            error: None,
            error_kind: None,
            seconds: 0.5,
            ssh_channels: 0,
        }
    }

    #[test]
    fn summary_counts_and_success() {
        let rs = [
            report(Status::Ok),
            report(Status::Changed),
            report(Status::Unreachable),
        ];
        let s = Summary::of(&rs);
        assert_eq!((s.ok, s.changed, s.unreachable), (1, 1, 1));
        assert!(!s.all_succeeded());
        assert!(summary_text(&s, false)
            .starts_with("3 host(s): 1 ok, 1 changed, 0 failed, 1 unreachable"));
    }

    #[test]
    fn changed_host_lists_files_actions_and_reboot() {
        let mut r = report(Status::Changed);
        r.files.push(FileChange {
            path: "/etc/default/grub".into(),
            created: false,
            written: true,
            diff: None,
        });
        r.actions.push(ActionRun {
            command: "update-grub".into(),
            why: "/etc/default/grub changed".into(),
            ran: true,
        });
        r.reboot_required
            .push("the kernel command line changed".into());
        let text = host_text(&r, false);
        assert!(text.contains("changed: 1 file(s), 1 action(s)"), "{text}");
        assert!(text.contains("/etc/default/grub (changed)"), "{text}");
        assert!(
            text.contains("ran: update-grub (/etc/default/grub changed)"),
            "{text}"
        );
        assert!(text.contains("reboot required: the kernel"), "{text}");
        assert!(host_text(&r, true).contains("would be changed"));
    }
}
