//! The qemu driver: bridges, taps, NAT and forwarding, qcow2 disks, and one
//! daemonized qemu per node booting aerie's installer ISO with its role's
//! kickstart. The installer ISO is made from `--iso BASE` with the library
//! behind `aerie iso` (into `DIR/installer.iso`), or is `--iso` itself when
//! aerie made it. With `--boot pxe` there is no installer ISO: the lab's
//! boot server ([`super::netboot`]) serves the installer from `--iso` and
//! the VMs boot from their NIC on the management bridge. Every made thing
//! goes into the ledger as soon as it exists.

use super::model::Accel;
use super::netboot::{self, PxeServe};
use super::plan::{LabPlan, VmPlan};
use super::progress::Progress;
use super::state::{Ledger, Made};
use super::{netdev, process};
use crate::exec;
use crate::exit::UsageError;
use crate::iso::media_ref::MediaRef;
use crate::iso::probe::{self, Probe};
use crate::iso::xorriso::{self, Xorriso};
use crate::iso::{binary, efi_image, layout, payload, remaster};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// The forwarding switch the NAT needs.
pub const IP_FORWARD: &str = "net.ipv4.ip_forward";
/// The installer ISO `lab up` makes from a base, in the lab folder.
pub const INSTALLER_ISO: &str = "installer.iso";
/// The VMs' serial console (their only console: qemu runs without display).
pub const CONSOLE: &str = "ttyS0,115200";

/// What the qemu driver needs beyond the plan.
pub struct QemuLab<'a> {
    pub plan: &'a LabPlan,
    pub dir: &'a Path,
    /// `--iso`: a distribution's installer, or one `aerie iso` made.
    pub iso: &'a Path,
    pub accel: Accel,
    pub site: &'a crate::site::Site,
    /// The site file's text (`/aerie/site.yaml` on the installer ISO).
    pub site_yaml: &'a str,
    pub rendered: &'a crate::render::Rendered,
    /// Kickstarts and the installer's menus (`--templates`).
    pub templates: &'a crate::templates::Templates,
    /// `--boot pxe`: the boot server to start; the VMs boot from the network.
    pub pxe: Option<&'a PxeServe>,
}

/// What `--iso` is, as preflight found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installer {
    /// aerie's installer ISO (`aerie iso` made it): booted as it is.
    Aerie { media: MediaRef },
    /// A distribution's installer ISO: remastered into `DIR/installer.iso`.
    Base { label: String },
    /// `--boot pxe`: the boot server serves the installer from `--iso`.
    Network,
}

/// Whether aerie made the ISO: only aerie's mark says so
/// ([`payload::STAMP`]); a base carrying its own `/ks/` is a base.
pub fn made_by_aerie(p: &Probe) -> bool {
    p.has(payload::STAMP)
}

/// What an aerie-made ISO lacks for this lab's VMs (their role kickstarts
/// and node kickstarts, and the kernel and initrd they boot).
fn missing_on_aerie_iso(p: &Probe, plan: &LabPlan) -> Vec<String> {
    let mut want = vec![layout::KERNEL.to_string(), layout::INITRD.to_string()];
    for vm in &plan.vms {
        want.push(format!("/ks/{}.cfg", vm.role.as_str()));
        want.push(format!("/aerie/{}/ks.cfg", vm.name));
    }
    let mut missing: Vec<String> = want.into_iter().filter(|f| !p.has(f)).collect();
    missing.dedup();
    missing
}

