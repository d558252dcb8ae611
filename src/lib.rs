//! aerie: a bare-metal cloud installer and provisioner.
//!
//! One validated site description ([`site::Site`]) becomes, through pure
//! functions, the files and actions each host needs; side effects (processes,
//! SSH, xorriso) live behind narrow interfaces at the edges.
//!
//! The modules below are declared in their layers, lowest first; each imports
//! only from its own layer or the ones below (`cargo test --lib layers` checks
//! it, see `src/layers/`).

// Foundation: leaf helpers, one per kind of side effect.
pub mod exec;
pub mod exit;
pub mod facts;
pub mod fsutil;
pub mod httpd;
pub mod interrupt;
mod local_networks;
mod pool;
pub mod problem;
pub mod shell;
pub mod templates;
pub mod utc;

// The site: model, load, validate.
pub mod site;
// Profiles: what a cloud flavour needs per role, as data.
pub mod profile;
// The HostBundle: what one host must hold.
pub mod bundle;
// The concerns: each adds its part of a node's bundle.
pub mod concerns;
// Kolla-Ansible's inputs from a site (pure).
pub mod kolla;
// The SSH transport the roads share, and the runner of commands on the
// frontend (over SSH, or locally at its first boot).
pub mod frontend;
pub mod ssh;

// The roads: each takes the site and its bundles somewhere.
pub mod apply;
pub mod bmc;
pub mod deploy;
pub mod iso;
pub mod lab;
pub mod netboot;
pub mod networks;
pub mod preflight;
pub mod register;
pub mod render;
pub mod status;
pub mod wizard;

// The edge: the command line and the commands.
pub mod cli;
pub mod commands;

#[cfg(test)]
mod layers;
