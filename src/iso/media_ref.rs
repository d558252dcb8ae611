//! How the installer's kernel finds aerie's ISO: the one reference builder
//! behind every `inst.stage2=` and `inst.ks=` aerie writes (isolinux, GRUB
//! for BIOS, GRUB in EFI/BOOT and in the EFI image, the lab's direct kernel
//! boot).
//!
//! dracut resolves `hd:LABEL=X` under /dev/disk/by-label, where udev names
//! a label with `\xNN` escapes for spaces, parentheses, `/` and the like.
//! isolinux hands such an escape to the kernel as written, but GRUB puts a
//! backslash before every backslash when it builds the kernel's command line
//! (upstream `grub_create_loader_cmdline`), so no spelling in grub.cfg gives
//! the kernel a single `\x20`: under UEFI (and GRUB for BIOS) the installer
//! would wait for a device that never appears.
//!
//! The choice: a label that needs no escaping is used as it is
//! (`hd:LABEL=Rocky-9-4-x86_64-dvd`, what lorax writes); any other label is
//! replaced by the ISO's UUID (`hd:UUID=2026-11-21-18-30-05-00`, dracut
//! looks under /dev/disk/by-uuid). A UUID of an ISO is its volume date in
//! digits and dashes: nothing to escape, on any loader. Relabelling the ISO
//! was the other way out; it was not taken because the label is the base's
//! identity (other tools and people search for it, and GRUB's own `search
//! -l` finds it fine), while the UUID is already there and kept unchanged.

use super::udev;
use serde::Serialize;

/// Where the kernel finds the media.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum MediaRef {
    /// A label that needs no escaping.
    Label(String),
    /// The ISO's UUID as udev and blkid show it (`2026-11-21-18-30-05-00`).
    Uuid(String),
}

impl MediaRef {
    /// The reference for an ISO with this label and (xorriso's 16-digit)
    /// UUID: the label when it needs no escaping, else the UUID.
    pub fn for_iso(label: &str, uuid: &str) -> MediaRef {
        if udev::needs_escaping(label) {
            MediaRef::Uuid(udev_uuid(uuid))
        } else {
            MediaRef::Label(label.to_string())
        }
    }

    /// `hd:LABEL=…` or `hd:UUID=…`.
    pub fn device(&self) -> String {
        match self {
            MediaRef::Label(l) => format!("hd:LABEL={l}"),
            MediaRef::Uuid(u) => format!("hd:UUID={u}"),
        }
    }

    /// `inst.stage2=hd:…`: the installer's stage 2 on the media.
    pub fn stage2_arg(&self) -> String {
        format!("inst.stage2={}", self.device())
    }

    /// `inst.ks=hd:…:/ks/<role>.cfg`.
    pub fn ks_arg(&self, role: &str) -> String {
        format!("inst.ks={}:/ks/{role}.cfg", self.device())
    }
}

/// xorriso's `2026112118300500` -> `2026-11-21-18-30-05-00` (how blkid and
/// /dev/disk/by-uuid show an ISO 9660 volume date); other forms as they are.
pub fn udev_uuid(uuid: &str) -> String {
    if uuid.len() == 16 && uuid.bytes().all(|b| b.is_ascii_digit()) {
        let p = |a: usize, b: usize| &uuid[a..b];
        format!(
            "{}-{}-{}-{}-{}-{}-{}",
            p(0, 4),
            p(4, 6),
            p(6, 8),
            p(8, 10),
            p(10, 12),
            p(12, 14),
            p(14, 16)
        )
    } else {
        uuid.to_string()
    }
}

/// A new ISO UUID in xorriso's form from the time `unix_s` (for a base that
/// has none).
pub fn new_uuid(unix_s: u64) -> String {
    let days = unix_s / 86_400;
    let secs = unix_s % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}00",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_labels_stay_labels_others_become_the_uuid() {
        let clean = MediaRef::for_iso("Rocky-9-4-x86_64-dvd", "2026112118300500");
        assert_eq!(
            clean.stage2_arg(),
            "inst.stage2=hd:LABEL=Rocky-9-4-x86_64-dvd"
        );
        let spaced = MediaRef::for_iso("Rocky 9.4 x86_64", "2026112118300500");
        assert_eq!(
            spaced.stage2_arg(),
            "inst.stage2=hd:UUID=2026-11-21-18-30-05-00"
        );
        assert_eq!(
            spaced.ks_arg("compute"),
            "inst.ks=hd:UUID=2026-11-21-18-30-05-00:/ks/compute.cfg"
        );
        for r in [clean, spaced] {
            assert!(!r.ks_arg("frontend").contains('\\'), "{r:?}");
        }
    }

    #[test]
    fn uuids_as_udev_shows_them() {
        assert_eq!(udev_uuid("2026112118300500"), "2026-11-21-18-30-05-00");
        assert_eq!(udev_uuid("odd"), "odd");
        assert_eq!(new_uuid(0), "1970010100000000");
        // 2026-11-29 20:25:33 UTC
        assert_eq!(new_uuid(1_795_983_933), "2026112920253300");
        assert_eq!(udev_uuid(&new_uuid(951_782_400)), "2000-02-29-00-00-00-00");
    }
}
