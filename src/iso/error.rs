//! The ISO errors a caller (or a test) must tell apart.

use std::path::PathBuf;

/// Why an ISO could not be made; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum IsoError {
    /// The base ISO does not exist or cannot be read.
    #[error("base ISO {path} does not exist or is not a readable file")]
    BaseMissing { path: PathBuf },
    /// The base is not an ISO 9660 image.
    #[error(
        "{path} is not an ISO 9660 image ({detail}); give a distribution's installer ISO as --base"
    )]
    NotAnIso { path: PathBuf, detail: String },
    /// The base has no El Torito boot record: it would not boot.
    #[error("{path} has no El Torito boot record (neither a BIOS nor a UEFI boot image): it is not a bootable installer ISO")]
    NoBootRecord { path: PathBuf },
    /// The base boots, but not in a way aerie knows how to remaster.
    #[error("{path} has no installer layout aerie knows (Rocky/Alma/CentOS Stream 9 or 10); looked for:\n{}", bullet(.looked_for))]
    UnknownLayout {
        path: PathBuf,
        looked_for: Vec<String>,
    },
    /// A program aerie drives is not installed (or too old).
    #[error("`{program}` {problem}: {hint}")]
    ToolMissing {
        program: String,
        problem: String,
        hint: String,
    },
    /// The aerie binary for the media needs a newer glibc than the site's
    /// distribution ships: it would not run there.
    #[error("{binary} needs glibc {needs} (GLIBC_{needs} symbols), but {distro} ships glibc {ships}: it would not run on the installed nodes. Put a binary built for {distro} on the media: build aerie where glibc is {ships} or older (e.g. in a container of that distribution) or statically (`cargo build --release --target x86_64-unknown-linux-musl`) and give it as --binary FILE, or leave it off with --no-binary")]
    BinaryTooNew {
        binary: PathBuf,
        needs: String,
        distro: String,
        ships: String,
    },
    /// The output's file system has too little room.
    #[error("{dir} has {free_mb} MiB free; the ISO needs about {need_mb} MiB: free some space or choose another -o")]
    NoRoom {
        dir: PathBuf,
        free_mb: u64,
        need_mb: u64,
    },
}

fn bullet(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("  - {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}
