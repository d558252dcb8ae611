//! The one counting bar of the commands that work through a list (networks,
//! register): elapsed time, a bar of done/total and a message. Drawn on
//! stderr; hidden when stderr is not a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

pub struct CountBar {
    bar: ProgressBar,
}

impl CountBar {
    /// A bar of `total`, drawn with indicatif's `template`.
    pub fn new(total: usize, template: &str) -> CountBar {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total as u64), target);
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        CountBar { bar }
    }

    /// `done` of `total`, saying `message`.
    pub fn at(&self, done: usize, total: usize, message: String) {
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
        self.bar.set_message(message);
    }

    pub fn say(&self, message: String) {
        self.bar.set_message(message);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
