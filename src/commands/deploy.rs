//! `aerie deploy`: the cloud comes up, in steps: `hosts` (the host bundles
//! by the SSH road, as `aerie apply`), `kolla` (`deploy::kolla_step`: Kolla's
//! inputs rendered into the config dir, then kolla-ansible install-deps,
//! bootstrap-servers, prechecks, deploy, post-deploy from the profile's venv,
//! then Kolla's admin credentials delivered to the frontend), `networks` (the
//! provider networks, as `aerie networks`), `register` (as `aerie register`).
//! `--step` starts at a step; a failed step says the command that resumes
//! from it. Every step is idempotent: a rerun changes nothing.

use super::deploy_progress::Bars;
use crate::cli::{ApplyArgs, DeployArgs, NetworksArgs, RegisterArgs, StepArg};
use crate::deploy::openrc::Frontend;
use crate::deploy::{self, SshEnv};
use crate::exit::{Reported, UsageError, HOSTS_FAILED};
use crate::site::deployed;
use anyhow::Context;
use std::path::{Path, PathBuf};

const STEPS: &[StepArg] = &[
    StepArg::Hosts,
    StepArg::Kolla,
    StepArg::Networks,
    StepArg::Register,
];

fn name(step: StepArg) -> &'static str {
    match step {
        StepArg::Hosts => "hosts",
        StepArg::Kolla => "kolla",
        StepArg::Networks => "networks",
        StepArg::Register => "register",
    }
}

fn step_named(name: &str) -> Option<StepArg> {
    STEPS.iter().copied().find(|s| self::name(*s) == name)
}

/// The most a retry waits.
const MAX_RETRY_DELAY: u64 = 30 * 60;

pub fn run(args: &DeployArgs) -> anyhow::Result<()> {
    let (site, profile) = super::load(&args.site)?;
    let Some(spec) = profile.kolla.clone() else {
        return Err(UsageError(format!(
            "profile {} is not deployed by aerie deploy (it has no `kolla:` section): use `aerie apply` then `aerie register`",
            profile.name
        ))
        .into());
    };
    let site_sha = deployed::sha256_hex(&site_bytes(args, &site)?);
    let marker_path = Path::new(deployed::PATH);
    let resume_path = Path::new(deploy::resume::PATH);
    let mut from = args.step;
    if args.resume {
        if let Some(m) = deployed::read(marker_path)? {
            if m.site == site.site.name.as_str() && m.site_sha256 == site_sha {
                eprintln!(
                    "aerie deploy: {} is already deployed (marker {}, {} by aerie {}); nothing to do",
                    m.site, deployed::PATH, m.time, m.aerie_version
                );
                return Ok(());
            }
        }
        if let Some(step) = deploy::resume::read(resume_path, &site_sha)? {
            if let Some(s) = step_named(&step) {
                eprintln!(
                    "aerie deploy: resuming at step {step}, where the last run failed ({})",
                    deploy::resume::PATH
                );
                from = s;
            }
        }
    }
    if args.wait_nodes > 0 {
        wait_for_nodes(args, &site)?;
    }
    let mut delay = args.retry_delay;
    let mut attempt = 0;
    while let Err((failed, code)) = steps(args, &site, &profile, &spec, from) {
        if args.local && !args.check {
            deploy::resume::write(resume_path, name(failed), &site_sha)?;
        }
        if attempt >= args.retries {
            return Err(Reported(code).into());
        }
        attempt += 1;
        eprintln!(
            "aerie deploy: retry {attempt} of {} in {delay} s, from step {}",
            args.retries,
            name(failed)
        );
        std::thread::sleep(std::time::Duration::from_secs(delay));
        delay = (delay.saturating_mul(2)).min(MAX_RETRY_DELAY);
        from = failed;
    }
    if args.local && !args.check {
        let marker = deployed::Deployed::now(site.site.name.as_str(), &site_bytes(args, &site)?);
        deployed::write(marker_path, &marker)?;
        deploy::resume::clear(resume_path)?;
        eprintln!(
            "aerie deploy: marked {} deployed ({})",
            marker.site,
            deployed::PATH
        );
    }
    eprintln!("aerie deploy: done");
    Ok(())
}

