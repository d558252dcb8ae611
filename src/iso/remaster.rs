//! `aerie iso --base`: a distribution's installer ISO becomes aerie's
//! installer. The base's boot records, label and UUID are replayed
//! (`-boot_image any replay`, as lorax's mkksiso does); aerie's menu goes
//! into every menu the base has and into the EFI image; the media payload
//! (kickstarts, site, bundles, binary) is added.

use super::bootmenu::{self, MenuFile, MenuSpec};
use super::layout::{self, EfiTarget, Layout, Menu};
use super::media_ref::{self, MediaRef};
use super::output::{self, TempOutput};
use super::payload::{self, Item};
use super::probe::{self, Probe};
use super::{efi_image, xorriso::Xorriso};
use crate::templates::Templates;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// What to remaster and how.
#[derive(Debug, Clone)]
pub struct Options {
    pub base: PathBuf,
    pub out: PathBuf,
    pub force: bool,
    /// The menu's title (the site's name).
    pub title: String,
    pub console: Option<bootmenu::Console>,
    pub kargs: Vec<String>,
    pub timeout_s: u32,
    pub mode: WriteMode,
}

/// How the new image is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// Copy the base (in the kernel: copy_file_range, a reflink where the
    /// file system can) and let xorriso grow the copy: only the new files, the
    /// new directory tree and the boot records are written by xorriso.
    #[default]
    Grow,
    /// xorriso writes a whole new image from the base (`-indev`/`-outdev`):
    /// every byte passes through its buffers (about 3x a cp of the base),
    /// and no data of replaced files is left inside.
    Rewrite,
}

/// What was done, for the command to print.
#[derive(Debug, Clone)]
pub struct Report {
    pub layout: layout::Kind,
    pub label: String,
    /// xorriso's form (`2026112118300500`): the base's, kept.
    pub uuid: String,
    /// How every boot entry finds the media.
    pub media: MediaRef,
    /// ISO paths of the menus written (the EFI image's as `EFI image:…`).
    pub menus: Vec<String>,
    /// What aerie changed of the base besides adding its menus and files.
    pub changes: Vec<String>,
    pub warnings: Vec<String>,
}

/// Probe and recognise a base (no output touched).
pub fn inspect(base: &Path) -> anyhow::Result<(Probe, Layout)> {
    let p = probe::probe(base)?;
    let l = layout::detect(base, &p)?;
    Ok((p, l))
}

