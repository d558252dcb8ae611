//! Which exit code an error gets: decided here, at the edge, from the first
//! typed cause in its chain (sysexits; the constants live in `crate::exit`).

use crate::exec::ExecError;
use crate::exit::{self, AlreadyExists, Reported, UsageError};
use crate::iso::IsoError;
use crate::lab::checks::HostNotReady;
use crate::site::{load::ReadError, InvalidSite};

/// The exit code for an error: the first cause aerie knows decides,
/// anything else is a plain failure.
pub fn code_for(err: &anyhow::Error) -> i32 {
    err.chain().find_map(code_of).unwrap_or(exit::FAILURE)
}

/// The code one cause stands for, if aerie knows it.
fn code_of(cause: &(dyn std::error::Error + 'static)) -> Option<i32> {
    if let Some(Reported(code)) = cause.downcast_ref::<Reported>() {
        return Some(*code);
    }
    if cause.is::<InvalidSite>() {
        return Some(exit::DATA_ERROR);
    }
    if cause.is::<UsageError>() {
        return Some(exit::USAGE);
    }
    if cause.is::<ReadError>() {
        return Some(exit::NO_INPUT);
    }
    if cause.is::<HostNotReady>() {
        return Some(exit::UNAVAILABLE);
    }
    if cause.is::<crate::deploy::VenvError>() || cause.is::<crate::deploy::NodesLate>() {
        return Some(exit::UNAVAILABLE);
    }
    if cause.is::<AlreadyExists>() {
        return Some(exit::CANT_CREATE);
    }
    if let Some(ExecError::Missing { .. }) = cause.downcast_ref::<ExecError>() {
        return Some(exit::UNAVAILABLE);
    }
    if cause.is::<crate::netboot::NotServable>() || cause.is::<crate::netboot::NotBootable>() {
        return Some(exit::DATA_ERROR);
    }
    if cause.is::<crate::netboot::IpxeMissing>()
        || cause.is::<crate::httpd::BindError>()
        || cause.is::<crate::netboot::DnsmasqStartError>()
    {
        return Some(exit::UNAVAILABLE);
    }
    cause.downcast_ref::<IsoError>().map(iso_code)
}

fn iso_code(err: &IsoError) -> i32 {
    match err {
        IsoError::BaseMissing { .. } => exit::NO_INPUT,
        IsoError::NotAnIso { .. }
        | IsoError::NoBootRecord { .. }
        | IsoError::UnknownLayout { .. } => exit::DATA_ERROR,
        IsoError::ToolMissing { .. } | IsoError::BinaryTooNew { .. } => exit::UNAVAILABLE,
        IsoError::NoRoom { .. } => exit::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_known_cause_decides() {
        let missing = ExecError::Missing {
            program: "vagrant".into(),
            hint: "install it".into(),
        };
        let err = anyhow::Error::new(missing).context("lab up failed");
        assert_eq!(code_for(&err), exit::UNAVAILABLE);
        assert_eq!(
            code_for(&Reported(exit::HOSTS_FAILED).into()),
            exit::HOSTS_FAILED
        );
        let err = anyhow::Error::new(UsageError("no".into())).context("while loading");
        assert_eq!(code_for(&err), exit::USAGE);
        let spawn = ExecError::Spawn {
            command: "x".into(),
            source: std::io::Error::other("busy"),
        };
        assert_eq!(code_for(&spawn.into()), exit::FAILURE);
        assert_eq!(code_for(&anyhow::anyhow!("plain")), exit::FAILURE);
    }
}