/// The site file's bytes (a built-in example: its text as aerie writes it).
fn site_bytes(args: &DeployArgs, site: &crate::site::Site) -> anyhow::Result<Vec<u8>> {
    match args.site.source() {
        crate::site::Source::File(p) => {
            std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))
        }
        crate::site::Source::Example(_) => Ok(crate::site::load::to_yaml(site).into_bytes()),
    }
}

/// Every node of the site answers on SSH, or the error names those that do not.
fn wait_for_nodes(args: &DeployArgs, site: &crate::site::Site) -> anyhow::Result<()> {
    let opts = super::reach::options(&args.reach);
    let pins = super::reach::pins(&args.reach, args.accept_new_host_keys)?;
    let mut targets = std::collections::BTreeMap::new();
    for n in &site.nodes {
        targets.insert(n.hostname.to_string(), super::reach::target(site, n)?);
    }
    let names: Vec<String> = site.nodes.iter().map(|n| n.hostname.to_string()).collect();
    eprintln!(
        "aerie deploy: waiting up to {} s for {} node(s) to answer on SSH",
        args.wait_nodes,
        names.len()
    );
    let probe = |h: &str| {
        let t = &targets[h];
        crate::ssh::Connection::open(t, &opts, &pins)
            .map(drop)
            .map_err(|e| format!("{}: {e}", super::reach::address(t)))
    };
    let took = deploy::wait::until_up(
        &names,
        std::time::Duration::from_secs(args.wait_nodes),
        std::time::Duration::from_secs(5),
        &probe,
        &mut |line| eprintln!("aerie deploy: {line}"),
    )?;
    eprintln!(
        "aerie deploy: every node answers (after {:.1} s)",
        took.as_secs_f64()
    );
    Ok(())
}

/// The steps from `from` on; a failure is printed with the command that
/// resumes, and returned as (the failed step, its exit code).
fn steps(
    args: &DeployArgs,
    site: &crate::site::Site,
    profile: &crate::profile::Profile,
    spec: &crate::profile::KollaSpec,
    from: StepArg,
) -> Result<(), (StepArg, i32)> {
    let start = STEPS.iter().position(|s| *s == from).unwrap_or(0);
    for (i, step) in STEPS.iter().enumerate().skip(start) {
        eprintln!(
            "aerie deploy: step {}/{} {}{}",
            i + 1,
            STEPS.len(),
            name(*step),
            if args.check { " (check)" } else { "" }
        );
        let result = match step {
            StepArg::Hosts => hosts(args),
            StepArg::Kolla => kolla(args, site, profile, spec),
            StepArg::Networks => networks(args, site, profile),
            StepArg::Register => register(args, site, profile),
        };
        if let Err(e) = result {
            if e.downcast_ref::<Reported>().is_none() {
                eprintln!("aerie: error: {e:#}");
            }
            eprintln!(
                "aerie deploy: step {} failed; after fixing it, resume with:\n  {}",
                name(*step),
                resume_command(*step)
            );
            // Kolla's task, or its credentials not reaching the frontend.
            let code = if e.downcast_ref::<deploy::KollaFailed>().is_some()
                || e.downcast_ref::<deploy::openrc::DeliveryError>().is_some()
            {
                HOSTS_FAILED
            } else {
                crate::commands::exit_code(&e)
            };
            return Err((*step, code));
        }
    }
    Ok(())
}

/// This command line with `--step STEP` (any earlier `--step` dropped).
fn resume_command(step: StepArg) -> String {
    let mut words: Vec<String> = vec!["aerie".into()];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--step" {
            args.next();
            continue;
        }
        if a.starts_with("--step=") || a == "--resume" {
            continue;
        }
        words.push(a);
    }
    words.push("--step".into());
    words.push(name(step).into());
    crate::shell::join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "))
}

