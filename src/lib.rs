//! aerie: a bare-metal cloud installer and provisioner.
//!
//! One validated site description ([`site::Site`]) becomes, through pure
//! functions, the files and actions each host needs; side effects (processes,
//! SSH, xorriso) live behind narrow interfaces at the edges.

pub mod apply;
pub mod bundle;
pub mod cli;
pub mod commands;
pub mod exec;
pub mod exit;
pub mod fsutil;
pub mod host;
pub mod iso;
pub mod lab;
pub mod local_networks;
pub mod preflight;
pub mod register;
pub mod render;
pub mod site;
pub mod ssh;
pub mod status;
pub mod wizard;
