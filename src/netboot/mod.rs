//! The network-boot road (`aerie pxe`): nodes boot from the network,
//! firmware PXE → iPXE (by TFTP from aerie's own dnsmasq child) → a per-MAC
//! iPXE script over aerie's HTTP server → the installer's kernel and initrd
//! from the base ISO → each node's own kickstart, whose %post calls back so
//! the node boots its local disk from then on.
//!
//! Pure parts: `plan` (the site's boot network and nodes by MAC),
//! `dnsmasq_conf`, `ipxe` (scripts), `kickstart` (the callback), `events`
//! (steps and the tracker). Side effects: `iso_tree` (xorriso reads where the
//! ISO's files lie), `dnsmasq` (the child), `server` (HTTP routes over
//! [`crate::httpd`]), `state` (installed markers, status), `serve`.

mod dnsmasq;
mod dnsmasq_conf;
pub mod events;
pub mod ipxe;
pub mod iso_tree;
mod kickstart;
pub mod plan;
pub mod serve;
mod server;
pub mod state;

pub use dnsmasq::StartError as DnsmasqStartError;
pub use events::{Event, Phase, Tracker};
pub use iso_tree::NotBootable;
pub use plan::{NotServable, Plan};
pub use serve::{IpxeMissing, Options, Stopped};
pub use server::Shared;
pub use state::{ServerInfo, StateDir};
