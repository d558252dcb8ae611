//! Running kolla-ansible on the rendered inputs: its five subcommands in
//! order, each with Ansible's `ansible.posix.jsonl` stdout callback so aerie
//! follows every host's task (progress) and names a failure by play, task,
//! host and Kolla's own message.

use super::events::{Event, Failure, Tracker};
use super::venv::KollaVenv;
use std::path::{Path, PathBuf};
use std::process::Command;

/// kolla-ansible's subcommands, in the order a deployment runs them.
pub const SUBCOMMANDS: &[&str] = &[
    "install-deps",
    "bootstrap-servers",
    "prechecks",
    "deploy",
    "post-deploy",
];

/// How Ansible reaches the hosts: aerie's pinned host keys (strict), and a key.
#[derive(Debug, Clone, Default)]
pub struct SshEnv {
    pub known_hosts: Option<PathBuf>,
    pub identity: Option<PathBuf>,
}

/// Hears what the kolla step does.
pub trait Observer {
    /// Sub-step `index` of `total` starts: `program` (`kolla-ansible`,
    /// `deliver`) on `name` (its subcommand, the file), `detail` the
    /// command line or where to.
    fn substep(&self, _index: usize, _total: usize, _program: &str, _name: &str, _detail: &str) {}
    /// What kolla-ansible's Ansible reports.
    fn event(&self, _event: &Event) {}
    /// A line about the step (the command's stderr).
    fn note(&self, _line: &str) {}
    /// What a check would do (the command's stdout).
    fn would(&self, _line: &str) {}
    /// The sub-steps ended, done or failed.
    fn finished(&self) {}
}

/// A kolla-ansible subcommand failed.
#[derive(Debug, thiserror::Error)]
pub struct KollaFailed {
    pub subcommand: String,
    pub command: String,
    pub failure: Option<Failure>,
    /// The end of kolla-ansible's own output, when no task failure was read.
    pub tail: String,
}

impl std::fmt::Display for KollaFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "kolla-ansible {} failed: {}",
            self.subcommand, self.command
        )?;
        match &self.failure {
            Some(x) => {
                writeln!(f, "  play:  {}", x.play)?;
                writeln!(f, "  task:  {}", x.task)?;
                writeln!(f, "  host:  {}", x.host)?;
                write!(f, "  kolla: {}", x.message.replace('\n', "\n         "))
            }
            None => write!(f, "  {}", self.tail.replace('\n', "\n  ")),
        }
    }
}

/// The command for one subcommand (install-deps takes no inventory).
pub fn command(venv: &KollaVenv, config_dir: &Path, sub: &str, ssh: &SshEnv) -> Command {
    let mut cmd = crate::exec::command(&venv.bin("kolla-ansible").to_string_lossy(), [sub]);
    if sub != "install-deps" {
        cmd.arg("-i")
            .arg(config_dir.join("inventory"))
            .arg("--configdir")
            .arg(config_dir)
            .arg("--passwords")
            .arg(config_dir.join("passwords.yml"));
    }
    // kolla-ansible runs ansible-playbook from its own venv.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![venv.dir.join("bin")];
    paths.extend(std::env::split_paths(&path));
    if let Ok(joined) = std::env::join_paths(paths) {
        cmd.env("PATH", joined);
    }
    cmd.env("ANSIBLE_STDOUT_CALLBACK", "ansible.posix.jsonl");
    cmd.env("ANSIBLE_FORCE_COLOR", "false");
    if std::env::var_os("ANSIBLE_SSH_ARGS").is_none() {
        if let Some(kh) = &ssh.known_hosts {
            cmd.env(
                "ANSIBLE_SSH_ARGS",
                format!(
                    "-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes -o ControlMaster=auto -o ControlPersist=60s",
                    kh.display()
                ),
            );
        }
    }
    if std::env::var_os("ANSIBLE_PRIVATE_KEY_FILE").is_none() {
        if let Some(key) = &ssh.identity {
            cmd.env("ANSIBLE_PRIVATE_KEY_FILE", key);
        }
    }
    cmd
}

/// Run one subcommand to its end, telling `observer` every event.
pub fn run(
    venv: &KollaVenv,
    config_dir: &Path,
    sub: &str,
    ssh: &SshEnv,
    observer: &dyn Observer,
) -> Result<(), Box<KollaFailed>> {
    let mut cmd = command(venv, config_dir, sub, ssh);
    let line = crate::exec::command_line(&cmd).unwrap_or_else(|_| format!("kolla-ansible {sub}"));
    let mut tracker = Tracker::default();
    let result = crate::exec::run_streaming(&mut cmd, |l| {
        if let Some(e) = tracker.line(l) {
            observer.event(&e);
        }
    });
    match result {
        Ok(_) => Ok(()),
        Err(e) => {
            let tail = match &e {
                crate::exec::ExecError::Failed { stderr, stdout, .. } => {
                    let text = if stderr.trim().is_empty() {
                        stdout
                    } else {
                        stderr
                    };
                    let lines: Vec<&str> = text.lines().collect();
                    lines[lines.len().saturating_sub(15)..].join("\n")
                }
                other => other.to_string(),
            };
            Err(Box::new(KollaFailed {
                subcommand: sub.to_string(),
                command: line,
                failure: tracker.failure().cloned(),
                tail,
            }))
        }
    }
}