/// Everything that can be refused before anything is made.
pub fn preflight(lab: &QemuLab) -> anyhow::Result<Installer> {
    if !lab.iso.is_file() {
        return Err(UsageError(format!(
            "the installer ISO {} does not exist (give --iso PATH)",
            lab.iso.display()
        ))
        .into());
    }
    network_preflight(lab.plan)?;
    if lab.pxe.is_some() {
        netboot::preflight(lab.iso)?;
        return Ok(Installer::Network);
    }
    let probe = probe::probe(lab.iso)?;
    if made_by_aerie(&probe) {
        let missing = missing_on_aerie_iso(&probe, lab.plan);
        if !missing.is_empty() {
            return Err(UsageError(format!(
                "{} was made by aerie, but not for this lab: it has no {}; give --iso the distribution's ISO instead (lab up makes the installer from it), or remake it with `aerie iso SITE --base BASE`",
                lab.iso.display(),
                missing.join(", ")
            ))
            .into());
        }
        let uuid = probe.uuid.unwrap_or_default();
        return Ok(Installer::Aerie {
            media: MediaRef::for_iso(&probe.label, &uuid),
        });
    }
    // A base: refused now (unknown layout, missing tools) rather than half-way.
    layout::detect(lab.iso, &probe)?;
    xorriso::check_version()?;
    efi_image::check_tools()?;
    Ok(Installer::Base { label: probe.label })
}

/// The lab's network can be made: the tun driver, every name free.
pub fn network_preflight(plan: &LabPlan) -> anyhow::Result<()> {
    if !Path::new("/dev/net/tun").exists() {
        anyhow::bail!(
            "/dev/net/tun is missing: the tap devices need the tun driver (`modprobe tun`)"
        );
    }
    netdev::check_free(&plan.bridges(), &plan.taps(), &plan.nft_table)
}

pub fn up(
    lab: &QemuLab,
    installer: &Installer,
    ledger: &mut Ledger,
    progress: &Progress,
) -> anyhow::Result<()> {
    let from_iso = match installer {
        Installer::Network => None,
        _ => {
            let (iso, media) = installer_iso(lab, installer, ledger, progress)?;
            let files = boot_files(lab.dir, &iso, ledger, progress)?;
            Some((iso, media, files))
        }
    };
    disks(lab, ledger, progress)?;
    network(lab.plan, ledger, progress)?;
    let boot_net = match lab.pxe {
        Some(server) => {
            netboot::start(lab.dir, &server.spec, &server.argv, ledger, progress)?;
            Some(netboot::boot_network(lab.plan)?)
        }
        None => None,
    };
    for vm in &lab.plan.vms {
        progress.step(format!("starting {}", vm.name));
        let boot = match (&from_iso, boot_net) {
            (Some((iso, media, files)), _) => VmBoot::Installer {
                iso,
                files,
                kernel_args: kernel_args(media, vm.role.as_str(), &vm.name),
            },
            (None, Some(net)) => VmBoot::Network {
                nic: netboot::boot_nic(vm, net).with_context(|| {
                    format!("{} has no NIC on {}, the boot network", vm.name, net.name)
                })?,
            },
            (None, None) => anyhow::bail!("no way to boot {}", vm.name),
        };
        launch(
            lab.dir,
            vm,
            &qemu_args(vm, lab.accel, lab.dir, &boot),
            ledger,
        )?;
        progress.say(&format!(
            "  started {} ({} MiB, {} CPU)",
            vm.name, vm.memory_mib, vm.cpus
        ));
    }
    Ok(())
}

/// The ISO the VMs boot and how its kernel finds it: `--iso` when aerie made it, else
/// `DIR/installer.iso` remastered from it as `aerie iso --base` does.
fn installer_iso(
    lab: &QemuLab,
    installer: &Installer,
    ledger: &mut Ledger,
    progress: &Progress,
) -> anyhow::Result<(PathBuf, MediaRef)> {
    match installer {
        Installer::Aerie { media } => {
            progress.say(&format!(
                "  {} was made by aerie: the VMs boot it as it is (its kickstarts, not a new rendering of the site)",
                lab.iso.display()
            ));
            return Ok((lab.iso.to_path_buf(), media.clone()));
        }
        Installer::Base { .. } => {}
        Installer::Network => anyhow::bail!("--boot pxe boots no installer ISO"),
    }
    let out = lab.dir.join(INSTALLER_ISO);
    progress.step(format!(
        "making the installer ISO {} from {}",
        out.display(),
        lab.iso.display()
    ));
    let binary = binary::for_media(&binary::running()?, lab.site.site.distro)?;
    progress.say(&format!("  on the installer ISO: {}", binary.describe()));
    let items = payload::installer_for_site(
        lab.site,
        lab.site_yaml,
        lab.rendered,
        lab.templates,
        Some(&binary.path),
    )?;
    let opts = remaster::Options {
        base: lab.iso.to_path_buf(),
        out: out.clone(),
        force: false,
        title: lab.site.site.name.to_string(),
        console: Some(CONSOLE.parse().map_err(anyhow::Error::msg)?),
        kargs: Vec::new(),
        timeout_s: 5,
        mode: remaster::WriteMode::Grow,
    };
    ledger.record(Made::File { path: out.clone() })?;
    let base = lab.iso.display().to_string();
    let report = remaster::remaster(&opts, lab.templates, &items, &mut |p| {
        progress.step(format!("making the installer ISO from {base}: {p:.0}%"))
    })?;
    for w in &report.warnings {
        progress.say(&format!("  warning: {w}"));
    }
    for c in &report.changes {
        progress.say(&format!("  changed: {c}"));
    }
    progress.say(&format!(
        "  made {} ({}, label {:?})",
        out.display(),
        report.layout.as_str(),
        report.label
    ));
    Ok((out, report.media))
}

