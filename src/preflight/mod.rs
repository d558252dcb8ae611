//! `aerie preflight`: hardware checks before anything is installed.

pub mod spec;
