//! `aerie iso` on the fixture bases (no boots: see iso_boot.rs): what the
//! remastered ISO holds and keeps, the config volumes, and bad input (a clear
//! error, no output file, nothing left behind).

use crate::harness;
use crate::iso_fixtures;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use anyhow::Result;
use harness::{aerie, aerie_bin, tool};
use iso_fixtures::*;

fn work_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("iso-cli")
}

fn status(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Whether a child of `pid` (spawned by any of its threads) runs the
/// program `name` (its comm).
fn child_named(pid: u32, name: &str) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().any(|task| {
        std::fs::read_to_string(task.path().join("children")).is_ok_and(|children| {
            children.split_whitespace().any(|c| {
                std::fs::read_to_string(format!("/proc/{c}/comm"))
                    .is_ok_and(|comm| comm.trim_end() == name)
            })
        })
    })
}

/// The names in `dir` (to prove nothing is left behind).
fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Runs `aerie iso` with a private TMPDIR and checks that it is empty after.
fn remaster(layout: Layout, out: &Path, extra: &[&str]) -> Result<Output> {
    let base = base(&work_dir(), layout)?;
    let _ = std::fs::remove_file(out);
    let tmp = tempfile::tempdir()?;
    let o = aerie()
        .env("TMPDIR", tmp.path())
        .args(["iso", "--example", "lab"])
        .args(extra)
        .arg("--base")
        .arg(&base)
        .arg("-o")
        .arg(out)
        .args([
            "--console",
            "ttyS0,115200",
            "--kargs",
            "ip=dhcp",
            "--timeout",
            "3",
        ])
        .output();
    assert!(
        names(tmp.path()).is_empty(),
        "temp files left behind: {:?}",
        names(tmp.path())
    );
    Ok(o)
}

