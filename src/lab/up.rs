//! `lab up` from start to end: host checks (nothing made when they fail),
//! checks of names and inputs, the lab folder and its state file, then the
//! driver; on any failure everything made so far is undone.

use super::checks::{self, Fixable, HostNotReady, Needs};
use super::facts::HostFacts;
use super::model::{Accel, Boot, Driver};
use super::netboot::{self, PxeServe, ServerSpec};
use super::plan::LabPlan;
use super::progress::Progress;
use super::state::{Ledger, Made, NetbootRecord, State, VmRecord};
use super::{image_vm, qemu, undo, vagrant};
use crate::exit::UsageError;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// What to do when nested virtualization is off.
pub trait NestedOffer {
    /// Whether to write the module option for `module`.
    fn accept(&self, module: &str, path: &Path) -> bool;
}

/// Everything `lab up` was asked.
pub struct UpRequest<'a> {
    pub site: &'a crate::site::Site,
    /// The site's profile (the built-in one, or `--profile FILE`).
    pub profile: &'a crate::profile::Profile,
    /// The site file's text (the qemu driver puts it on the installer ISO).
    pub site_yaml: String,
    pub plan: LabPlan,
    pub dir: PathBuf,
    pub driver: Driver,
    pub accel: Accel,
    pub iso: Option<PathBuf>,
    /// `--image DISK` (qemu driver, Debian 12 sites), probed, and the
    /// firmware it boots under.
    pub image: Option<ImageBoot>,
    /// The site's secrets file (render-time host keys), for `--image`: read,
    /// completed and written back (0600) once the checks have passed.
    pub secrets_file: Option<PathBuf>,
    /// How the qemu driver's VMs reach the installer.
    pub boot: Boot,
    /// `--boot pxe`: the command line that runs the lab's boot server,
    /// before `--dir DIR` (aerie's own binary, `lab boot-server`).
    pub boot_server: Vec<std::ffi::OsString>,
    pub box_name: String,
    /// Kickstarts, the Vagrantfile and the installer's menus (`--templates`).
    pub templates: crate::templates::Templates,
}

/// What `--image` boots: the disk (only read) and OVMF.
pub struct ImageBoot {
    pub disk: super::image::DiskImage,
    pub ovmf: super::firmware::Ovmf,
}

/// Run the host checks; on problems, offer the nested fix if it applies and
/// fail with every problem and its remedy. Returns the warnings.
pub fn host_checks(
    req: &UpRequest,
    facts: &dyn HostFacts,
    offer: &dyn NestedOffer,
) -> anyhow::Result<Vec<String>> {
    let needs = Needs {
        accel: req.accel,
        memory_mib: req.plan.memory_mib(),
        disk_mib: req.plan.disk_mib(),
        dir: &req.dir,
    };
    let outcome = checks::check(facts, &needs);
    if outcome.problems.is_empty() {
        return Ok(outcome.warnings);
    }
    let mut note = None;
    if let Some(Fixable::NestedOff(module)) = outcome.fixable {
        if offer.accept(module, &facts.modprobe_conf()) {
            note = Some(checks::enable_nested(facts, module)?);
        }
    }
    Err(HostNotReady {
        problems: outcome.problems,
        note,
    }
    .into())
}

