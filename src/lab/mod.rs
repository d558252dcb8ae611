//! The laptop lab (`aerie lab`): a site's nodes as VMs on this machine,
//! after host checks, with everything made recorded so `lab down` removes
//! exactly that.

pub mod checks;
mod converge_log;
mod deliver;
pub mod facts;
pub mod firmware;
pub mod image;
mod image_vm;
mod model;
pub mod netboot;
mod netdev;
pub mod pinned;
pub mod plan;
mod process;
pub mod progress;
mod qemu;
pub mod state;
pub mod status;
mod undo;
pub mod up;
pub mod vagrant;

pub use model::{Accel, Boot, Driver};