/// Remaster `opts.base` into `opts.out` with `items` added; the menus come
/// from `templates` (`iso/*.j2`).
pub fn remaster(
    opts: &Options,
    templates: &Templates,
    items: &[Item],
    on_progress: &mut dyn FnMut(f64),
) -> anyhow::Result<Report> {
    output::check_target(&opts.out, opts.force)?;
    super::xorriso::check_version()?;
    efi_image::check_tools()?;
    let (probe, layout) = inspect(&opts.base)?;
    let base_size = std::fs::metadata(&opts.base)
        .with_context(|| format!("cannot read {}", opts.base.display()))?
        .len();
    output::check_room(
        crate::fsutil::parent_or_dot(&opts.out),
        base_size + payload::size(items) + (16 << 20),
    )?;
    let mut warnings: Vec<String> = Vec::new();
    let mut changes: Vec<String> = Vec::new();
    // The UUID is kept (a base without one gets one), and every entry finds
    // the media through the one reference builder.
    let uuid = probe.uuid.clone().unwrap_or_else(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        media_ref::new_uuid(now)
    });
    let media = MediaRef::for_iso(&probe.label, &uuid);

    let work = tempfile::Builder::new()
        .prefix("aerie-iso-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    // The staged kickstarts carry secrets: gone if aerie is interrupted too.
    let _interrupt = crate::interrupt::remove_on_interrupt(work.path());
    let t = work.path();

    // 1. The base's menu (for its inst.stage2=) and the EFI image.
    let first_menu = layout.menus[0];
    let (orig_text, efi_img) = extract_menu_and_efi_image(&opts.base, &layout, t)?;
    let stage2 = media.stage2_arg();
    match bootmenu::find_stage2(&orig_text) {
        Some(base) => changes.extend(bootmenu::stage2_change(&probe.label, &base, &stage2)),
        None => warnings.push(format!(
            "no inst.stage2= in the base's {}; using {stage2}",
            first_menu.iso_path()
        )),
    }

    // 2. aerie's menus.
    let spec = MenuSpec {
        title: opts.title.clone(),
        label: probe.label.clone(),
        media: media.clone(),
        console: opts.console.clone(),
        kargs: opts.kargs.clone(),
        timeout_s: opts.timeout_s,
        isolinux_ui: if probe.has("/isolinux/vesamenu.c32") {
            "vesamenu.c32".into()
        } else {
            "menu.c32".into()
        },
    };
    let Menus { maps, names: menus } =
        write_menus(&spec, templates, &layout, &efi_img, t, &mut warnings)?;

    // 3. The payload.
    let staging = t.join("media");
    std::fs::create_dir(&staging).context("cannot create the staging folder")?;
    let payload_maps = payload::stage(items, &staging)?;

    // 4. Remaster: every -map / -append_partition after the replay.
    let tmp = TempOutput::new(&opts.out)?;
    let mut x = Xorriso::new().progress().no_periodic_sync();
    let xorriso_share = match opts.mode {
        WriteMode::Grow => {
            copy_with_progress(&opts.base, tmp.path(), base_size, &mut |p| {
                on_progress(p * 0.9)
            })?;
            x = x.dev(tmp.path());
            0.1
        }
        WriteMode::Rewrite => {
            x = x.indev(&opts.base).outdev(tmp.path());
            1.0
        }
    };
    let mut x = x.replay_boot().joliet();
    x = x.uuid(&uuid);
    // What the base has where aerie's payload goes (its own kickstarts in
    // /ks/, an earlier aerie payload in /aerie/) is replaced, not merged.
    for dir in replaced_dirs(&probe, items, &mut changes) {
        x = x.rm_r(&dir);
    }
    for (from, to) in payload_maps.iter().chain(&maps) {
        x = x.map(from, to);
    }
    x = match &layout.efi {
        EfiTarget::Tree(path) => x.map(&efi_img, path),
        EfiTarget::Appended(a) => x.append_partition(a.number, &a.type_guid, &efi_img),
    };
    let start = 100.0 * (1.0 - xorriso_share);
    x.run_with_progress(|p| on_progress(start + p * xorriso_share))
        .with_context(|| format!("cannot write {}", opts.out.display()))?;
    on_progress(100.0);
    tmp.persist(&opts.out, opts.force)?;
    Ok(Report {
        layout: layout.kind,
        label: probe.label,
        uuid,
        media,
        menus,
        changes,
        warnings,
    })
}

/// Extract the base's first menu (its text) and its EFI image (into
/// `t/efi.img`, from the tree or the appended partition).
fn extract_menu_and_efi_image(
    base: &Path,
    layout: &Layout,
    t: &Path,
) -> anyhow::Result<(String, PathBuf)> {
    let first_menu = layout.menus[0];
    let orig = t.join("orig.cfg");
    let efi_img = t.join("efi.img");
    let mut x = Xorriso::new()
        .quiet()
        .osirrox()
        .indev(base)
        .extract(first_menu.iso_path(), &orig);
    x = match &layout.efi {
        EfiTarget::Tree(path) => x.extract(path, &efi_img),
        EfiTarget::Appended(_) => x.extract_boot_images(&t.join("boot")),
    };
    x.run()
        .context("cannot extract the base's menu and EFI image")?;
    if let EfiTarget::Appended(a) = &layout.efi {
        let from = [
            format!("gpt_part{}_efi.img", a.number),
            "eltorito_img2_uefi.img".into(),
        ]
        .iter()
        .map(|n| t.join("boot").join(n))
        .find(|p| p.is_file())
        .context("xorriso extracted no EFI image from the appended partition")?;
        std::fs::rename(&from, &efi_img).context("cannot move the EFI image")?;
    }
    let orig_text = std::fs::read_to_string(&orig)
        .with_context(|| format!("cannot read the base's {}", first_menu.iso_path()))?;
    Ok((orig_text, efi_img))
}

/// aerie's menus as written: what xorriso maps (the local file, its ISO
/// path) and the names the report gives them.
struct Menus {
    maps: Vec<(PathBuf, String)>,
    names: Vec<String>,
}

