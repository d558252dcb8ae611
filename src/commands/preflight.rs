//! `aerie preflight`: hardware checks over SSH before anything is changed.

use super::reach;
use crate::cli::{OutputFormat, PreflightArgs};
use crate::exit::{Reported, UsageError, HOSTS_FAILED};
use crate::preflight::{self, HostOutcome, Job};

pub fn run(args: &PreflightArgs) -> anyhow::Result<()> {
    let (site, profile) = super::load(&args.site)?;
    let spec = profile
        .preflight
        .clone()
        .ok_or_else(|| UsageError(format!("profile {} has no preflight data", profile.name)))?;
    let nodes = crate::apply::select::nodes(&site, &args.nodes, None)
        .map_err(|e| UsageError(e.0.replace("--hosts", "--nodes")))?;
    let mut jobs = Vec::new();
    for node in nodes {
        let target = reach::target(&site, node)?;
        jobs.push(Job {
            node,
            address: reach::address(&target),
            target,
        });
    }
    let pins = reach::pins(&args.reach, args.accept_new_host_keys)?;
    let reports = preflight::run(
        &site,
        &profile,
        &spec,
        jobs,
        &reach::options(&args.reach),
        &pins,
        &args.facts_root,
        args.reach.parallel as usize,
    );
    match args.reach.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "nodes": reports }))?
        ),
        OutputFormat::Text => print!("{}", preflight::table(&reports)),
    }
    if reports.iter().all(|r| r.outcome == HostOutcome::Pass) {
        Ok(())
    } else {
        Err(Reported(HOSTS_FAILED).into())
    }
}
