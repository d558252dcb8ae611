//! `aerie bmc boot|power|password`: load the site, pick the nodes with a
//! BMC, take their passwords from the secrets file, run, print a row per
//! node (or JSON), and exit 2 when any node failed.

use super::host_bars::HostBars;
use crate::bmc::{self, Action, Endpoint, Job, Media, NodeResult, Options, Policy, Quirks, Trust};
use crate::cli::{BmcCommand, BmcPasswordArgs, BmcRunArgs, OutputFormat, SiteArg};
use crate::exit::{Reported, UsageError, HOSTS_FAILED};
use crate::site::secrets::{self, BmcPassword};
use crate::site::{Node, Site};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub fn run(command: &BmcCommand) -> anyhow::Result<()> {
    match command {
        BmcCommand::Boot(args) => {
            let media = match (&args.iso, args.pxe) {
                (Some(url), _) => Media::Iso(iso_url(url)?),
                (None, _) => Media::Pxe,
            };
            run_action(&args.run, Action::Boot(media), "boot")
        }
        BmcCommand::Power(args) => run_action(
            &args.run,
            Action::Power(args.op.into()),
            &format!("power {}", crate::bmc::PowerOp::from(args.op).as_str()),
        ),
        BmcCommand::Password(args) => password(args),
    }
}

/// An ISO URL a BMC can fetch: http(s), no spaces or control characters.
fn iso_url(url: &str) -> anyhow::Result<String> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() > "https://".len()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(url.to_string())
    } else {
        Err(UsageError(format!(
            "--iso {url:?} is not an http:// or https:// URL; give the URL each BMC downloads the ISO from"
        ))
        .into())
    }
}

fn secrets_path(site_arg: &SiteArg, site: &Site, given: &Option<PathBuf>) -> PathBuf {
    given.clone().unwrap_or_else(|| {
        let file = site_arg
            .example
            .is_none()
            .then_some(site_arg.site.as_path());
        secrets::default_path(file, site.site.name.as_str(), Path::new("site.yaml"))
    })
}

/// The nodes to drive: those --nodes names (each must have a bmc), else every
/// node with one.
fn select<'a>(site: &'a Site, names: &[String]) -> Result<Vec<&'a Node>, UsageError> {
    if names.is_empty() {
        let all: Vec<&Node> = site.nodes.iter().filter(|n| n.bmc.is_some()).collect();
        if all.is_empty() {
            return Err(UsageError(
                "no node of the site has a `bmc:`; add one to each node aerie should drive (see docs/bmc.md)".to_string(),
            ));
        }
        return Ok(all);
    }
    let mut picked = Vec::new();
    for name in names {
        let node = site.node(name).ok_or_else(|| {
            let known: Vec<&str> = site.nodes.iter().map(|n| n.hostname.as_str()).collect();
            UsageError(format!(
                "--nodes names {name}, which is not in the site; its nodes are: {}",
                known.join(", ")
            ))
        })?;
        if node.bmc.is_none() {
            return Err(UsageError(format!(
                "--nodes names {name}, which has no `bmc:` in the site; add one (see docs/bmc.md)"
            )));
        }
        picked.push(node);
    }
    Ok(picked)
}