/// The lab folder: refuse one holding a lab or other files; create it if
/// needed (each created level is recorded).
fn prepare_dir(dir: &Path) -> anyhow::Result<Vec<Made>> {
    if dir.join(super::state::FILE).exists() {
        return Err(UsageError(format!(
            "a lab is already up in {} (see `aerie lab status`); take it down with `aerie lab down --dir {0}` first, or give another --dir",
            dir.display()
        ))
        .into());
    }
    if dir.is_dir() {
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        if entries.next().is_some() {
            return Err(UsageError(format!(
                "{} is not empty; the lab needs a folder of its own (give --dir NEW)",
                dir.display()
            ))
            .into());
        }
        return Ok(Vec::new());
    }
    let mut missing = Vec::new();
    let mut p = dir.to_path_buf();
    while !p.as_os_str().is_empty() && !p.exists() {
        missing.push(p.clone());
        p = match p.parent() {
            Some(parent) => parent.to_path_buf(),
            None => break,
        };
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(missing
        .into_iter()
        .rev()
        .map(|path| Made::Dir { path })
        .collect())
}

/// The VMs as `status` and `ssh` read them.
fn vm_records(plan: &LabPlan, dir: &Path, driver: Driver) -> Vec<VmRecord> {
    plan.vms
        .iter()
        .map(|vm| VmRecord {
            name: vm.name.clone(),
            role: vm.role.as_str().to_string(),
            address: vm.address,
            ssh_user: vm.ssh_user.clone(),
            ssh_port: vm.ssh_port,
            serial_log: (driver == Driver::Qemu)
                .then(|| dir.join(format!("{}.serial.log", vm.name))),
        })
        .collect()
}

/// Make the lab. Host checks must have passed.
pub fn up(req: &UpRequest, progress: &Progress) -> anyhow::Result<Ledger> {
    if req.boot == Boot::Pxe && req.driver != Driver::Qemu {
        return Err(UsageError(
            "--boot pxe works with --driver qemu only (the vagrant driver boots its box)".into(),
        )
        .into());
    }
    // --boot pxe: the site as the lab's boot server sees it (its netboot:,
    // every boot MAC), rendered from that.
    let pxe_site = match req.boot {
        Boot::Pxe => Some(netboot::boot_site(req.site, &req.plan)?),
        Boot::Iso => None,
    };
    if let Some((_, Some(note))) = &pxe_site {
        progress.say(&format!("  note: {note}"));
    }
    if req.image.is_some() {
        image_vm::preflight(req.site, &req.plan)?;
    }
    let secrets = match (&req.image, &req.secrets_file) {
        (Some(_), Some(path)) => Some(crate::render::secrets::load_or_make(
            path,
            req.site,
            req.profile,
            &mut crate::render::secrets::ssh_keygen,
        )?),
        _ => None,
    };
    let rendered = render(
        req,
        pxe_site.as_ref().map(|(site, _)| site),
        secrets.as_ref(),
    )?;
    let iso = installer_iso(req)?;
    let dir = std::path::absolute(&req.dir)?;
    let pxe = match (&pxe_site, &iso) {
        (Some((site, _)), Some(base)) => Some(pxe_serve(req, site, base, &rendered)?),
        _ => None,
    };
    let netboot_record = match &pxe_site {
        Some((site, _)) => Some(NetbootRecord {
            url: crate::netboot::Plan::new(site)?.base_url(),
            state_dir: dir.join(netboot::STATE_DIR),
            log: dir.join(netboot::LOG),
        }),
        None => None,
    };
    let qemu_lab = iso.as_deref().map(|iso| qemu::QemuLab {
        plan: &req.plan,
        dir: &dir,
        iso,
        accel: req.accel,
        site: req.site,
        site_yaml: &req.site_yaml,
        rendered: &rendered,
        templates: &req.templates,
        pxe: pxe.as_ref(),
    });
    let installer = qemu_lab.as_ref().map(qemu::preflight).transpose()?;
    let image_lab = req.image.as_ref().map(|boot| image_vm::ImageLab {
        plan: &req.plan,
        dir: &dir,
        image: &boot.disk,
        ovmf: &boot.ovmf,
        accel: req.accel,
        site: req.site,
        profile: req.profile,
        rendered: &rendered,
        secrets: secrets.as_ref(),
    });
    let dirs = prepare_dir(&dir)?;
    let mut ledger = Ledger::new(
        &dir,
        State {
            site: req.plan.site.clone(),
            driver: req.driver,
            vms: vm_records(&req.plan, &dir, req.driver),
            image: req.image.as_ref().map(|b| b.disk.path.clone()),
            made: dirs,
            netboot: netboot_record,
        },
    );
    let result = ledger
        .save()
        .and_then(|()| match (&image_lab, &qemu_lab, &installer) {
            (Some(lab), _, _) => image_vm::up(lab, &mut ledger, progress),
            (None, Some(lab), Some(installer)) => qemu::up(lab, installer, &mut ledger, progress),
            _ => vagrant_up(req, &dir, &rendered, &mut ledger, progress),
        });
    match result {
        Ok(()) => Ok(ledger),
        Err(err) => Err(rolled_back(err, &mut ledger, &dir, progress)),
    }
}

/// The installer ISO the qemu driver boots (none for a disk image or the
/// vagrant driver), or a usage error saying to give one.
fn installer_iso(req: &UpRequest) -> anyhow::Result<Option<PathBuf>> {
    Ok(match (req.driver, &req.iso) {
        (Driver::Qemu, _) if req.image.is_some() => None,
        (Driver::Qemu, Some(iso)) => Some(std::path::absolute(iso)?),
        (Driver::Qemu, None) if req.boot == Boot::Pxe => {
            return Err(UsageError(
                "--boot pxe serves the installer's kernel, initrd and stage2 from a distribution's installer ISO: give --iso PATH".into(),
            )
            .into())
        }
        (Driver::Qemu, None) => {
            return Err(UsageError(
                "the qemu driver boots aerie's installer ISO: give --iso PATH (a distribution's EL installer ISO, which lab up remasters, or one `aerie iso` made)".into(),
            )
            .into())
        }
        (Driver::Vagrant, _) => None,
    })
}

/// What `--boot pxe` serves: the lab's boot site, the base ISO, the
/// console's kernel arguments and every node's kickstart.
fn pxe_serve(
    req: &UpRequest,
    site: &crate::site::Site,
    base: &Path,
    rendered: &crate::render::Rendered,
) -> anyhow::Result<PxeServe> {
    Ok(PxeServe {
        spec: ServerSpec {
            site: crate::site::load::to_yaml(site),
            base: base.to_path_buf(),
            kernel_args: qemu::CONSOLE
                .parse::<crate::iso::bootmenu::Console>()
                .map_err(anyhow::Error::msg)?
                .kernel_args()
                .to_vec(),
            kickstarts: rendered.node_kickstarts().into_iter().collect(),
        },
        argv: req.boot_server.clone(),
    })
}

/// The vagrant driver: the machines up, then the bundles delivered over SSH.
fn vagrant_up(
    req: &UpRequest,
    dir: &Path,
    rendered: &crate::render::Rendered,
    ledger: &mut Ledger,
    progress: &Progress,
) -> anyhow::Result<()> {
    let hosts = vagrant::up(
        &req.plan,
        dir,
        &req.box_name,
        &req.templates,
        ledger,
        progress,
    )?;
    progress.say(&format!(
        "  vagrant machines up; SSH endpoints in {}/ssh-config",
        dir.display()
    ));
    progress.step("delivering the bundles over SSH");
    ledger.record(Made::File {
        path: dir.join("known_hosts"),
    })?;
    let reports = super::deliver::deliver(dir, &hosts, &rendered.bundles)?;
    let (lines, ok) = super::deliver::summary(&reports);
    for line in &lines {
        progress.say(line);
    }
    if !ok {
        // The machines are up and stay up: deliver again with
        // `aerie apply` once the cause is fixed.
        progress.say("  some bundles were not delivered; the lab stays up (see above)");
    }
    Ok(())
}

/// Undo everything `ledger` lists after `err`; the error says whether all of
/// it was removed or what is left and how to remove it.
fn rolled_back(
    err: anyhow::Error,
    ledger: &mut Ledger,
    dir: &Path,
    progress: &Progress,
) -> anyhow::Error {
    progress.step("rolling back");
    let errors = undo::undo_all(ledger, &mut |what| {
        progress.say(&format!("  rollback: {what}"))
    });
    if errors.is_empty() {
        return err.context("lab up failed; everything it had made was removed");
    }
    let list: Vec<String> = errors.iter().map(|e| format!("{e:#}")).collect();
    err.context(format!(
        "lab up failed, and rolling back failed too ({}); {} lists what is left: run `aerie lab down --dir {}` after fixing that",
        list.join("; "),
        ledger.path.display(),
        dir.display()
    ))
}

/// The site's kickstarts and bundles, as `aerie render` makes them (of the
/// site with the lab's `netboot:` when given).
fn render(
    req: &UpRequest,
    site: Option<&crate::site::Site>,
    secrets: Option<&crate::render::secrets::Secrets>,
) -> anyhow::Result<crate::render::Rendered> {
    Ok(crate::render::render_site_with(
        site.unwrap_or(req.site),
        req.profile,
        &req.templates,
        crate::render::Options::default(),
        secrets,
    )?)
}

/// Take the lab down: undo everything in its state file.
pub fn down(dir: &Path, say: &mut dyn FnMut(&str)) -> anyhow::Result<()> {
    let mut ledger = Ledger::load(dir)?;
    let errors = undo::undo_all(&mut ledger, say);
    if errors.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = errors.iter().map(|e| format!("  {e:#}")).collect();
    anyhow::bail!(
        "could not remove everything:\n{}\n{} keeps what is left; fix the cause and run `aerie lab down` again",
        list.join("\n"),
        ledger.path.display()
    )
}
