//! `aerie bmc`: nodes' BMCs over Redfish — power on, off, cycle, status, and
//! boot once from an ISO by URL (virtual media) or the network.
//!
//! `client.rs` is the HTTP side (reqwest, rustls; TLS trust in `tls.rs`:
//! system CAs, a pinned fingerprint, or `--insecure`; retries in `retry.rs`),
//! `system.rs` finds the node's ComputerSystem, `power.rs` and `boot.rs` are
//! the two actions, `quirks.rs` the vendor table (`quirks.yaml`, data),
//! `run.rs` the bounded fan-out with a result per node.

mod boot;
mod client;
mod error;
mod power;
mod quirks;
mod retry;
mod run;
mod system;
mod tls;

pub use boot::Media;
pub use client::{Endpoint, Options};
pub use error::BmcError;
pub use power::PowerOp;
pub use quirks::Quirks;
pub use retry::Policy;
pub use run::{run, Action, Job, NodeResult, Observer};
pub use tls::Trust;
