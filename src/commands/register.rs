//! `aerie register`: make the cloud know its compute nodes (see `register/`).

use super::reach;
use super::register_progress::Progress;
use crate::cli::{OutputFormat, RegisterArgs};
use crate::exit::{Reported, UsageError, HOSTS_FAILED};
use crate::register::engine::{self, Job};
use crate::register::listing::NodeNames;
use crate::register::nodes::NodeTarget;
use crate::register::report::{self, Summary};
use crate::register::run;
use crate::register::NodeReport;
use std::time::Duration;

pub fn run(args: &RegisterArgs) -> anyhow::Result<()> {
    let (site, profile) = super::load(&args.site)?;
    run_loaded(args, &site, &profile)
}

/// `run` on a site and profile already loaded (deploy's register step).
pub fn run_loaded(
    args: &RegisterArgs,
    site: &crate::site::Site,
    profile: &crate::profile::Profile,
) -> anyhow::Result<()> {
    let (site, profile) = (site.clone(), profile.clone());
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

    let Work {
        jobs,
        targets,
        replace,
    } = work(args, &site, &nodes, spec.copy_frontend_key.is_some())?;
    let pins = reach::pins(&args.reach, args.accept_new_host_keys)?.replacing(replace);
    let opts = reach::options(&args.reach);

    let fe_target = reach::target(&site, frontend)?;
    let fe_label = if args.local {
        format!("{} (local)", frontend.hostname)
    } else {
        format!("{} ({})", frontend.hostname, reach::address(&fe_target))
    };
    let progress = Progress::new(jobs.len(), Duration::from_secs(args.timeout));
    let outcome = run::run(
        run::Request {
            site: &site,
            profile: &profile,
            spec: &spec,
            variant: &variant,
            frontend,
            frontend_target: (!args.local).then_some(fe_target),
            frontend_label: &fe_label,
            jobs,
            node_targets: targets,
            options: &opts,
            pins: &pins,
            parallel: args.reach.parallel as usize,
            settings: engine::Settings {
                timeout: Duration::from_secs(args.timeout),
                poll: Duration::from_secs_f64(args.poll_interval.max(0.05)),
            },
            run_id: crate::apply::run_id::new(),
        },
        &progress,
    );
    progress.finish();
    finish(args, &fe_label, &outcome)
}

/// Per node: its job, whether this run reaches it itself, and the host key
/// a reinstalled one replaces.
struct Work {
    jobs: Vec<Job>,
    /// The nodes this run reaches (reinstalled, or the frontend's key to copy).
    targets: Vec<NodeTarget>,
    /// The known-hosts addresses whose keys a reinstall changed.
    replace: Vec<String>,
}

fn work(
    args: &RegisterArgs,
    site: &crate::site::Site,
    nodes: &[&crate::site::Node],
    copy_frontend_key: bool,
) -> anyhow::Result<Work> {
    let mut jobs = Vec::new();
    let mut targets = Vec::new();
    let mut replace = Vec::new();
    for node in nodes {
        let target = reach::target(site, node)?;
        let address = node
            .management_address(site)
            .map_or_else(|| target.host.clone(), |a| a.to_string());
        let reinstalled = args.reinstalled.iter().any(|r| r == node.hostname.as_str());
        if reinstalled {
            replace.push(reach::address(&target));
        }
        if reinstalled || copy_frontend_key {
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
    Ok(Work {
        jobs,
        targets,
        replace,
    })
}

fn finish(args: &RegisterArgs, frontend: &str, outcome: &run::Outcome) -> anyhow::Result<()> {
    let (nodes, flavor) = (&outcome.nodes, &outcome.flavor);
    let summary = Summary::of(nodes);
    match args.reach.output {
        OutputFormat::Json => {
            let run = report::RunReport {
                frontend,
                initialize: &outcome.initialize,
                summary: summary.clone(),
                nodes,
                flavor: flavor.as_ref(),
            };
            println!("{}", serde_json::to_string_pretty(&run)?);
        }
        OutputFormat::Text => {
            println!("frontend       {frontend}");
            for r in &outcome.initialize {
                print!("{}", report::init_text(r));
            }
            for n in nodes {
                print!("{}", report::node_text(n));
            }
            if let Some(f) = flavor {
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
