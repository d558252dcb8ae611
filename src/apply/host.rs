//! One host's apply: connect, read, plan, write, run actions, report. Every
//! failure ends this host only, as a report naming why.

use super::{diff, ActionRun, FileChange, HostJob, HostReport, Observer, Settings, Status};
use crate::bundle::converge::{self, Firing, HostFiles};
use crate::bundle::Trigger;
use crate::ssh::files::{RemoteFiles, WriteRequest};
use crate::ssh::{Connection, Pins, SshError};
use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::time::Instant;

/// Why a reached host failed (the kinds JSON reports carry).
#[derive(Debug, thiserror::Error)]
enum HostError {
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error("{message}")]
    Plan { message: String, kind: &'static str },
    #[error(transparent)]
    Write(crate::ssh::files::WriteError),
    #[error("`{command}` failed (exit status {status}): {stderr}")]
    Action {
        command: String,
        status: i32,
        stderr: String,
    },
}

impl HostError {
    fn kind(&self) -> &'static str {
        match self {
            HostError::Ssh(e) => e.kind(),
            HostError::Plan { kind, .. } => kind,
            HostError::Write(crate::ssh::files::WriteError::Ssh(e)) => e.kind(),
            HostError::Write(_) => "write-failed",
            HostError::Action { .. } => "action-failed",
        }
    }
}

/// Remembers what the plan read, for diffs.
struct Recording<'a> {
    inner: &'a dyn HostFiles,
    seen: RefCell<HashMap<String, Option<Vec<u8>>>>,
}

impl HostFiles for Recording<'_> {
    fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        let bytes = self.inner.read(path)?;
        self.seen
            .borrow_mut()
            .insert(path.to_string(), bytes.clone());
        Ok(bytes)
    }
}

/// Apply one job; never panics on a host's failure, always reports.
pub fn apply(job: &HostJob, settings: &Settings, pins: &Pins, obs: &dyn Observer) -> HostReport {
    let start = Instant::now();
    let mut report = HostReport {
        host: job.node.clone(),
        address: crate::ssh::known_hosts::host_pattern(&job.target.host, job.target.port),
        status: Status::Ok,
        files: Vec::new(),
        actions: Vec::new(),
        reboot_required: Vec::new(),
        error: None,
        error_kind: None,
        seconds: 0.0,
    };
    if let Err(e) = converge_host(job, settings, pins, obs, &mut report) {
        report.status = match &e {
            HostError::Ssh(s) if s.is_unreachable() => Status::Unreachable,
            _ => Status::Failed,
        };
        report.error_kind = Some(e.kind().to_string());
        report.error = Some(e.to_string());
    }
    report.seconds = start.elapsed().as_secs_f64();
    report
}

fn converge_host(
    job: &HostJob,
    settings: &Settings,
    pins: &Pins,
    obs: &dyn Observer,
    report: &mut HostReport,
) -> Result<(), HostError> {
    let host = job.node.as_str();
    obs.step(host, "connecting");
    let conn = Connection::open(&job.target, &settings.ssh, pins)?;
    let files = RemoteFiles {
        conn: &conn,
        run_id: &settings.run_id,
    };
    obs.step(host, "reading files");
    let recording = Recording {
        inner: &files,
        seen: RefCell::new(HashMap::new()),
    };
    let plan = converge::plan(&job.bundle, &recording).map_err(plan_error)?;
    let seen = recording.seen.into_inner();
    for f in plan.changed() {
        report.files.push(FileChange {
            path: f.path.clone(),
            created: !f.existed,
            written: false,
            diff: settings.diff.then(|| {
                let old = seen.get(&f.path).cloned().flatten();
                diff::unified(&f.path, old.as_deref(), &f.content)
            }),
        });
    }
    if !report.files.is_empty() {
        report.status = Status::Changed;
        report.reboot_required = converge::reboot_reasons(&job.bundle, &plan);
    }
    if settings.check {
        for a in converge::runnable(&plan, true) {
            report.actions.push(ActionRun {
                command: a.action.command_line(),
                why: why(&a.firing, &a.action.trigger),
                ran: false,
            });
        }
        if !report.actions.is_empty() {
            report.status = Status::Changed;
        }
        return Ok(());
    }
    obs.step(host, "writing files");
    for (i, f) in plan.changed().enumerate() {
        files
            .write(&WriteRequest {
                path: &f.path,
                content: &f.content,
                mode: f.mode,
                owner: &f.owner,
                group: &f.group,
                keep_existing_mode: f.existed,
            })
            .map_err(HostError::Write)?;
        report.files[i].written = true;
    }
    mark_reboot_required(&files, &report.reboot_required)?;
    for a in converge::runnable(&plan, true) {
        let command = a.action.command_line();
        if let Trigger::Unless { check } = &a.action.trigger {
            obs.step(host, "checking");
            let argv: Vec<&str> = check.iter().map(String::as_str).collect();
            if conn.run(&argv, None)?.success() {
                continue;
            }
        }
        obs.step(host, &format!("running {}", a.action.argv[0]));
        let argv: Vec<&str> = a.action.argv.iter().map(String::as_str).collect();
        let out = conn.run(&argv, None)?;
        if !out.success() {
            return Err(HostError::Action {
                command,
                status: out.status,
                stderr: out.stderr_text(),
            });
        }
        report.actions.push(ActionRun {
            command,
            why: why(&a.firing, &a.action.trigger),
            ran: true,
        });
        report.status = Status::Changed;
    }
    Ok(())
}

fn plan_error(e: converge::PlanError) -> HostError {
    // A connection that broke while reading is a connection problem, not a file problem.
    if let converge::PlanError::Read { source, .. } = &e {
        if let Some(ssh) = source.get_ref().and_then(|s| s.downcast_ref::<SshError>()) {
            return HostError::Plan {
                message: e.to_string(),
                kind: ssh.kind(),
            };
        }
    }
    HostError::Plan {
        message: e.to_string(),
        kind: "read-failed",
    }
}

fn why(firing: &Firing, trigger: &Trigger) -> String {
    match (firing, trigger) {
        (Firing::Changed(paths), _) => format!("{} changed", paths.join(", ")),
        (_, Trigger::Unless { check }) => {
            format!("`{}` failed", crate::bundle::quote_argv(check))
        }
        _ => String::new(),
    }
}

/// Mark the host as needing a reboot ([`converge::REBOOT_MARKER`], through the
/// same atomic writer), adding this run's reasons to those already there.
fn mark_reboot_required(files: &RemoteFiles, reasons: &[String]) -> Result<(), HostError> {
    if reasons.is_empty() {
        return Ok(());
    }
    let current = files.read(converge::REBOOT_MARKER).map_err(|e| {
        plan_error(converge::PlanError::Read {
            path: converge::REBOOT_MARKER.to_string(),
            source: e,
        })
    })?;
    let Some(content) = converge::reboot_marker(current.as_deref(), reasons) else {
        return Ok(());
    };
    files
        .write(&WriteRequest {
            path: converge::REBOOT_MARKER,
            content: &content,
            mode: 0o644,
            owner: "root",
            group: "root",
            keep_existing_mode: false,
        })
        .map_err(HostError::Write)
}
