//! What a base ISO is: label, UUID, El Torito entries, appended partitions
//! and its file list, from one read-only xorriso run
//! (`-report_el_torito cmd` and `-find / -type f`).

use super::xorriso::Xorriso;
use super::IsoError;
use anyhow::Context;
use std::collections::BTreeSet;
use std::path::Path;

/// Where the El Torito UEFI image lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EfiImage {
    /// A file in the ISO 9660 tree (EL9: `/images/efiboot.img`).
    Tree(String),
    /// Appended partition N (lorax >= 38, EL10): not a file at all.
    Appended { partition: u32 },
}

/// An appended partition: its number and GPT type (xorriso's hex form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendedPartition {
    pub number: u32,
    pub type_guid: String,
}

/// A base ISO's boot setup and files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Probe {
    pub label: String,
    pub uuid: Option<String>,
    /// The El Torito BIOS entry: (xorriso's loader kind, e.g. "isolinux" or
    /// "grub", and the image path).
    pub bios: Option<(String, String)>,
    pub efi: Option<EfiImage>,
    pub appended: Vec<AppendedPartition>,
    /// Every regular file, absolute ISO paths.
    pub files: BTreeSet<String>,
}

impl Probe {
    pub fn has(&self, path: &str) -> bool {
        self.files.contains(path)
    }
}

/// `'it'"'"'s'` -> `it's`: xorriso's quoting of values and paths.
pub fn unquote(s: &str) -> String {
    let s = s.trim();
    let mut out = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('\'') {
            let end = r.find('\'').unwrap_or(r.len());
            out.push_str(&r[..end]);
            rest = r.get(end + 1..).unwrap_or("");
        } else if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"').unwrap_or(r.len());
            out.push_str(&r[..end]);
            rest = r.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(['\'', '"']).unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        }
    }
    out
}

/// Parses the stdout of `-report_el_torito cmd -find / -type f`.
pub fn parse(stdout: &str) -> Probe {
    let mut p = Probe::default();
    for line in stdout.lines() {
        if line.starts_with('\'') {
            p.files.insert(unquote(line));
        } else if let Some(v) = line.strip_prefix("-volid ") {
            p.label = unquote(v);
        } else if let Some(v) = line.strip_prefix("-volume_date uuid ") {
            p.uuid = Some(unquote(v));
        } else if let Some(v) = line.strip_prefix("-append_partition ") {
            let mut w = v.split_whitespace();
            if let (Some(Ok(number)), Some(t)) = (w.next().map(str::parse), w.next()) {
                p.appended.push(AppendedPartition {
                    number,
                    type_guid: t.to_string(),
                });
            }
        } else if let Some(v) = line.strip_prefix("-boot_image ") {
            let Some((kind, setting)) = v.split_once(' ') else {
                continue;
            };
            if let Some(path) = setting.strip_prefix("bin_path=") {
                p.bios = Some((kind.to_string(), unquote(path)));
            } else if let Some(path) = setting.strip_prefix("efi_path=") {
                let path = unquote(path);
                p.efi = Some(match appended_number(&path) {
                    Some(partition) => EfiImage::Appended { partition },
                    None => EfiImage::Tree(path),
                });
            }
        }
    }
    p
}

/// `--interval:appended_partition_2_start_…:all::` or
/// `--interval:appended_partition_2:all::` -> 2.
fn appended_number(path: &str) -> Option<u32> {
    let rest = path.strip_prefix("--interval:appended_partition_")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Reads `base` (read-only). Errors: [`IsoError::BaseMissing`],
/// [`IsoError::NotAnIso`], [`IsoError::NoBootRecord`].
pub fn probe(base: &Path) -> anyhow::Result<Probe> {
    if !base.is_file() {
        return Err(IsoError::BaseMissing {
            path: base.to_path_buf(),
        }
        .into());
    }
    let not_iso = |detail: &str| IsoError::NotAnIso {
        path: base.to_path_buf(),
        detail: detail.to_string(),
    };
    // Not with -return_with WARNING: a real base may load with harmless
    // warnings; "not an ISO" is recognised by xorriso's own words instead
    // ("No ISO 9660 image at LBA 0. Creating blank image." / "is blank").
    let out = Xorriso::new()
        .indev(base)
        .report_el_torito()
        .list_files()
        .run()
        .with_context(|| format!("cannot read {}", base.display()))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("No ISO 9660 image") {
        return Err(not_iso("xorriso found no ISO 9660 volume descriptor").into());
    }
    if stderr.contains("is blank") {
        return Err(not_iso("xorriso sees an empty medium").into());
    }
    let probe = parse(&String::from_utf8_lossy(&out.stdout));
    if probe.bios.is_none() && probe.efi.is_none() {
        return Err(IsoError::NoBootRecord {
            path: base.to_path_buf(),
        }
        .into());
    }
    Ok(probe)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EL9: &str = "-volid 'Rocky 9.4 x86_64'
-volume_date uuid '2026112118300500'
-boot_image isolinux system_area=--interval:imported_iso:0s-15s:zero_mbrpt,zero_gpt:'/tmp/el9.iso'
-boot_image any cat_path='/isolinux/boot.cat'
-boot_image isolinux bin_path='/isolinux/isolinux.bin'
-boot_image any next
-boot_image any efi_path='/images/efiboot.img'
-boot_image any platform_id=0xef
'/isolinux/isolinux.cfg'
'/images/efiboot.img'
'/it'\"'\"'s here'
";

    const EL10: &str = "-volid 'EL10 (x86_64) #@'
-volume_date uuid '2026112118300500'
-append_partition 2 28732ac11ff8d211ba4b00a0c93ec93b --interval:imported_iso:102272d-104835d::'/tmp/el10.iso'
-boot_image any appended_part_as=gpt
-boot_image grub bin_path='/images/eltorito.img'
-boot_image any next
-boot_image any efi_path='--interval:appended_partition_2_start_25568s_size_2564d:all::'
'/boot/grub2/grub.cfg'
";

    #[test]
    fn reads_an_el9_report() {
        let p = parse(EL9);
        assert_eq!(p.label, "Rocky 9.4 x86_64");
        assert_eq!(p.uuid.as_deref(), Some("2026112118300500"));
        assert_eq!(
            p.bios,
            Some(("isolinux".into(), "/isolinux/isolinux.bin".into()))
        );
        assert_eq!(p.efi, Some(EfiImage::Tree("/images/efiboot.img".into())));
        assert!(p.has("/isolinux/isolinux.cfg"));
        assert!(p.has("/it's here"), "{:?}", p.files);
        assert!(!p.has("/boot.cat"));
    }

    #[test]
    fn reads_an_el10_report() {
        let p = parse(EL10);
        assert_eq!(p.label, "EL10 (x86_64) #@");
        assert_eq!(p.bios, Some(("grub".into(), "/images/eltorito.img".into())));
        assert_eq!(p.efi, Some(EfiImage::Appended { partition: 2 }));
        assert_eq!(
            p.appended,
            [AppendedPartition {
                number: 2,
                type_guid: "28732ac11ff8d211ba4b00a0c93ec93b".into()
            }]
        );
    }

    #[test]
    fn no_boot_lines_means_no_boot_record() {
        let p = parse("-volid 'DATA'\n'/a'\n");
        assert!(p.bios.is_none() && p.efi.is_none());
    }

    #[test]
    fn unquotes_like_xorriso_quotes() {
        assert_eq!(unquote("'a b'"), "a b");
        assert_eq!(unquote("'it'\"'\"'s'"), "it's");
    }
}
