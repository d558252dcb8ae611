//! The live view of `aerie bmc` on a terminal: one overall bar and a line per
//! node in flight with its step. Drawn on stderr; hidden off a terminal.

use crate::bmc::{NodeResult, Observer};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

pub struct Bars {
    multi: MultiProgress,
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
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} BMCs {msg}")
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

    fn finished(&self, result: &NodeResult) {
        if let Some(line) = self.lines.lock().expect("lines").remove(&result.host) {
            line.finish_and_clear();
            self.multi.remove(&line);
        }
        if !result.ok {
            self.overall.set_message("(some failed)");
        }
        self.overall.inc(1);
    }
}