fn hosts(args: &DeployArgs) -> anyhow::Result<()> {
    super::apply::run(&ApplyArgs {
        site: args.site.clone(),
        hosts: Vec::new(),
        role: None,
        check: args.check,
        // A check shows what would change in each file, as `apply --check --diff`.
        diff: args.check,
        parallel: args.reach.parallel,
        output: args.reach.output,
        identity: args.reach.identity.clone(),
        known_hosts: args.reach.known_hosts.clone(),
        accept_new_host_keys: args.accept_new_host_keys,
        connect_timeout: args.reach.connect_timeout,
    })
}

fn networks(
    args: &DeployArgs,
    site: &crate::site::Site,
    profile: &crate::profile::Profile,
) -> anyhow::Result<()> {
    super::networks::run_loaded(
        &NetworksArgs {
            site: args.site.clone(),
            check: args.check,
            accept_new_host_keys: args.accept_new_host_keys,
            local: args.local,
            reach: args.reach.clone(),
        },
        site,
        profile,
    )
}

fn register(
    args: &DeployArgs,
    site: &crate::site::Site,
    profile: &crate::profile::Profile,
) -> anyhow::Result<()> {
    if args.check {
        eprintln!("aerie deploy: register changes the cloud and has no check; skipped");
        return Ok(());
    }
    super::register::run_loaded(
        &RegisterArgs {
            site: args.site.clone(),
            nodes: Vec::new(),
            reinstalled: Vec::new(),
            accept_new_host_keys: args.accept_new_host_keys,
            timeout: 600,
            poll_interval: 5.0,
            local: args.local,
            reach: args.reach.clone(),
        },
        site,
        profile,
    )
}

/// Where Kolla's inputs go: `--config-dir`, else `<site dir>/<site name>-kolla`.
fn config_dir(args: &DeployArgs, site: &crate::site::Site) -> PathBuf {
    args.config_dir.clone().unwrap_or_else(|| {
        let beside = match &args.site.source() {
            crate::site::Source::File(p) => crate::fsutil::parent_or_dot(p).to_path_buf(),
            crate::site::Source::Example(_) => PathBuf::from("."),
        };
        beside.join(format!("{}-kolla", site.site.name))
    })
}

/// The kolla step (`deploy::kolla_step`), as this command line asks it.
fn kolla(
    args: &DeployArgs,
    site: &crate::site::Site,
    profile: &crate::profile::Profile,
    spec: &crate::profile::KollaSpec,
) -> anyhow::Result<()> {
    let dir = config_dir(args, site);
    let secrets_path =
        super::render::secrets_path(&args.site.source(), site, args.secrets.as_deref(), &dir);
    let ssh = SshEnv {
        known_hosts: Some(
            args.reach
                .known_hosts
                .known_hosts
                .clone()
                .unwrap_or_else(crate::ssh::known_hosts::default_path),
        ),
        identity: args.reach.identity.first().cloned(),
    };
    let run_id = crate::apply::run_id::new();
    let options = super::reach::options(&args.reach);
    let remote = if args.local {
        None
    } else {
        let fe = site.frontend().ok_or_else(|| {
            UsageError(
                "the site needs exactly one frontend to deliver Kolla's admin credentials to"
                    .into(),
            )
        })?;
        let target = super::reach::target(site, fe)?;
        let pins = super::reach::pins(&args.reach, args.accept_new_host_keys)?;
        let label = format!("{} ({})", fe.hostname, super::reach::address(&target));
        Some((target, pins, label))
    };
    let frontend = match &remote {
        None => Frontend::Local,
        Some((target, pins, label)) => Frontend::Remote {
            label: label.clone(),
            target,
            options: &options,
            pins,
            run_id: &run_id,
        },
    };
    let step = deploy::KollaStep {
        site,
        profile,
        spec,
        venv_dir: deploy::venv::chosen_dir(args.kolla.kolla_venv.as_deref(), spec),
        config_dir: dir,
        secrets_path,
        virt: args.kolla.virt_type.into(),
        ssh,
        frontend,
        check: args.check,
    };
    deploy::kolla_step::run(&step, &Bars::default())
}