/// Render aerie's menus into `t/menus`: one for each menu the base has (the
/// local file and its ISO path, for xorriso to map) and, when the EFI image
/// holds a grub.cfg, the image's (replaced in `efi_img`).
fn write_menus(
    spec: &MenuSpec,
    templates: &Templates,
    layout: &Layout,
    efi_img: &Path,
    t: &Path,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Menus> {
    let menus_dir = t.join("menus");
    std::fs::create_dir(&menus_dir).context("cannot create the menus folder")?;
    let templates = bootmenu::menu_templates(templates);
    let write_menu = |file: MenuFile, name: &str| -> anyhow::Result<PathBuf> {
        let local = menus_dir.join(name);
        let text = bootmenu::render(&templates, spec, file)?;
        std::fs::write(&local, text)
            .with_context(|| format!("cannot write {}", local.display()))?;
        Ok(local)
    };
    let mut maps: Vec<(PathBuf, String)> = Vec::new();
    for m in &layout.menus {
        let (file, name) = match m {
            Menu::Isolinux => (MenuFile::Isolinux, "isolinux.cfg"),
            Menu::GrubBios => (MenuFile::GrubBios, "grub-bios.cfg"),
            Menu::GrubEfi => (MenuFile::GrubEfi, "grub-efi.cfg"),
        };
        maps.push((write_menu(file, name)?, m.iso_path().to_string()));
    }
    let mut menus: Vec<String> = maps.iter().map(|(_, p)| p.clone()).collect();
    if efi_image::read(efi_img, layout::EFI_IMAGE_GRUB_CFG)?.is_some() {
        let efi_cfg = write_menu(MenuFile::EfiImage, "efi-image-grub.cfg")?;
        efi_image::replace(efi_img, layout::EFI_IMAGE_GRUB_CFG, &efi_cfg)?;
        menus.push(format!("EFI image:{}", layout::EFI_IMAGE_GRUB_CFG));
    } else {
        warnings.push(format!(
            "the EFI image has no {}; left as it is (firmware that boots the image itself shows the base's menu)",
            layout::EFI_IMAGE_GRUB_CFG
        ));
    }
    Ok(Menus { maps, names: menus })
}

/// The payload's top-level directories the base has files in (its own
/// kickstarts in /ks/, an earlier aerie payload in /aerie/): each is
/// replaced, not merged, and said in `changes`.
fn replaced_dirs(probe: &Probe, items: &[Item], changes: &mut Vec<String>) -> Vec<String> {
    let mut replaced = Vec::new();
    for dir in payload_dirs(items) {
        let theirs: Vec<&String> = probe
            .files
            .iter()
            .filter(|f| f.starts_with(&format!("{dir}/")))
            .collect();
        if theirs.is_empty() {
            continue;
        }
        replaced.push(dir.clone());
        let shown: Vec<&str> = theirs.iter().take(5).map(|f| f.as_str()).collect();
        changes.push(format!(
            "the base's own {dir}/ ({} file(s): {}{}) is replaced by aerie's",
            theirs.len(),
            shown.join(", "),
            if theirs.len() > shown.len() {
                ", …"
            } else {
                ""
            }
        ));
    }
    replaced
}

/// The top-level directories of the payload (`/ks`, `/aerie`).
fn payload_dirs(items: &[Item]) -> Vec<String> {
    let mut dirs: Vec<String> = Vec::new();
    for item in items {
        let p = item.iso_path().trim_start_matches('/');
        if let Some((top, _)) = p.split_once('/') {
            let d = format!("/{top}");
            if !dirs.contains(&d) {
                dirs.push(d);
            }
        }
    }
    dirs
}

/// Copies `from` to `to` (new file) in 256 MiB steps, each by the kernel
/// (`std::io::copy` between files uses copy_file_range), reporting 0-100.
fn copy_with_progress(
    from: &Path,
    to: &Path,
    size: u64,
    on_progress: &mut dyn FnMut(f64),
) -> anyhow::Result<()> {
    use std::io::Read;
    let src =
        std::fs::File::open(from).with_context(|| format!("cannot read {}", from.display()))?;
    // `to` is the staged output: an empty 0600 file.
    let mut dst = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(to)
        .with_context(|| format!("cannot create {}", to.display()))?;
    let mut done = 0u64;
    loop {
        let n = std::io::copy(&mut (&src).take(256 << 20), &mut dst)
            .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
        if n == 0 {
            break;
        }
        done += n;
        on_progress(100.0 * done as f64 / size.max(1) as f64);
    }
    Ok(())
}
