//! What kolla-ansible's Ansible says as it runs, read from the
//! `ansible.posix.jsonl` stdout callback (one JSON object per line): which
//! task each host is on (for progress), and for a failed run the play, task,
//! host and Kolla's own message of the failure that stopped it.

use serde_json::Value;

/// One line of the callback, as far as aerie reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Play(String),
    /// A task started (on one host, or on all of a play's hosts).
    TaskStart {
        task: String,
        hosts: Vec<String>,
    },
    /// A host finished a task.
    HostDone {
        task: String,
        host: String,
        outcome: Outcome,
    },
    /// The play recap: per host, whether it failed or was unreachable.
    Recap(Vec<(String, bool)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Changed,
    Skipped,
    Failed,
    Unreachable,
}

/// The failure that stopped a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub play: String,
    pub task: String,
    pub host: String,
    pub message: String,
}

/// One line, or None when it is not an event (Ansible's warnings, blank lines).
pub fn parse(line: &str) -> Option<Event> {
    let v: Value = serde_json::from_str(line.trim()).ok()?;
    let event = v.get("_event")?.as_str()?;
    let task = || {
        v.pointer("/task/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let hosts = || -> Vec<String> {
        v.get("hosts")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    match event {
        "v2_playbook_on_play_start" => Some(Event::Play(
            v.pointer("/play/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        )),
        "v2_runner_on_start"
        | "v2_playbook_on_task_start"
        | "v2_playbook_on_handler_task_start" => Some(Event::TaskStart {
            task: task(),
            hosts: hosts(),
        }),
        "v2_runner_on_ok"
        | "v2_runner_on_failed"
        | "v2_runner_on_unreachable"
        | "v2_runner_on_skipped" => {
            let (host, result) = v.get("hosts")?.as_object()?.iter().next()?;
            let outcome = match event {
                "v2_runner_on_failed" => Outcome::Failed,
                "v2_runner_on_unreachable" => Outcome::Unreachable,
                "v2_runner_on_skipped" => Outcome::Skipped,
                _ if result.get("changed").and_then(Value::as_bool) == Some(true) => {
                    Outcome::Changed
                }
                _ => Outcome::Ok,
            };
            Some(Event::HostDone {
                task: task(),
                host: host.clone(),
                outcome,
            })
        }
        "v2_playbook_on_stats" => {
            let stats = v.get("stats")?.as_object()?;
            Some(Event::Recap(
                stats
                    .iter()
                    .map(|(h, s)| {
                        let n = |k: &str| s.get(k).and_then(Value::as_u64).unwrap_or(0);
                        (h.clone(), n("failures") + n("unreachable") > 0)
                    })
                    .collect(),
            ))
        }
        _ => None,
    }
}

/// Kolla's own words in a failed or unreachable result.
pub fn message(line: &str) -> Option<String> {
    let v: Value = serde_json::from_str(line.trim()).ok()?;
    let (_, result) = v.get("hosts")?.as_object()?.iter().next()?;
    for key in ["msg", "stderr", "module_stderr", "stdout"] {
        if let Some(text) = result.get(key).and_then(Value::as_str) {
            if !text.trim().is_empty() {
                return Some(text.trim().to_string());
            }
        }
    }
    Some(result.to_string())
}

/// Reads a run's lines: the play each failure happened in, the last failure
/// per host (an ignored one is followed by more tasks; the fatal one is last).
#[derive(Debug, Default)]
pub struct Tracker {
    play: String,
    failures: Vec<Failure>,
    recap: Vec<(String, bool)>,
}

impl Tracker {
    /// Take one line; the parsed event, for progress.
    pub fn line(&mut self, line: &str) -> Option<Event> {
        let event = parse(line)?;
        match &event {
            Event::Play(name) => self.play = name.clone(),
            Event::HostDone {
                task,
                host,
                outcome: Outcome::Failed | Outcome::Unreachable,
            } => {
                self.failures.retain(|f| &f.host != host);
                self.failures.push(Failure {
                    play: self.play.clone(),
                    task: task.clone(),
                    host: host.clone(),
                    message: message(line).unwrap_or_default(),
                });
            }
            Event::Recap(recap) => self.recap = recap.clone(),
            _ => {}
        }
        Some(event)
    }

    /// The failure that stopped the run: the last one of a host the recap
    /// counts as failed (else the last one seen).
    pub fn failure(&self) -> Option<&Failure> {
        let failed: Vec<&str> = self
            .recap
            .iter()
            .filter(|(_, f)| *f)
            .map(|(h, _)| h.as_str())
            .collect();
        self.failures
            .iter()
            .rev()
            .find(|f| failed.contains(&f.host.as_str()))
            .or_else(|| self.failures.last())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = r#"{"_event":"v2_playbook_on_play_start","play":{"name":"Apply role nova"},"tasks":[]}
{"_event":"v2_playbook_on_task_start","task":{"name":"nova : Ensuring config directories exist"},"hosts":{}}
{"_event":"v2_runner_on_ok","task":{"name":"nova : Ensuring config directories exist"},"hosts":{"fe1":{"changed":true}}}
{"_event":"v2_runner_on_failed","task":{"name":"nova : Optional probe"},"hosts":{"node1":{"msg":"ignored"}}}
{"_event":"v2_runner_on_ok","task":{"name":"nova : Next"},"hosts":{"node1":{"changed":false}}}
[WARNING]: a warning line
{"_event":"v2_runner_on_failed","task":{"name":"nova : Running Nova bootstrap container"},"hosts":{"fe1":{"msg":"Container exited with non-zero return code 1","failed":true}}}
{"_event":"v2_playbook_on_stats","stats":{"fe1":{"failures":1,"unreachable":0},"node1":{"failures":0,"unreachable":0}}}
"#;

    #[test]
    fn the_fatal_failure_is_named_with_play_task_host_and_message() {
        let mut t = Tracker::default();
        let events: Vec<Event> = RUN.lines().filter_map(|l| t.line(l)).collect();
        assert_eq!(events.len(), 7);
        assert_eq!(
            t.failure(),
            Some(&Failure {
                play: "Apply role nova".into(),
                task: "nova : Running Nova bootstrap container".into(),
                host: "fe1".into(),
                message: "Container exited with non-zero return code 1".into(),
            })
        );
        assert!(matches!(
            &events[2],
            Event::HostDone { outcome: Outcome::Changed, host, .. } if host == "fe1"
        ));
    }

    #[test]
    fn unreachable_hosts_are_failures_too() {
        let mut t = Tracker::default();
        t.line(r#"{"_event":"v2_playbook_on_play_start","play":{"name":"Gather facts"}}"#);
        t.line(r#"{"_event":"v2_runner_on_unreachable","task":{"name":"Gathering Facts"},"hosts":{"node2":{"msg":"Failed to connect to the host via ssh","unreachable":true}}}"#);
        let f = t.failure().unwrap();
        assert_eq!(
            (f.host.as_str(), f.play.as_str()),
            ("node2", "Gather facts")
        );
        assert!(f.message.contains("via ssh"));
    }
}
