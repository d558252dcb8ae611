//! The live view of `aerie bmc` on a terminal: the shared per-host bars, a
//! line per node with its step.

use super::host_bars::HostBars;
use crate::bmc::{NodeResult, Observer};

impl Observer for HostBars {
    fn started(&self, host: &str) {
        self.host_started(host);
    }

    fn step(&self, host: &str, what: &str) {
        self.host_step(host, what);
    }

    fn finished(&self, result: &NodeResult) {
        self.host_finished(&result.host, !result.ok);
    }
}
