//! The live view of `aerie apply` on a terminal: the shared per-host bars.

use super::host_bars::HostBars;
use crate::apply::{HostReport, Observer, Status};

impl Observer for HostBars {
    fn started(&self, host: &str) {
        self.host_started(host);
    }

    fn step(&self, host: &str, what: &str) {
        self.host_step(host, what);
    }

    fn finished(&self, report: &HostReport) {
        let failed = matches!(report.status, Status::Failed | Status::Unreachable);
        self.host_finished(&report.host, failed);
    }
}