/// The installer's kernel and initrd, for direct kernel boot.
pub struct BootFiles {
    pub kernel: PathBuf,
    pub initrd: PathBuf,
}

fn boot_files(
    dir: &Path,
    iso: &Path,
    ledger: &mut Ledger,
    progress: &Progress,
) -> anyhow::Result<BootFiles> {
    progress.step("taking the kernel and initrd out of the installer ISO");
    let boot = dir.join("boot");
    std::fs::create_dir(&boot).with_context(|| format!("cannot create {}", boot.display()))?;
    ledger.record(Made::Tree { path: boot.clone() })?;
    let files = BootFiles {
        kernel: boot.join("vmlinuz"),
        initrd: boot.join("initrd.img"),
    };
    Xorriso::new()
        .quiet()
        .osirrox()
        .indev(iso)
        .extract(layout::KERNEL, &files.kernel)
        .extract(layout::INITRD, &files.initrd)
        .run()
        .with_context(|| {
            format!(
                "cannot take {} and {} out of {}",
                layout::KERNEL,
                layout::INITRD,
                iso.display()
            )
        })?;
    for f in [&files.kernel, &files.initrd] {
        if !f.is_file() {
            anyhow::bail!(
                "xorriso did not extract {} from {}",
                f.display(),
                iso.display()
            );
        }
    }
    Ok(files)
}

/// The kernel command line of one lab VM, as the installer ISO's menu entry
/// of its role has it (stage 2 and the role's kickstart on the ISO, by
/// label), plus the node by name (the dispatcher picks its kickstart) and
/// the serial console the lab logs.
pub fn kernel_args(media: &MediaRef, role: &str, node: &str) -> String {
    format!(
        "{} {} aerie.node={node} console={CONSOLE}",
        media.stage2_arg(),
        media.ks_arg(role)
    )
}

pub fn disk_path(dir: &Path, vm: &VmPlan) -> PathBuf {
    dir.join(format!("{}.qcow2", vm.name))
}

fn disks(lab: &QemuLab, ledger: &mut Ledger, progress: &Progress) -> anyhow::Result<()> {
    for vm in &lab.plan.vms {
        progress.step(format!("making the disk of {}", vm.name));
        let path = disk_path(lab.dir, vm);
        ledger.record(Made::File { path: path.clone() })?;
        let mut cmd = exec::command("qemu-img", ["create", "-q", "-f", "qcow2"]);
        cmd.arg(&path).arg(format!("{}G", vm.disk_gb));
        exec::run(&mut cmd)?;
    }
    Ok(())
}

