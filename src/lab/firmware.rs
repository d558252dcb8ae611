//! The UEFI firmware image labs boot under: OVMF's code (read-only, shared)
//! and a private copy of its variable store per VM.

use super::checks::{HostNotReady, Problem};
use std::path::PathBuf;

/// Debian's `ovmf` package (4 MiB flash layout).
pub const CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
pub const VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

/// OVMF's two files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ovmf {
    pub code: PathBuf,
    /// The template each VM copies into the lab folder.
    pub vars: PathBuf,
}

/// OVMF, or the host is not ready (nothing made) with how to install it.
pub fn find() -> anyhow::Result<Ovmf> {
    let ovmf = Ovmf {
        code: CODE.into(),
        vars: VARS.into(),
    };
    let missing: Vec<String> = [&ovmf.code, &ovmf.vars]
        .iter()
        .filter(|p| !p.is_file())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        return Ok(ovmf);
    }
    Err(HostNotReady {
        problems: vec![Problem {
            what: "ovmf".into(),
            message: format!(
                "--image boots the VMs under UEFI, and the OVMF firmware is missing ({})",
                missing.join(", ")
            ),
            fix: "install it: `apt-get install ovmf` (Debian, Ubuntu) or `dnf install edk2-ovmf`"
                .into(),
        }],
        note: None,
    }
    .into())
}
