//! The SSH road's transport: sessions (ssh2), host-key pinning in aerie's own
//! known-hosts file, remote commands built from argv with real shell quoting,
//! and atomic file writes on the host.

pub mod auth;
pub mod error;
pub mod files;
pub mod known_hosts;
pub mod pins;
pub mod session;

pub use error::SshError;
pub use pins::{NewKeys, Pins};
pub use session::{Connection, Options, Target};
