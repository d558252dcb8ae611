//! The live view of `aerie networks` on a terminal: networks done, and the
//! current one (the commands' one counting bar).

use super::count_bar::CountBar;
use crate::networks::Observer;

pub struct Progress(CountBar);

impl Progress {
    pub fn new(total: usize) -> Progress {
        Progress(CountBar::new(
            total,
            "{elapsed:>4} [{bar:30}] {pos}/{len} networks {msg}",
        ))
    }

    pub fn finish(&self) {
        self.0.finish();
    }
}

impl Observer for Progress {
    fn step(&self, done: usize, total: usize, what: &str) {
        self.0.at(done, total, what.to_string());
    }
}
