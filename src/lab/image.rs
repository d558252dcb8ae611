//! `lab up --image DISK`: what the disk image is, asked of `qemu-img info`
//! before anything is made. The image is only ever a backing file: each VM
//! writes to its own qcow2 overlay, never to DISK.

use crate::exec;
use crate::exit::UsageError;
use anyhow::Context;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A disk image qemu can boot, as `qemu-img info` found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskImage {
    /// Absolute (the overlays name it as their backing file).
    pub path: PathBuf,
    /// qemu's name of its format (`raw`, `qcow2`, ...): the overlays' `-F`.
    pub format: String,
    pub virtual_size: u64,
}

impl DiskImage {
    pub fn virtual_mib(&self) -> u64 {
        self.virtual_size.div_ceil(1 << 20)
    }
}

/// The smallest disk a system boots from: a partition table and a little more.
const MIN_SIZE: u64 = 1 << 20;

/// Formats qemu opens as a VM's disk (and as an overlay's backing file).
const DISK_FORMATS: &[&str] = &["raw", "qcow2", "qcow", "qed", "vmdk", "vdi", "vhdx", "vpc"];

/// Probe `path`: it exists, `qemu-img info` reads it, and it looks like a
/// disk (a disk format; raw images need a partition table, since qemu calls
/// any file `raw`). Every refusal names `--image` and what to give instead.
pub fn probe(path: &Path) -> anyhow::Result<DiskImage> {
    let bad = |why: String| -> anyhow::Error {
        UsageError(format!(
            "--image {}: {why}; give a bootable disk image (raw or qcow2, e.g. a Debian 12 \
             cloud image, or the one scripts/make-test-debian-image.sh builds)",
            path.display()
        ))
        .into()
    };
    if !path.is_file() {
        return Err(bad("no such file".into()));
    }
    let path = std::path::absolute(path)?;
    // -U: read it even while a VM of another lab has it open.
    let mut cmd = exec::command("qemu-img", ["info", "-U", "--output", "json"]);
    cmd.arg(&path);
    let out = match exec::run(&mut cmd) {
        Ok(out) => out,
        Err(e @ exec::ExecError::Missing { .. }) => return Err(e.into()),
        Err(e) => return Err(bad(format!("qemu-img cannot read it ({e})"))),
    };
    let (format, virtual_size) =
        parse_info(&String::from_utf8_lossy(&out.stdout)).map_err(|e| bad(e.to_string()))?;
    if !DISK_FORMATS.contains(&format.as_str()) {
        return Err(bad(format!(
            "qemu-img says its format is {format}, not a disk format qemu boots ({})",
            DISK_FORMATS.join(", ")
        )));
    }
    if virtual_size < MIN_SIZE {
        return Err(bad(format!(
            "it is {virtual_size} bytes, too small for a disk"
        )));
    }
    if format == "raw" && !has_partition_table(&path)? {
        return Err(bad(
            "it has no partition table (no boot signature at byte 510), so it is no disk image"
                .into(),
        ));
    }
    Ok(DiskImage {
        path,
        format,
        virtual_size,
    })
}

/// `format` and `virtual-size` from `qemu-img info --output json`.
pub fn parse_info(json: &str) -> anyhow::Result<(String, u64)> {
    let v: serde_json::Value =
        serde_json::from_str(json).context("qemu-img info printed no JSON")?;
    let format = v["format"]
        .as_str()
        .context("qemu-img info names no format")?
        .to_string();
    let size = v["virtual-size"]
        .as_u64()
        .context("qemu-img info gives no virtual size")?;
    Ok((format, size))
}

/// Whether the first sector ends with the MBR boot signature (a GPT disk's
/// protective MBR has it too).
fn has_partition_table(path: &Path) -> anyhow::Result<bool> {
    let mut sector = [0u8; 512];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut sector))
        .with_context(|| format!("cannot read the first sector of {}", path.display()))?;
    Ok(sector[510..] == [0x55, 0xaa])
}

/// Make the VM's qcow2 overlay over the image (`qemu-img create -F FORMAT
/// -b IMAGE`), private to root: the guest writes its keys into it.
pub fn overlay(image: &DiskImage, out: &Path) -> anyhow::Result<()> {
    let mut cmd = exec::command("qemu-img", ["create", "-q", "-f", "qcow2", "-F"]);
    cmd.arg(&image.format).arg("-b").arg(&image.path).arg(out);
    exec::run(&mut cmd)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot make {} private", out.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_qemu_img_info() {
        let json = r#"{"children": [], "virtual-size": 2216689664,
            "filename": "/var/cache/aerie-test/debian12-v1.img", "format": "raw",
            "actual-size": 852570112, "dirty-flag": false}"#;
        assert_eq!(parse_info(json).unwrap(), ("raw".into(), 2216689664));
        assert!(parse_info("not json").is_err());
        assert!(parse_info(r#"{"format": "raw"}"#).is_err());
    }

    #[test]
    fn a_raw_file_without_a_partition_table_is_no_disk() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.img");
        let mut data = vec![0u8; 4096];
        std::fs::write(&f, &data).unwrap();
        assert!(!has_partition_table(&f).unwrap());
        data[510] = 0x55;
        data[511] = 0xaa;
        std::fs::write(&f, &data).unwrap();
        assert!(has_partition_table(&f).unwrap());
    }
}
