//! The live view of `aerie apply` on a terminal: one overall bar and a line per
//! host in flight. Drawn on stderr; hidden when stderr is not a terminal.

use crate::apply::{HostReport, Observer, Status};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Bars {
    pub multi: Arc<MultiProgress>,
    overall: ProgressBar,
    lines: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    pub fn new(total: usize) -> Bars {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = Arc::new(MultiProgress::with_draw_target(target));
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} hosts {msg}")
                .expect("template")
                .progress_chars("=> "),
        );
        overall.enable_steady_tick(Duration::from_millis(200));
        Bars {
            multi,
            overall,
            lines: Mutex::new(HashMap::new()),
        }
    }

    pub fn finish(&self) {
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}

impl Observer for Bars {
    fn started(&self, host: &str) {
        let line = self.multi.add(ProgressBar::new_spinner());
        line.set_style(ProgressStyle::with_template("  {prefix:<14} {msg}").expect("template"));
        line.set_prefix(host.to_string());
        self.lines
            .lock()
            .expect("lines")
            .insert(host.to_string(), line);
    }

    fn step(&self, host: &str, what: &str) {
        if let Some(line) = self.lines.lock().expect("lines").get(host) {
            line.set_message(what.to_string());
        }
    }

    fn finished(&self, report: &HostReport) {
        if let Some(line) = self.lines.lock().expect("lines").remove(&report.host) {
            line.finish_and_clear();
            self.multi.remove(&line);
        }
        if matches!(report.status, Status::Failed | Status::Unreachable) {
            self.overall.set_message("(some failed)");
        }
        self.overall.inc(1);
    }
}
