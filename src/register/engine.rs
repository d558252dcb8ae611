//! The registration itself, on the frontend: read what the cloud knows,
//! deregister reinstalled nodes, wait (bounded) for the rest to come up,
//! register them, and verify each one is now known. A node the cloud already
//! knows gets nothing: registering twice changes nothing the second time.

use super::listing::{self, Listed, NodeNames, Seen};
use super::{NodeReport, Observer, Status};
use crate::frontend::{Frontend, Ran, RunError};
use crate::profile::{expand, Listing, Per, Variant, Vars};
use std::time::{Duration, Instant};

/// One node to register.
pub struct Job {
    pub report: NodeReport,
    pub names: NodeNames,
    /// `--reinstalled`: remove its old registration first.
    pub reinstalled: bool,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The longest wait for nodes to come up.
    pub timeout: Duration,
    /// Between two looks at the listing.
    pub poll: Duration,
}

/// Runs the profile's command on a node after it was deregistered.
pub type OnNode<'a> = dyn Fn(&str, &[String]) -> Result<(), String> + 'a;

/// Register every job not already failed; each ends with a status and, on failure, why.
pub fn run(
    fe: &Frontend,
    variant: &Variant,
    jobs: &mut [Job],
    settings: &Settings,
    obs: &dyn Observer,
    on_node: &OnNode,
) {
    if let Err(e) = run_inner(fe, variant, jobs, settings, obs, on_node) {
        let status = if matches!(&e, RunError::Ssh(s) if s.is_unreachable()) {
            Status::Unreachable
        } else {
            Status::Failed
        };
        for j in jobs.iter_mut().filter(|j| !j.report.is_done()) {
            if !matches!(
                j.report.status,
                Status::Registered | Status::AlreadyRegistered
            ) {
                j.report
                    .fail(status, e.kind(), format!("on the frontend: {e}"));
            }
        }
    }
}

/// Query a listing: Ok(Ok) parsed, Ok(Err) the command's own message.
fn query(fe: &Frontend, l: &Listing) -> Result<Result<Listed, String>, RunError> {
    let ran = fe.run(&l.argv)?;
    if !ran.success() {
        return Ok(Err(ran.message()));
    }
    Ok(listing::parse(l, &ran.output.stdout).map_err(|e| e.to_string()))
}

/// Where the cloud's tools got their credentials, for a message about a failed call
/// (a 401 or an unknown token is the file's to fix, not the node's).
fn credentials_note(fe: &Frontend) -> String {
    fe.credentials
        .as_deref()
        .map(|f| format!(" (credentials from {f} on the frontend)"))
        .unwrap_or_default()
}

fn open_jobs(jobs: &mut [Job]) -> impl Iterator<Item = &mut Job> {
    jobs.iter_mut().filter(|j| !j.report.is_done())
}

