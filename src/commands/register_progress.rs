//! The live view of `aerie register` on a terminal: nodes up while waiting,
//! and the current step (the commands' one counting bar).

use super::count_bar::CountBar;
use crate::register::Observer;
use std::time::Duration;

pub struct Progress(CountBar);

impl Progress {
    pub fn new(total: usize, timeout: Duration) -> Progress {
        Progress(CountBar::new(
            total,
            &format!(
                "{{elapsed:>4}}/{}s [{{bar:30}}] {{pos}}/{{len}} nodes up {{msg}}",
                timeout.as_secs()
            ),
        ))
    }

    pub fn finish(&self) {
        self.0.finish();
    }
}

impl Observer for Progress {
    fn waiting(&self, up: usize, total: usize, pending: &[String]) {
        let message = if pending.is_empty() {
            String::new()
        } else {
            format!("(waiting for {})", pending.join(", "))
        };
        self.0.at(up, total, message);
    }

    fn step(&self, what: &str) {
        self.0.say(what.to_string());
    }
}
