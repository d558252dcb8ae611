//! `aerie converge`: carry out a bundle's plan on this host (or a root
//! directory): write changed files, apply edits, run fired commands.

use crate::bundle::converge::{self, Firing, LocalRoot};
use crate::bundle::HostBundle;
use crate::cli::ConvergeArgs;
use crate::exec;
use anyhow::Context;

pub fn run(args: &ConvergeArgs) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(&args.bundle).map_err(|source| crate::site::load::ReadError {
            path: args.bundle.display().to_string(),
            source,
        })?;
    let bundle: HostBundle = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an aerie bundle", args.bundle.display()))?;
    let root = LocalRoot(args.root.clone());
    let plan = converge::plan(&bundle, &root)?;
    for f in &plan.files {
        let state = match (f.changed, f.existed) {
            (false, _) => "unchanged",
            (true, true) => "changed",
            (true, false) => "created",
        };
        println!("{state:9} {}", f.path);
    }
    if args.dry_run {
        for a in converge::runnable(&plan, !args.install) {
            let why = match &a.firing {
                Firing::Changed(paths) => format!("{} changed", paths.join(", ")),
                _ => "if its check fails".to_string(),
            };
            println!("would run {} ({why})", a.action.command_line()?);
        }
        return Ok(());
    }
    converge::write_local(&plan, &root)?;
    let reasons = converge::reboot_reasons(&bundle, &plan);
    // At install time the first boot is still to come: nothing to mark.
    if !args.install {
        mark_reboot_required(&root, &reasons)?;
    }
    let runs_commands = args.root == std::path::Path::new("/");
    for a in converge::runnable(&plan, !args.install) {
        if !runs_commands {
            println!("not run (root is not /): {}", a.action.command_line()?);
            continue;
        }
        if let crate::bundle::Trigger::Unless { check } = &a.action.trigger {
            match exec::run(&mut exec::command(&check[0], &check[1..])) {
                Ok(_) => {
                    println!("ok        {}", a.action.command_line()?);
                    continue;
                }
                Err(exec::ExecError::Failed { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        exec::run(&mut exec::command(&a.action.argv[0], &a.action.argv[1..]))?;
        println!("ran       {}", a.action.command_line()?);
    }
    // What the actions wrote (update-grub's grub.cfg) is on disk before
    // anyone reboots: a power cut after converge must not boot the old
    // boot loader configuration (or none).
    if runs_commands && plan.changed().next().is_some() {
        crate::fsutil::sync_all_filesystems();
    }
    for r in &reasons {
        println!("reboot required: {r}");
    }
    Ok(())
}

/// Mark the host (under its root) as needing a reboot, as `aerie apply` does.
fn mark_reboot_required(root: &LocalRoot, reasons: &[String]) -> anyhow::Result<()> {
    let target = root.resolve(converge::REBOOT_MARKER);
    let current = match std::fs::read(&target) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", target.display())),
    };
    let Some(content) = converge::reboot_marker(current.as_deref(), reasons) else {
        return Ok(());
    };
    let dir = target.parent().expect("the marker has a directory");
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    crate::fsutil::write_atomic(&target, &content, 0o644, crate::fsutil::Overwrite::Allow)
}