fn remaster_keeps_the_base_and_adds_aerie(layout: Layout, extra: &[&str]) -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let outdir = tempfile::tempdir()?;
    let out = outdir.path().join(format!("aerie-{}.iso", layout.name()));
    let o = remaster(layout, &out, extra)?;
    assert_eq!(status(&o), 0, "{}", stderr(&o));
    // The fixture labels need escapes: the base's inst.stage2 is replaced
    // by the UUID form, and the command says so.
    let said = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        said.contains("changed: the base's inst.stage2=hd:LABEL=")
            && said.contains("needs udev escaping"),
        "{said}"
    );
    assert_eq!(
        names(outdir.path()),
        BTreeSet::from([out.file_name().unwrap().to_string_lossy().into_owned()])
    );
    let base = base(&work_dir(), layout)?;

    // Every path of the base is still there; what is new is aerie's.
    let before: BTreeSet<String> = listing(&base)?.into_iter().collect();
    let after: BTreeSet<String> = listing(&out)?.into_iter().collect();
    let lost: Vec<_> = before.difference(&after).collect();
    assert!(lost.is_empty(), "files of the base missing: {lost:?}");
    let added: Vec<_> = after.difference(&before).collect();
    assert!(
        added
            .iter()
            .all(|p| p.starts_with("/ks") || p.starts_with("/aerie")),
        "{added:?}"
    );
    for want in [
        "/ks/frontend.cfg",
        "/ks/compute.cfg",
        "/ks/minimal.cfg",
        "/aerie/site.yaml",
        "/aerie/stamp.json",
        "/aerie/ks.cfg",
        "/aerie/fe1/ks.cfg",
        "/aerie/node1/bundle.json",
        "/aerie/minimal/node2/ks.cfg",
        "/aerie/aerie",
    ] {
        assert!(after.contains(want), "{want} missing: {added:?}");
    }

    // Same label, UUID and boot records.
    let report =
        |iso: &Path| xorriso(&["-indev", &iso.to_string_lossy(), "-report_el_torito", "cmd"]);
    let (rb, ro) = (report(&base)?, report(&out)?);
    for key in [
        "-volid ",
        "-volume_date uuid ",
        "-boot_image isolinux bin_path=",
        "-boot_image grub bin_path=",
    ] {
        assert_eq!(report_value(&rb, key), report_value(&ro, key), "{key}");
    }
    assert_eq!(
        report_value(&ro, "-volid ").as_deref(),
        Some(layout.label())
    );
    let efi = report_value(&ro, "-boot_image any efi_path=").unwrap();
    match layout {
        Layout::El9 => assert_eq!(efi, "/images/efiboot.img"),
        Layout::El10 => {
            assert!(efi.starts_with("--interval:appended_partition_2"), "{efi}");
            let part = |r: &str| {
                r.lines()
                    .find(|l| l.starts_with("-append_partition 2 "))
                    .map(|l| l.split_whitespace().nth(2).unwrap().to_string())
            };
            assert_eq!(part(&rb), part(&ro));
        }
    }

    // aerie's menu in every loader config, and in the EFI image; every
    // entry finds the media by the UUID blkid reads from the output.
    let uuid = blkid(&out, "UUID")?;
    assert!(
        said.contains(&format!("finds the media by hd:UUID={uuid}")),
        "{said}"
    );
    let ks = format!("inst.ks=hd:UUID={uuid}:/ks/frontend.cfg");
    let stage2 = format!("inst.stage2=hd:UUID={uuid}");
    let menus: &[&str] = match layout {
        Layout::El9 => &["/isolinux/isolinux.cfg", "/EFI/BOOT/grub.cfg"],
        Layout::El10 => &["/boot/grub2/grub.cfg", "/EFI/BOOT/grub.cfg"],
    };
    for m in menus {
        let text = read_file(&out, m, scratch.path())?;
        for t in [
            "Front-End",
            "Compute Node",
            "minimal OS",
            "Rescue",
            "Boot from local disk",
            &ks,
            &stage2,
            "ip=dhcp",
            "console=ttyS0,115200",
        ] {
            assert!(text.contains(t), "{m}: {t} missing:\n{text}");
        }
        assert!(!text.contains("hd:LABEL="), "{m}:\n{text}");
    }
    let tree_efi = read_file(&out, "/EFI/BOOT/grub.cfg", scratch.path())?;
    let in_image = efi_image_grub_cfg(&out, scratch.path())?;
    assert_eq!(
        in_image, tree_efi,
        "the EFI image's grub.cfg is aerie's menu"
    );

    // The frontend entry's kickstart is the dispatcher restricted to the frontend.
    let fe = read_file(&out, "/ks/frontend.cfg", scratch.path())?;
    assert!(fe.contains("[ -n \"$node\" ] || node=fe1"), "{fe}");
    let min = read_file(&out, "/ks/minimal.cfg", scratch.path())?;
    assert!(min.contains("$media/minimal/$node/ks.cfg"), "{min}");

    // Never overwritten without --force; replaced with it.
    let before = std::fs::metadata(&out)?.len();
    let o = aerie()
        .args(["iso", "--example", "lab", "--base"])
        .arg(&base)
        .arg("-o")
        .arg(&out)
        .output();
    assert_eq!(status(&o), 73, "{}", stderr(&o));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(std::fs::metadata(&out)?.len(), before);
    let o = aerie()
        .args([
            "iso",
            "--example",
            "lab",
            "--no-binary",
            "--force",
            "--base",
        ])
        .arg(&base)
        .arg("-o")
        .arg(&out)
        .output();
    assert_eq!(status(&o), 0, "{}", stderr(&o));
    assert!(!listing(&out)?.contains(&"/aerie/aerie".to_string()));
    assert_eq!(names(outdir.path()).len(), 1, "{:?}", names(outdir.path()));
    Ok(())
}

#[test]
fn remaster_el9_keeps_the_base_and_adds_aerie() -> Result<()> {
    remaster_keeps_the_base_and_adds_aerie(Layout::El9, &[])
}

