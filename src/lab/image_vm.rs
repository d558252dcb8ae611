//! The qemu driver with `--image DISK` (a Debian 12 site): each node boots
//! its own qcow2 overlay of DISK under OVMF with its own cloud-init volume
//! (`DIR/NODE.cidata.iso`, the volume `aerie iso --config-only --cidata
//! --node NODE` makes, through `crate::iso`), its NICs on the lab's bridges
//! with the plan's MACs, which the volume's network config matches. Its
//! first boot converges it (`aerie converge`) and reboots on aerie's mark.
//! Every made thing goes into the ledger as soon as it exists; DISK is only
//! read.

use super::firmware::Ovmf;
use super::image::{self, DiskImage};
use super::model::Accel;
use super::plan::{LabPlan, VmPlan};
use super::progress::Progress;
use super::qemu::{self, escape};
use super::state::{Ledger, Made};
use crate::exit::UsageError;
use crate::iso::{binary, cidata, config_iso};
use crate::render::secrets::Secrets;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// What the image driver needs beyond the plan.
pub struct ImageLab<'a> {
    pub plan: &'a LabPlan,
    pub dir: &'a Path,
    pub image: &'a DiskImage,
    pub ovmf: &'a Ovmf,
    pub accel: Accel,
    pub site: &'a crate::site::Site,
    pub profile: &'a crate::profile::Profile,
    pub rendered: &'a crate::render::Rendered,
    /// The render-time host keys (on the volumes, and pinned for `lab ssh`).
    pub secrets: Option<&'a Secrets>,
}

/// Refused before anything is made: an interface with an address but no
/// MAC (the volume's network config finds interfaces by MAC, and the VM's
/// NIC would get a MAC the site does not know), the network's names, xorriso.
pub fn preflight(site: &crate::site::Site, plan: &LabPlan) -> anyhow::Result<()> {
    for (i, node) in site.nodes.iter().enumerate() {
        for (k, iface) in node.interfaces.iter().enumerate() {
            if iface.mac.is_none() && iface.address.is_some() {
                return Err(UsageError(format!(
                    "nodes[{i}].interfaces[{k}].mac ({}, network {}): not set, and `lab up --image` needs it: the node's cloud-init network config finds its interfaces by MAC, and the lab gives the VM's NIC that MAC; give every interface with an address a mac (e.g. \"52:54:00:00:00:{:02x}\")",
                    node.hostname,
                    iface.network,
                    (i * 16 + k) & 0xff
                ))
                .into());
            }
        }
    }
    qemu::network_preflight(plan)?;
    crate::iso::xorriso::check_version()?;
    Ok(())
}

fn overlay_path(dir: &Path, vm: &VmPlan) -> PathBuf {
    qemu::disk_path(dir, vm)
}

fn vars_path(dir: &Path, vm: &VmPlan) -> PathBuf {
    dir.join(format!("{}.OVMF_VARS.fd", vm.name))
}

pub fn cidata_path(dir: &Path, vm: &VmPlan) -> PathBuf {
    dir.join(format!("{}.cidata.iso", vm.name))
}

pub fn up(lab: &ImageLab, ledger: &mut Ledger, progress: &Progress) -> anyhow::Result<()> {
    let binary = binary::for_media(&binary::running()?, lab.site.site.distro)?;
    progress.say(&format!("  on each cidata volume: {}", binary.describe()));
    for vm in &lab.plan.vms {
        node_files(lab, vm, &binary.path, ledger, progress)?;
    }
    if let Some(secrets) = lab.secrets {
        let path = lab.dir.join(super::pinned::FILE);
        ledger.record(Made::File { path: path.clone() })?;
        let text = super::pinned::known_hosts(&lab.plan.vms, secrets);
        crate::fsutil::write_atomic(
            &path,
            text.as_bytes(),
            0o644,
            crate::fsutil::Overwrite::Refuse,
        )?;
    }
    qemu::network(lab.plan, ledger, progress)?;
    for vm in &lab.plan.vms {
        progress.step(format!("starting {}", vm.name));
        qemu::launch(lab.dir, vm, &qemu_args(lab, vm), ledger)?;
        progress.say(&format!(
            "  started {} ({} MiB, {} CPU) from an overlay of {}",
            vm.name,
            vm.memory_mib,
            vm.cpus,
            lab.image.path.display()
        ));
    }
    Ok(())
}

/// One node's overlay, firmware variables and cidata volume (all private:
/// the volume carries the node's host key and root's password hash).
fn node_files(
    lab: &ImageLab,
    vm: &VmPlan,
    binary: &Path,
    ledger: &mut Ledger,
    progress: &Progress,
) -> anyhow::Result<()> {
    progress.step(format!("making the disk and cidata volume of {}", vm.name));
    let overlay = overlay_path(lab.dir, vm);
    ledger.record(Made::File {
        path: overlay.clone(),
    })?;
    image::overlay(lab.image, &overlay)?;
    let vars = vars_path(lab.dir, vm);
    ledger.record(Made::File { path: vars.clone() })?;
    let template = std::fs::read(&lab.ovmf.vars)
        .with_context(|| format!("cannot read {}", lab.ovmf.vars.display()))?;
    crate::fsutil::write_atomic(&vars, &template, 0o600, crate::fsutil::Overwrite::Refuse)?;
    let node = lab
        .site
        .nodes
        .iter()
        .find(|n| n.hostname.as_str() == vm.name)
        .context("a planned VM is a node of the site")?;
    let items = cidata::for_node(
        lab.site,
        lab.profile,
        lab.rendered,
        lab.secrets,
        node,
        Some(binary),
    )?;
    let volume = cidata_path(lab.dir, vm);
    ledger.record(Made::File {
        path: volume.clone(),
    })?;
    config_iso::write(&volume, config_iso::CIDATA, &items, false, &mut |_| {})
}

/// qemu's arguments for one VM booting its overlay under OVMF, its cidata
/// volume as a CD. It may reboot itself (the first boot does, on aerie's mark).
pub fn qemu_args(lab: &ImageLab, vm: &VmPlan) -> Vec<String> {
    let mut a = qemu::common_args(vm, lab.accel, lab.dir);
    a.extend([
        "-drive".into(),
        format!(
            "if=pflash,format=raw,unit=0,readonly=on,file={}",
            escape(&lab.ovmf.code)
        ),
        "-drive".into(),
        format!(
            "if=pflash,format=raw,unit=1,file={}",
            escape(&vars_path(lab.dir, vm))
        ),
        "-drive".into(),
        format!(
            "file={},if=virtio,format=qcow2",
            escape(&overlay_path(lab.dir, vm))
        ),
        "-drive".into(),
        format!(
            "file={},format=raw,media=cdrom,readonly=on,if=ide,index=2",
            escape(&cidata_path(lab.dir, vm))
        ),
    ]);
    a.extend(qemu::nic_args(vm, None));
    a
}
