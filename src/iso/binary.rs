//! The aerie binary the media carry (kickstart %post and cloud-init run it
//! on the installed system): lean, and able to run there.
//!
//! * Lean: a build with debug info is 60-120 MB; the copy on the media has
//!   its debug sections and symbol table stripped (`strip --strip-all`, run
//!   through [`crate::exec`] into a private temp directory; the running
//!   binary is never touched). A stripped binary goes on as it is.
//! * Able to run: the GLIBC_x.y versions its dynamic symbols need (read from
//!   the ELF's version-needs section with the `object` crate) must all be
//!   shipped by the site's distribution; a binary that needs newer is refused
//!   before anything is written. A static binary (musl) needs none.

use super::IsoError;
use crate::exec;
use crate::site::Distro;
use anyhow::Context;
use object::elf::FileHeader64;
use object::read::elf::FileHeader;
use object::Endianness;
use std::path::{Path, PathBuf};

/// A glibc version (major, minor).
pub type Glibc = (u32, u32);

/// The glibc a distribution ships (every EL9: 2.34).
pub fn distro_glibc(distro: Distro) -> (&'static str, Glibc) {
    match distro {
        Distro::Rocky9 | Distro::Alma9 | Distro::CentosStream9 => ("EL9", (2, 34)),
        Distro::Debian12 => ("Debian 12", (2, 36)),
    }
}

/// What the ELF file says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ElfFacts {
    /// The newest GLIBC_x.y any of its symbols needs (None: no glibc needs,
    /// e.g. a static musl build).
    pub glibc: Option<Glibc>,
    /// Whether it has anything to strip: `.debug_*` sections or a symbol table.
    pub strippable: bool,
}

/// `GLIBC_2.34` -> (2, 34); `GLIBC_PRIVATE` and others -> None.
pub fn parse_glibc_version(name: &str) -> Option<Glibc> {
    let v = name.strip_prefix("GLIBC_")?;
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((major, minor))
}

/// Reads the facts of a 64-bit ELF file.
pub fn elf_facts(data: &[u8]) -> anyhow::Result<ElfFacts> {
    let header = FileHeader64::<Endianness>::parse(data).context("not a 64-bit ELF file")?;
    let endian = header.endian().context("unknown ELF byte order")?;
    let sections = header
        .sections(endian, data)
        .context("unreadable ELF section table")?;
    let mut facts = ElfFacts::default();
    for section in sections.iter() {
        let name = sections.section_name(endian, section).unwrap_or_default();
        // `.debug_gdb_scripts` is loaded at run time: strip keeps it.
        if (name.starts_with(b".debug_") && name != b".debug_gdb_scripts") || name == b".symtab" {
            facts.strippable = true;
        }
    }
    if let Some((mut needs, link)) = sections
        .gnu_verneed(endian, data)
        .context("unreadable ELF version needs")?
    {
        let strings = sections
            .strings(endian, data, link)
            .context("unreadable ELF string table")?;
        while let Some((_, mut aux)) = needs.next().context("bad ELF version need")? {
            while let Some(a) = aux.next().context("bad ELF version need")? {
                let name = a.name(endian, strings).context("bad ELF version name")?;
                if let Some(v) = parse_glibc_version(&String::from_utf8_lossy(name)) {
                    facts.glibc = facts.glibc.max(Some(v));
                }
            }
        }
    }
    Ok(facts)
}

/// The binary ready to go on the media; its temp copy lives as long as this.
#[derive(Debug)]
pub struct MediaBinary {
    pub path: PathBuf,
    /// Bytes on the media, and of the binary it was made from.
    pub size: u64,
    pub original_size: u64,
    pub stripped: bool,
    pub glibc: Option<Glibc>,
    _dir: Option<(tempfile::TempDir, crate::interrupt::Registration)>,
}

impl MediaBinary {
    /// For messages: `the aerie binary, 21.5 MB (stripped from 117.5 MB)`.
    pub fn describe(&self) -> String {
        let mb = |b: u64| b as f64 / 1e6;
        if self.stripped {
            format!(
                "the aerie binary, {:.1} MB (stripped from {:.1} MB)",
                mb(self.size),
                mb(self.original_size)
            )
        } else {
            format!("the aerie binary, {:.1} MB", mb(self.size))
        }
    }
}

/// The running aerie binary.
pub fn running() -> anyhow::Result<PathBuf> {
    std::env::current_exe()
        .ok()
        .filter(|p| p.is_file())
        .context("cannot find the running aerie binary to put on the media; give --no-binary")
}

/// Checks `from` against the site's distribution and makes its lean copy.
pub fn for_media(from: &Path, distro: Distro) -> anyhow::Result<MediaBinary> {
    let data = std::fs::read(from).with_context(|| format!("cannot read {}", from.display()))?;
    let facts = elf_facts(&data)
        .with_context(|| format!("{} is not an aerie binary aerie can read", from.display()))?;
    let original_size = data.len() as u64;
    drop(data);
    let (family, ships) = distro_glibc(distro);
    if let Some(needs) = facts.glibc.filter(|n| *n > ships) {
        return Err(IsoError::BinaryTooNew {
            binary: from.to_path_buf(),
            needs: format!("{}.{}", needs.0, needs.1),
            distro: format!("{} ({family})", distro.as_str()),
            ships: format!("{}.{}", ships.0, ships.1),
        }
        .into());
    }
    if !facts.strippable {
        return Ok(MediaBinary {
            path: from.to_path_buf(),
            size: original_size,
            original_size,
            stripped: false,
            glibc: facts.glibc,
            _dir: None,
        });
    }
    let dir = tempfile::Builder::new()
        .prefix("aerie-binary-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let interrupt = crate::interrupt::remove_on_interrupt(dir.path());
    let path = dir.path().join("aerie");
    let mut cmd = exec::command("strip", ["--strip-all", "-o"]);
    cmd.arg(&path).arg(from);
    exec::run(&mut cmd).context("cannot strip the aerie binary for the media")?;
    let size = std::fs::metadata(&path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    Ok(MediaBinary {
        path,
        size,
        original_size,
        stripped: true,
        glibc: facts.glibc,
        _dir: Some((dir, interrupt)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_version_names() {
        assert_eq!(parse_glibc_version("GLIBC_2.34"), Some((2, 34)));
        assert_eq!(parse_glibc_version("GLIBC_2.2.5"), Some((2, 2)));
        assert_eq!(parse_glibc_version("GLIBC_PRIVATE"), None);
        assert_eq!(parse_glibc_version("GCC_3.0"), None);
        assert!((2, 39) > (2, 34) && (2, 4) < (2, 34));
    }

    #[test]
    fn reads_the_running_test_binary() {
        let exe = std::env::current_exe().unwrap();
        let facts = elf_facts(&std::fs::read(exe).unwrap()).unwrap();
        let (major, minor) = facts.glibc.expect("a glibc build needs GLIBC_ versions");
        assert_eq!(major, 2);
        assert!(minor >= 2, "{minor}");
        assert!(elf_facts(b"#!/bin/sh\n").is_err());
    }
}
