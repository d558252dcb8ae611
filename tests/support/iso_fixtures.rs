//! Fixture base ISOs (fixtures/iso/make-base-el{9,10}.sh, built once per
//! test process) and running `aerie iso` on them.
//!
//! A module of the test crates that use it (`#[path = "../support/iso_fixtures.rs"]
//! mod iso_fixtures;` beside `mod harness`).
#![allow(dead_code)]

use crate::harness::tool;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Result;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// isolinux for BIOS, GRUB for UEFI, images/efiboot.img in the tree.
    El9,
    /// GRUB for BIOS and UEFI, EFI image as an appended GPT partition.
    El10,
}

// Labels that need udev escaping (spaces, parentheses) and keep the
// characters udev leaves alone (# @ . _); both fit Joliet's 16 characters.
pub const EL9_LABEL: &str = "Rocky 9.4 x86_64";
pub const EL10_LABEL: &str = "EL10 (x86_64) #@";

impl Layout {
    pub fn name(self) -> &'static str {
        match self {
            Layout::El9 => "el9",
            Layout::El10 => "el10",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Layout::El9 => EL9_LABEL,
            Layout::El10 => EL10_LABEL,
        }
    }
}

/// udev's escaping of a label (written independently of aerie's).
pub fn udev_escape(label: &str) -> String {
    let mut out = String::new();
    for b in label.bytes() {
        if b.is_ascii_alphanumeric() || b"#+-.:=@_".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

pub fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Builds a fixture base once per test process, in `dir`.
pub fn base(dir: &Path, layout: Layout) -> Result<PathBuf> {
    static EL9: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static EL10: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let cell = match layout {
        Layout::El9 => &EL9,
        Layout::El10 => &EL10,
    };
    cell.get_or_init(|| {
        let build = || -> Result<PathBuf> {
            std::fs::create_dir_all(dir)?;
            let iso = dir.join(format!("base-{}.iso", layout.name()));
            let _ = std::fs::remove_file(&iso);
            let script =
                manifest_dir().join(format!("fixtures/iso/make-base-{}.sh", layout.name()));
            tool(script).arg(&iso).arg(layout.label()).try_run()?;
            Ok(iso)
        };
        build().map_err(|e| format!("{e:#}"))
    })
    .clone()
    .map_err(anyhow::Error::msg)
}

/// A tag (`LABEL`, `UUID`) of an ISO as blkid (util-linux) reads it: what
/// udev puts under /dev/disk/by-label and by-uuid, where dracut looks.
pub fn blkid(iso: &Path, tag: &str) -> Result<String> {
    let out = tool("blkid")
        .args(["-p", "-o", "value", "-s", tag])
        .arg(iso)
        .try_run()?;
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if v.is_empty() {
        anyhow::bail!("blkid reads no {tag} from {}", iso.display());
    }
    Ok(v)
}

/// `xorriso ARGS -end`, stdout as text.
pub fn xorriso(args: &[&str]) -> Result<String> {
    let out = tool("xorriso").args(args).arg("-end").try_run()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Every path (files and directories) of an ISO, unquoted.
pub fn listing(iso: &Path) -> Result<Vec<String>> {
    let text = xorriso(&["-indev", &iso.to_string_lossy(), "-find", "/", "--"])?;
    Ok(text
        .lines()
        .map(|l| l.trim().trim_matches('\'').to_string())
        .collect())
}

/// A value from `-report_el_torito cmd` (`-volid '…'` -> …), first match.
pub fn report_value(report: &str, prefix: &str) -> Option<String> {
    report.lines().find_map(|l| {
        l.strip_prefix(prefix)
            .map(|v| v.trim().trim_matches('\'').to_string())
    })
}

/// The text of `iso_path` inside the ISO.
pub fn read_file(iso: &Path, iso_path: &str, scratch: &Path) -> Result<String> {
    let to = scratch.join(iso_path.trim_start_matches('/').replace('/', "_"));
    let _ = std::fs::remove_file(&to);
    tool("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(iso)
        .arg("-extract")
        .arg(iso_path)
        .arg(&to)
        .arg("-end")
        .try_run()?;
    Ok(std::fs::read_to_string(&to)?)
}

/// The grub.cfg inside the ISO's El Torito EFI image, read with mtools.
pub fn efi_image_grub_cfg(iso: &Path, scratch: &Path) -> Result<String> {
    let dir = scratch.join("boot-images");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    tool("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(iso)
        .arg("-extract_boot_images")
        .arg(format!("{}/", dir.display()))
        .arg("-end")
        .try_run()?;
    let img = dir.join("eltorito_img2_uefi.img");
    let out = tool("mtype")
        .env("MTOOLS_SKIP_CHECK", "1")
        .arg("-i")
        .arg(&img)
        .arg("::/EFI/BOOT/grub.cfg")
        .try_run()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
