//! `aerie apply`: validate the site, build each selected node's bundle, and
//! bring the running hosts to them over SSH.

use super::host_bars::HostBars;
use crate::apply::{self, report, select, HostJob, Settings};
use crate::cli::{ApplyArgs, OutputFormat};
use crate::exit::{Reported, HOSTS_FAILED};
use crate::ssh::{self, NewKeys, Pins};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

pub fn run(args: &ApplyArgs) -> anyhow::Result<()> {
    let (site, profile) = super::load(&args.site)?;
    let nodes = select::nodes(&site, &args.hosts, args.role.map(Into::into))?;
    let mut jobs = Vec::new();
    for node in nodes {
        jobs.push(HostJob {
            node: node.hostname.to_string(),
            target: super::reach::target(&site, node)?,
            bundle: crate::concerns::bundle_for(&site, node, &profile),
        });
    }

    let bars = HostBars::new(jobs.len(), "hosts");
    let new_keys = if args.accept_new_host_keys {
        NewKeys::Accept
    } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        NewKeys::Ask(ask_at_terminal(bars.multi.clone()))
    } else {
        NewKeys::Refuse
    };
    let pins = Pins::load(args.known_hosts.known_hosts.clone(), new_keys)?;
    let settings = Settings {
        check: args.check,
        diff: args.diff,
        parallel: args.parallel as usize,
        run_id: apply::run_id::new(),
        ssh: super::reach::session_options(args.connect_timeout, &args.identity),
    };
    let reports = apply::run(jobs, &settings, &pins, &bars);
    bars.finish();
    // What each host cost in SSH channels (one per remote command), for
    // measuring the round trips; on stderr so reports stay as they are.
    if std::env::var_os("AERIE_DEBUG_SSH").is_some_and(|v| !v.is_empty()) {
        for r in &reports {
            eprintln!("debug: {}: {} ssh channel(s)", r.host, r.ssh_channels);
        }
    }

    let summary = report::Summary::of(&reports);
    match args.output {
        OutputFormat::Json => {
            let run = report::RunReport {
                run_id: &settings.run_id,
                check: settings.check,
                summary: summary.clone(),
                hosts: &reports,
            };
            println!("{}", serde_json::to_string_pretty(&run)?);
        }
        OutputFormat::Text => {
            for r in &reports {
                print!("{}", report::host_text(r, settings.check));
            }
            println!("{}", report::summary_text(&summary, settings.check));
        }
    }
    if summary.all_succeeded() {
        Ok(())
    } else {
        Err(Reported(HOSTS_FAILED).into())
    }
}

/// Ask about one unknown key at a time, with the progress display paused.
fn ask_at_terminal(multi: Arc<indicatif::MultiProgress>) -> Box<ssh::pins::AskFn> {
    let one_at_a_time = Mutex::new(());
    Box::new(move |host: &str, key_type: &str, fingerprint: &str| {
        let _turn = one_at_a_time.lock().expect("prompt lock");
        multi.suspend(|| {
            eprintln!("The host key of {host} is not pinned yet: {key_type} {fingerprint}");
            dialoguer::Confirm::new()
                .with_prompt(format!("Trust this key for {host}?"))
                .default(false)
                .interact()
                .unwrap_or(false)
        })
    })
}
