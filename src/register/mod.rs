//! `aerie register`'s engine: make the cloud know its compute nodes, as the
//! profile's `registration:` data says (`spec.rs`). The cloud's tools run on
//! the frontend (`crate::frontend`: over SSH, or locally at first boot); their
//! listings are read by `listing.rs`; `engine.rs` waits, deregisters
//! reinstalled nodes, registers and verifies; `nodes.rs` does what must happen
//! on the nodes themselves (the frontend's key, a restart after deregistering).
//! Every node ends in a [`NodeReport`].

pub mod engine;
pub mod init;
pub mod listing;
pub mod nodes;
pub mod report;
pub mod run;

use serde::Serialize;

/// Where a node ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Registered by this run.
    Registered,
    /// The cloud knew it already: nothing was run for it.
    AlreadyRegistered,
    /// Not registered: the report says why, with the command's own message.
    Failed,
    /// The frontend (or, where aerie must reach it, the node) could not be reached.
    Unreachable,
}

/// What happened to one node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeReport {
    pub host: String,
    pub address: String,
    pub status: Status,
    /// The node's old registration was removed by this run (`--reinstalled`).
    pub deregistered: bool,
    /// The commands run for this node, as typed.
    pub commands: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A stable name for the failure (`not-up`, `command-failed`, `not-registered`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
}

impl NodeReport {
    pub fn new(host: &str, address: &str) -> NodeReport {
        NodeReport {
            host: host.to_string(),
            address: address.to_string(),
            status: Status::Failed,
            deregistered: false,
            commands: Vec::new(),
            error: None,
            error_kind: None,
        }
    }

    /// End this node as failed (or unreachable), saying so if it was deregistered.
    pub fn fail(&mut self, status: Status, kind: &str, message: impl Into<String>) {
        let mut message = message.into();
        if self.deregistered {
            message = format!(
                "DEREGISTERED by this run but NOT registered again: {message}; \
                 rerun `aerie register --nodes {}` once fixed",
                self.host
            );
        }
        self.status = status;
        self.error_kind = Some(kind.to_string());
        self.error = Some(message);
    }

    pub fn is_done(&self) -> bool {
        self.error.is_some()
    }
}

/// Hears about the run as it goes (the progress display).
pub trait Observer: Sync {
    /// Waiting for nodes to come up: `up` of `total`, still `pending`.
    fn waiting(&self, _up: usize, _total: usize, _pending: &[String]) {}
    fn step(&self, _what: &str) {}
}

/// An observer that ignores everything.
pub struct Quiet;
impl Observer for Quiet {}
