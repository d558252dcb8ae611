//! `aerie deploy`'s road: the kolla step (`kolla_step.rs`): Kolla's inputs
//! in the config dir (`inputs.rs`), the venv holding the profile's
//! kolla-ansible (`venv.rs`), kolla-ansible run on the inputs (`run.rs`), its
//! Ansible output read as events (`events.rs`: progress, and the failed play,
//! task, host and Kolla's message), Kolla's admin credentials delivered to the
//! frontend (`openrc.rs`); for the frontend's first boot, the bounded wait
//! for the nodes (`wait.rs`) and where a failed run resumes (`resume.rs`).

pub mod events;
pub mod inputs;
pub mod kolla_step;
pub mod openrc;
pub mod resume;
pub mod run;
pub mod venv;
pub mod wait;

pub use kolla_step::KollaStep;
pub use run::{KollaFailed, Observer, SshEnv, SUBCOMMANDS};
pub use venv::{KollaVenv, VenvError};
pub use wait::NodesLate;