#[test]
fn remaster_el10_keeps_the_base_and_adds_aerie() -> Result<()> {
    remaster_keeps_the_base_and_adds_aerie(Layout::El10, &[])
}

#[test]
fn rewrite_el9_keeps_the_base_and_adds_aerie() -> Result<()> {
    remaster_keeps_the_base_and_adds_aerie(Layout::El9, &["--rewrite"])
}

#[test]
fn rewrite_el10_keeps_the_base_and_adds_aerie() -> Result<()> {
    remaster_keeps_the_base_and_adds_aerie(Layout::El10, &["--rewrite"])
}

fn volume_id(iso: &Path) -> Result<String> {
    let out = tool("isoinfo").arg("-d").arg("-i").arg(iso).try_run()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix("Volume id: "))
        .unwrap_or("")
        .to_string())
}

#[test]
fn config_volumes_oemdrv_and_cidata() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let rendered = dir.path().join("rendered");
    aerie()
        .args(["render", "--example", "lab", "-o"])
        .arg(&rendered)
        .try_run()?;

    let ks = dir.path().join("ks.iso");
    aerie()
        .args(["iso", "--example", "lab", "--config-only", "-o"])
        .arg(&ks)
        .try_run()?;
    assert_eq!(volume_id(&ks)?, "OEMDRV");
    let files = listing(&ks)?;
    for want in [
        "/ks.cfg",
        "/fe1/ks.cfg",
        "/node1/ks.cfg",
        "/node2/bundle.json",
        "/aerie",
    ] {
        assert!(files.contains(&want.to_string()), "{want}: {files:?}");
    }
    assert!(!files.iter().any(|f| f.contains("/root")), "{files:?}");
    assert_eq!(
        read_file(&ks, "/ks.cfg", dir.path())?,
        std::fs::read_to_string(rendered.join("ks.cfg"))?
    );

    let one = dir.path().join("node1.iso");
    aerie()
        .args([
            "iso",
            "--example",
            "lab",
            "--config-only",
            "--node",
            "node1",
            "--no-binary",
            "-o",
        ])
        .arg(&one)
        .try_run()?;
    assert_eq!(volume_id(&one)?, "OEMDRV");
    assert_eq!(
        read_file(&one, "/ks.cfg", dir.path())?,
        std::fs::read_to_string(rendered.join("node1/ks.cfg"))?
    );
    assert!(!listing(&one)?.contains(&"/fe1".to_string()));

    let ci = dir.path().join("cidata.iso");
    aerie()
        .args([
            "iso",
            "--example",
            "lab",
            "--config-only",
            "--cidata",
            "--node",
            "node1",
            "-o",
        ])
        .arg(&ci)
        .try_run()?;
    assert_eq!(volume_id(&ci)?, "cidata");
    let files = listing(&ci)?;
    for want in ["/user-data", "/meta-data", "/network-config", "/aerie"] {
        assert!(files.contains(&want.to_string()), "{want}: {files:?}");
    }
    assert_eq!(
        read_file(&ci, "/meta-data", dir.path())?,
        "instance-id: aerie-lab-node1\nlocal-hostname: node1\n"
    );
    assert!(read_file(&ci, "/user-data", dir.path())?.starts_with("#cloud-config\n"));

    // --cidata needs one node.
    let o = aerie()
        .args(["iso", "--example", "lab", "--config-only", "--cidata", "-o"])
        .arg(dir.path().join("x.iso"))
        .output();
    assert_eq!(status(&o), 64, "{}", stderr(&o));
    assert!(stderr(&o).contains("--node"), "{}", stderr(&o));
    assert!(!dir.path().join("x.iso").exists());
    Ok(())
}

