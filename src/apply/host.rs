//! One host's apply: connect, then at most two round trips. The first reads
//! everything the plan needs (the bundle's files, the reboot mark, the owners
//! new files need, the check-first actions' checks); the plan is pure
//! (`bundle::converge::plan`); the second writes every changed file and runs the
//! actions that fire, in order. Nothing to do: no second round trip. Every
//! failure ends this host only, as a report naming why.

use super::{diff, owners, ActionRun, FileChange, HostJob, HostReport, Observer, Settings, Status};
use crate::bundle::converge::{self, Firing, HostFiles, PlannedAction};
use crate::bundle::Trigger;
use crate::ssh::read::{self, FileState, HostState, ReadError, ReadRequest};
use crate::ssh::write::{self, FileWrite, Owner, Step, WriteFailure};
use crate::ssh::{Connection, Pins, SshError};
use std::time::Instant;

/// Why a reached host failed (the kinds JSON reports carry).
#[derive(Debug, thiserror::Error)]
enum HostError {
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error("{message}")]
    Plan { message: String, kind: &'static str },
    #[error("{0}")]
    MissingOwner(String),
    #[error(transparent)]
    Write(WriteFailure),
    #[error(transparent)]
    Quote(#[from] crate::shell::Unquotable),
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
            HostError::MissingOwner(_) => "missing-owner",
            HostError::Write(WriteFailure::Ssh(e)) => e.kind(),
            HostError::Write(_) => "write-failed",
            HostError::Action { .. } => "action-failed",
            HostError::Quote(_) => "bad-command",
        }
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
        ssh_channels: 0,
    };
    obs.step(&job.node, "connecting");
    let result = Connection::open(&job.target, &settings.ssh, pins)
        .map_err(HostError::from)
        .and_then(|conn| {
            let r = converge_host(&conn, job, settings, obs, &mut report);
            report.ssh_channels = conn.channels_opened();
            r
        });
    if let Err(e) = result {
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
    conn: &Connection,
    job: &HostJob,
    settings: &Settings,
    obs: &dyn Observer,
    report: &mut HostReport,
) -> Result<(), HostError> {
    let host = job.node.as_str();
    let bundle = &job.bundle;
    obs.step(host, "reading files");
    let state = read_state(conn, bundle, settings.check)?;
    let plan = converge::plan(bundle, &state).map_err(plan_error)?;
    for f in plan.changed() {
        report.files.push(FileChange {
            path: f.path.clone(),
            created: !f.existed,
            written: false,
            diff: settings.diff.then(|| {
                let old = state.read(&f.path).ok().flatten();
                diff::unified(&f.path, old.as_deref(), &f.content)
            }),
        });
    }
    if !report.files.is_empty() {
        report.status = Status::Changed;
        report.reboot_required = converge::reboot_reasons(bundle, &plan);
    }
    if let Some(message) = owners::missing(
        &plan,
        |u| state.users.contains(u),
        |g| state.groups.contains(g),
    ) {
        return Err(HostError::MissingOwner(message));
    }
    let runnable: Vec<&PlannedAction> = converge::runnable(&plan, true).collect();
    if settings.check {
        for a in &runnable {
            report.actions.push(action_run(a, false)?);
        }
        if !report.actions.is_empty() {
            report.status = Status::Changed;
        }
        return Ok(());
    }

    // The second round trip, when there is something to do: the changed files,
    // the reboot mark, the actions (check-first ones check again just before).
    let marker = converge::reboot_marker(
        state
            .read(converge::REBOOT_MARKER)
            .ok()
            .flatten()
            .as_deref(),
        &report.reboot_required,
    );
    let some_check_failed = state.checks.iter().any(|c| *c != Some(0));
    let some_fire = runnable
        .iter()
        .any(|a| matches!(a.firing, Firing::Changed(_)));
    if report.files.is_empty() && marker.is_none() && !some_fire && !some_check_failed {
        return Ok(());
    }
    let files = file_writes(&plan, &state, marker.as_deref());
    let steps: Vec<Step> = runnable
        .iter()
        .map(|a| Step {
            argv: &a.action.argv,
            unless: unless_check(&a.action.trigger),
        })
        .collect();
    obs.step(host, "writing files, running actions");
    let outcome = write::write(conn, &settings.run_id, &files, &steps);
    let written = outcome.written.min(report.files.len());
    for f in &mut report.files[..written] {
        f.written = true;
    }
    for &i in &outcome.ran {
        report.actions.push(action_run(runnable[i], true)?);
        report.status = Status::Changed;
    }
    match outcome.failure {
        None => Ok(()),
        Some(WriteFailure::Action {
            index,
            status,
            stderr,
        }) => Err(HostError::Action {
            command: runnable[index].action.command_line()?,
            status,
            stderr,
        }),
        Some(other) => Err(HostError::Write(other)),
    }
}

