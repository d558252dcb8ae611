//! Distribution families: where they differ in how a host is driven.

use crate::site::Distro;

/// A family of distributions that share tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Rocky, Alma, CentOS Stream (EL 9).
    El,
    /// Debian 12.
    Debian,
}

pub fn of(distro: Distro) -> Family {
    match distro {
        Distro::Rocky9 | Distro::Alma9 | Distro::CentosStream9 => Family::El,
        Distro::Debian12 => Family::Debian,
    }
}

/// The commands that regenerate the boot loader's configuration after
/// `/etc/default/grub` changed. EL 9 boots BootLoaderSpec entries, whose
/// options `grubby` updates; `grub2-mkconfig` keeps grub.cfg in step.
/// Debian's `update-grub` regenerates /boot/grub/grub.cfg from the defaults,
/// which is where Debian's kernels take their command line.
pub fn grub_regeneration(family: Family, kernel_args: &[String]) -> Vec<Vec<String>> {
    match family {
        Family::El => vec![
            vec![
                "grub2-mkconfig".into(),
                "-o".into(),
                "/boot/grub2/grub.cfg".into(),
            ],
            vec![
                "grubby".into(),
                "--update-kernel=ALL".into(),
                format!("--args={}", kernel_args.join(" ")),
            ],
        ],
        Family::Debian => vec![vec!["update-grub".into()]],
    }
}
