//! One registration run, from the frontend's connection to the flavor: the
//! frontend reached (over SSH, or here with `--local`), the nodes this run
//! must reach opened, the frontend's key copied when the profile says so,
//! [`engine::run`] (wait, deregister, register, verify), then the flavor.
//! The command resolves the nodes and prints; this does the work.

use super::engine::{self, Job};
use super::nodes::{NodeTarget, Sessions};
use super::report::FlavorReport;
use super::{NodeReport, Observer, Status};
use crate::bundle::{Concern, Trigger};
use crate::frontend::{Frontend, Local, Runner};
use crate::profile::{FrontendKey, Profile, RegistrationSpec, Variant};
use crate::site::{Node, Site};
use crate::ssh::{self, Connection, Options, Pins, SshError};

/// Everything one run needs, resolved by the command.
pub struct Request<'a> {
    pub site: &'a Site,
    pub profile: &'a Profile,
    pub spec: &'a RegistrationSpec,
    pub variant: &'a Variant,
    pub frontend: &'a Node,
    /// Where the frontend is reached; `None`: its commands run here (`--local`).
    pub frontend_target: Option<ssh::Target>,
    /// How the frontend is named in messages and the report.
    pub frontend_label: &'a str,
    /// One job per compute node, in site order.
    pub jobs: Vec<Job>,
    /// The nodes this run must reach itself (reinstalled, or the frontend's key to copy).
    pub node_targets: Vec<NodeTarget>,
    pub options: &'a Options,
    pub pins: &'a Pins,
    /// Nodes opened at the same time.
    pub parallel: usize,
    pub settings: engine::Settings,
    /// Names the backup folder of files this run changes on the nodes.
    pub run_id: String,
}

/// Where every node ended, and the flavor when the profile makes one.
pub struct Outcome {
    pub nodes: Vec<NodeReport>,
    pub flavor: Option<FlavorReport>,
    /// The cloud's initialisation steps (the profile's `initialize:`), in order.
    pub initialize: Vec<super::init::InitReport>,
}

/// Run the registration; every node ends in its report.
pub fn run(req: Request, obs: &dyn Observer) -> Outcome {
    let mut jobs = req.jobs;
    let conn = match &req.frontend_target {
        None => None,
        Some(target) => match Connection::open(target, req.options, req.pins) {
            Ok(c) => Some(c),
            Err(e) => {
                fail_all(
                    &mut jobs,
                    &e,
                    &format!("the frontend {}", req.frontend_label),
                );
                return Outcome {
                    nodes: reports(jobs),
                    flavor: None,
                    initialize: Vec::new(),
                };
            }
        },
    };
    let runner: &dyn Runner = match &conn {
        Some(c) => c,
        None => &Local,
    };
    let fe = Frontend {
        runner,
        credentials: req.spec.credentials.clone(),
    };

    let initialize = initialize(req.site, req.spec, req.variant, req.frontend, runner, obs);
    if let Some(msg) = super::init::failure(&initialize) {
        for j in &mut jobs {
            j.report.fail(Status::Failed, "init-failed", msg.clone());
        }
        return Outcome {
            nodes: reports(jobs),
            flavor: None,
            initialize,
        };
    }

    let (sessions, errors) = Sessions::open(req.node_targets, req.options, req.pins, req.parallel);
    for j in &mut jobs {
        if let Some(e) = errors.get(&j.report.host) {
            node_unreachable(j, e);
        }
    }
    if let Some(key) = &req.spec.copy_frontend_key {
        copy_frontend_key(&fe, key, &sessions, &mut jobs, &req.run_id);
    }
    let on_node = |host: &str, argv: &[String]| sessions.run(host, argv).map_err(|e| e.to_string());
    engine::run(&fe, req.variant, &mut jobs, &req.settings, obs, &on_node);
    let flavor = req
        .spec
        .flavor
        .then(|| flavor(&fe, req.site, req.frontend, req.profile))
        .flatten();
    Outcome {
        nodes: reports(jobs),
        flavor,
        initialize,
    }
}

/// The cloud's own first steps on the frontend (none for most profiles).
fn initialize(
    site: &Site,
    spec: &RegistrationSpec,
    variant: &Variant,
    frontend: &Node,
    runner: &dyn Runner,
    obs: &dyn Observer,
) -> Vec<super::init::InitReport> {
    if variant.initialize.is_empty() {
        return Vec::new();
    }
    obs.step("initialising the cloud on the frontend");
    let fqdn = format!("{}.{}", frontend.hostname, site.site.domain);
    let address = frontend
        .management_address(site)
        .map(|a| a.to_string())
        .unwrap_or_else(|| frontend.hostname.to_string());
    super::init::run(
        runner,
        spec.credentials.as_deref(),
        &variant.initialize,
        &super::init::FrontendNames {
            hostname: frontend.hostname.as_str(),
            fqdn: &fqdn,
            address: &address,
        },
    )
}

