//! Exit codes (sysexits.h) and the leaf errors that stand for them.
//!
//! This module imports nothing from the crate, so any layer may use it; which
//! error gets which code is decided at the edge (`commands::exit_code`).

/// Success.
pub const OK: i32 = 0;
/// Something failed that is not one of the cases below.
pub const FAILURE: i32 = 1;
/// `aerie apply`: at least one host failed or was unreachable.
pub const HOSTS_FAILED: i32 = 2;
/// Bad usage: wrong flags or arguments (EX_USAGE).
pub const USAGE: i32 = 64;
/// The site file is invalid (EX_DATAERR).
pub const DATA_ERROR: i32 = 65;
/// An input file does not exist or cannot be read (EX_NOINPUT).
pub const NO_INPUT: i32 = 66;
/// This machine cannot do what was asked: no KVM, too little memory, a
/// required program missing (EX_UNAVAILABLE).
pub const UNAVAILABLE: i32 = 69;
/// An output file exists and `--force` was not given (EX_CANTCREAT).
pub const CANT_CREATE: i32 = 73;

/// The command line asks for something that cannot be done as asked.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// An output exists and aerie will not overwrite it.
#[derive(Debug, thiserror::Error)]
#[error("{path} already exists; {remedy}")]
pub struct AlreadyExists {
    pub path: String,
    pub remedy: String,
}

/// The failure was already reported (e.g. as JSON); exit with this code only.
#[derive(Debug, thiserror::Error)]
#[error("exit status {0}")]
pub struct Reported(pub i32);
