//! `aerie pxe serve|status|reinstall|config`: thin over `crate::netboot`.

use super::pxe_progress::Display;
use crate::cli::{OutputFormat, PxeCommand, PxeConfigArgs, PxeServeArgs, PxeStatusArgs, SiteArg};
use crate::exit::UsageError;
use crate::netboot::{self, serve, Phase, StateDir};
use crate::render::{self, Options, Templates};
use anyhow::Context;
use std::collections::HashMap;
use std::path::Path;

pub fn run(command: PxeCommand) -> anyhow::Result<()> {
    match command {
        PxeCommand::Serve(args) => pxe_serve(&args),
        PxeCommand::Status(args) => pxe_status(&args),
        PxeCommand::Reinstall(args) => {
            let state = StateDir::new(&args.dir.dir);
            for node in &args.nodes {
                if state.reinstall(node)? {
                    println!("{node}: will install again at its next network boot");
                } else {
                    println!(
                        "{node}: was not marked installed; it installs at its next network boot"
                    );
                }
            }
            Ok(())
        }
        PxeCommand::Config(args) => pxe_config(&args),
    }
}

/// Every node's kickstart, rendered as `aerie render` does.
fn kickstarts(
    site_arg: &SiteArg,
    templates: Option<&Path>,
    secrets: Option<&Path>,
    dir: &Path,
) -> anyhow::Result<(crate::site::Site, HashMap<String, String>)> {
    let (site, profile) = super::load(site_arg)?;
    let templates = Templates::new(templates)?;
    let options = Options::default();
    let secrets =
        super::render::site_secrets(&site_arg.source(), &site, &profile, secrets, dir, options)?;
    let rendered = render::render_site_with(&site, &profile, &templates, options, secrets.as_ref())
        .with_context(|| format!("cannot render {}", site_arg.source().origin()))?;
    Ok((site, rendered.node_kickstarts()))
}

fn console_args(console: Option<&crate::iso::bootmenu::Console>) -> Vec<String> {
    console
        .map(|c| c.kernel_args().to_vec())
        .unwrap_or_default()
}

fn pxe_serve(args: &PxeServeArgs) -> anyhow::Result<()> {
    let (site, kickstarts) = kickstarts(
        &args.site,
        args.templates.as_deref(),
        args.secrets.as_deref(),
        &args.dir.dir,
    )?;
    if site.netboot.is_none() {
        return Err(netboot::NotServable(format!(
            "site {} has no `netboot:` section; add one (mode, interface, address: `aerie init --edit`, or see the netboot example and docs/pxe.md)",
            site.site.name
        ))
        .into());
    }
    let opts = serve::Options {
        dir: args.dir.dir.clone(),
        base: args.base.clone(),
        extra_args: console_args(args.console.as_ref()),
        listen: args.listen,
        no_dhcp: args.no_dhcp,
    };
    let sig = serve_until_signal(&site, kickstarts, &opts, args.output)?;
    if args.output != OutputFormat::Json {
        eprintln!("aerie pxe: {sig}: dnsmasq and the HTTP server stopped");
    }
    Ok(())
}

/// Run the boot server until SIGINT/SIGTERM, its events shown as `output`
/// says; returns the signal. `pxe serve` and the lab's boot server (`lab
/// boot-server`) both serve through it.
pub(super) fn serve_until_signal(
    site: &crate::site::Site,
    kickstarts: HashMap<String, String>,
    opts: &serve::Options,
    output: OutputFormat,
) -> anyhow::Result<&'static str> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let display = Display::new(output, site);
    let on_event = display.clone();
    let stopped = runtime.block_on(serve::run(
        site,
        kickstarts,
        opts,
        |info, shared| display.ready(info, shared),
        move |event| on_event.event(&event),
    ));
    display.finish();
    let serve::Stopped::Signal(sig) = stopped?;
    Ok(sig)
}

fn pxe_status(args: &PxeStatusArgs) -> anyhow::Result<()> {
    let state = StateDir::new(&args.dir.dir);
    let Some(tracker) = state.read_status() else {
        return Err(UsageError(format!(
            "{} holds no boot server status; run `aerie pxe serve` (or give --dir)",
            args.dir.dir.display()
        ))
        .into());
    };
    let server = state.running_server();
    if args.output == OutputFormat::Json {
        let nodes: Vec<serde_json::Value> = tracker
            .nodes
            .iter()
            .map(|(name, s)| {
                serde_json::json!({
                    "node": name,
                    "phase": s.phase.map(Phase::as_str),
                    "since": s.since,
                    "installed": state.is_installed(name),
                })
            })
            .collect();
        let out = serde_json::json!({
            "server": server,
            "nodes": nodes,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    match &server {
        Some(s) => println!(
            "server: running (pid {}, {}, mode {})",
            s.pid, s.url, s.mode
        ),
        None => println!("server: not running (last status below)"),
    }
    let width = tracker
        .nodes
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(4)
        .max(4);
    println!("{:width$}  {:12}  installed", "node", "step");
    for (name, s) in &tracker.nodes {
        println!(
            "{name:width$}  {:12}  {}",
            s.phase.map_or("-", Phase::as_str),
            if state.is_installed(name) {
                "yes"
            } else {
                "no"
            }
        );
    }
    Ok(())
}

fn pxe_config(args: &PxeConfigArgs) -> anyhow::Result<()> {
    let start = std::time::Instant::now();
    let (site, kickstarts) = kickstarts(
        &args.site,
        args.templates.as_deref(),
        args.secrets.as_deref(),
        &args.output,
    )?;
    let rendered = start.elapsed();
    let times = serve::write_config(
        &site,
        &kickstarts,
        &console_args(args.console.as_ref()),
        &args.output,
    )?;
    println!(
        "wrote {} ({} files for {} nodes): kickstarts rendered in {:.3} s, netboot config generated in {:.3} s, written in {:.3} s (the sync {:.3} s of it)",
        args.output.display(),
        times.files,
        kickstarts.len(),
        rendered.as_secs_f64(),
        times.generate.as_secs_f64(),
        times.write.as_secs_f64(),
        times.sync.as_secs_f64()
    );
    Ok(())
}
