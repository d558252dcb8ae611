//! `aerie deploy`'s road: the venv holding the profile's kolla-ansible, and
//! running kolla-ansible on the rendered inputs.

pub mod venv;

pub use venv::{KollaVenv, VenvError};
