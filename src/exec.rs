//! The one helper through which aerie runs every local external program.
//!
//! Every failure names the command line and carries the program's stderr, so an
//! operator can rerun it by hand. Nothing else in aerie spawns processes directly.

use std::ffi::OsStr;
use std::process::{Command, Output, Stdio};

/// A local program failed to start or exited unsuccessfully.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The program is not installed (or not on PATH).
    #[error("`{program}` was not found: {hint}")]
    Missing { program: String, hint: String },
    /// The program could not be started for another reason.
    #[error("could not run `{command}`: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    /// The program ran and exited with a failure status.
    #[error("`{command}` failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
        stdout: String,
    },
}

/// The command line, shell-quoted, for messages; a word no command line can
/// carry (a NUL byte) is the error that the program could not be started.
pub fn command_line(cmd: &Command) -> Result<String, ExecError> {
    let words = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(OsStr::to_string_lossy);
    crate::shell::join(words).map_err(|e| ExecError::Spawn {
        command: cmd.get_program().to_string_lossy().into_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
    })
}

/// Where to get a program aerie drives, for the "not found" message.
pub fn install_hint(program: &str) -> String {
    let package = match program {
        "xorriso" => "xorriso",
        "mcopy" | "mdir" | "mtype" | "mmd" => "mtools",
        "df" => "coreutils",
        "strip" | "objcopy" => "binutils",
        "qemu-system-x86_64" => "qemu-system-x86",
        "qemu-img" => "qemu-utils",
        "ssh" | "ssh-keygen" => "openssh-client",
        "dnsmasq" => "dnsmasq",
        "ip" => "iproute2",
        "vagrant" => "vagrant",
        other => other,
    };
    format!("install it with `apt-get install {package}` (Debian/Ubuntu) or your distribution's package")
}

/// Run a command to completion, capturing output; a non-zero exit is an error
/// naming the command and its stderr.
pub fn run(cmd: &mut Command) -> Result<Output, ExecError> {
    run_with_input(cmd, None)
}

/// Like [`run`], feeding `input` on stdin.
pub fn run_with_input(cmd: &mut Command, input: Option<&[u8]>) -> Result<Output, ExecError> {
    let command = command_line(cmd)?;
    let output = run_to_end(cmd, &command, input, |_| {})?;
    check(command, output)
}

/// Start a long-running child (a server aerie supervises) with stdout and
/// stderr piped. The kernel sends it SIGTERM if this thread dies, however it
/// dies, so it never outlives aerie: spawn it from a thread that lives as
/// long as the child should (the main thread).
pub fn spawn_tied(cmd: &mut Command) -> Result<std::process::Child, ExecError> {
    use std::os::unix::process::CommandExt;
    let command = command_line(cmd)?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn()
        .map_err(|source| spawn_error(cmd, command, source))
}

/// Start a daemon that outlives aerie: its own session (a terminal's Ctrl-C
/// and hang-up do not reach it), working directory `/`, stdin from
/// /dev/null, stdout and stderr into `log`. The caller records its PID to
/// stop it later.
pub fn spawn_detached(
    cmd: &mut Command,
    log: std::fs::File,
) -> Result<std::process::Child, ExecError> {
    use std::os::unix::process::CommandExt;
    let command = command_line(cmd)?;
    let err = log.try_clone().map_err(|source| ExecError::Spawn {
        command: command.clone(),
        source,
    })?;
    cmd.current_dir("/")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err);
    // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn()
        .map_err(|source| spawn_error(cmd, command, source))
}

/// Run a command to completion and return its output whatever its exit status
/// (for callers that read the status and messages themselves); only a program
/// that cannot start is an error.
pub fn output(cmd: &mut Command) -> Result<Output, ExecError> {
    let command = command_line(cmd)?;
    run_to_end(cmd, &command, None, |_| {})
}

/// Like [`run`], handing every stdout line to `on_line` as it arrives (for
/// progress); stdout and stderr are still collected whole for the result.
pub fn run_streaming(cmd: &mut Command, on_line: impl FnMut(&str)) -> Result<Output, ExecError> {
    let command = command_line(cmd)?;
    let output = run_to_end(cmd, &command, None, on_line)?;
    check(command, output)
}

