//! The grub.cfg inside the El Torito EFI image (a FAT file system), edited
//! with mtools: no root, no loop mount. The image is not resized: real
//! efiboot.img files have little free space.

use crate::exec;
use anyhow::Context;
use std::path::Path;
use std::process::Command;

fn mtools(program: &str) -> Command {
    let mut cmd = Command::new(program);
    // Boot images often fail mtools' geometry sanity checks; they are fine.
    cmd.env("MTOOLS_SKIP_CHECK", "1");
    cmd
}

/// Checks that mtools is installed (before anything is written).
pub fn check_tools() -> Result<(), super::IsoError> {
    for program in ["mtype", "mcopy"] {
        if exec::find_program(program).is_none() {
            return Err(super::IsoError::ToolMissing {
                program: program.into(),
                problem: "was not found".into(),
                hint: exec::install_hint(program),
            });
        }
    }
    Ok(())
}

/// The text of `path` (mtools form, `::/EFI/BOOT/grub.cfg`) inside `image`;
/// None when the image has no such file.
pub fn read(image: &Path, path: &str) -> anyhow::Result<Option<String>> {
    let mut cmd = mtools("mtype");
    cmd.arg("-i").arg(image).arg(path);
    match exec::run(&mut cmd) {
        Ok(out) => Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned())),
        Err(exec::ExecError::Failed { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Replace `path` inside `image` with the file `from` (made writable first:
/// files extracted from an ISO are read-only).
pub fn replace(image: &Path, path: &str, from: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(image)
        .with_context(|| format!("cannot read {}", image.display()))?
        .permissions()
        .mode();
    std::fs::set_permissions(image, std::fs::Permissions::from_mode(mode | 0o200))
        .with_context(|| format!("cannot make {} writable", image.display()))?;
    let mut cmd = mtools("mcopy");
    cmd.arg("-o").arg("-i").arg(image).arg(from).arg(path);
    exec::run(&mut cmd).map_err(|e| {
        let full = e.to_string().contains("Disk full");
        let err = anyhow::Error::from(e);
        if full {
            err.context(format!(
                "the EFI image has no room for aerie's {path} (real efiboot.img files have little free space)"
            ))
        } else {
            err.context(format!("cannot write {path} inside the EFI image"))
        }
    })?;
    Ok(())
}