/// Runs `aerie iso --base BASE` into an empty directory; the error text,
/// after checking the exit status and that the directory stayed empty.
fn refused(base: &Path, want_status: i32, path: Option<&str>) -> Result<String> {
    let dir = tempfile::tempdir()?;
    let tmp = tempfile::tempdir()?;
    let out = dir.path().join("out.iso");
    let mut cmd = aerie()
        .env("TMPDIR", tmp.path())
        .args(["iso", "--example", "lab", "--base"])
        .arg(base)
        .arg("-o")
        .arg(&out);
    if let Some(p) = path {
        cmd = cmd.env("PATH", p);
    }
    let o = cmd.output();
    let err = stderr(&o);
    assert_eq!(status(&o), want_status, "{err}");
    assert!(
        names(dir.path()).is_empty(),
        "left behind: {:?}",
        names(dir.path())
    );
    assert!(
        names(tmp.path()).is_empty(),
        "temp files left behind: {:?}",
        names(tmp.path())
    );
    Ok(err)
}

#[test]
fn bad_bases_are_refused_clearly_with_no_output() -> Result<()> {
    let dir = tempfile::tempdir()?;

    let junk = dir.path().join("junk.iso");
    std::fs::write(&junk, vec![0x5a_u8; 1 << 20])?;
    let err = refused(&junk, 65, None)?;
    assert!(err.contains("is not an ISO 9660 image"), "{err}");

    let err = refused(&dir.path().join("absent.iso"), 66, None)?;
    assert!(err.contains("does not exist"), "{err}");

    // An ISO 9660 volume with no El Torito boot record.
    let data = dir.path().join("data");
    std::fs::create_dir(&data)?;
    std::fs::write(data.join("readme.txt"), "data\n")?;
    let plain = dir.path().join("plain.iso");
    tool("xorriso")
        .args(["-as", "mkisofs", "-quiet", "-V", "DATA", "-o"])
        .arg(&plain)
        .arg(&data)
        .try_run()?;
    let err = refused(&plain, 65, None)?;
    assert!(err.contains("no El Torito boot record"), "{err}");

    // Bootable, but laid out like no distribution aerie knows (Debian-like).
    let deb = dir.path().join("deb");
    std::fs::create_dir_all(deb.join("isolinux"))?;
    std::fs::copy(
        "/usr/lib/ISOLINUX/isolinux.bin",
        deb.join("isolinux/isolinux.bin"),
    )?;
    std::fs::write(deb.join("isolinux/txt.cfg"), "default install\n")?;
    let unknown = dir.path().join("unknown.iso");
    tool("xorriso")
        .args([
            "-as",
            "mkisofs",
            "-quiet",
            "-V",
            "DEBIAN",
            "-b",
            "isolinux/isolinux.bin",
            "-c",
            "isolinux/boot.cat",
            "-no-emul-boot",
            "-boot-load-size",
            "4",
            "-boot-info-table",
            "-o",
        ])
        .arg(&unknown)
        .arg(&deb)
        .try_run()?;
    let err = refused(&unknown, 65, None)?;
    for want in [
        "no installer layout aerie knows",
        "looked for",
        "/isolinux/isolinux.cfg",
        "/boot/grub2/grub.cfg",
        "/images/pxeboot/vmlinuz",
        "El Torito UEFI image",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }

    // No xorriso on PATH.
    let base = base(&work_dir(), Layout::El9)?;
    let empty = tempfile::tempdir()?;
    let err = refused(&base, 69, Some(&empty.path().to_string_lossy()))?;
    assert!(
        err.contains("xorriso") && err.contains("apt-get install xorriso"),
        "{err}"
    );

    // xorriso but no mtools.
    // The xorriso test-deps installed, wherever PATH finds it.
    std::os::unix::fs::symlink(harness::find_tool("xorriso"), empty.path().join("xorriso"))?;
    let err = refused(&base, 69, Some(&empty.path().to_string_lossy()))?;
    assert!(err.contains("apt-get install mtools"), "{err}");
    Ok(())
}

