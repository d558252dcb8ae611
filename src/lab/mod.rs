//! The laptop lab (`aerie lab`): a site's nodes as VMs on this machine,
//! after host checks, with everything made recorded so `lab down` removes
//! exactly that.

pub mod checks;
pub mod deliver;
pub mod facts;
pub mod model;
pub mod netdev;
pub mod plan;
pub mod process;
pub mod progress;
pub mod qemu;
pub mod state;
pub mod status;
pub mod undo;
pub mod up;
pub mod vagrant;

pub use model::{Accel, Driver};
