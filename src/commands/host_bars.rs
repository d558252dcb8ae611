//! The live view shared by the commands that work on many hosts at once
//! (`apply`, `bmc`, deploy's kolla step): one overall bar and a line per host
//! in flight with its step. Drawn on stderr; hidden when stderr is not a terminal.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct HostBars {
    pub multi: Arc<MultiProgress>,
    overall: ProgressBar,
    lines: Mutex<HashMap<String, ProgressBar>>,
}

impl HostBars {
    /// `noun` names what the overall bar counts (`hosts`, `BMCs`).
    pub fn new(total: usize, noun: &str) -> HostBars {
        HostBars::with_template(
            total,
            &format!("{{elapsed:>4}} [{{bar:30}}] {{pos}}/{{len}} {noun} {{msg}}"),
        )
    }

    /// The overall bar drawn with indicatif's `template`.
    pub fn with_template(total: usize, template: &str) -> HostBars {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = Arc::new(MultiProgress::with_draw_target(target));
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template(template)
                .expect("template")
                .progress_chars("=> "),
        );
        overall.enable_steady_tick(Duration::from_millis(200));
        HostBars {
            multi,
            overall,
            lines: Mutex::new(HashMap::new()),
        }
    }

    fn new_line(&self, host: &str) -> ProgressBar {
        let line = self.multi.add(ProgressBar::new_spinner());
        line.set_style(ProgressStyle::with_template("  {prefix:<14} {msg}").expect("template"));
        line.set_prefix(host.to_string());
        line
    }

    pub fn host_started(&self, host: &str) {
        let line = self.new_line(host);
        self.lines
            .lock()
            .expect("lines")
            .insert(host.to_string(), line);
    }

    pub fn host_step(&self, host: &str, what: &str) {
        if let Some(line) = self.lines.lock().expect("lines").get(host) {
            line.set_message(what.to_string());
        }
    }

    /// The host's line says `what`; a host not seen yet gets its line now
    /// (hosts that come and go with the tasks: deploy's kolla step).
    pub fn host_says(&self, host: &str, what: &str) {
        let mut lines = self.lines.lock().expect("lines");
        lines
            .entry(host.to_string())
            .or_insert_with(|| self.new_line(host))
            .set_message(what.to_string());
    }

    /// The overall bar at `pos`, saying `msg`.
    pub fn overall_at(&self, pos: usize, msg: &str) {
        self.overall.set_position(pos as u64);
        self.overall.set_message(msg.to_string());
    }

    pub fn host_finished(&self, host: &str, failed: bool) {
        if let Some(line) = self.lines.lock().expect("lines").remove(host) {
            line.finish_and_clear();
            self.multi.remove(&line);
        }
        if failed {
            self.overall.set_message("(some failed)");
        }
        self.overall.inc(1);
    }

    pub fn finish(&self) {
        self.overall.finish_and_clear();
        for line in self.lines.lock().expect("lines").values() {
            line.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}
