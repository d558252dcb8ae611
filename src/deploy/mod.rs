//! `aerie deploy`'s road: the venv holding the profile's kolla-ansible, and
//! running kolla-ansible on the rendered inputs (`run.rs`), its Ansible
//! output read as events (`events.rs`: progress, and the failed play, task,
//! host and Kolla's message).

pub mod events;
pub mod run;
pub mod venv;

pub use run::{KollaFailed, Observer, SshEnv, SUBCOMMANDS};
pub use venv::{KollaVenv, VenvError};
