//! The SSH road's transport: sessions (ssh2), host-key pinning in aerie's own
//! known-hosts file, remote commands built from argv with real shell quoting,
//! one round trip to read what a host holds (`read`) and one to write its
//! files atomically and run its actions (`write`).

pub mod auth;
mod error;
pub mod known_hosts;
pub mod pins;
pub mod read;
pub mod session;
pub mod write;

pub use error::SshError;
pub use pins::{NewKeys, Pins};
pub use session::{Connection, Options, Target};
