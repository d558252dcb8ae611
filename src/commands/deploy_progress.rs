//! The live view of `aerie deploy`'s kolla step: a bar over kolla-ansible's
//! subcommands and a line per host with the task it is on (the commands'
//! `HostBars`). Drawn on stderr when it is a terminal; otherwise one plain
//! line per subcommand (the first-boot unit's log).

use super::host_bars::HostBars;
use crate::deploy::events::{Event, Outcome};
use std::io::IsTerminal;

pub struct Bars {
    bars: HostBars,
    terminal: bool,
}

impl Bars {
    pub fn new(total: usize) -> Bars {
        Bars {
            bars: HostBars::with_template(
                total,
                "{elapsed:>4} [{bar:20}] {pos}/{len} kolla-ansible {msg}",
            ),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    pub fn subcommand_started(&self, index: usize, total: usize, name: &str, command: &str) {
        self.bars.overall_at(index, name);
        if !self.terminal {
            eprintln!("kolla-ansible {}/{total} {name}: {command}", index + 1);
        }
    }

    pub fn finish(&self) {
        self.bars.finish();
    }
}

impl crate::deploy::Observer for Bars {
    fn event(&self, event: &Event) {
        match event {
            Event::TaskStart { task, hosts } => {
                for h in hosts {
                    self.bars.host_says(h, task);
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
                self.bars.host_says(host, &format!("{mark}{task}"));
            }
            _ => {}
        }
    }
}
