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
            StepArg::Networks => networks(args, site, &on_frontend(args, site, profile)),
            StepArg::Register => register(args, site, &on_frontend(args, site, profile)),
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

/// The profile as the frontend's own tools use it: with `--local` the
/// frontend is Kolla's deploy host, and Kolla's post-deploy wrote the admin
/// credentials into the config dir (`<config dir>/admin-openrc.sh`), which
/// the networks and register steps then source.
fn on_frontend(
    args: &DeployArgs,
    site: &crate::site::Site,
    profile: &crate::profile::Profile,
) -> crate::profile::Profile {
    let mut profile = profile.clone();
    if args.local {
        let rc = config_dir(args, site)
            .join("admin-openrc.sh")
            .display()
            .to_string();
        if let Some(p) = profile.provider_networks.as_mut() {
            p.credentials = Some(rc.clone());
        }
        if let Some(r) = profile.registration.as_mut() {
            r.credentials = Some(rc);
        }
    }
    profile
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
    let input = if args.check {
        // Read the passwords, never make them: a check writes nothing.
        match crate::site::secrets::read(&secrets_path)?.kolla_passwords {
            Some(p) => Some(venv.source(p.expose().to_string())?),
            None => {
                eprintln!(
                    "kolla inputs: {} would be written; Kolla's passwords would be made (kolla-genpwd) into {}",
                    dir.display(),
                    secrets_path.display()
                );
                None
            }
        }
    } else {
        Some(super::render::kolla_source(
            spec,
            &args.kolla,
            &secrets_path,
        )?)
    };
    if let Some(input) = input {
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
        let changes = tree_changes(&dir, &rendered);
        if changes.is_empty() {
            eprintln!("kolla inputs: {} unchanged", dir.display());
        } else if args.check {
            eprintln!("kolla inputs: {} would be written:", dir.display());
            for c in &changes {
                println!("would {c}");
            }
        } else {
            output::write(&dir, &rendered, output::Replace::IfMarked)?;
            eprintln!("kolla inputs: wrote {}", dir.display());
        }
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

/// How `dir` differs from these files, one line per file (`write F (new)`,
/// `write F (changed)`, `chmod 0600 F`, `remove F`); empty: a rerun writes nothing.
fn tree_changes(dir: &Path, rendered: &render::Rendered) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut found = std::collections::BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
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
    let mut out = Vec::new();
    let mut expected = std::collections::BTreeSet::new();
    for f in &rendered.files {
        let rel = PathBuf::from(&f.path);
        let p = dir.join(&rel);
        let shown = p.display();
        match std::fs::read(&p) {
            Err(_) => out.push(format!("write {shown} (new)")),
            Ok(c) if c != f.content => out.push(format!("write {shown} (changed)")),
            Ok(_) => {
                let mode = std::fs::metadata(&p).map_or(0, |m| m.permissions().mode() & 0o7777);
                if mode != f.mode {
                    out.push(format!("chmod {:04o} {shown}", f.mode));
                }
            }
        }
        expected.insert(rel);
    }
    let marker = PathBuf::from(output::MARKER);
    if !found.contains(&marker) {
        out.push(format!("write {} (new)", dir.join(&marker).display()));
    }
    expected.insert(marker);
    for extra in found.difference(&expected) {
        out.push(format!("remove {}", dir.join(extra).display()));
    }
    out
}
