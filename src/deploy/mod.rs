//! `aerie deploy`'s road: the venv holding the profile's kolla-ansible, and
//! running kolla-ansible on the rendered inputs (`run.rs`), its Ansible
//! output read as events (`events.rs`: progress, and the failed play, task,
//! host and Kolla's message); for the frontend's first boot, the bounded wait
//! for the nodes (`wait.rs`) and where a failed run resumes (`resume.rs`).

pub mod events;
pub mod resume;
pub mod run;
pub mod venv;
pub mod wait;

pub use run::{KollaFailed, Observer, SshEnv, SUBCOMMANDS};
pub use venv::{KollaVenv, VenvError};
pub use wait::NodesLate;