fn run_inner(
    fe: &Frontend,
    v: &Variant,
    jobs: &mut [Job],
    settings: &Settings,
    obs: &dyn Observer,
    on_node: &OnNode,
) -> Result<(), RunError> {
    obs.step("reading what the cloud knows");
    let before = match query(fe, &v.registered)? {
        Ok(l) => l,
        Err(msg) => {
            let msg = format!("{msg}{}; nothing was registered", credentials_note(fe));
            for j in open_jobs(jobs) {
                j.report.fail(Status::Failed, "listing-failed", msg.clone());
            }
            return Ok(());
        }
    };

    deregister(fe, v, jobs, &before, obs, on_node)?;

    let mut pending: Vec<usize> = Vec::new();
    for (i, j) in jobs.iter_mut().enumerate() {
        if j.report.is_done() {
            continue;
        }
        if !j.report.deregistered && matches!(before.seen(&j.names), Seen::Yes { .. }) {
            j.report.status = Status::AlreadyRegistered;
        } else {
            pending.push(i);
        }
    }
    if pending.is_empty() {
        return Ok(());
    }
    if let Some(wait) = &v.wait_up {
        pending = wait_up(fe, wait, jobs, pending, settings, obs)?;
    }
    register(fe, v, jobs, &pending, obs)?;

    obs.step("checking the cloud knows every node");
    let after = query(fe, &v.registered)?;
    let command = crate::shell::join(&v.registered.argv)?;
    for &i in &pending {
        let j = &mut jobs[i];
        if j.report.error_kind.as_deref() == Some("command-failed") {
            // A failed command may still have registered some of its nodes: say which.
            if let Ok(l) = &after {
                if matches!(l.seen(&j.names), Seen::Yes { .. }) {
                    if let Some(e) = &mut j.report.error {
                        e.push_str(&format!(
                            "; the cloud DOES list {} now: check it before registering it again",
                            j.names.hostname
                        ));
                    }
                }
            }
            continue;
        }
        if j.report.is_done() {
            continue;
        }
        match &after {
            Ok(l) if matches!(l.seen(&j.names), Seen::Yes { .. }) => {
                j.report.status = Status::Registered;
            }
            Ok(_) => {
                let ran = j.report.commands.join("`, `");
                j.report.fail(
                    Status::Failed,
                    "not-registered",
                    format!(
                        "`{ran}` succeeded, but {} is not in `{command}`",
                        j.names.hostname
                    ),
                );
            }
            Err(msg) => j.report.fail(
                Status::Failed,
                "listing-failed",
                format!("registered, but cannot verify: {msg}"),
            ),
        }
    }
    Ok(())
}

/// Remove the old registration of every reinstalled node the cloud knows.
fn deregister(
    fe: &Frontend,
    v: &Variant,
    jobs: &mut [Job],
    registered: &Listed,
    obs: &dyn Observer,
    on_node: &OnNode,
) -> Result<(), RunError> {
    if !jobs.iter().any(|j| j.reinstalled && !j.report.is_done()) {
        return Ok(());
    }
    // The id comes from the wait listing (nova's service list) when it has one.
    let ids: Option<Result<Listed, String>> = match &v.wait_up {
        Some(w) if w.id_field.is_some() => Some(query(fe, w)?),
        _ => None,
    };
    for j in open_jobs(jobs).filter(|j| j.reinstalled) {
        let (known, id) = match &ids {
            Some(Err(msg)) => {
                j.report.fail(Status::Failed, "listing-failed", msg.clone());
                continue;
            }
            Some(Ok(l)) => match l.seen(&j.names) {
                Seen::Yes { id } | Seen::NotYet { id, .. } => (true, id),
                Seen::Absent => (false, None),
            },
            None => (matches!(registered.seen(&j.names), Seen::Yes { .. }), None),
        };
        if !known {
            continue;
        }
        obs.step(&format!("deregistering {}", j.names.hostname));
        let id = id.unwrap_or_default();
        let vars = Vars {
            hostname: &j.names.hostname,
            fqdn: &j.names.fqdn,
            address: &j.names.address,
            id: &id,
            addresses: &j.names.address,
            hostnames: &j.names.hostname,
        };
        let mut failed = None;
        for step in &v.deregister {
            let ran = fe.run(&expand(&step.argv, &vars))?;
            j.report.commands.push(ran.command.clone());
            if !ran.success() {
                failed = Some(ran.message());
                break;
            }
        }
        if let Some(msg) = failed {
            j.report.fail(
                Status::Failed,
                "deregister-failed",
                format!("{msg} (its old registration is still in place)"),
            );
            continue;
        }
        j.report.deregistered = true;
        if !v.on_node_after_deregister.is_empty() {
            let argv = expand(&v.on_node_after_deregister, &vars);
            match on_node(&j.report.host, &argv) {
                Ok(()) => j.report.commands.push(format!(
                    "on {}: {}",
                    j.report.host,
                    crate::shell::join(&argv)?
                )),
                Err(msg) => j.report.fail(Status::Failed, "node-command-failed", msg),
            }
        }
    }
    Ok(())
}