pub fn network(plan: &LabPlan, ledger: &mut Ledger, progress: &Progress) -> anyhow::Result<()> {
    for net in &plan.networks {
        progress.step(format!("making bridge {} ({})", net.bridge, net.name));
        ledger.record(Made::Bridge {
            name: net.bridge.clone(),
        })?;
        let address = net.host_address.map(|a| (a, net.cidr.prefix_len()));
        netdev::add_bridge(&net.bridge, address)?;
    }
    for vm in &plan.vms {
        for nic in &vm.nics {
            ledger.record(Made::Tap {
                name: nic.tap.clone(),
            })?;
            netdev::add_tap(&nic.tap, &nic.bridge)?;
        }
    }
    let sources = plan.nat_sources();
    if sources.is_empty() {
        return Ok(());
    }
    progress.step("NAT to the uplink and IP forwarding");
    let before = netdev::read_sysctl(IP_FORWARD)?;
    if before != "1" {
        ledger.record(Made::Sysctl {
            key: IP_FORWARD.into(),
            before,
        })?;
        netdev::write_sysctl(IP_FORWARD, "1")?;
    }
    ledger.record(Made::NftTable {
        family: "ip".into(),
        name: plan.nft_table.clone(),
    })?;
    netdev::add_nft_table(&netdev::nat_ruleset(
        &plan.nft_table,
        &sources,
        &plan.bridges(),
    ))
}

/// qemu's arguments every lab VM starts with: machine, accelerator, size,
/// the serial console to `DIR/NODE.serial.log`, daemonized with a PID file
/// (absolute paths: qemu daemonizes into /).
pub fn common_args(vm: &VmPlan, accel: Accel, dir: &Path) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "-name".into(),
        vm.name.clone(),
        "-machine".into(),
        "q35".into(),
        "-accel".into(),
        match accel {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
        .into(),
    ];
    if accel == Accel::Kvm {
        // Passes vmx/svm through: nested KVM inside the compute nodes.
        a.extend(["-cpu".into(), "host".into()]);
    }
    a.extend([
        "-m".into(),
        vm.memory_mib.to_string(),
        "-smp".into(),
        vm.cpus.to_string(),
        "-display".into(),
        "none".into(),
        "-monitor".into(),
        "none".into(),
        "-serial".into(),
        format!("file:{}", escape(&serial_log(dir, vm))),
        "-daemonize".into(),
        "-pidfile".into(),
        pid_file(dir, vm).display().to_string(),
    ]);
    a
}

/// A path as a qemu option value (a comma is written as two).
pub fn escape(p: &Path) -> String {
    p.display().to_string().replace(',', ",,")
}

pub fn serial_log(dir: &Path, vm: &VmPlan) -> PathBuf {
    dir.join(format!("{}.serial.log", vm.name))
}

fn pid_file(dir: &Path, vm: &VmPlan) -> PathBuf {
    dir.join(format!("{}.pid", vm.name))
}

/// One virtio NIC per planned NIC: on its tap, with the plan's MAC; the
/// NIC `boot` first in the boot order (`bootindex=1`).
pub fn nic_args(vm: &VmPlan, boot: Option<usize>) -> Vec<String> {
    let mut a = Vec::new();
    for (k, nic) in vm.nics.iter().enumerate() {
        a.push("-netdev".into());
        a.push(format!(
            "tap,id=n{k},ifname={},script=no,downscript=no",
            nic.tap
        ));
        a.push("-device".into());
        let order = if boot == Some(k) { ",bootindex=1" } else { "" };
        a.push(format!("virtio-net-pci,netdev=n{k},mac={}{order}", nic.mac));
    }
    a
}

/// How one VM reaches the installer.
pub enum VmBoot<'a> {
    /// The installer ISO as its CD, its kernel booted directly with these arguments.
    Installer {
        iso: &'a Path,
        files: &'a BootFiles,
        kernel_args: String,
    },
    /// From the network: this NIC first in the boot order (SeaBIOS runs
    /// the iPXE ROM qemu gives the NIC), no CD.
    Network { nic: usize },
}

/// qemu's arguments for one VM booting the installer.
pub fn qemu_args(vm: &VmPlan, accel: Accel, dir: &Path, boot: &VmBoot) -> Vec<String> {
    let mut a = common_args(vm, accel, dir);
    a.extend([
        // After the installation anaconda reboots: the VM stops instead of
        // booting the installer's kernel again.
        "-no-reboot".into(),
        "-drive".into(),
        format!(
            "file={},if=virtio,format=qcow2",
            escape(&disk_path(dir, vm))
        ),
    ]);
    let boot_nic = match boot {
        VmBoot::Installer {
            iso,
            files,
            kernel_args,
        } => {
            a.extend([
                "-drive".into(),
                format!(
                    "file={},format=raw,media=cdrom,readonly=on,if=ide,index=2",
                    escape(iso)
                ),
                "-kernel".into(),
                files.kernel.display().to_string(),
                "-initrd".into(),
                files.initrd.display().to_string(),
                "-append".into(),
                kernel_args.clone(),
            ]);
            None
        }
        VmBoot::Network { nic } => Some(*nic),
    };
    a.extend(nic_args(vm, boot_nic));
    a
}

