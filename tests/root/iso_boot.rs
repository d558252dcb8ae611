//! Boots ISOs made by `aerie iso` from the fixture bases
//! (fixtures/iso/make-base-el{9,10}.sh) in qemu under BIOS (SeaBIOS) and UEFI
//! (OVMF), as CD and as USB-style disk: four boots per layout. From the
//! serial log (escape codes stripped): aerie's five menu entries are shown,
//! and the default entry reaches the kernel's `Command line:`. Its
//! `inst.stage2=hd:…` and `inst.ks=hd:…:/ks/frontend.cfg` are checked as
//! dracut sees them: the device path dracut's `label_uuid_to_dev` makes of
//! the value as the kernel received it (`LABEL=` with `/` and spaces as
//! `\x2f`/`\x20` under /dev/disk/by-label, `UUID=` lowercased under
//! /dev/disk/by-uuid) must be one udev makes for the output ISO (the label
//! and UUID blkid reads from it, udev-escaped). The fixture labels need
//! escaping, and GRUB doubles backslashes on the kernel's command line:
//! the bare bases show that trap (their GRUB boots name no device), aerie's
//! ISOs must not.
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

use crate::harness;
use crate::qemu;

use crate::iso_fixtures;

use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::{bail, Result};
use harness::aerie;
use iso_fixtures::{base, blkid, udev_escape, Layout, EL10_LABEL, EL9_LABEL};
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

/// The device path dracut's `label_uuid_to_dev` makes of an `hd:` value
/// (`LABEL=…` or `UUID=…`) exactly as the kernel received it.
fn dracut_device(value: &str) -> String {
    if let Some(label) = value.strip_prefix("LABEL=") {
        format!(
            "/dev/disk/by-label/{}",
            label.replace('/', "\\x2f").replace(' ', "\\x20")
        )
    } else if let Some(uuid) = value.strip_prefix("UUID=") {
        format!("/dev/disk/by-uuid/{}", uuid.to_lowercase())
    } else {
        format!("(not a LABEL= or UUID= reference: {value})")
    }
}

/// The paths udev makes for the ISO: its label (udev-escaped) and UUID, as
/// blkid reads them from the file.
fn udev_devices(iso: &std::path::Path) -> Result<Vec<String>> {
    Ok(vec![
        format!("/dev/disk/by-label/{}", udev_escape(&blkid(iso, "LABEL")?)),
        format!("/dev/disk/by-uuid/{}", blkid(iso, "UUID")?),
    ])
}

/// The `hd:` device of `inst.stage2=hd:X` and `inst.ks=hd:X:/ks/ROLE.cfg`
/// on the command line: (stage2 value, ks value), either may be missing.
fn media_values(cmdline: &str, role: &str) -> (Option<String>, Option<String>) {
    let args: Vec<&str> = cmdline.split_whitespace().collect();
    let stage2 = args
        .iter()
        .find_map(|a| a.strip_prefix("inst.stage2=hd:"))
        .map(str::to_string);
    let tail = format!(":/ks/{role}.cfg");
    let ks = args
        .iter()
        .find_map(|a| a.strip_prefix("inst.ks=hd:")?.strip_suffix(tail.as_str()))
        .map(str::to_string);
    (stage2, ks)
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
    let devices = udev_devices(&iso)?;

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
    let what = format!(
        "aerie {layout:?} {mode:?} {fw} {media} ({:?})",
        loader(layout, fw)
    );
    if !cmdline
        .split_whitespace()
        .any(|a| a == "console=ttyS0,115200")
    {
        bail!("{what}: no console=ttyS0,115200 on the kernel command line: {cmdline}");
    }
    let (stage2, ks) = media_values(cmdline, "frontend");
    for (arg, value) in [("inst.stage2", stage2), ("inst.ks", ks)] {
        let Some(value) = value else {
            bail!("{what}: no {arg}=hd:… on the kernel command line: {cmdline}");
        };
        let dev = dracut_device(&value);
        if !devices.contains(&dev) {
            bail!("{what}: dracut looks for {dev} ({arg}=hd:{value}), but udev names the ISO {devices:?}: the installer would never find its media. Command line: {cmdline}");
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
    let devices = udev_devices(&iso)?;

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
    for a in ["rd.live.check", "console=ttyS0,115200"] {
        if !args.contains(&a) {
            bail!("{layout:?} {fw} {media}: `{a}` missing from the kernel command line: {cmdline}");
        }
    }
    // The trap: the base's escaped label reaches dracut intact through
    // isolinux only; GRUB doubles the backslashes, and the device dracut
    // looks for does not exist.
    let (stage2, _) = media_values(cmdline, "none");
    let Some(stage2) = stage2 else {
        bail!("{layout:?} {fw} {media}: no inst.stage2=hd:… in {cmdline}");
    };
    let found = devices.contains(&dracut_device(&stage2));
    let isolinux = loader(layout, fw) == Loader::Isolinux;
    if found != isolinux {
        bail!("{layout:?} {fw} {media}: the base's inst.stage2=hd:{stage2} {} a device udev makes ({devices:?}) under {:?}; expected the GRUB trap only under GRUB", if found { "names" } else { "names no" }, loader(layout, fw));
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
fn udev_escaping_of_the_fixture_labels_and_the_dracut_view() {
    assert_eq!(udev_escape(EL9_LABEL), r"Rocky\x209.4\x20x86_64");
    assert_eq!(udev_escape(EL10_LABEL), r"EL10\x20\x28x86_64\x29\x20#@");
    assert_eq!(
        dracut_device(r"LABEL=Rocky\x209.4"),
        r"/dev/disk/by-label/Rocky\x209.4"
    );
    assert_eq!(
        dracut_device("LABEL=a b/c"),
        r"/dev/disk/by-label/a\x20b\x2fc"
    );
    assert_eq!(
        dracut_device("UUID=2026-11-29-AB"),
        "/dev/disk/by-uuid/2026-11-29-ab"
    );
    assert_eq!(
        media_values(
            r"x inst.stage2=hd:UUID=u inst.ks=hd:LABEL=a\\x20b:/ks/frontend.cfg",
            "frontend"
        ),
        (Some("UUID=u".into()), Some(r"LABEL=a\\x20b".into()))
    );
}