/// Poll until every pending node is up or time runs out; returns those up.
fn wait_up(
    fe: &Frontend,
    wait: &Listing,
    jobs: &mut [Job],
    mut pending: Vec<usize>,
    settings: &Settings,
    obs: &dyn Observer,
) -> Result<Vec<usize>, RunError> {
    let start = Instant::now();
    let total = pending.len();
    let mut up: Vec<usize> = Vec::new();
    let mut last: Vec<String> = vec![String::new(); jobs.len()];
    loop {
        match query(fe, wait)? {
            Ok(listed) => pending.retain(|&i| match listed.seen(&jobs[i].names) {
                Seen::Yes { .. } => {
                    up.push(i);
                    false
                }
                Seen::NotYet { state, .. } => {
                    last[i] = format!("listed with {state}");
                    true
                }
                Seen::Absent => {
                    last[i] = "not listed".into();
                    true
                }
            }),
            Err(msg) => {
                for &i in &pending {
                    last[i] = format!("the listing failed: {msg}");
                }
            }
        }
        let names: Vec<String> = pending
            .iter()
            .map(|&i| jobs[i].names.hostname.clone())
            .collect();
        obs.waiting(up.len(), total, &names);
        let elapsed = start.elapsed();
        if pending.is_empty() || elapsed >= settings.timeout {
            break;
        }
        std::thread::sleep(settings.poll.min(settings.timeout - elapsed));
    }
    let command = crate::shell::join(&wait.argv)?;
    for &i in &pending {
        let msg = format!(
            "not up after {} s (--timeout) according to `{command}`: {}",
            settings.timeout.as_secs(),
            last[i]
        );
        jobs[i].report.fail(Status::Failed, "not-up", msg);
    }
    up.sort_unstable();
    Ok(up)
}

/// Run the registration commands for the nodes that are up.
fn register(
    fe: &Frontend,
    v: &Variant,
    jobs: &mut [Job],
    ready: &[usize],
    obs: &dyn Observer,
) -> Result<(), RunError> {
    for step in &v.register {
        let open: Vec<usize> = ready
            .iter()
            .copied()
            .filter(|&i| !jobs[i].report.is_done())
            .collect();
        if open.is_empty() {
            return Ok(());
        }
        match step.per {
            Per::All => {
                let addresses = join(jobs, &open, |n| &n.address);
                let hostnames = join(jobs, &open, |n| &n.hostname);
                let vars = Vars {
                    addresses: &addresses,
                    hostnames: &hostnames,
                    ..Default::default()
                };
                let argv = expand(&step.argv, &vars);
                obs.step(&format!("running {}", argv[0]));
                let ran = fe.run(&argv)?;
                for &i in &open {
                    record(&mut jobs[i].report, &ran);
                }
            }
            Per::Node => {
                for &i in &open {
                    let n = jobs[i].names.clone();
                    let vars = Vars {
                        hostname: &n.hostname,
                        fqdn: &n.fqdn,
                        address: &n.address,
                        addresses: &n.address,
                        hostnames: &n.hostname,
                        id: "",
                    };
                    let argv = expand(&step.argv, &vars);
                    obs.step(&format!("running {} for {}", argv[0], n.hostname));
                    let ran = fe.run(&argv)?;
                    record(&mut jobs[i].report, &ran);
                }
            }
        }
    }
    Ok(())
}

fn record(report: &mut NodeReport, ran: &Ran) {
    report.commands.push(ran.command.clone());
    if !ran.success() {
        report.fail(Status::Failed, "command-failed", ran.message());
    }
}

fn join(jobs: &[Job], idx: &[usize], f: impl Fn(&NodeNames) -> &String) -> String {
    idx.iter()
        .map(|&i| f(&jobs[i].names).as_str())
        .collect::<Vec<_>>()
        .join(" ")
}