#[test]
fn build_writes_the_oemdrv_iso_or_says_why_not() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("aerie-out");
    let o = aerie()
        .args(["build", "--example", "lab", "-o"])
        .arg(&out)
        .try_run()?;
    assert!(String::from_utf8_lossy(&o.stdout).contains("oemdrv.iso"));
    assert_eq!(volume_id(&out.join("oemdrv.iso"))?, "OEMDRV");

    // Without xorriso the main job still succeeds and says what it skipped.
    let empty = tempfile::tempdir()?;
    let o = aerie()
        .env("PATH", empty.path())
        .args(["build", "--example", "lab", "--force", "-o"])
        .arg(&out)
        .try_run()?;
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("oemdrv.iso skipped") && text.contains("apt-get install xorriso"),
        "{text}"
    );
    assert!(out.join("ks.cfg").is_file() && !out.join("oemdrv.iso").exists());
    Ok(())
}

/// `DIR/NAME` with `text`, creating folders.
fn write_template(dir: &Path, name: &str, text: &str) -> Result<()> {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap())?;
    std::fs::write(path, text)?;
    Ok(())
}

#[test]
fn templates_override_the_boot_menus() -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let t = tempfile::tempdir()?;
    let dir = t.path().to_string_lossy().into_owned();
    // GRUB for UEFI from DIR/iso/ (the EFI image's menu includes it), an
    // isolinux menu from DIR itself using aerie's functions and filters.
    write_template(
        t.path(),
        "iso/grub-efi.cfg.j2",
        "# site's own UEFI menu for {{ title }}\n{% set local_boot = \"exit\" %}\n{% include \"grub-menu.cfg.j2\" %}",
    )?;
    write_template(
        t.path(),
        "isolinux.cfg.j2",
        "default {{ isolinux_ui }}\nlabel {{ \"Only Compute\" | isolinux_label }}\n  menu label {{ \"Only Compute\" | hotkey(\"C\") }}\n  kernel {{ kernel }}\n  append initrd={{ initrd }} {{ stage2_arg(device) }} {{ ks_arg(device, \"compute\") }}\n",
    )?;

    let outdir = tempfile::tempdir()?;
    let out = outdir.path().join("el9.iso");
    let o = remaster(Layout::El9, &out, &["--templates", &dir])?;
    assert_eq!(status(&o), 0, "{}", stderr(&o));
    let isolinux = read_file(&out, "/isolinux/isolinux.cfg", scratch.path())?;
    let uuid = blkid(&out, "UUID")?;
    assert_eq!(
        isolinux,
        format!("default menu.c32\nlabel onlycompute\n  menu label Only ^Compute\n  kernel /images/pxeboot/vmlinuz\n  append initrd=/images/pxeboot/initrd.img inst.stage2=hd:UUID={uuid} inst.ks=hd:UUID={uuid}:/ks/compute.cfg\n")
    );
    let efi = read_file(&out, "/EFI/BOOT/grub.cfg", scratch.path())?;
    assert!(
        efi.starts_with("# site's own UEFI menu for lab\n# aerie installer menu for site lab\n"),
        "{efi}"
    );
    assert!(efi.ends_with("\texit\n}\n"), "{efi}");
    assert_eq!(efi_image_grub_cfg(&out, scratch.path())?, efi);

    // EL10: the BIOS menu is still the built-in one; the UEFI menus are the site's.
    let out = outdir.path().join("el10.iso");
    let o = remaster(Layout::El10, &out, &["--templates", &dir])?;
    assert_eq!(status(&o), 0, "{}", stderr(&o));
    let bios = read_file(&out, "/boot/grub2/grub.cfg", scratch.path())?;
    assert!(
        bios.starts_with("# aerie installer menu for site lab\n"),
        "{bios}"
    );
    assert!(bios.contains("\tchainloader (hd0)+1\n"), "{bios}");
    let efi = read_file(&out, "/EFI/BOOT/grub.cfg", scratch.path())?;
    assert!(efi.starts_with("# site's own UEFI menu for lab\n"), "{efi}");
    assert_eq!(efi_image_grub_cfg(&out, scratch.path())?, efi);
    Ok(())
}

