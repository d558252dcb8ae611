//! `aerie lab up|status|ssh|down`: thin over `crate::lab`.

use crate::cli::{LabCommand, LabUpArgs};
use crate::exit::UsageError;
use crate::lab::facts::SysHost;
use crate::lab::progress::Progress;
use crate::lab::up::{self, NestedOffer, UpRequest};
use crate::lab::{plan, state::Ledger, status};
use crate::lab::{Accel, Driver};
use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

pub fn run(command: LabCommand) -> anyhow::Result<()> {
    match command {
        LabCommand::Up(args) => lab_up(&args),
        LabCommand::Status(dir) => lab_status(&dir.dir),
        LabCommand::Ssh { node, dir } => lab_ssh(&dir.dir, &node),
        LabCommand::Down(dir) => {
            let progress = Progress::new();
            progress.step("taking the lab down");
            let result = up::down(&dir.dir, &mut |what| progress.say(&format!("  {what}")));
            progress.finish();
            result?;
            println!(
                "aerie lab: {} is down; everything `lab up` made is removed",
                dir.dir.display()
            );
            Ok(())
        }
    }
}

/// The nested fix: with --enable-nested yes; at a terminal, ask; else no.
struct Offer {
    flag: bool,
}

impl NestedOffer for Offer {
    fn accept(&self, module: &str, path: &Path) -> bool {
        if self.flag {
            return true;
        }
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            return false;
        }
        dialoguer::Confirm::new()
            .with_prompt(format!(
                "Nested virtualization is off. Write `options {module} nested=1` to {}? (the module must then be reloaded or the host rebooted)",
                path.display()
            ))
            .default(false)
            .interact()
            .unwrap_or(false)
    }
}

fn lab_up(args: &LabUpArgs) -> anyhow::Result<()> {
    let (driver, accel) = (Driver::from(args.driver), Accel::from(args.accel));
    if accel == Accel::Tcg && driver != Driver::Qemu {
        return Err(UsageError("--accel tcg works with --driver qemu only".into()).into());
    }
    let source = args.site.source();
    let (site, profile) = super::load(&args.site)?;
    super::load::kickstart_road(&site, "aerie lab up")?;
    let prefix = args
        .prefix
        .clone()
        .unwrap_or_else(|| plan::default_prefix(site.site.name.as_str()));
    let sizes = plan::Sizes {
        memory_mib: args.memory,
        cpus: args.cpus,
        disk_gb: args.disk_gb,
    };
    let plan = plan::plan(&site, &sizes, &prefix).map_err(UsageError)?;
    let req = UpRequest {
        site: &site,
        profile: &profile,
        site_yaml: source.text()?,
        plan,
        dir: args.dir.dir.clone(),
        driver,
        accel,
        iso: args.iso.clone(),
        box_name: args.box_name.clone(),
        templates: crate::templates::Templates::new(args.templates.as_deref())?,
    };
    let facts = SysHost::new(args.host_root.as_deref());
    let warnings = up::host_checks(
        &req,
        &facts,
        &Offer {
            flag: args.enable_nested,
        },
    )?;
    for w in &warnings {
        eprintln!("aerie: {w}");
    }
    let progress = Progress::new();
    let started = std::time::Instant::now();
    let result = up::up(&req, &progress);
    progress.finish();
    let ledger = result?;
    println!(
        "aerie lab: {} VM(s) of site {} up with the {} driver in {:.0?} (folder {})",
        req.plan.vms.len(),
        req.plan.site,
        req.driver.as_str(),
        started.elapsed(),
        args.dir.dir.display()
    );
    for vm in &ledger.state.vms {
        let log = vm
            .serial_log
            .as_ref()
            .map(|l| format!(", serial console {}", l.display()))
            .unwrap_or_default();
        println!(
            "  {:<12} {:<9} {}{log}",
            vm.name,
            vm.role,
            vm.address.map_or_else(|| "-".into(), |a| a.to_string())
        );
    }
    if req.driver == Driver::Qemu {
        println!(
            "The VMs install themselves from their kickstarts (aerie.node=NAME picks each node's);"
        );
        println!("after the installation they power off. `aerie lab status` shows them, `aerie lab down` removes the lab.");
    }
    Ok(())
}

fn lab_status(dir: &Path) -> anyhow::Result<()> {
    let ledger = Ledger::load(dir)?;
    println!(
        "lab of site {} ({} driver) in {}",
        ledger.state.site,
        ledger.state.driver,
        dir.display()
    );
    println!(
        "{:<12} {:<9} {:<16} {:<8} SSH",
        "NODE", "ROLE", "ADDRESS", "VM"
    );
    for s in status::of(&ledger.state, Duration::from_secs(2)) {
        println!(
            "{:<12} {:<9} {:<16} {:<8} {}",
            s.name,
            s.role,
            s.address,
            s.process,
            if s.ssh { "answers" } else { "no answer" }
        );
    }
    Ok(())
}

fn lab_ssh(dir: &Path, node: &str) -> anyhow::Result<()> {
    let ledger = Ledger::load(dir)?;
    let Some(vm) = ledger.state.vms.iter().find(|v| v.name == node) else {
        let names: Vec<&str> = ledger.state.vms.iter().map(|v| v.name.as_str()).collect();
        return Err(UsageError(format!(
            "the lab has no node {node:?}; nodes: {}",
            names.join(", ")
        ))
        .into());
    };
    let mut cmd = if ledger.state.driver == Driver::Vagrant {
        let mut c = crate::exec::command("vagrant", ["ssh", node]);
        c.current_dir(dir);
        c
    } else {
        let Some(address) = vm.address else {
            return Err(UsageError(format!("{node} has no management address in the site")).into());
        };
        crate::exec::command(
            "ssh",
            [
                "-p".to_string(),
                vm.ssh_port.to_string(),
                format!("{}@{address}", vm.ssh_user),
            ],
        )
    };
    Err(crate::exec::replace(&mut cmd).into())
}