fn run_action(args: &BmcRunArgs, action: Action, what: &str) -> anyhow::Result<()> {
    let (site, _) = super::load(&args.site)?;
    let nodes = select(&site, &args.nodes)?;
    let path = secrets_path(&args.site, &site, &args.secrets);
    let kept = secrets::read(&path)?;
    let missing: Vec<&str> = nodes
        .iter()
        .map(|n| n.hostname.as_str())
        .filter(|h| kept.bmc_password(h).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(UsageError(format!(
            "no BMC password for {} in {}; set each with `aerie bmc password NODE` (or `aerie init --edit`)",
            missing.join(", "),
            path.display()
        ))
        .into());
    }
    let quirks = match &args.quirks {
        Some(file) => Quirks::from_file(file)?,
        None => Quirks::built_in(),
    };
    let mut jobs = Vec::new();
    for node in &nodes {
        let bmc = node.bmc.as_ref().expect("selected nodes have a bmc");
        let trust = match (bmc.tls_fingerprint, args.insecure) {
            (Some(pin), _) => Trust::Pin(pin),
            (None, true) => Trust::Insecure,
            (None, false) => Trust::System,
        };
        jobs.push(Job {
            host: node.hostname.to_string(),
            endpoint: Endpoint {
                base: bmc.address.base_url(),
                user: bmc.user.to_string(),
                password: kept
                    .bmc_password(node.hostname.as_str())
                    .expect("checked above")
                    .clone(),
                trust,
            },
            system_id: bmc.system_id.as_ref().map(|s| s.to_string()),
        });
    }
    if args.insecure && jobs.iter().any(|j| j.endpoint.trust == Trust::Insecure) {
        eprintln!(
            "warning: --insecure: the TLS certificates of BMCs without a tls-fingerprint are not checked"
        );
    }
    let options = Options {
        timeout: Duration::from_secs(args.timeout),
        connect_timeout: Duration::from_secs(args.timeout.min(10)),
        retry: Policy {
            attempts: args.attempts,
            ..Policy::default()
        },
    };
    let start = Instant::now();
    let bars = HostBars::new(jobs.len(), "BMCs");
    let results = bmc::run(
        jobs,
        &action,
        &quirks,
        &options,
        args.parallel as usize,
        &bars,
    );
    bars.finish();
    let seconds = start.elapsed().as_secs_f64();
    match args.output {
        OutputFormat::Json => {
            let failed = results.iter().filter(|r| !r.ok).count();
            let doc = serde_json::json!({
                "action": what,
                "seconds": seconds,
                "summary": { "ok": results.len() - failed, "failed": failed },
                "nodes": results,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        OutputFormat::Text => print!("{}", table(what, &results, seconds)),
    }
    if results.iter().all(|r| r.ok) {
        Ok(())
    } else {
        Err(Reported(HOSTS_FAILED).into())
    }
}

/// A row per node, then each node's notes and errors, then a summary.
fn table(what: &str, results: &[NodeResult], seconds: f64) -> String {
    let width = |f: &dyn Fn(&NodeResult) -> usize, title: &str| {
        results.iter().map(f).max().unwrap_or(0).max(title.len())
    };
    let wh = width(&|r| r.host.len(), "NODE");
    let wb = width(&|r| r.bmc.len(), "BMC");
    let mut out = format!(
        "{:<wh$}  {:<wb$}  {:<6}  {:<5}  {:>7}  {:>6}  DONE\n",
        "NODE", "BMC", "RESULT", "POWER", "RETRIES", "TIME"
    );
    for r in results {
        out.push_str(&format!(
            "{:<wh$}  {:<wb$}  {:<6}  {:<5}  {:>7}  {:>5.1}s  {}\n",
            r.host,
            r.bmc,
            if r.ok { "ok" } else { "FAILED" },
            r.power.as_deref().unwrap_or("-"),
            r.retries,
            r.seconds,
            if r.did.is_empty() {
                "-".to_string()
            } else {
                r.did.join(", ")
            }
        ));
    }
    for r in results {
        for note in &r.notes {
            out.push_str(&format!("{}: note: {note}\n", r.host));
        }
        if let Some(error) = &r.error {
            out.push_str(&format!("{}: error: {error}\n", r.host));
        }
    }
    let failed = results.iter().filter(|r| !r.ok).count();
    let unreachable = results.iter().filter(|r| r.unreachable).count();
    out.push_str(&format!(
        "bmc {what}: {} ok, {failed} failed{} in {seconds:.1} s\n",
        results.len() - failed,
        if unreachable > 0 {
            format!(" ({unreachable} unreachable)")
        } else {
            String::new()
        }
    ));
    out
}

/// `aerie bmc password NODE`: asked hidden twice at a terminal, else the
/// first line of stdin; kept in the secrets file, never printed.
fn password(args: &BmcPasswordArgs) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let (site, _) = super::load(&args.site)?;
    select(&site, std::slice::from_ref(&args.node))?;
    let typed = if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        zeroize::Zeroizing::new(
            dialoguer::Password::new()
                .with_prompt(format!("BMC password of {}", args.node))
                .with_confirmation(
                    "Type it again",
                    "the two passwords differ; type it twice again",
                )
                .interact()?,
        )
    } else {
        let mut line = zeroize::Zeroizing::new(String::new());
        std::io::stdin().read_line(&mut line)?;
        zeroize::Zeroizing::new(line.trim_end_matches(['\n', '\r']).to_string())
    };
    if typed.is_empty() {
        return Err(
            UsageError("an empty BMC password was given; nothing written".to_string()).into(),
        );
    }
    let path = secrets_path(&args.site, &site, &args.secrets);
    let mut kept = secrets::read(&path)?;
    kept.bmc_passwords
        .insert(args.node.clone(), BmcPassword::new(typed.to_string()));
    secrets::write(&path, &kept)?;
    println!(
        "kept the BMC password of {} in {} (mode 0600)",
        args.node,
        path.display()
    );
    Ok(())
}
