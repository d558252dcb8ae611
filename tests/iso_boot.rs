//! Boots ISOs made by `aerie iso` from the fixture bases
//! (fixtures/iso/make-base-el{9,10}.sh) in qemu under BIOS (SeaBIOS) and UEFI
//! (OVMF), as CD and as USB-style disk: four boots per layout. From the
//! serial log (escape codes stripped): aerie's five menu entries are shown,
//! and the default entry reaches the kernel's `Command line:` with
//! `inst.ks=hd:LABEL=…:/ks/frontend.cfg` and the base's `inst.stage2=`.
//!
//! Two more boots check `--rewrite` (xorriso writes a whole new image)
//! where the layouts differ most: el9 BIOS CD (isolinux) and el10 UEFI disk
//! (GRUB reads the grub.cfg inside the appended EFI partition).
//!
//! Four boots of the bare fixture bases, one per firmware/media pair across
//! the two layouts, prove the fixtures boot like the real media (their own
//! menu, default entry "Test this media & install").
//!
//! Slow (TCG): ~25-35 s per boot on an idle 2-core machine, two at a time
//! (`AERIE_QEMU_JOBS`). Each boot prints a `BOOT-TIME` line (`--nocapture`).

#[path = "support/harness.rs"]
mod harness;
#[path = "support/qemu.rs"]
mod qemu;

#[path = "support/iso_fixtures.rs"]
mod iso_fixtures;

use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::{bail, Result};
use harness::aerie;
use iso_fixtures::{base, udev_escape, Layout, EL10_LABEL, EL9_LABEL};
use qemu::{kernel_command_line, BootSpec, Firmware, Media, Vm};

fn product(layout: Layout) -> &'static str {
    match layout {
        Layout::El9 => "Rocky Linux 9.4",
        Layout::El10 => "Rocky Linux 10.0",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Loader {
    Isolinux,
    Grub,
}

/// Which boot loader draws the menu and builds the kernel command line.
fn loader(layout: Layout, fw: Firmware) -> Loader {
    match (layout, fw) {
        (Layout::El9, Firmware::Bios) => Loader::Isolinux,
        _ => Loader::Grub,
    }
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

fn work_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("iso-boot")
}

/// How `aerie iso` writes the image (see `--rewrite`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Grow,
    Rewrite,
}

/// `aerie iso` on the fixture base, once per test process and mode.
fn remastered(layout: Layout, mode: Mode) -> Result<PathBuf> {
    static CELLS: [OnceLock<Result<PathBuf, String>>; 4] = [const { OnceLock::new() }; 4];
    let cell = &CELLS[(layout as usize) * 2 + mode as usize];
    cell.get_or_init(|| {
        let build = || -> Result<PathBuf> {
            let base = base(&work_dir(), layout)?;
            let out = work_dir().join(format!("aerie-{}-{mode:?}.iso", layout.name()));
            aerie()
                .args(["iso", "--example", "lab", "--no-binary", "--force"])
                .args(if mode == Mode::Rewrite {
                    &["--rewrite"][..]
                } else {
                    &[]
                })
                .args(["--console", "ttyS0,115200", "--timeout", "2", "--base"])
                .arg(&base)
                .arg("-o")
                .arg(&out)
                .try_run()?;
            Ok(out)
        };
        build().map_err(|e| format!("{e:#}"))
    })
    .clone()
    .map_err(anyhow::Error::msg)
}

const ENTRIES: [&str; 5] = [
    "Install Front-End",
    "Install Compute Node",
    "Install minimal OS",
    "Rescue",
    "Boot from local disk",
];

fn boot_aerie(layout: Layout, fw: Firmware, media: Media) -> Result<()> {
    boot_remastered(layout, Mode::Grow, fw, media)
}

fn boot_rewritten(layout: Layout, fw: Firmware, media: Media) -> Result<()> {
    boot_remastered(layout, Mode::Rewrite, fw, media)
}