/// The first round trip: the bundle's files and the reboot mark, the owners
/// new files need and, unless `check_only` (--check runs no check command),
/// the check-first actions' checks, to know whether there is anything to do.
fn read_state(
    conn: &Connection,
    bundle: &crate::bundle::HostBundle,
    check_only: bool,
) -> Result<HostState, HostError> {
    let mut paths = bundle.paths();
    if !paths.contains(&converge::REBOOT_MARKER) {
        paths.push(converge::REBOOT_MARKER);
    }
    let (users, groups) = owners::names(bundle);
    let checks: Vec<&[String]> = if check_only {
        Vec::new()
    } else {
        bundle
            .actions
            .iter()
            .filter_map(|a| unless_check(&a.trigger))
            .collect()
    };
    read::read(
        conn,
        &ReadRequest {
            paths: &paths,
            users: &users,
            groups: &groups,
            checks: &checks,
        },
    )
    .map_err(read_error)
}

/// The check that makes an action unnecessary when it passes.
fn unless_check(trigger: &Trigger) -> Option<&[String]> {
    match trigger {
        Trigger::Unless { check } => Some(check.as_slice()),
        Trigger::Changed { .. } => None,
    }
}

/// What the second round trip writes: every changed file (one that exists
/// keeps its mode and owner, as `aerie converge` does), then the reboot mark.
fn file_writes<'a>(
    plan: &'a converge::Plan,
    state: &HostState,
    marker: Option<&'a [u8]>,
) -> Vec<FileWrite<'a>> {
    let mut files: Vec<FileWrite> = plan
        .changed()
        .map(|f| match state.file(&f.path) {
            Some(FileState::File(old)) => FileWrite {
                path: &f.path,
                content: &f.content,
                mode: old.mode,
                owner: Owner::Ids {
                    uid: old.uid,
                    gid: old.gid,
                },
            },
            _ => FileWrite {
                path: &f.path,
                content: &f.content,
                mode: f.mode,
                owner: Owner::Named {
                    user: &f.owner,
                    group: &f.group,
                },
            },
        })
        .collect();
    if let Some(content) = marker {
        files.push(FileWrite {
            path: converge::REBOOT_MARKER,
            content,
            mode: 0o644,
            owner: Owner::Named {
                user: "root",
                group: "root",
            },
        });
    }
    files
}

/// An action in the report, ran or to run.
fn action_run(a: &PlannedAction, ran: bool) -> Result<ActionRun, HostError> {
    Ok(ActionRun {
        command: a.action.command_line()?,
        why: why(&a.firing, &a.action.trigger)?,
        ran,
    })
}

fn read_error(e: ReadError) -> HostError {
    match e {
        // A connection that broke while reading is a connection problem, not a file problem.
        ReadError::Ssh(ssh) => HostError::Plan {
            message: format!("cannot read the host's files: {ssh}"),
            kind: ssh.kind(),
        },
        ReadError::Failed(_) => HostError::Plan {
            message: e.to_string(),
            kind: "read-failed",
        },
    }
}

fn plan_error(e: converge::PlanError) -> HostError {
    HostError::Plan {
        message: e.to_string(),
        kind: "read-failed",
    }
}

fn why(firing: &Firing, trigger: &Trigger) -> Result<String, crate::shell::Unquotable> {
    Ok(match (firing, trigger) {
        (Firing::Changed(paths), _) => format!("{} changed", paths.join(", ")),
        (_, Trigger::Unless { check }) => {
            format!("`{}` failed", crate::shell::join(check)?)
        }
        _ => String::new(),
    })
}
