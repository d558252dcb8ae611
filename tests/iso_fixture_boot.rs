//! Boots the fixture base ISOs (fixtures/iso/make-base-el{9,10}.sh) and a
//! hand-remastered copy of each (fixtures/iso/remaster-by-hand.sh, the recipe
//! in fixtures/iso/RECIPES.md) in qemu under BIOS and UEFI, as CD and as disk:
//! the boot menu must show on the serial console and the default entry must
//! reach the kernel's `Command line:` with the expected arguments.
//!
//! Slow (TCG): ~25-35 s per boot on an idle 2-core machine, two at a time
//! (`AERIE_QEMU_JOBS`). Each boot prints a `BOOT-TIME` line (see with
//! `--nocapture`).

#[path = "support/qemu.rs"]
mod qemu;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use qemu::{kernel_command_line, BootSpec, Firmware, Media, Vm};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// isolinux for BIOS, GRUB for UEFI, images/efiboot.img.
    El9,
    /// GRUB for BIOS and UEFI, EFI image as an appended GPT partition.
    El10,
}

// Labels that need udev escaping (spaces, parentheses) and keep the
// characters udev leaves alone (# @ . _); both fit Joliet's 16 characters.
const EL9_LABEL: &str = "Rocky 9.4 x86_64";
const EL10_LABEL: &str = "EL10 (x86_64) #@";

