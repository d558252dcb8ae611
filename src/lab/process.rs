//! Processes the lab starts (qemu, daemonized) and stops, by PID.

use anyhow::Context;
use std::time::{Duration, Instant};

/// A process's start time (field 22 of /proc/PID/stat, clock ticks since
/// boot) and whether it is a zombie; `None` if there is no such process.
pub fn stat(pid: u32) -> Option<(u64, bool)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// Parse /proc/PID/stat: the command may hold spaces and parentheses, so
/// fields are counted after the last `)`.
pub fn parse_stat(text: &str) -> Option<(u64, bool)> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); field 22 is index 19 here.
    let zombie = matches!(*fields.first()?, "Z" | "X");
    Some((fields.get(19)?.parse().ok()?, zombie))
}

/// Whether `pid` is still the process that was started at `start_time`.
pub fn is_alive(pid: u32, start_time: u64) -> bool {
    matches!(stat(pid), Some((t, false)) if t == start_time)
}

/// Stop the process (TERM, then KILL after `grace`) if it is still the one
/// recorded. Returns whether it had to be stopped.
pub fn stop(pid: u32, start_time: u64, grace: Duration) -> anyhow::Result<bool> {
    if !is_alive(pid, start_time) {
        return Ok(false);
    }
    signal("TERM", pid)?;
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !is_alive(pid, start_time) {
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if is_alive(pid, start_time) {
        signal("KILL", pid)?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while is_alive(pid, start_time) {
            if Instant::now() > deadline {
                anyhow::bail!("process {pid} did not end after SIGKILL");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(true)
}

fn signal(sig: &str, pid: u32) -> anyhow::Result<()> {
    let mut cmd = crate::exec::command("kill", [format!("-{sig}"), pid.to_string()]);
    match crate::exec::run(&mut cmd) {
        Ok(_) => Ok(()),
        // It ended between the check and the signal.
        Err(_) if stat(pid).is_none_or(|(_, z)| z) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot stop process {pid}")),
    }
}

/// Read a PID file written by a daemonizing program.
pub fn read_pidfile(path: &std::path::Path) -> anyhow::Result<u32> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the PID file {}", path.display()))?;
    text.trim()
        .parse()
        .with_context(|| format!("{} holds no PID: {text:?}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_command_names() {
        let line = "1234 (qemu (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 3 0 98765 1000 200";
        assert_eq!(parse_stat(line), Some((98765, false)));
        let z = "12 (a) Z 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0";
        assert_eq!(parse_stat(z), Some((55, true)));
    }

    #[test]
    fn own_process_is_alive() {
        let me = std::process::id();
        let (t, _) = stat(me).unwrap();
        assert!(is_alive(me, t));
        assert!(!is_alive(me, t + 1));
    }
}
