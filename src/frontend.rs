//! Where the cloud's own tools run: the frontend, over an SSH connection (the
//! SSH road) or on this machine (`--local`, the frontend's first boot). Both
//! take argv, never a shell string; a profile's credentials file is sourced by a
//! fixed script that gets the file and the command as quoted arguments.

use crate::ssh::session::RemoteOutput;
use crate::ssh::{Connection, SshError};

/// Runs argv somewhere and returns what it did.
pub trait Runner: Sync {
    fn run(&self, argv: &[&str]) -> Result<RemoteOutput, RunError>;
}

/// A command could not be run at all (as opposed to: it ran and failed).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error(transparent)]
    Local(#[from] crate::exec::ExecError),
    #[error(transparent)]
    Quote(#[from] crate::shell::Unquotable),
}

impl RunError {
    pub fn kind(&self) -> &'static str {
        match self {
            RunError::Ssh(e) => e.kind(),
            RunError::Local(_) | RunError::Quote(_) => "cannot-run",
        }
    }
}

impl Runner for Connection {
    fn run(&self, argv: &[&str]) -> Result<RemoteOutput, RunError> {
        Ok(Connection::run(self, argv, None)?)
    }
}

/// This machine, through `exec.rs`.
pub struct Local;

impl Runner for Local {
    fn run(&self, argv: &[&str]) -> Result<RemoteOutput, RunError> {
        let (program, args) = argv.split_first().expect("a command has a program");
        let out = crate::exec::output(&mut crate::exec::command(program, args))?;
        Ok(RemoteOutput {
            status: out.status.code().unwrap_or(128),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }
}

/// The frontend, with the profile's credentials.
pub struct Frontend<'a> {
    pub runner: &'a dyn Runner,
    pub credentials: Option<String>,
}

/// A finished command, with the command line as the operator would type it.
#[derive(Debug, Clone)]
pub struct Ran {
    pub command: String,
    pub output: RemoteOutput,
}

impl Ran {
    pub fn success(&self) -> bool {
        self.output.success()
    }

    /// The command's own message: its stderr, else its stdout (last lines).
    pub fn message(&self) -> String {
        let text = match self.output.stderr_text() {
            e if !e.is_empty() => e,
            _ => String::from_utf8_lossy(&self.output.stdout)
                .trim()
                .to_string(),
        };
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(12)..].join("\n");
        if tail.is_empty() {
            format!(
                "`{}` failed with exit status {}",
                self.command, self.output.status
            )
        } else {
            format!(
                "`{}` failed (exit status {}): {tail}",
                self.command, self.output.status
            )
        }
    }
}

impl Frontend<'_> {
    pub fn run(&self, argv: &[String]) -> Result<Ran, RunError> {
        let command = crate::shell::join(argv)?;
        let words = match &self.credentials {
            Some(file) => crate::shell::sourcing(file, argv),
            None => argv.to_vec(),
        };
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let output = self.runner.run(&words)?;
        Ok(Ran { command, output })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_sourced_and_missing_ones_named() {
        let dir = tempfile::tempdir().unwrap();
        let rc = dir.path().join("rc");
        std::fs::write(&rc, "export AERIE_TEST_CRED='a b'\n").unwrap();
        let fe = Frontend {
            runner: &Local,
            credentials: Some(rc.display().to_string()),
        };
        let argv: Vec<String> = ["sh", "-c", "printf %s \"$AERIE_TEST_CRED\""]
            .map(String::from)
            .to_vec();
        let ran = fe.run(&argv).unwrap();
        assert!(ran.success());
        assert_eq!(ran.output.stdout, b"a b");
        assert_eq!(ran.command, "sh -c 'printf %s \"$AERIE_TEST_CRED\"'");

        let fe = Frontend {
            runner: &Local,
            credentials: Some(dir.path().join("absent").display().to_string()),
        };
        let ran = fe.run(&argv).unwrap();
        assert!(!ran.success());
        assert!(
            ran.message().contains("missing or unreadable"),
            "{}",
            ran.message()
        );
    }

    #[test]
    fn message_prefers_stderr_then_stdout() {
        let fe = Frontend {
            runner: &Local,
            credentials: None,
        };
        let ran = fe
            .run(&[
                "sh".into(),
                "-c".into(),
                "echo out; echo err >&2; exit 3".into(),
            ])
            .unwrap();
        assert!(
            ran.message().ends_with("(exit status 3): err"),
            "{}",
            ran.message()
        );
        let ran = fe
            .run(&["sh".into(), "-c".into(), "echo only-out; exit 4".into()])
            .unwrap();
        assert!(ran.message().ends_with("only-out"), "{}", ran.message());
    }
}