/// Run `cmd` (`command` is its command line) to its end, whatever its exit
/// status: `input` on its stdin, every stdout line to `on_line` as it
/// arrives, stdout and stderr collected whole. The child is stopped if aerie
/// is interrupted meanwhile ([`crate::interrupt::spawn`]).
fn run_to_end(
    cmd: &mut Command,
    command: &str,
    input: Option<&[u8]>,
    mut on_line: impl FnMut(&str),
) -> Result<Output, ExecError> {
    use std::io::{BufRead, Read, Write};
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let (mut child, running) = crate::interrupt::spawn(cmd)
        .map_err(|source| spawn_error(cmd, command.to_string(), source))?;
    if let Some(bytes) = input {
        let mut stdin = child.stdin.take().expect("stdin was piped");
        // A program may exit without reading all of its input; its status tells.
        let _ = stdin.write_all(bytes);
    }
    let mut stderr_pipe = child.stderr.take().expect("stderr was piped");
    // Drain stderr on its own thread so a chatty program never blocks on it.
    let stderr_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut buf);
        buf
    });
    let mut stdout = Vec::new();
    let mut reader = std::io::BufReader::new(child.stdout.take().expect("stdout was piped"));
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                on_line(String::from_utf8_lossy(&line).trim_end());
                stdout.extend_from_slice(&line);
            }
        }
    }
    let status = child.wait();
    running.ended();
    let status = status.map_err(|source| ExecError::Spawn {
        command: command.to_string(),
        source,
    })?;
    let stderr = stderr_thread.join().unwrap_or_default();
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// Turn a finished process's output into a result.
pub fn check(command: String, output: Output) -> Result<Output, ExecError> {
    if output.status.success() {
        return Ok(output);
    }
    Err(ExecError::Failed {
        command,
        status: output.status.to_string(),
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        stdout: String::from_utf8_lossy(&output.stdout).trim().to_string(),
    })
}

/// The error for a program that could not be started. `NotFound` also comes
/// from a missing interpreter or library, so "not installed" is said only when
/// the program itself cannot be found.
pub fn spawn_error(cmd: &Command, command: String, source: std::io::Error) -> ExecError {
    let program = cmd.get_program().to_string_lossy().into_owned();
    if source.kind() == std::io::ErrorKind::NotFound && find_program(&program).is_none() {
        let hint = install_hint(&program);
        ExecError::Missing { program, hint }
    } else {
        ExecError::Spawn { command, source }
    }
}

/// Where `program` would be found: itself if it names a path, else on PATH.
pub fn find_program(program: &str) -> Option<std::path::PathBuf> {
    if program.contains('/') {
        let path = std::path::PathBuf::from(program);
        return path.is_file().then_some(path);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

/// Replace this process with the command (an interactive session such as
/// `ssh`); returns only the error when it cannot be started.
pub fn replace(cmd: &mut Command) -> ExecError {
    use std::os::unix::process::CommandExt;
    let command = match command_line(cmd) {
        Ok(command) => command,
        Err(e) => return e,
    };
    let source = cmd.exec();
    spawn_error(cmd, command, source)
}

/// Convenience: build a [`Command`] from a program and arguments.
pub fn command<I, S>(program: &str, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(program);
    cmd.args(args);
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_names_command_and_stderr() {
        let err = run(&mut command("sh", ["-c", "echo boom >&2; exit 3"])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("sh -c 'echo boom >&2; exit 3'"), "{text}");
        assert!(text.contains("boom"), "{text}");
        assert!(text.contains('3'), "{text}");
    }

    #[test]
    fn missing_program_names_install_command() {
        let err = run(&mut command("xorriso-not-installed-here", ["-version"])).unwrap_err();
        assert!(matches!(err, ExecError::Missing { .. }), "{err}");
        assert!(err.to_string().contains("apt-get install"), "{err}");
    }

    #[test]
    fn a_present_program_that_cannot_start_is_not_called_missing() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("needs-interpreter");
        std::fs::write(&script, "#!/nonexistent/interpreter\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let err = run(&mut Command::new(&script)).unwrap_err();
        assert!(matches!(err, ExecError::Spawn { .. }), "{err}");
    }

    #[test]
    fn a_nul_byte_in_an_argument_is_an_error_not_a_quoting() {
        let err = run(&mut command("echo", ["a\0b"])).unwrap_err();
        assert!(matches!(err, ExecError::Spawn { .. }), "{err}");
        assert!(err.to_string().contains("nul byte"), "{err}");
    }

    #[test]
    fn streaming_sees_every_line_and_keeps_stderr() {
        let mut seen = Vec::new();
        let out = run_streaming(
            &mut command("sh", ["-c", "echo one; echo err >&2; echo two"]),
            |l| seen.push(l.to_string()),
        )
        .unwrap();
        assert_eq!(seen, ["one", "two"]);
        assert_eq!(out.stderr, b"err\n");
        let err =
            run_streaming(&mut command("sh", ["-c", "echo bad >&2; exit 2"]), |_| {}).unwrap_err();
        assert!(err.to_string().contains("bad"), "{err}");
    }

    #[test]
    fn output_returns_a_failure_with_its_status_and_messages() {
        let out = output(&mut command("sh", ["-c", "echo out; echo err >&2; exit 4"])).unwrap();
        assert_eq!(out.status.code(), Some(4));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
    }

    #[test]
    fn input_reaches_stdin() {
        let out = run_with_input(&mut command("cat", [] as [&str; 0]), Some(b"hello")).unwrap();
        assert_eq!(out.stdout, b"hello");
    }
}