#[test]
fn a_broken_menu_template_is_named_with_its_line_and_nothing_is_written() -> Result<()> {
    let t = tempfile::tempdir()?;
    write_template(
        t.path(),
        "iso/grub-menu.cfg.j2",
        "# aerie installer menu\nset default=0\nset timeout={{ timeout }}\n",
    )?;
    let outdir = tempfile::tempdir()?;
    let out = outdir.path().join("el9.iso");
    let o = remaster(
        Layout::El9,
        &out,
        &["--templates", &t.path().to_string_lossy()],
    )?;
    let err = stderr(&o);
    assert_eq!(status(&o), 1, "{err}");
    assert!(
        err.contains("template grub-menu.cfg.j2 line 3: undefined value")
            && err.contains("(from grub-efi.cfg.j2 line 3)"),
        "{err}"
    );
    assert!(
        names(outdir.path()).is_empty(),
        "{:?}",
        names(outdir.path())
    );
    Ok(())
}

/// `readelf -S` and `-V` of a file (binutils: an independent reader).
fn readelf(flag: &str, file: &Path) -> Result<String> {
    let out = tool("readelf").arg("-W").arg(flag).arg(file).try_run()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn the_binary_on_the_media_is_stripped_and_says_its_size() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let ks = dir.path().join("ks.iso");
    let o = aerie()
        .args(["iso", "--example", "lab", "--config-only", "-o"])
        .arg(&ks)
        .try_run()?;
    let said = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        said.contains("the aerie binary, ") && said.contains(" MB (stripped from "),
        "{said}"
    );

    let on_media = dir.path().join("aerie");
    tool("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(&ks)
        .args(["-extract", "/aerie"])
        .arg(&on_media)
        .arg("-end")
        .try_run()?;
    let running = std::fs::metadata(aerie_bin())?.len();
    let size = std::fs::metadata(&on_media)?.len();
    eprintln!("aerie on the media: {size} bytes (running binary {running})");
    assert!(size < running / 2, "{size} of {running} bytes");
    let sections = readelf("-S", &on_media)?;
    assert!(!sections.contains(".debug_info"), "{sections}");
    assert!(!sections.contains(".debug_line"), "{sections}");
    assert!(!sections.contains(".symtab"), "{sections}");
    // It still runs.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&on_media, std::fs::Permissions::from_mode(0o700))?;
    let v = tool(&on_media).arg("--version").try_run()?;
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("aerie "));
    Ok(())
}

/// A binary needing a newer glibc than EL9's 2.34 is refused before anything
/// is written: the aerie binary, its GLIBC_2.NN version needs renamed to
/// GLIBC_2.99 (same length: still a valid ELF file).
#[test]
fn a_binary_needing_a_newer_glibc_than_the_distro_is_refused() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut bytes = std::fs::read(aerie_bin())?;
    let mut patched = 0;
    let pat = b"GLIBC_2.";
    let mut i = 0;
    while i + pat.len() + 3 <= bytes.len() {
        let rest = &bytes[i + pat.len()..];
        if bytes[i..].starts_with(pat)
            && rest[0].is_ascii_digit()
            && rest[1].is_ascii_digit()
            && rest[2] == 0
        {
            bytes[i + pat.len()] = b'9';
            bytes[i + pat.len() + 1] = b'9';
            patched += 1;
        }
        i += 1;
    }
    assert!(patched > 0, "no GLIBC_2.NN strings in the binary");
    let newer = dir.path().join("aerie-newer");
    std::fs::write(&newer, &bytes)?;
    assert!(readelf("-V", &newer)?.contains("GLIBC_2.99"));

    let out = dir.path().join("out");
    std::fs::create_dir(&out)?;
    let o = aerie()
        .args(["iso", "--example", "lab", "--config-only", "--binary"])
        .arg(&newer)
        .arg("-o")
        .arg(out.join("ks.iso"))
        .output();
    let err = stderr(&o);
    assert_eq!(status(&o), 69, "{err}");
    for want in [
        "needs glibc 2.99",
        "rocky9 (EL9) ships glibc 2.34",
        "--binary FILE",
        "--no-binary",
        "x86_64-unknown-linux-musl",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    assert!(names(&out).is_empty(), "{:?}", names(&out));

    // The same binary unpatched goes on the media.
    let same = dir.path().join("aerie-same");
    std::fs::copy(aerie_bin(), &same)?;
    aerie()
        .args(["iso", "--example", "lab", "--config-only", "--binary"])
        .arg(&same)
        .arg("-o")
        .arg(out.join("ks.iso"))
        .try_run()?;
    Ok(())
}

