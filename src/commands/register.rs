//! `aerie register`: make the cloud know its compute nodes (see `register/`).

use super::reach;
use super::register_progress::Progress;
use crate::bundle::Concern;
use crate::bundle::Trigger;
use crate::cli::{OutputFormat, RegisterArgs};
use crate::exit::{Reported, UsageError, HOSTS_FAILED};
use crate::profile::Profile;
use crate::register::engine::{self, Job};
use crate::register::frontend::{Frontend, Local, Runner};
use crate::register::listing::NodeNames;
use crate::register::nodes::{NodeTarget, Sessions};
use crate::register::report::{self, FlavorReport, Summary};
use crate::register::{NodeReport, Status};
use crate::site::Site;
use crate::ssh::{Connection, SshError};
use std::time::Duration;

pub fn run(args: &RegisterArgs) -> anyhow::Result<()> {
    let (site, profile) = super::load(&args.site)?;
    let spec = profile
        .registration
        .clone()
        .ok_or_else(|| UsageError(format!("profile {} has no registration data", profile.name)))?;
    let variant = spec.variant(&profile.release).cloned().ok_or_else(|| {
        UsageError(format!(
            "profile {} has no registration commands for release {}",
            profile.name, profile.release
        ))
    })?;
    let frontend = site.frontend().ok_or_else(|| {
        UsageError("the site needs exactly one frontend to register nodes".into())
    })?;
    let mut names = args.nodes.clone();
    if !names.is_empty() {
        names.extend(args.reinstalled.iter().cloned());
    }
    reach::compute_nodes(&site, &args.reinstalled)?;
    let nodes = reach::compute_nodes(&site, &names)?;

    let mut jobs = Vec::new();
    let mut targets = Vec::new();
    let mut replace = Vec::new();
    for node in &nodes {
        let target = reach::target(&site, node)?;
        let address = node
            .management_address(&site)
            .map_or_else(|| target.host.clone(), |a| a.to_string());
        let reinstalled = args.reinstalled.iter().any(|r| r == node.hostname.as_str());
        if reinstalled {
            replace.push(reach::address(&target));
        }
        if reinstalled || spec.copy_frontend_key.is_some() {
            targets.push(NodeTarget {
                host: node.hostname.to_string(),
                target: target.clone(),
            });
        }
        jobs.push(Job {
            report: NodeReport::new(node.hostname.as_str(), &address),
            names: NodeNames {
                hostname: node.hostname.to_string(),
                fqdn: format!("{}.{}", node.hostname, site.site.domain),
                address,
            },
            reinstalled,
        });
    }
    let pins = reach::pins(&args.reach, args.accept_new_host_keys)?.replacing(replace);
    let opts = reach::options(&args.reach);

    let fe_target = reach::target(&site, frontend)?;
    let fe_label = if args.local {
        format!("{} (local)", frontend.hostname)
    } else {
        format!("{} ({})", frontend.hostname, reach::address(&fe_target))
    };
    let progress = Progress::new(jobs.len(), Duration::from_secs(args.timeout));
    let conn = if args.local {
        None
    } else {
        match Connection::open(&fe_target, &opts, &pins) {
            Ok(c) => Some(c),
            Err(e) => {
                fail_all(&mut jobs, &e, &format!("the frontend {fe_label}"));
                progress.finish();
                return finish(args, &fe_label, jobs, None);
            }
        }
    };
    let runner: &dyn Runner = match &conn {
        Some(c) => c,
        None => &Local,
    };
    let fe = Frontend {
        runner,
        credentials: spec.credentials.clone(),
    };

    let (sessions, errors) = Sessions::open(targets, &opts, &pins, args.reach.parallel as usize);
    for j in &mut jobs {
        if let Some(e) = errors.get(&j.report.host) {
            node_unreachable(j, e);
        }
    }
    if let Some(key) = &spec.copy_frontend_key {
        copy_frontend_key(&fe, key, &sessions, &mut jobs);
    }
    let settings = engine::Settings {
        timeout: Duration::from_secs(args.timeout),
        poll: Duration::from_secs_f64(args.poll_interval.max(0.05)),
    };
    let on_node = |host: &str, argv: &[String]| sessions.run(host, argv).map_err(|e| e.to_string());
    engine::run(&fe, &variant, &mut jobs, &settings, &progress, &on_node);
    let flavor = spec
        .flavor
        .then(|| flavor(&fe, &site, frontend, &profile))
        .flatten();
    progress.finish();
    finish(args, &fe_label, jobs, flavor)
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
    key: &crate::profile::FrontendKey,
    sessions: &Sessions,
    jobs: &mut [Job],
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
    let run_id = crate::apply::run_id::new();
    for j in jobs.iter_mut().filter(|j| !j.report.is_done()) {
        let result = match &key_line {
            Ok(line) => sessions
                .authorize(&j.report.host, line, &run_id)
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
fn flavor(
    fe: &Frontend,
    site: &Site,
    frontend: &crate::site::Node,
    profile: &Profile,
) -> Option<FlavorReport> {
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

fn finish(
    args: &RegisterArgs,
    frontend: &str,
    jobs: Vec<Job>,
    flavor: Option<FlavorReport>,
) -> anyhow::Result<()> {
    let nodes: Vec<NodeReport> = jobs.into_iter().map(|j| j.report).collect();
    let summary = Summary::of(&nodes);
    match args.reach.output {
        OutputFormat::Json => {
            let run = report::RunReport {
                frontend,
                summary: summary.clone(),
                nodes: &nodes,
                flavor: flavor.as_ref(),
            };
            println!("{}", serde_json::to_string_pretty(&run)?);
        }
        OutputFormat::Text => {
            println!("frontend       {frontend}");
            for n in &nodes {
                print!("{}", report::node_text(n));
            }
            if let Some(f) = &flavor {
                print!("{}", report::flavor_text(f));
            }
            println!("{}", report::summary_text(&summary));
        }
    }
    let flavor_ok = flavor.as_ref().is_none_or(|f| f.status != "failed");
    if summary.all_succeeded() && flavor_ok {
        Ok(())
    } else {
        Err(Reported(HOSTS_FAILED).into())
    }
}
