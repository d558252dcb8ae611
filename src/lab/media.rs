//! What the qemu lab's VMs boot: the installer ISO's kernel and initrd
//! (taken out of the ISO with xorriso) on a per-node kernel command line, the
//! ISO itself as a CD for the installer's stage 2, and one config ISO
//! labelled OEMDRV holding the rendered site (the dispatcher `ks.cfg` and
//! every `HOST/ks.cfg` + `HOST/bundle.json`).

use crate::exec;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// Where EL installer media keep the kernel and initrd.
pub const KERNEL: &str = "/images/pxeboot/vmlinuz";
pub const INITRD: &str = "/images/pxeboot/initrd.img";
/// The label anaconda looks for a kickstart on.
pub const CONFIG_LABEL: &str = "OEMDRV";

/// The volume id of an ISO.
pub fn volume_id(iso: &Path) -> anyhow::Result<String> {
    let mut cmd = exec::command("xorriso", ["-indev"]);
    cmd.arg(iso).arg("-pvd_info");
    let out =
        exec::run(&mut cmd).with_context(|| format!("{} is not a readable ISO", iso.display()))?;
    // xorriso prints the report on stdout (or stderr, depending on version).
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    parse_volume_id(&text).with_context(|| format!("{}: xorriso shows no volume id", iso.display()))
}

pub fn parse_volume_id(pvd_info: &str) -> Option<String> {
    pvd_info.lines().find_map(|l| {
        let rest = l.strip_prefix("Volume Id")?;
        let v = rest.trim_start().strip_prefix(':')?.trim();
        (!v.is_empty()).then(|| v.to_string())
    })
}

/// A label as udev writes it under /dev/disk/by-label and dracut's
/// `hd:LABEL=` matches it: bytes outside `[A-Za-z0-9#+.:=@_-]` become `\xNN`.
pub fn udev_escape(label: &str) -> String {
    let mut out = String::new();
    for b in label.bytes() {
        if b.is_ascii_alphanumeric() || b"#+.:=@_-".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Copy a file out of an ISO.
pub fn extract(iso: &Path, inside: &str, to: &Path) -> anyhow::Result<()> {
    let mut cmd = exec::command("xorriso", ["-osirrox", "on", "-indev"]);
    cmd.arg(iso).arg("-extract").arg(inside).arg(to);
    exec::run(&mut cmd).with_context(|| {
        format!(
            "cannot take {inside} out of {}: is it an EL installer ISO?",
            iso.display()
        )
    })?;
    if !to.is_file() {
        bail!(
            "{} has no {inside}: is it an EL installer ISO?",
            iso.display()
        );
    }
    Ok(())
}

/// Write the rendered site under `tree` (it must not exist).
pub fn write_tree(tree: &Path, rendered: &crate::render::Rendered) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for f in &rendered.files {
        let path = tree.join(&f.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&path, &f.content)
            .with_context(|| format!("cannot write {}", path.display()))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(f.mode))?;
    }
    Ok(())
}

/// The OEMDRV ISO of a tree.
pub fn config_iso(tree: &Path, out: &Path) -> anyhow::Result<()> {
    let mut cmd = exec::command("xorriso", ["-as", "mkisofs", "-quiet", "-o"]);
    cmd.arg(out)
        .args(["-V", CONFIG_LABEL, "-R", "-J"])
        .arg(tree);
    exec::run(&mut cmd)?;
    Ok(())
}

/// The kernel command line of one lab VM: the installer's stage 2 on the
/// ISO, the dispatcher kickstart on OEMDRV, the node by name, and a serial
/// console so the lab's log shows the boot.
pub fn kernel_args(iso_label: &str, node: &str) -> String {
    format!(
        "inst.stage2=hd:LABEL={} inst.ks=hd:LABEL={CONFIG_LABEL}:/ks.cfg aerie.node={node} console=ttyS0,115200 loglevel=7",
        udev_escape(iso_label)
    )
}

/// Paths of the lab folder's boot files.
pub struct BootFiles {
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    pub config_iso: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_udev() {
        assert_eq!(udev_escape("Rocky 9.4 x86_64"), "Rocky\\x209.4\\x20x86_64");
        assert_eq!(
            udev_escape("EL10 (x86_64) #@"),
            "EL10\\x20\\x28x86_64\\x29\\x20#@"
        );
    }

    #[test]
    fn reads_the_volume_id() {
        let text = "xorriso 1.5.4\nVolume Id    : Rocky 9.4 x86_64\nVolume Set Id: \n";
        assert_eq!(parse_volume_id(text).as_deref(), Some("Rocky 9.4 x86_64"));
    }

    #[test]
    fn kernel_args_name_the_node_and_its_kickstart() {
        let a = kernel_args("Rocky 9.4 x86_64", "fe1");
        assert!(
            a.contains("inst.stage2=hd:LABEL=Rocky\\x209.4\\x20x86_64 "),
            "{a}"
        );
        assert!(
            a.contains("inst.ks=hd:LABEL=OEMDRV:/ks.cfg aerie.node=fe1 "),
            "{a}"
        );
    }
}