/// A distribution ISO customised with its own kickstarts in /ks/ is a base
/// like any other: remastered, its /ks/ files replaced by aerie's (none
/// left over, the change said), and the result carries aerie's mark, the
/// stamp naming aerie's version and the site file's SHA-256.
#[test]
fn a_base_with_its_own_ks_is_remastered_and_its_ks_replaced() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let plain = base(&work_dir(), Layout::El9)?;
    let theirs = dir.path().join("theirs");
    std::fs::create_dir_all(theirs.join("ks"))?;
    std::fs::write(theirs.join("ks/site.cfg"), "# the site's own kickstart\n")?;
    std::fs::write(theirs.join("ks/frontend.cfg"), "# theirs, not aerie's\n")?;
    let custom = dir.path().join("custom.iso");
    xorriso(&[
        "-indev",
        &plain.to_string_lossy(),
        "-outdev",
        &custom.to_string_lossy(),
        "-boot_image",
        "any",
        "replay",
        "-map",
        &theirs.join("ks").to_string_lossy(),
        "/ks",
    ])?;
    assert!(listing(&custom)?.contains(&"/ks/site.cfg".to_string()));

    let out = dir.path().join("aerie.iso");
    let o = aerie()
        .args(["iso", "--example", "lab", "--no-binary", "--base"])
        .arg(&custom)
        .arg("-o")
        .arg(&out)
        .output();
    assert_eq!(status(&o), 0, "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        said.contains("changed: the base's own /ks/ (2 file(s): /ks/frontend.cfg, /ks/site.cfg) is replaced by aerie's"),
        "{said}"
    );
    let files = listing(&out)?;
    assert!(!files.contains(&"/ks/site.cfg".to_string()), "{files:?}");
    let fe = read_file(&out, "/ks/frontend.cfg", dir.path())?;
    assert!(fe.contains("Kickstart dispatcher for site lab"), "{fe}");

    let stamp: serde_json::Value =
        serde_json::from_str(&read_file(&out, "/aerie/stamp.json", dir.path())?)?;
    assert_eq!(stamp["made-by"], "aerie");
    assert_eq!(stamp["aerie-version"], env!("CARGO_PKG_VERSION"));
    use sha2::Digest;
    let site = aerie::site::examples::get("lab").unwrap();
    let want: String = sha2::Sha256::digest(site.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(stamp["site-sha256"], want.as_str());
    Ok(())
}

