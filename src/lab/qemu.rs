//! The qemu driver: bridges, taps, NAT and forwarding, qcow2 disks, and one
//! daemonized qemu per node booting the installer with its node's kickstart.
//! Every made thing goes into the ledger as soon as it exists.

use super::checks::Accel;
use super::media::{self, BootFiles};
use super::plan::{LabPlan, VmPlan};
use super::progress::Progress;
use super::state::{Ledger, Made};
use super::{netdev, process};
use crate::exec;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// The forwarding switch the NAT needs.
pub const IP_FORWARD: &str = "net.ipv4.ip_forward";

/// What the qemu driver needs beyond the plan.
pub struct QemuLab<'a> {
    pub plan: &'a LabPlan,
    pub dir: &'a Path,
    pub iso: &'a Path,
    pub accel: Accel,
    pub rendered: &'a crate::render::Rendered,
}

/// Everything that can be refused before anything is made.
pub fn preflight(lab: &QemuLab) -> anyhow::Result<()> {
    if !lab.iso.is_file() {
        return Err(crate::exit::UsageError(format!(
            "the installer ISO {} does not exist (give --iso PATH)",
            lab.iso.display()
        ))
        .into());
    }
    if !Path::new("/dev/net/tun").exists() {
        anyhow::bail!(
            "/dev/net/tun is missing: the tap devices need the tun driver (`modprobe tun`)"
        );
    }
    netdev::check_free(&lab.plan.bridges(), &lab.plan.taps(), &lab.plan.nft_table)
}

pub fn up(lab: &QemuLab, ledger: &mut Ledger, progress: &Progress) -> anyhow::Result<()> {
    progress.step("reading the installer ISO");
    let label = media::volume_id(lab.iso)?;
    let files = boot_files(lab, ledger, progress)?;
    disks(lab, ledger, progress)?;
    network(lab.plan, ledger, progress)?;
    for vm in &lab.plan.vms {
        progress.step(format!("starting {}", vm.name));
        start_vm(lab, vm, &label, &files, ledger)?;
        progress.say(&format!(
            "  started {} ({} MiB, {} CPU)",
            vm.name, vm.memory_mib, vm.cpus
        ));
    }
    Ok(())
}

fn boot_files(
    lab: &QemuLab,
    ledger: &mut Ledger,
    progress: &Progress,
) -> anyhow::Result<BootFiles> {
    progress.step("taking the kernel and initrd out of the ISO");
    let boot = lab.dir.join("boot");
    std::fs::create_dir(&boot).with_context(|| format!("cannot create {}", boot.display()))?;
    ledger.record(Made::Tree { path: boot.clone() })?;
    let kernel = boot.join("vmlinuz");
    let initrd = boot.join("initrd.img");
    media::extract(lab.iso, media::KERNEL, &kernel)?;
    media::extract(lab.iso, media::INITRD, &initrd)?;

    progress.step("writing the kickstarts and bundles (config ISO, OEMDRV)");
    let tree = lab.dir.join("config");
    ledger.record(Made::Tree { path: tree.clone() })?;
    media::write_tree(&tree, lab.rendered)?;
    let config_iso = lab.dir.join("config.iso");
    ledger.record(Made::File {
        path: config_iso.clone(),
    })?;
    media::config_iso(&tree, &config_iso)?;
    Ok(BootFiles {
        kernel,
        initrd,
        config_iso,
    })
}

fn disk_path(dir: &Path, vm: &VmPlan) -> PathBuf {
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

fn network(plan: &LabPlan, ledger: &mut Ledger, progress: &Progress) -> anyhow::Result<()> {
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

/// qemu's arguments for one VM (absolute paths: qemu daemonizes into /).
pub fn qemu_args(
    vm: &VmPlan,
    accel: Accel,
    dir: &Path,
    iso: &Path,
    files: &BootFiles,
    kernel_args: &str,
) -> Vec<String> {
    let esc = |p: &Path| p.display().to_string().replace(',', ",,");
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
        // After the installation anaconda reboots: the VM stops instead of
        // booting the installer's kernel again.
        "-no-reboot".into(),
        "-serial".into(),
        format!("file:{}", esc(&dir.join(format!("{}.serial.log", vm.name)))),
        "-daemonize".into(),
        "-pidfile".into(),
        dir.join(format!("{}.pid", vm.name)).display().to_string(),
        "-drive".into(),
        format!("file={},if=virtio,format=qcow2", esc(&disk_path(dir, vm))),
        "-drive".into(),
        format!(
            "file={},format=raw,media=cdrom,readonly=on,if=ide,index=2",
            esc(iso)
        ),
        "-drive".into(),
        format!(
            "file={},format=raw,media=cdrom,readonly=on,if=ide,index=3",
            esc(&files.config_iso)
        ),
        "-kernel".into(),
        files.kernel.display().to_string(),
        "-initrd".into(),
        files.initrd.display().to_string(),
        "-append".into(),
        kernel_args.to_string(),
    ]);
    for (k, nic) in vm.nics.iter().enumerate() {
        a.push("-netdev".into());
        a.push(format!(
            "tap,id=n{k},ifname={},script=no,downscript=no",
            nic.tap
        ));
        a.push("-device".into());
        a.push(format!("virtio-net-pci,netdev=n{k},mac={}", nic.mac));
    }
    a
}

fn start_vm(
    lab: &QemuLab,
    vm: &VmPlan,
    label: &str,
    files: &BootFiles,
    ledger: &mut Ledger,
) -> anyhow::Result<()> {
    let log = lab.dir.join(format!("{}.serial.log", vm.name));
    let pidfile = lab.dir.join(format!("{}.pid", vm.name));
    ledger.record(Made::File { path: log.clone() })?;
    ledger.record(Made::File {
        path: pidfile.clone(),
    })?;
    let args = qemu_args(
        vm,
        lab.accel,
        lab.dir,
        lab.iso,
        files,
        &media::kernel_args(label, &vm.name),
    );
    exec::run(&mut exec::command("qemu-system-x86_64", &args))
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