fn boot_remastered(layout: Layout, mode: Mode, fw: Firmware, media: Media) -> Result<()> {
    qemu::check_tools()?;
    let iso = remastered(layout, mode)?;
    let loader = loader(layout, fw);
    let esc = udev_escape(layout.label());
    let stage2 = as_received(loader, &format!("inst.stage2=hd:LABEL={esc}"));
    let ks = as_received(loader, &format!("inst.ks=hd:LABEL={esc}:/ks/frontend.cfg"));

    let mut vm = Vm::start(&BootSpec::new(&iso, fw, media))?;
    vm.wait_for("aerie's boot menu", |l| {
        ENTRIES.iter().all(|e| l.contains(e))
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
            bail!("aerie {layout:?} {mode:?} {fw} {media}: `{a}` missing from the kernel command line: {cmdline}");
        }
    }
    eprintln!(
        "BOOT-TIME aerie {} {mode:?} {fw} {media}: menu {:.1}s, Command line {:.1}s",
        layout.name(),
        t_menu.as_secs_f64(),
        t_cmdline.as_secs_f64()
    );
    Ok(())
}

fn boot_base(layout: Layout, fw: Firmware, media: Media) -> Result<()> {
    qemu::check_tools()?;
    let iso = base(&work_dir(), layout)?;
    let menu_item = format!("Test this media & install {}", product(layout));
    let stage2 = format!("inst.stage2=hd:LABEL={}", udev_escape(layout.label()));
    let want = as_received(loader(layout, fw), &stage2);

    let mut vm = Vm::start(&BootSpec::new(&iso, fw, media))?;
    vm.wait_for("the base's boot menu", |l| {
        l.contains(&menu_item) && l.contains("Troubleshooting")
    })?;
    let log = vm.wait_for("the kernel's Command line:", |l| {
        kernel_command_line(l).is_some()
    })?;
    drop(vm);
    let cmdline = kernel_command_line(&log).unwrap_or_default();
    let args: Vec<&str> = cmdline.split_whitespace().collect();
    // The default entry is "Test this media & install", as on the real media.
    for a in [want.as_str(), "rd.live.check", "console=ttyS0,115200"] {
        if !args.contains(&a) {
            bail!("{layout:?} {fw} {media}: `{a}` missing from the kernel command line: {cmdline}");
        }
    }
    Ok(())
}

macro_rules! boots {
    ($($(#[$m:meta])* $name:ident: $f:ident($layout:ident, $fw:ident, $media:ident);)*) => {$(
        #[test]
        $(#[$m])*
        fn $name() -> Result<()> {
            $f(Layout::$layout, Firmware::$fw, Media::$media)
        }
    )*};
}

boots! {
    el9_aerie_bios_cd: boot_aerie(El9, Bios, Cdrom);
    el9_aerie_bios_disk: boot_aerie(El9, Bios, UsbDisk);
    el9_aerie_uefi_cd: boot_aerie(El9, Uefi, Cdrom);
    el9_aerie_uefi_disk: boot_aerie(El9, Uefi, UsbDisk);
    el10_aerie_bios_cd: boot_aerie(El10, Bios, Cdrom);
    el10_aerie_bios_disk: boot_aerie(El10, Bios, UsbDisk);
    el10_aerie_uefi_cd: boot_aerie(El10, Uefi, Cdrom);
    el10_aerie_uefi_disk: boot_aerie(El10, Uefi, UsbDisk);
    el9_rewritten_bios_cd: boot_rewritten(El9, Bios, Cdrom);
    el10_rewritten_uefi_disk: boot_rewritten(El10, Uefi, UsbDisk);
    el9_base_bios_cd: boot_base(El9, Bios, Cdrom);
    el9_base_uefi_disk: boot_base(El9, Uefi, UsbDisk);
    el10_base_bios_disk: boot_base(El10, Bios, UsbDisk);
    el10_base_uefi_cd: boot_base(El10, Uefi, Cdrom);
}

#[test]
fn udev_escaping_of_the_fixture_labels() {
    assert_eq!(udev_escape(EL9_LABEL), r"Rocky\x209.4\x20x86_64");
    assert_eq!(udev_escape(EL10_LABEL), r"EL10\x20\x28x86_64\x29\x20#@");
    assert_eq!(as_received(Loader::Grub, r"a\x20b"), r"a\\x20b");
}
