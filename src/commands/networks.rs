//! `aerie networks`: the site's instances networks as the cloud's provider
//! networks (see `networks/`), from the frontend over SSH or here (`--local`).

use super::networks_progress::Progress;
use super::reach;
use crate::cli::{NetworksArgs, OutputFormat};
use crate::exit::{Reported, UsageError, HOSTS_FAILED};
use crate::frontend::{Local, Runner};
use crate::networks::{self, Mode, Report};
use crate::ssh::Connection;

pub fn run(args: &NetworksArgs) -> anyhow::Result<()> {
    let (site, profile) = super::load(&args.site)?;
    run_loaded(args, &site, &profile)
}

/// `run` on a site and profile already loaded (deploy's networks step).
pub fn run_loaded(
    args: &NetworksArgs,
    site: &crate::site::Site,
    profile: &crate::profile::Profile,
) -> anyhow::Result<()> {
    let (site, profile) = (site.clone(), profile.clone());
    if profile.provider_networks.is_none() {
        return Err(UsageError(format!(
            "profile {} has no provider networks (no `provider-networks:` section): its instances \
             networks are the cloud's own business",
            profile.name
        ))
        .into());
    }
    let frontend = site.frontend().ok_or_else(|| {
        UsageError("the site needs exactly one frontend to create its networks".into())
    })?;
    let mode = if args.check { Mode::Check } else { Mode::Apply };
    let target = reach::target(&site, frontend)?;
    let label = if args.local {
        format!("{} (local)", frontend.hostname)
    } else {
        format!("{} ({})", frontend.hostname, reach::address(&target))
    };
    let conn = if args.local {
        None
    } else {
        let pins = reach::pins(&args.reach, args.accept_new_host_keys)?;
        match Connection::open(&target, &reach::options(&args.reach), &pins) {
            Ok(c) => Some(c),
            Err(e) => {
                let report = Report {
                    physnet: site.physnet().to_string(),
                    networks: Vec::new(),
                    calls: 0,
                    error: Some(format!(
                        "the frontend {label}: {e}; nothing was checked or created"
                    )),
                };
                return finish(args, &label, &report);
            }
        }
    };
    let runner: &dyn Runner = match &conn {
        Some(c) => c,
        None => &Local,
    };
    let wanted = networks::wanted(&site, true).len();
    let progress = Progress::new(wanted);
    let report = networks::run(&site, &profile, runner, mode, &progress);
    progress.finish();
    finish(args, &label, &report)
}

fn finish(args: &NetworksArgs, frontend: &str, report: &Report) -> anyhow::Result<()> {
    match args.reach.output {
        OutputFormat::Json => {
            #[derive(serde::Serialize)]
            struct Out<'a> {
                frontend: &'a str,
                #[serde(flatten)]
                report: &'a Report,
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&Out { frontend, report })?
            );
        }
        OutputFormat::Text => {
            println!("frontend       {frontend}");
            print!("{}", networks::report::text(report));
        }
    }
    if report.succeeded() {
        Ok(())
    } else {
        Err(Reported(HOSTS_FAILED).into())
    }
}
