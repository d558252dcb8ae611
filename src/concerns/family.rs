//! Distribution families: where they differ in how a host is driven.

use crate::site::Distro;

/// A family of distributions that share tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Rocky, Alma, CentOS Stream (EL 9).
    El,
}

pub fn of(distro: Distro) -> Family {
    match distro {
        Distro::Rocky9 | Distro::Alma9 | Distro::CentosStream9 => Family::El,
    }
}

/// The commands that regenerate the boot loader's configuration after
/// `/etc/default/grub` changed. EL 9 boots BootLoaderSpec entries, whose
/// options `grubby` updates; `grub2-mkconfig` keeps grub.cfg in step.
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
    }
}
