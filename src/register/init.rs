//! The cloud's own first steps on the frontend, before any node is registered
//! (the profile's `initialize:` list; Eucalyptus initialises its database and
//! registers walrus, the cluster and the storage controller, as Silvereye's
//! first boot did). Each step's check runs first and a step already done is
//! skipped, so a rerun changes nothing; the first failing step stops the run.

use crate::frontend::{Frontend, Runner};
use crate::profile::{expand, InitStep, Vars};
use serde::Serialize;

/// Where one step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InitStatus {
    /// Its check said it was done: nothing was run.
    AlreadyDone,
    /// Run by this run.
    Done,
    Failed,
}

/// One step of the initialisation, as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    pub step: String,
    pub status: InitStatus,
    /// The command, as typed (run, or that would have run).
    pub command: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The frontend's names for the steps' placeholders.
pub struct FrontendNames<'a> {
    pub hostname: &'a str,
    pub fqdn: &'a str,
    pub address: &'a str,
}

/// Run the steps in order; stops at the first failure (its report says why).
pub fn run(
    runner: &dyn Runner,
    credentials: Option<&str>,
    steps: &[InitStep],
    names: &FrontendNames,
) -> Vec<InitReport> {
    let vars = Vars {
        hostname: names.hostname,
        fqdn: names.fqdn,
        address: names.address,
        id: "",
        addresses: "",
        hostnames: "",
    };
    let mut out = Vec::new();
    for step in steps {
        let fe = Frontend {
            runner,
            credentials: step
                .credentials
                .then(|| credentials.map(str::to_string))
                .flatten(),
        };
        let argv = expand(&step.argv, &vars);
        let mut report = InitReport {
            step: step.name.clone(),
            status: InitStatus::Failed,
            command: crate::shell::join(&argv).unwrap_or_else(|_| argv.join(" ")),
            error: None,
        };
        let check = expand(&step.done_if.argv, &vars);
        let contains = step.done_if.contains.as_ref().map(|c| {
            expand(std::slice::from_ref(c), &vars)
                .pop()
                .unwrap_or_default()
        });
        let done = match fe.run(&check) {
            Ok(ran) => {
                ran.success()
                    && contains.as_ref().is_none_or(|c| {
                        String::from_utf8_lossy(&ran.output.stdout).contains(c.as_str())
                    })
            }
            Err(e) => {
                report.error = Some(format!(
                    "cannot check whether {} is done (`{}`): {e}",
                    step.name,
                    crate::shell::join(&check).unwrap_or_default()
                ));
                out.push(report);
                return out;
            }
        };
        if done {
            report.status = InitStatus::AlreadyDone;
            out.push(report);
            continue;
        }
        match fe.run(&argv) {
            Ok(ran) if ran.success() => report.status = InitStatus::Done,
            Ok(ran) => report.error = Some(ran.message()),
            Err(e) => report.error = Some(format!("`{}` could not run: {e}", report.command)),
        }
        let failed = report.status == InitStatus::Failed;
        out.push(report);
        if failed {
            break;
        }
    }
    out
}

/// The first failed step, as a message for every node's report.
pub fn failure(reports: &[InitReport]) -> Option<String> {
    reports
        .iter()
        .find(|r| r.status == InitStatus::Failed)
        .map(|r| {
            format!(
                "the cloud's initialisation failed at step {}: {}; no node was registered \
                 (fix it on the frontend, then run aerie register again: the steps done are skipped)",
                r.step,
                r.error.as_deref().unwrap_or("failed")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::Local;
    use crate::profile::DoneIf;

    fn step(name: &str, argv: &[&str], check: &[&str], contains: Option<&str>) -> InitStep {
        InitStep {
            name: name.into(),
            argv: argv.iter().map(|s| s.to_string()).collect(),
            done_if: DoneIf {
                argv: check.iter().map(|s| s.to_string()).collect(),
                contains: contains.map(str::to_string),
            },
            credentials: false,
        }
    }

    #[test]
    fn checked_first_skipped_when_done_stopped_at_the_first_failure() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let names = FrontendNames {
            hostname: "fe",
            fqdn: "fe.example.org",
            address: "10.0.0.1",
        };
        let steps = vec![
            step(
                "a",
                &["touch", &format!("{d}/a")],
                &["test", "-e", &format!("{d}/a")],
                None,
            ),
            step(
                "b",
                &["sh", "-c", &format!("echo {{address}} > {d}/b")],
                &["cat", &format!("{d}/b")],
                Some("{address}"),
            ),
            step(
                "c",
                &["sh", "-c", "echo broken >&2; exit 3"],
                &["false"],
                None,
            ),
            step("d", &["touch", &format!("{d}/d")], &["false"], None),
        ];
        let r = run(&Local, None, &steps, &names);
        let st: Vec<InitStatus> = r.iter().map(|x| x.status).collect();
        assert_eq!(st, [InitStatus::Done, InitStatus::Done, InitStatus::Failed]);
        assert!(!dir.path().join("d").exists(), "nothing after the failure");
        let msg = failure(&r).unwrap();
        assert!(
            msg.contains("failed at step c") && msg.contains("broken"),
            "{msg}"
        );
        let r = run(&Local, None, &steps[..2], &names);
        let st: Vec<InitStatus> = r.iter().map(|x| x.status).collect();
        assert_eq!(st, [InitStatus::AlreadyDone, InitStatus::AlreadyDone]);
        assert_eq!(failure(&r), None);
    }
}
