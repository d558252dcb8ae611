//! The installer layouts aerie knows, recognised from a [`Probe`]; anything
//! else is refused with the list of what was looked for.

use super::probe::{AppendedPartition, EfiImage, Probe};
use super::IsoError;
use std::path::Path;

/// The kernel and initrd every known layout boots.
pub const KERNEL: &str = "/images/pxeboot/vmlinuz";
pub const INITRD: &str = "/images/pxeboot/initrd.img";
/// The UEFI menu every known layout has in its tree.
pub const EFI_GRUB_CFG: &str = "/EFI/BOOT/grub.cfg";
/// The menu inside the EFI image (mtools path).
pub const EFI_IMAGE_GRUB_CFG: &str = "::/EFI/BOOT/grub.cfg";

/// Which family of distribution media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Rocky / Alma / CentOS Stream 9: isolinux for BIOS, GRUB for UEFI.
    El9,
    /// Rocky / Alma 10, Fedora (lorax >= 38): GRUB for BIOS and UEFI.
    El10,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::El9 => "EL9 (isolinux + GRUB EFI)",
            Kind::El10 => "EL10 (GRUB BIOS + GRUB EFI)",
        }
    }
}

/// A boot-loader configuration file in the ISO tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Menu {
    /// `/isolinux/isolinux.cfg`.
    Isolinux,
    /// `/boot/grub2/grub.cfg` (GRUB for BIOS).
    GrubBios,
    /// `/EFI/BOOT/grub.cfg` (GRUB for UEFI).
    GrubEfi,
}

impl Menu {
    pub fn iso_path(self) -> &'static str {
        match self {
            Menu::Isolinux => "/isolinux/isolinux.cfg",
            Menu::GrubBios => "/boot/grub2/grub.cfg",
            Menu::GrubEfi => EFI_GRUB_CFG,
        }
    }
}

/// Where the EFI image is and how to put an edited one back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EfiTarget {
    /// `-map NEW /images/efiboot.img`.
    Tree(String),
    /// `-append_partition N TYPE NEW`.
    Appended(AppendedPartition),
}

/// A recognised base: what to rewrite and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub kind: Kind,
    /// The menus to write, in the tree (every one the base has; none created).
    pub menus: Vec<Menu>,
    pub efi: EfiTarget,
}

/// Recognise the base's layout, or say what was looked for.
pub fn detect(base: &Path, p: &Probe) -> Result<Layout, IsoError> {
    let mut looked_for = Vec::new();
    let bios = p.bios.as_ref().map(|(k, path)| (k.as_str(), path.as_str()));
    let kind = if p.has("/isolinux/isolinux.cfg")
        && matches!(bios, Some(("isolinux", "/isolinux/isolinux.bin")))
    {
        Some(Kind::El9)
    } else if p.has("/boot/grub2/grub.cfg") && matches!(bios, Some(("grub", _))) {
        Some(Kind::El10)
    } else {
        looked_for.push(format!(
            "EL9: /isolinux/isolinux.cfg and an isolinux El Torito BIOS image /isolinux/isolinux.bin (found: {}, BIOS image {})",
            yes_no(p.has("/isolinux/isolinux.cfg")),
            bios.map_or("none".to_string(), |(k, path)| format!("{path} ({k})"))
        ));
        looked_for.push(format!(
            "EL10: /boot/grub2/grub.cfg and a GRUB2 El Torito BIOS image (found: {}, BIOS image {})",
            yes_no(p.has("/boot/grub2/grub.cfg")),
            bios.map_or("none".to_string(), |(k, path)| format!("{path} ({k})"))
        ));
        None
    };
    for f in [KERNEL, INITRD, EFI_GRUB_CFG] {
        if !p.has(f) {
            looked_for.push(format!("{f} (not found)"));
        }
    }
    let efi = match &p.efi {
        Some(EfiImage::Tree(path)) if p.has(path) => Some(EfiTarget::Tree(path.clone())),
        Some(EfiImage::Appended { partition }) => {
            match p.appended.iter().find(|a| a.number == *partition) {
                Some(a) => Some(EfiTarget::Appended(a.clone())),
                None => {
                    looked_for.push(format!(
                        "appended partition {partition}, where the El Torito EFI entry points (not found)"
                    ));
                    None
                }
            }
        }
        other => {
            looked_for.push(format!(
                "an El Torito UEFI image (a FAT image in the tree or an appended partition; found: {other:?})"
            ));
            None
        }
    };
    match (kind, efi) {
        (Some(kind), Some(efi)) if looked_for.is_empty() => {
            let menus = [Menu::Isolinux, Menu::GrubBios, Menu::GrubEfi]
                .into_iter()
                .filter(|m| p.has(m.iso_path()))
                .collect();
            Ok(Layout { kind, menus, efi })
        }
        _ => Err(IsoError::UnknownLayout {
            path: base.to_path_buf(),
            looked_for,
        }),
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "present"
    } else {
        "absent"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(files: &[&str], bios: Option<(&str, &str)>, efi: Option<EfiImage>) -> Probe {
        Probe {
            label: "L".into(),
            uuid: None,
            bios: bios.map(|(a, b)| (a.into(), b.into())),
            efi,
            appended: vec![AppendedPartition {
                number: 2,
                type_guid: "28732ac11ff8d211ba4b00a0c93ec93b".into(),
            }],
            files: files.iter().map(|s| s.to_string()).collect(),
        }
    }

    const COMMON: [&str; 3] = [KERNEL, INITRD, EFI_GRUB_CFG];

    #[test]
    fn recognises_el9() {
        let mut files = COMMON.to_vec();
        files.extend(["/isolinux/isolinux.cfg", "/images/efiboot.img"]);
        let p = probe(
            &files,
            Some(("isolinux", "/isolinux/isolinux.bin")),
            Some(EfiImage::Tree("/images/efiboot.img".into())),
        );
        let l = detect(Path::new("b.iso"), &p).unwrap();
        assert_eq!(l.kind, Kind::El9);
        assert_eq!(l.menus, [Menu::Isolinux, Menu::GrubEfi]);
        assert_eq!(l.efi, EfiTarget::Tree("/images/efiboot.img".into()));
    }

    #[test]
    fn recognises_el10_with_an_appended_efi_image() {
        let mut files = COMMON.to_vec();
        files.push("/boot/grub2/grub.cfg");
        let p = probe(
            &files,
            Some(("grub", "/images/eltorito.img")),
            Some(EfiImage::Appended { partition: 2 }),
        );
        let l = detect(Path::new("b.iso"), &p).unwrap();
        assert_eq!(l.kind, Kind::El10);
        assert_eq!(l.menus, [Menu::GrubBios, Menu::GrubEfi]);
        assert!(matches!(
            l.efi,
            EfiTarget::Appended(AppendedPartition { number: 2, .. })
        ));
    }

    #[test]
    fn refuses_anything_else_saying_what_it_looked_for() {
        // A Debian-style ISO: isolinux elsewhere, no pxeboot kernel.
        let p = probe(
            &["/isolinux/txt.cfg", "/install.amd/vmlinuz"],
            Some(("isolinux", "/isolinux/isolinux.bin")),
            Some(EfiImage::Tree("/boot/grub/efi.img".into())),
        );
        let err = detect(Path::new("debian.iso"), &p).unwrap_err().to_string();
        for want in [
            "/isolinux/isolinux.cfg",
            "/boot/grub2/grub.cfg",
            KERNEL,
            EFI_GRUB_CFG,
            "El Torito UEFI image",
        ] {
            assert!(err.contains(want), "{want} missing from: {err}");
        }
    }
}
