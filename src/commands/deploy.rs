//! `aerie deploy`: the cloud comes up, in steps: `hosts` (the host bundles
//! by the SSH road, as `aerie apply`), `kolla` (Kolla's inputs rendered into
//! the config dir, then kolla-ansible install-deps, bootstrap-servers,
//! prechecks, deploy, post-deploy from the profile's venv), `networks` (the
//! provider networks, as `aerie networks`), `register` (as `aerie register`).
//! `--step` starts at a step; a failed step says the command that resumes
//! from it. Every step is idempotent: a rerun changes nothing.

use super::deploy_progress::Bars;
use crate::cli::{ApplyArgs, DeployArgs, NetworksArgs, RegisterArgs, StepArg};
use crate::deploy::{self, KollaVenv, SshEnv};
use crate::exit::{Reported, UsageError, HOSTS_FAILED};
use crate::render::{self, output};
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

pub fn run(args: &DeployArgs) -> anyhow::Result<()> {
    let (site, profile) = super::load(&args.site)?;
    let Some(spec) = profile.kolla.clone() else {
        return Err(UsageError(format!(
            "profile {} is not deployed by aerie deploy (it has no `kolla:` section): use `aerie apply` then `aerie register`",
            profile.name
        ))
        .into());
    };
    let start = STEPS.iter().position(|s| *s == args.step).unwrap_or(0);
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
            StepArg::Kolla => kolla(args, &site, &profile, &spec),
            StepArg::Networks => networks(args),
            StepArg::Register => register(args),
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
            let code = if e.downcast_ref::<deploy::KollaFailed>().is_some() {
                HOSTS_FAILED
            } else {
                crate::commands::exit_code(&e)
            };
            return Err(Reported(code).into());
        }
    }
    eprintln!("aerie deploy: done");
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
        if a.starts_with("--step=") {
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
        diff: false,
        parallel: args.reach.parallel,
        output: args.reach.output,
        identity: args.reach.identity.clone(),
        known_hosts: args.reach.known_hosts.clone(),
        accept_new_host_keys: args.accept_new_host_keys,
        connect_timeout: args.reach.connect_timeout,
    })
}

fn networks(args: &DeployArgs) -> anyhow::Result<()> {
    super::networks::run(&NetworksArgs {
        site: args.site.clone(),
        check: args.check,
        accept_new_host_keys: args.accept_new_host_keys,
        local: args.local,
        reach: args.reach.clone(),
    })
}

fn register(args: &DeployArgs) -> anyhow::Result<()> {
    if args.check {
        eprintln!("aerie deploy: register changes the cloud and has no check; skipped");
        return Ok(());
    }
    super::register::run(&RegisterArgs {
        site: args.site.clone(),
        nodes: Vec::new(),
        reinstalled: Vec::new(),
        accept_new_host_keys: args.accept_new_host_keys,
        timeout: 600,
        poll_interval: 5.0,
        local: args.local,
        reach: args.reach.clone(),
    })
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

fn kolla(
    args: &DeployArgs,
    site: &crate::site::Site,
    profile: &crate::profile::Profile,
    spec: &crate::profile::KollaSpec,
) -> anyhow::Result<()> {
    let venv_dir = deploy::venv::chosen_dir(args.kolla.kolla_venv.as_deref(), spec);
    let venv = if args.check {
        KollaVenv::open(&venv_dir, spec)?
    } else {
        KollaVenv::ensure(&venv_dir, spec)?
    };
    let source = &args.site.source();
    let dir = config_dir(args, site);
    let secrets_path = super::render::secrets_path(source, site, args.secrets.as_deref(), &dir);
    let input = super::render::kolla_source(spec, &args.kolla, &secrets_path)?;
    // The config dir is Kolla's --configdir: the files of render's kolla/.
    let files = crate::kolla::inputs(site, profile, &input, args.kolla.virt_type.into())?
        .into_iter()
        .map(|f| render::OutFile {
            path: f.path,
            mode: f.mode,
            content: f.content.into_bytes(),
        })
        .collect();
    let rendered = render::Rendered {
        files,
        bundles: Vec::new(),
    };
    if same_tree(&dir, &rendered) {
        eprintln!("kolla inputs: {} unchanged", dir.display());
    } else if args.check {
        eprintln!("kolla inputs: {} would be written", dir.display());
    } else {
        output::write(&dir, &rendered, output::Replace::IfMarked)?;
        eprintln!("kolla inputs: wrote {}", dir.display());
    }
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
    let subs = deploy::SUBCOMMANDS;
    if args.check {
        for sub in subs {
            let cmd = deploy::run::command(&venv, &dir, sub, &ssh);
            println!("would run: {}", crate::exec::command_line(&cmd)?);
        }
        return Ok(());
    }
    let bars = Bars::new(subs.len());
    for (i, sub) in subs.iter().enumerate() {
        let cmd = deploy::run::command(&venv, &dir, sub, &ssh);
        bars.subcommand_started(i, subs.len(), sub, &crate::exec::command_line(&cmd)?);
        if let Err(e) = deploy::run::run(&venv, &dir, sub, &ssh, &bars) {
            bars.finish();
            return Err((*e).into());
        }
    }
    bars.finish();
    Ok(())
}

/// Whether `dir` already holds exactly these files (a rerun writes nothing).
fn same_tree(dir: &Path, rendered: &render::Rendered) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let expected: std::collections::BTreeSet<PathBuf> = rendered
        .files
        .iter()
        .map(|f| PathBuf::from(&f.path))
        .chain([PathBuf::from(output::MARKER)])
        .collect();
    let mut found = std::collections::BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            return false;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                found.insert(rel.to_path_buf());
            }
        }
    }
    found == expected
        && rendered.files.iter().all(|f| {
            let p = dir.join(&f.path);
            std::fs::read(&p).is_ok_and(|c| c == f.content)
                && std::fs::metadata(&p).is_ok_and(|m| m.permissions().mode() & 0o7777 == f.mode)
        })
}