fn mode_of(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Every ISO aerie writes carries secrets (kickstarts with the root password
/// hash; for Eucalyptus the frontend's private key and the nodes' host keys):
/// each is 0600 whatever the umask, also when --force replaces a 0644 file,
/// and the command says so.
#[test]
fn every_output_carrying_secrets_is_0600_and_said_to_be() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let base = base(&work_dir(), Layout::El9)?;
    let installer = d.join("installer.iso");
    std::fs::write(&installer, b"old")?; // 0644, replaced with --force
    let runs: Vec<(PathBuf, Vec<String>)> = vec![
        (d.join("oemdrv.iso"), vec!["--config-only".into()]),
        (
            d.join("node1-ks.iso"),
            vec!["--config-only".into(), "--node".into(), "nc1".into()],
        ),
        (
            d.join("cidata.iso"),
            vec![
                "--config-only".into(),
                "--cidata".into(),
                "--node".into(),
                "nc1".into(),
            ],
        ),
        (
            installer.clone(),
            vec![
                "--force".into(),
                "--base".into(),
                base.to_string_lossy().into(),
            ],
        ),
    ];
    for (out, extra) in &runs {
        let o = aerie()
            .cwd(d)
            .args(["iso", "--example", "eucalyptus", "--no-binary"])
            .args(extra)
            .arg("-o")
            .arg(out)
            .output();
        assert_eq!(status(&o), 0, "{extra:?}: {}", stderr(&o));
        assert_eq!(mode_of(out), 0o600, "{}", out.display());
        let said = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            said.contains("is mode 0600: the media carry secrets (SSH private keys)"),
            "{extra:?}: {said}"
        );
    }
    let built = d.join("aerie-out");
    let o = aerie()
        .cwd(d)
        .args(["build", "--example", "lab", "-o"])
        .arg(&built)
        .output();
    assert_eq!(status(&o), 0, "{}", stderr(&o));
    assert_eq!(mode_of(&built.join("oemdrv.iso")), 0o600);
    let said = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        said.contains("oemdrv.iso is mode 0600: the media carry secrets (the root password hash)"),
        "{said}"
    );
    Ok(())
}

/// SIGINT to the real binary while it writes leaves no temp file next to
/// the output and nothing in its TMPDIR (the staged kickstarts carry
/// secrets); it exits 130. A 300 MiB padded base makes the write long enough.
#[test]
fn interrupted_while_writing_it_leaves_nothing_behind() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let big = dir.path().join("big-base.iso");
    tool(manifest_dir().join("fixtures/iso/make-base-el9.sh"))
        .env("PAD_MB", "300")
        .arg(&big)
        .try_run()?;
    let outdir = dir.path().join("out");
    std::fs::create_dir(&outdir)?;
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp)?;
    for mode in [&[][..], &["--rewrite"][..]] {
        let mut child = aerie()
            .env("TMPDIR", &tmp)
            .args(["iso", "--example", "lab", "--no-binary", "--base"])
            .arg(&big)
            .args(mode)
            .arg("-o")
            .arg(outdir.join("aerie.iso"))
            .command()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        // Wait until the temp output exists and xorriso is writing it: the
        // interrupt must stop xorriso before the removal (an orphaned
        // xorriso opened its output again afterwards). Polled from /proc,
        // not by spawning a program: under load that was slower than a
        // whole 300 MB write.
        let pid = child.id().to_string();
        let start = std::time::Instant::now();
        loop {
            let staged = names(&outdir).iter().any(|n| n.ends_with(".aerie-tmp"));
            if staged && child_named(child.id(), "xorriso") {
                break;
            }
            if let Some(st) = child.try_wait()? {
                let mut err = String::new();
                use std::io::Read;
                child.stderr.take().unwrap().read_to_string(&mut err)?;
                panic!("{mode:?}: aerie ended ({st}) before xorriso was seen writing: {err}");
            }
            assert!(
                start.elapsed().as_secs() < 120,
                "{mode:?}: no xorriso writing a temp output after 120 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        tool("kill").args(["-INT", &pid]).try_run()?;
        let out = child.wait_with_output()?;
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(130), "{mode:?}: {err}");
        assert!(err.contains("interrupted"), "{mode:?}: {err}");
        // Nothing left when aerie has exited, and nothing made again later by
        // a program it ran (xorriso is stopped before the removal).
        for when in ["at exit", "1 s later"] {
            assert!(
                names(&outdir).is_empty(),
                "{mode:?}: left next to the output {when}: {:?}",
                names(&outdir)
            );
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        assert!(
            names(&tmp).is_empty(),
            "{mode:?}: left in TMPDIR: {:?}",
            names(&tmp)
        );
    }
    Ok(())
}