impl Layout {
    fn name(self) -> &'static str {
        match self {
            Layout::El9 => "el9",
            Layout::El10 => "el10",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Layout::El9 => EL9_LABEL,
            Layout::El10 => EL10_LABEL,
        }
    }
    fn product(self) -> &'static str {
        match self {
            Layout::El9 => "Rocky Linux 9.4",
            Layout::El10 => "Rocky Linux 10.0",
        }
    }
    /// Which boot loader draws the menu and builds the kernel command line.
    fn loader(self, fw: Firmware) -> Loader {
        match (self, fw) {
            (Layout::El9, Firmware::Bios) => Loader::Isolinux,
            _ => Loader::Grub,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Loader {
    Isolinux,
    Grub,
}

/// udev's escaping of a label for /dev/disk/by-label (what hd:LABEL= matches).
fn udev_escape(label: &str) -> String {
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

/// An argument as the kernel receives it from a menu line holding `arg`
/// literally: isolinux passes it unchanged; GRUB 2.06 (Debian's, the stand-in
/// here) escapes every backslash when it builds the command line, so
/// `\x20` arrives as `\\x20`.
fn as_received(loader: Loader, arg: &str) -> String {
    match loader {
        Loader::Isolinux => arg.to_string(),
        Loader::Grub => arg.replace('\\', "\\\\"),
    }
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn work_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("iso-fixture-boot")
}

fn run(cmd: &mut Command) -> Result<()> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}):\n{}{}\n(missing tools? run scripts/test-deps.sh)",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Builds a fixture base once per test process.
fn base(layout: Layout) -> Result<PathBuf> {
    static EL9: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static EL10: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let cell = match layout {
        Layout::El9 => &EL9,
        Layout::El10 => &EL10,
    };
    cell.get_or_init(|| {
        let build = || -> Result<PathBuf> {
            let dir = work_dir();
            std::fs::create_dir_all(&dir)?;
            let iso = dir.join(format!("base-{}.iso", layout.name()));
            let _ = std::fs::remove_file(&iso);
            let script =
                manifest_dir().join(format!("fixtures/iso/make-base-{}.sh", layout.name()));
            run(Command::new(script).arg(&iso).arg(layout.label()))?;
            Ok(iso)
        };
        build().map_err(|e| format!("{e:#}"))
    })
    .clone()
    .map_err(anyhow::Error::msg)
}

/// A hand-remastered copy of the base (aerie-like menu, kickstarts in /ks/).
fn remastered(layout: Layout) -> Result<PathBuf> {
    static EL9: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static EL10: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let cell = match layout {
        Layout::El9 => &EL9,
        Layout::El10 => &EL10,
    };
    cell.get_or_init(|| {
        let build = || -> Result<PathBuf> {
            let base = base(layout)?;
            let out = work_dir().join(format!("remastered-{}.iso", layout.name()));
            let _ = std::fs::remove_file(&out);
            let script = manifest_dir().join("fixtures/iso/remaster-by-hand.sh");
            run(Command::new(script).arg(&base).arg(&out))?;
            Ok(out)
        };
        build().map_err(|e| format!("{e:#}"))
    })
    .clone()
    .map_err(anyhow::Error::msg)
}

fn boot_base(layout: Layout, fw: Firmware, media: Media) -> Result<()> {
    qemu::check_tools()?;
    let iso = base(layout)?;
    let loader = layout.loader(fw);
    let menu_item = format!("Test this media & install {}", layout.product());
    let stage2 = format!("inst.stage2=hd:LABEL={}", udev_escape(layout.label()));
    let want = as_received(loader, &stage2);

    let mut vm = Vm::start(&BootSpec::new(&iso, fw, media))?;
    vm.wait_for("the base's boot menu", |l| {
        l.contains(&menu_item) && l.contains("Troubleshooting")
    })?;
    let t_menu = vm.elapsed();
    let log = vm.wait_for("the kernel's Command line:", |l| {
        kernel_command_line(l).is_some()
    })?;
    let t_cmdline = vm.elapsed();
    drop(vm);

    let cmdline = kernel_command_line(&log).unwrap_or_default();
    let args: Vec<&str> = cmdline.split_whitespace().collect();
    // The default entry is "Test this media & install", as on the real media.
    for a in [want.as_str(), "rd.live.check", "console=ttyS0,115200"] {
        if !args.contains(&a) {
            bail!("{layout:?} {fw} {media}: `{a}` missing from the kernel command line: {cmdline}");
        }
    }
    eprintln!(
        "BOOT-TIME base {} {fw} {media}: menu {:.1}s, Command line {:.1}s",
        layout.name(),
        t_menu.as_secs_f64(),
        t_cmdline.as_secs_f64()
    );
    Ok(())
}

fn boot_remastered(layout: Layout, fw: Firmware, media: Media) -> Result<()> {
    qemu::check_tools()?;
    let iso = remastered(layout)?;
    let loader = layout.loader(fw);
    let esc = udev_escape(layout.label());
    let stage2 = as_received(loader, &format!("inst.stage2=hd:LABEL={esc}"));
    let ks = as_received(loader, &format!("inst.ks=hd:LABEL={esc}:/ks/frontend.cfg"));

    let mut vm = Vm::start(&BootSpec::new(&iso, fw, media))?;
    vm.wait_for("aerie's boot menu", |l| {
        l.contains("Install Front-End")
            && l.contains("Install Compute Node")
            && l.contains("Boot from local disk")
    })?;
    let t_menu = vm.elapsed();
    let log = vm.wait_for("the kernel's Command line:", |l| {
        kernel_command_line(l).is_some()
    })?;
    let t_cmdline = vm.elapsed();
    drop(vm);

    let cmdline = kernel_command_line(&log).unwrap_or_default();
    let args: Vec<&str> = cmdline.split_whitespace().collect();
    for a in [stage2.as_str(), ks.as_str(), "console=ttyS0,115200"] {
        if !args.contains(&a) {
            bail!("remastered {layout:?} {fw} {media}: `{a}` missing from the kernel command line: {cmdline}");
        }
    }
    // remaster-by-hand.sh's two GRUB copies differ by an `echo` naming where
    // they live: say which one this firmware/media pair read.
    let grub_cfg = log
        .lines()
        .find_map(|l| {
            l.split_once("aerie: grub.cfg from ")
                .map(|(_, w)| w.trim().to_string())
        })
        .map_or(String::new(), |w| {
            format!(", GRUB read the grub.cfg in {w}")
        });
    eprintln!(
        "BOOT-TIME remastered {} {fw} {media}: menu {:.1}s, Command line {:.1}s{grub_cfg}",
        layout.name(),
        t_menu.as_secs_f64(),
        t_cmdline.as_secs_f64()
    );
    Ok(())
}

macro_rules! boots {
    ($($name:ident: $f:ident($layout:ident, $fw:ident, $media:ident);)*) => {$(
        #[test]
        fn $name() -> Result<()> {
            $f(Layout::$layout, Firmware::$fw, Media::$media)
        }
    )*};
}

boots! {
    el9_base_bios_cd: boot_base(El9, Bios, Cdrom);
    el9_base_bios_disk: boot_base(El9, Bios, UsbDisk);
    el9_base_uefi_cd: boot_base(El9, Uefi, Cdrom);
    el9_base_uefi_disk: boot_base(El9, Uefi, UsbDisk);
    el10_base_bios_cd: boot_base(El10, Bios, Cdrom);
    el10_base_bios_disk: boot_base(El10, Bios, UsbDisk);
    el10_base_uefi_cd: boot_base(El10, Uefi, Cdrom);
    el10_base_uefi_disk: boot_base(El10, Uefi, UsbDisk);
    el9_remastered_bios_cd: boot_remastered(El9, Bios, Cdrom);
    el9_remastered_bios_disk: boot_remastered(El9, Bios, UsbDisk);
    el9_remastered_uefi_cd: boot_remastered(El9, Uefi, Cdrom);
    el9_remastered_uefi_disk: boot_remastered(El9, Uefi, UsbDisk);
    el10_remastered_bios_cd: boot_remastered(El10, Bios, Cdrom);
    el10_remastered_bios_disk: boot_remastered(El10, Bios, UsbDisk);
    el10_remastered_uefi_cd: boot_remastered(El10, Uefi, Cdrom);
    el10_remastered_uefi_disk: boot_remastered(El10, Uefi, UsbDisk);
}

#[test]
fn udev_escaping_of_the_fixture_labels() {
    assert_eq!(udev_escape(EL9_LABEL), r"Rocky\x209.4\x20x86_64");
    assert_eq!(udev_escape(EL10_LABEL), r"EL10\x20\x28x86_64\x29\x20#@");
    assert_eq!(as_received(Loader::Grub, r"a\x20b"), r"a\\x20b");
}