fn reports(jobs: Vec<Job>) -> Vec<NodeReport> {
    jobs.into_iter().map(|j| j.report).collect()
}

fn fail_all(jobs: &mut [Job], e: &SshError, what: &str) {
    let status = if e.is_unreachable() {
        Status::Unreachable
    } else {
        Status::Failed
    };
    for j in jobs {
        j.report.fail(
            status,
            e.kind(),
            format!("{what}: {e}; nothing was registered"),
        );
    }
}

fn node_unreachable(j: &mut Job, e: &SshError) {
    let status = if e.is_unreachable() {
        Status::Unreachable
    } else {
        Status::Failed
    };
    let mut msg = e.to_string();
    if matches!(e, SshError::ChangedHostKey { .. }) {
        msg.push_str(&format!(
            "; if {0} was reinstalled: `aerie register --reinstalled {0} --accept-new-host-keys`",
            j.report.host
        ));
    }
    j.report.fail(
        status,
        e.kind(),
        format!("{msg}; nothing was changed for it"),
    );
}

/// Read (or make) the frontend's public key and authorize it on every node.
fn copy_frontend_key(
    fe: &Frontend,
    key: &FrontendKey,
    sessions: &Sessions,
    jobs: &mut [Job],
    run_id: &str,
) {
    let plain = Frontend {
        runner: fe.runner,
        credentials: None,
    };
    let read = || plain.run(&["cat".to_string(), key.public.clone()]);
    let text = match read() {
        Ok(r) if r.success() => Ok(r),
        Ok(_) if !key.generate.is_empty() => match plain.run(&key.generate) {
            Ok(g) if g.success() => read().map_err(|e| e.to_string()),
            Ok(g) => Err(g.message()),
            Err(e) => Err(e.to_string()),
        },
        Ok(r) => Ok(r),
        Err(e) => Err(e.to_string()),
    };
    let key_line = match text {
        Ok(r) if r.success() => Ok(String::from_utf8_lossy(&r.output.stdout).trim().to_string()),
        Ok(r) => Err(r.message()),
        Err(e) => Err(e),
    };
    for j in jobs.iter_mut().filter(|j| !j.report.is_done()) {
        let result = match &key_line {
            Ok(line) => sessions
                .authorize(&j.report.host, line, run_id)
                .map_err(|e| (e.kind(), e.to_string())),
            Err(msg) => Err((
                "frontend-key",
                format!("cannot read the frontend's key: {msg}"),
            )),
        };
        match result {
            Ok(true) => j.report.commands.push(format!(
                "on {}: added the frontend's key ({}) to {}",
                j.report.host,
                key.public,
                crate::register::nodes::AUTHORIZED_KEYS
            )),
            Ok(false) => {}
            Err((kind, msg)) => j.report.fail(Status::Failed, kind, msg),
        }
    }
}

/// The frontend bundle's flavor action: run its check, create when absent.
fn flavor(fe: &Frontend, site: &Site, frontend: &Node, profile: &Profile) -> Option<FlavorReport> {
    let bundle = crate::concerns::bundle_for(site, frontend, profile);
    let action = bundle
        .actions
        .iter()
        .find(|a| a.concern == Concern::PciFlavor)?;
    let Trigger::Unless { check } = &action.trigger else {
        return None;
    };
    let command = match action.command_line() {
        Ok(command) => command,
        Err(e) => {
            return Some(FlavorReport {
                command: String::new(),
                status: "failed".into(),
                error: Some(e.to_string()),
            })
        }
    };
    // The action carries the profile's credentials itself (sourced by its argv).
    let fe = Frontend {
        runner: fe.runner,
        credentials: None,
    };
    let (status, error) = match fe.run(check) {
        Err(e) => ("failed", Some(e.to_string())),
        Ok(r) if r.success() => ("present", None),
        Ok(_) => match fe.run(&action.argv) {
            Ok(r) if r.success() => ("created", None),
            Ok(r) => ("failed", Some(r.message())),
            Err(e) => ("failed", Some(e.to_string())),
        },
    };
    Some(FlavorReport {
        command,
        status: status.into(),
        error,
    })
}
