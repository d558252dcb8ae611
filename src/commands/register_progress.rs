//! The live view of `aerie register` on a terminal: a bar of nodes up while
//! waiting, and the current step. Drawn on stderr; hidden when stderr is not a terminal.

use crate::register::Observer;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub fn new(total: usize, timeout: Duration) -> Progress {
        let bar = ProgressBar::with_draw_target(
            Some(total as u64),
            if std::io::stderr().is_terminal() {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{elapsed:>4}}/{}s [{{bar:30}}] {{pos}}/{{len}} nodes up {{msg}}",
                timeout.as_secs()
            ))
            .expect("template")
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for Progress {
    fn waiting(&self, up: usize, total: usize, pending: &[String]) {
        self.bar.set_length(total as u64);
        self.bar.set_position(up as u64);
        if pending.is_empty() {
            self.bar.set_message(String::new());
        } else {
            self.bar
                .set_message(format!("(waiting for {})", pending.join(", ")));
        }
    }

    fn step(&self, what: &str) {
        self.bar.set_message(what.to_string());
    }
}
