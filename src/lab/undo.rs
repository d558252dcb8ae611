//! Undo what `lab up` made (see [`super::state::Made`]).

use super::state::{Ledger, Made};
use super::{netdev, process};
use anyhow::Context;
use std::time::Duration;

/// Undo everything the ledger lists, newest first (see [`Ledger::roll_back`]).
pub fn undo_all(ledger: &mut Ledger, say: &mut dyn FnMut(&str)) -> Vec<anyhow::Error> {
    ledger.roll_back(&mut undo, say)
}

/// Undo `made`; returns what was done, for the report (`None`: it was gone already).
pub fn undo(made: &Made) -> anyhow::Result<Option<String>> {
    Ok(match made {
        Made::Dir { path } => {
            std::fs::remove_dir(path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
            Some(format!("removed {}", path.display()))
        }
        Made::Tree { path } => remove(path, |p| std::fs::remove_dir_all(p))?,
        Made::File { path } => remove(path, |p| std::fs::remove_file(p))?,
        Made::Bridge { name } => {
            netdev::delete_link(name)?;
            Some(format!("deleted bridge {name}"))
        }
        Made::Tap { name } => {
            netdev::delete_link(name)?;
            Some(format!("deleted tap {name}"))
        }
        Made::NftTable { family, name } => {
            netdev::delete_nft_table(family, name)?;
            Some(format!("deleted nftables table {family} {name}"))
        }
        Made::Sysctl { key, before } => {
            netdev::write_sysctl(key, before)?;
            Some(format!("restored {key} = {before}"))
        }
        Made::Process {
            pid,
            start_time,
            what,
        } => process::stop(*pid, *start_time, Duration::from_secs(10))?
            .then(|| format!("stopped {what} (pid {pid})")),
        Made::VagrantMachines { dir } => {
            let mut cmd = crate::exec::command("vagrant", ["destroy", "-f"]);
            cmd.current_dir(dir);
            crate::exec::run(&mut cmd)?;
            Some(format!(
                "destroyed the vagrant machines of {}",
                dir.display()
            ))
        }
    })
}

fn remove(
    path: &std::path::Path,
    how: fn(&std::path::Path) -> std::io::Result<()>,
) -> anyhow::Result<Option<String>> {
    match how(path) {
        Ok(()) => Ok(Some(format!("removed {}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
}
