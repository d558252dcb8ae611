//! Progress for the lab's long steps: a spinner with the current step on a
//! terminal; nothing drawn otherwise (the steps' results are printed anyway).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// Drawn on stderr when it is a terminal, hidden otherwise.
    pub fn new() -> Progress {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed}] {msg}")
                .expect("a valid progress template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar }
    }

    pub fn step(&self, what: impl Into<String>) {
        self.bar.set_message(what.into());
    }

    /// Print a line above the spinner (or plainly when hidden).
    pub fn say(&self, line: &str) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}