/// Start one VM's qemu (daemonized) with `args` from [`common_args`]; its
/// serial log, PID file and process go into the ledger.
pub fn launch(dir: &Path, vm: &VmPlan, args: &[String], ledger: &mut Ledger) -> anyhow::Result<()> {
    let log = serial_log(dir, vm);
    let pidfile = pid_file(dir, vm);
    ledger.record(Made::File { path: log.clone() })?;
    ledger.record(Made::File {
        path: pidfile.clone(),
    })?;
    exec::run(&mut exec::command("qemu-system-x86_64", args))
        .with_context(|| format!("cannot start the VM {}", vm.name))?;
    let pid = process::read_pidfile(&pidfile)?;
    let (start_time, _) = process::stat(pid).with_context(|| {
        format!(
            "the qemu of {} (pid {pid}) ended right after starting; see {}",
            vm.name,
            log.display()
        )
    })?;
    ledger.record(Made::Process {
        pid,
        start_time,
        what: format!("qemu of {}", vm.name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_args_name_the_node_and_its_role_kickstart() {
        let media = MediaRef::for_iso("Rocky 9.4 x86_64", "2026112118300500");
        let a = kernel_args(&media, "compute", "node1");
        assert_eq!(
            a,
            "inst.stage2=hd:UUID=2026-11-21-18-30-05-00 inst.ks=hd:UUID=2026-11-21-18-30-05-00:/ks/compute.cfg aerie.node=node1 console=ttyS0,115200"
        );
    }

    fn vm() -> VmPlan {
        super::super::plan::fixture::lab_plan().vms.remove(0)
    }

    #[test]
    fn a_network_boot_has_no_cd_no_kernel_and_its_boot_nic_first() {
        let dir = Path::new("/lab");
        let files = BootFiles {
            kernel: dir.join("boot/vmlinuz"),
            initrd: dir.join("boot/initrd.img"),
        };
        let iso = qemu_args(
            &vm(),
            Accel::Tcg,
            dir,
            &VmBoot::Installer {
                iso: &dir.join("installer.iso"),
                files: &files,
                kernel_args: "inst.ks=x".into(),
            },
        );
        let net = qemu_args(&vm(), Accel::Tcg, dir, &VmBoot::Network { nic: 0 });
        let iso = iso.join(" ");
        let net = net.join(" ");
        assert!(iso.contains("media=cdrom") && iso.contains("-kernel /lab/boot/vmlinuz"));
        assert!(!iso.contains("bootindex"), "{iso}");
        for absent in ["cdrom", "-kernel", "-initrd", "-append"] {
            assert!(!net.contains(absent), "{absent} in {net}");
        }
        assert!(
            net.contains("virtio-net-pci,netdev=n0,mac=52:54:00:00:00:10,bootindex=1 "),
            "{net}"
        );
        assert!(
            net.ends_with("virtio-net-pci,netdev=n1,mac=52:54:00:ae:00:01"),
            "{net}"
        );
    }

    #[test]
    fn recognises_aerie_media() {
        let p = |files: &[&str]| Probe {
            files: files.iter().map(|f| f.to_string()).collect(),
            ..Probe::default()
        };
        assert!(made_by_aerie(&p(&[payload::STAMP, "/ks/frontend.cfg"])));
        // A distribution ISO with its own kickstarts is a base.
        assert!(!made_by_aerie(&p(&["/ks/frontend.cfg", "/ks/site.cfg"])));
        assert!(!made_by_aerie(&p(&["/aerie/site.yaml"])));
        assert!(!made_by_aerie(&p(&["/images/pxeboot/vmlinuz", "/ks.cfg"])));
    }
}
