//! `aerie lab up|status|ssh|down`: thin over `crate::lab`.

use crate::cli::{LabCommand, LabUpArgs, OutputFormat};
use crate::exit::UsageError;
use crate::lab::facts::SysHost;
use crate::lab::progress::Progress;
use crate::lab::up::{self, ImageBoot, NestedOffer, UpRequest};
use crate::lab::{netboot, plan, state::Ledger, status};
use crate::lab::{Accel, Boot, Driver};
use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

pub fn run(command: LabCommand) -> anyhow::Result<()> {
    match command {
        LabCommand::Up(args) => lab_up(&args),
        LabCommand::Status(dir) => lab_status(&dir.dir),
        LabCommand::Ssh { node, dir, command } => lab_ssh(&dir.dir, &node, &command),
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
        LabCommand::BootServer(dir) => boot_server(&dir.dir),
    }
}

/// The lab's boot server, a daemon `lab up --boot pxe` starts: the same
/// serving as `aerie pxe serve`, with what the lab wrote for it.
fn boot_server(dir: &Path) -> anyhow::Result<()> {
    let (site, spec) = netboot::ServerSpec::load(dir)?;
    let opts = spec.options(dir);
    let kickstarts = spec.kickstarts.into_iter().collect();
    let sig = super::pxe::serve_until_signal(&site, kickstarts, &opts, OutputFormat::Text)?;
    eprintln!("aerie lab boot-server: {sig}: dnsmasq and the HTTP server stopped");
    Ok(())
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
    let (driver, accel, boot) = road_flags(args)?;
    let source = args.site.source();
    let (site, profile) = super::load(&args.site)?;
    distro_road(&site, args.image.is_some())?;
    let prefix = args
        .prefix
        .clone()
        .unwrap_or_else(|| plan::default_prefix(site.site.name.as_str()));
    // The disk image and the firmware, before anything is made.
    let image = match &args.image {
        Some(path) => Some(ImageBoot {
            disk: crate::lab::image::probe(path)?,
            ovmf: crate::lab::firmware::find()?,
        }),
        None => None,
    };
    let sizes = plan::Sizes {
        memory_mib: args.memory,
        cpus: args.cpus,
        // An overlay grows up to its image's size, whatever --disk-gb says.
        disk_gb: image.as_ref().map_or(args.disk_gb, |i| {
            u32::try_from(i.disk.virtual_mib().div_ceil(1024)).unwrap_or(u32::MAX)
        }),
    };
    let plan = plan::plan(&site, &sizes, &prefix).map_err(UsageError)?;
    let secrets_file = image.as_ref().map(|_| {
        let site_file = match &source {
            crate::site::Source::File(p) => Some(p.as_path()),
            crate::site::Source::Example(_) => None,
        };
        crate::render::secrets::default_path(site_file, site.site.name.as_str(), &args.dir.dir)
    });
    let req = UpRequest {
        site: &site,
        profile: &profile,
        site_yaml: source.text()?,
        plan,
        dir: args.dir.dir.clone(),
        driver,
        accel,
        iso: args.iso.clone(),
        image,
        secrets_file,
        boot,
        boot_server: vec![
            std::env::current_exe()?.into_os_string(),
            "lab".into(),
            "boot-server".into(),
        ],
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
    print_lab(&req, &ledger, started.elapsed(), &args.dir.dir);
    Ok(())
}

/// The driver, the acceleration and the boot road, when the flags go together.
fn road_flags(args: &LabUpArgs) -> anyhow::Result<(Driver, Accel, Boot)> {
    let (driver, accel) = (Driver::from(args.driver), Accel::from(args.accel));
    if accel == Accel::Tcg && driver != Driver::Qemu {
        return Err(UsageError("--accel tcg works with --driver qemu only".into()).into());
    }
    if args.image.is_some() && driver != Driver::Qemu {
        return Err(UsageError(
            "--image works with --driver qemu only (the VMs boot overlays of the disk image)"
                .into(),
        )
        .into());
    }
    let boot = Boot::from(args.boot);
    if boot == Boot::Pxe && driver != Driver::Qemu {
        return Err(UsageError(
            "--boot pxe works with --driver qemu only (the vagrant driver boots its box): add --driver qemu".into(),
        )
        .into());
    }
    Ok((driver, accel, boot))
}

/// What `lab up` made: the VMs, and how they boot and are reached.
fn print_lab(
    req: &UpRequest,
    ledger: &crate::lab::state::Ledger,
    elapsed: std::time::Duration,
    dir: &std::path::Path,
) {
    println!(
        "aerie lab: {} VM(s) of site {} up with the {} driver in {:.0?} (folder {})",
        req.plan.vms.len(),
        req.plan.site,
        req.driver.as_str(),
        elapsed,
        dir.display()
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
    if req.image.is_some() {
        println!(
            "Each VM boots its own overlay of the image with its cloud-init volume; its first boot"
        );
        println!(
            "converges it (`aerie:` lines on its serial console) and reboots it when aerie asks."
        );
        println!("`aerie lab status` shows them, `aerie lab ssh NODE` reaches them (host keys pinned at render),");
        println!("`aerie lab down` removes the lab.");
    } else if let Some(server) = &ledger.state.netboot {
        println!(
            "The VMs boot from the network: aerie's boot server at {} hands each its own kickstart (its log {});",
            server.url,
            server.log.display()
        );
        println!("after the installation they power off. `aerie lab status` shows them and each install step, `aerie lab down` removes the lab and stops the server.");
    } else if req.driver == Driver::Qemu {
        println!(
            "The VMs install themselves from their kickstarts (aerie.node=NAME picks each node's);"
        );
        println!("after the installation they power off. `aerie lab status` shows them, `aerie lab down` removes the lab.");
    }
}

/// Kickstart distributions boot the installer (`--iso`, vagrant boxes);
/// Debian 12 boots a disk image (`--image`), and nothing else.
fn distro_road(site: &crate::site::Site, image: bool) -> anyhow::Result<()> {
    let distro = site.site.distro.as_str();
    match (image, site.site.distro.installs_by_kickstart()) {
        (true, true) => Err(UsageError(format!(
            "site.distro: {distro}: `--image` boots a Debian 12 disk image that each node's cloud-init volume configures, and this site installs {distro} by kickstart; set `distro: debian12` in the site, or install {distro} from its installer with `--iso PATH` instead of `--image`"
        ))
        .into()),
        (false, false) => match super::load::kickstart_road(site, "aerie lab up") {
            Err(e) => Err(UsageError(format!(
                "{e}; or let the lab boot a Debian 12 disk image: `aerie lab up SITE --driver qemu --image DISK` (each node its own overlay of DISK with its cloud-init volume)"
            ))
            .into()),
            ok => ok,
        },
        _ => Ok(()),
    }
}

fn lab_status(dir: &Path) -> anyhow::Result<()> {
    let ledger = Ledger::load(dir)?;
    println!(
        "lab of site {} ({} driver) in {}",
        ledger.state.site,
        ledger.state.driver,
        dir.display()
    );
    let image = ledger.state.image.is_some();
    let converge_head = if image {
        format!("{:<10} ", "CONVERGE")
    } else {
        String::new()
    };
    println!(
        "{:<12} {:<9} {:<16} {:<8} {converge_head}SSH",
        "NODE", "ROLE", "ADDRESS", "VM"
    );
    for s in status::of(&ledger.state, Duration::from_secs(2)) {
        let converge = s.converge.map(|c| format!("{c:<10} ")).unwrap_or_default();
        println!(
            "{:<12} {:<9} {:<16} {:<8} {converge}{}",
            s.name,
            s.role,
            s.address,
            s.process,
            if s.ssh { "answers" } else { "no answer" }
        );
    }
    if let Some(server) = status::boot_server(&ledger.state) {
        let pid = server.pid.map(|p| format!("pid {p}, ")).unwrap_or_default();
        println!(
            "boot server: {} ({pid}{}, log {})",
            server.process,
            server.url,
            server.log.display()
        );
        println!("{:<12} {:<12} INSTALLED", "NODE", "STEP");
        for (name, step, installed) in &server.nodes {
            println!(
                "{name:<12} {step:<12} {}",
                if *installed { "yes" } else { "no" }
            );
        }
    }
    Ok(())
}

fn lab_ssh(dir: &Path, node: &str, command: &[String]) -> anyhow::Result<()> {
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
        if !command.is_empty() {
            let line = crate::shell::join(command)
                .map_err(|e| UsageError(format!("cannot pass that command to vagrant ssh: {e}")))?;
            c.arg("-c").arg(line);
        }
        c.current_dir(dir);
        c
    } else {
        let Some(address) = vm.address else {
            return Err(UsageError(format!("{node} has no management address in the site")).into());
        };
        let mut c = crate::exec::command("ssh", ["-p".to_string(), vm.ssh_port.to_string()]);
        // `--image` labs: the host keys made at render time, checked strictly.
        let pinned = std::path::absolute(dir.join(crate::lab::pinned::FILE))?;
        if pinned.is_file() {
            c.arg("-o")
                .arg(format!("UserKnownHostsFile={}", pinned.display()))
                .args(["-o", "StrictHostKeyChecking=yes"]);
        }
        c.arg(format!("{}@{address}", vm.ssh_user)).args(command);
        c
    };
    Err(crate::exec::replace(&mut cmd).into())
}
