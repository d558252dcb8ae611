//! The live view of `aerie deploy`'s kolla step: a bar over kolla-ansible's
//! subcommands and a line per host with the task it is on. Drawn on stderr
//! when it is a terminal; otherwise one plain line per subcommand (the
//! first-boot unit's log).

use crate::deploy::events::{Event, Outcome};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

pub struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    hosts: Mutex<BTreeMap<String, ProgressBar>>,
    terminal: bool,
}

impl Bars {
    pub fn new(total: usize) -> Bars {
        let terminal = std::io::stderr().is_terminal();
        let target = if terminal {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template("{elapsed:>4} [{bar:20}] {pos}/{len} kolla-ansible {msg}")
                .expect("template")
                .progress_chars("=> "),
        );
        overall.enable_steady_tick(Duration::from_millis(200));
        Bars {
            multi,
            overall,
            hosts: Mutex::new(BTreeMap::new()),
            terminal,
        }
    }

    pub fn subcommand_started(&self, index: usize, total: usize, name: &str, command: &str) {
        self.overall.set_position(index as u64);
        self.overall.set_message(name.to_string());
        if !self.terminal {
            eprintln!("kolla-ansible {}/{total} {name}: {command}", index + 1);
        }
    }

    fn host_line(&self, host: &str) -> ProgressBar {
        let mut hosts = self.hosts.lock().expect("hosts");
        hosts
            .entry(host.to_string())
            .or_insert_with(|| {
                let line = self.multi.add(ProgressBar::new_spinner());
                line.set_style(
                    ProgressStyle::with_template("  {prefix:<14} {msg}").expect("template"),
                );
                line.set_prefix(host.to_string());
                line
            })
            .clone()
    }

    pub fn finish(&self) {
        self.overall.finish_and_clear();
        for line in self.hosts.lock().expect("hosts").values() {
            line.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

impl crate::deploy::Observer for Bars {
    fn event(&self, event: &Event) {
        match event {
            Event::TaskStart { task, hosts } => {
                for h in hosts {
                    self.host_line(h).set_message(task.clone());
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
                self.host_line(host).set_message(format!("{mark}{task}"));
            }
            _ => {}
        }
    }
}
