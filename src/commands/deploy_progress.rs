//! The live view of `aerie deploy`'s kolla step: a bar over its sub-steps
//! (kolla-ansible's subcommands, then the admin credentials' delivery) and a
//! line per host with the task it is on (the commands' `HostBars`). Drawn on
//! stderr when it is a terminal; otherwise one plain line per sub-step (the
//! first-boot unit's log). The step's notes go to stderr, what a check would
//! do to stdout.

use super::host_bars::HostBars;
use crate::deploy::events::{Event, Outcome};
use std::io::IsTerminal;
use std::sync::OnceLock;

#[derive(Default)]
pub struct Bars {
    /// Made at the first sub-step, after the step's first notes.
    bars: OnceLock<HostBars>,
}

impl Bars {
    fn bars(&self, total: usize) -> &HostBars {
        self.bars.get_or_init(|| {
            HostBars::with_template(total, "{elapsed:>4} [{bar:20}] {pos}/{len} {msg}")
        })
    }
}

impl crate::deploy::Observer for Bars {
    fn substep(&self, index: usize, total: usize, program: &str, name: &str, detail: &str) {
        self.bars(total)
            .overall_at(index, &format!("{program} {name}"));
        if !std::io::stderr().is_terminal() {
            eprintln!("{program} {}/{total} {name}: {detail}", index + 1);
        }
    }

    fn note(&self, line: &str) {
        match self.bars.get() {
            Some(b) => b.multi.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    fn would(&self, line: &str) {
        println!("{line}");
    }

    fn finished(&self) {
        if let Some(b) = self.bars.get() {
            b.finish();
        }
    }

    fn event(&self, event: &Event) {
        let Some(bars) = self.bars.get() else {
            return;
        };
        match event {
            Event::TaskStart { task, hosts } => {
                for h in hosts {
                    bars.host_says(h, task);
                }
            }
            Event::HostDone {
                task,
                host,
                outcome,
            } => {
                let mark = match outcome {
                    Outcome::Failed => "FAILED ",
                    Outcome::Unreachable => "UNREACHABLE ",
                    _ => "",
                };
                bars.host_says(host, &format!("{mark}{task}"));
            }
            _ => {}
        }
    }
}
