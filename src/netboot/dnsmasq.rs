//! aerie's dnsmasq as a child process: started with the generated config
//! (never the machine's service or its /etc/dnsmasq.conf), tied to aerie's
//! life, its log read line by line for what the nodes do, and stopped.

use crate::exec::{self, ExecError};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The program run: `AERIE_DNSMASQ` or `dnsmasq` from PATH.
pub fn program() -> String {
    std::env::var("AERIE_DNSMASQ").unwrap_or_else(|_| "dnsmasq".to_string())
}

/// dnsmasq could not start.
#[derive(Debug, thiserror::Error)]
#[error("dnsmasq did not start: {0}")]
pub struct StartError(pub String);

pub struct Dnsmasq {
    child: Child,
}

/// Whether dnsmasq is installed; the error names the package.
pub fn check_installed() -> Result<(), ExecError> {
    let program = program();
    if exec::find_program(&program).is_some() {
        return Ok(());
    }
    Err(ExecError::Missing {
        hint: exec::install_hint("dnsmasq"),
        program,
    })
}

/// Start dnsmasq on `conf`; each log line goes to `log` and to `on_line`
/// (from a reader thread). Returns once dnsmasq says it started, or with
/// its own words when it exits instead (a missing interface, port 67 taken).
pub fn start(
    conf: &Path,
    pid_file: &Path,
    log: &Path,
    on_line: impl Fn(&str) + Send + 'static,
) -> anyhow::Result<Dnsmasq> {
    let mut cmd = Command::new(program());
    cmd.arg("--keep-in-foreground")
        .arg(format!("--conf-file={}", conf.display()))
        .arg(format!("--pid-file={}", pid_file.display()))
        .arg("--log-facility=-");
    let mut child = exec::spawn_tied(&mut cmd)?;
    let stderr = child.stderr.take().expect("stderr was piped");
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut started = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = writeln!(log, "{line}");
            if !started {
                let _ = tx.send(line.clone());
                started = line.contains("started, version");
            }
            on_line(&line);
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) if line.contains("started, version") => break,
            Ok(line) => seen.push(line),
            Err(_) => {}
        }
        if let Ok(Some(status)) = child.try_wait() {
            // The reader may still hold the last lines.
            while let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
                seen.push(line);
            }
            return Err(StartError(format!("it exited ({status}): {}", last_words(&seen))).into());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(StartError(format!(
                "it did not say it started within 10 s: {}",
                last_words(&seen)
            ))
            .into());
        }
    }
    Ok(Dnsmasq { child })
}

fn last_words(lines: &[String]) -> String {
    let text: Vec<&str> = lines
        .iter()
        .rev()
        .take(5)
        .rev()
        .map(String::as_str)
        .collect();
    if text.is_empty() {
        "(no output)".to_string()
    } else {
        text.join(" / ")
    }
}

impl Dnsmasq {
    /// Whether it still runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then SIGKILL after 3 s; waits for it.
    pub fn stop(mut self) {
        let pid = self.child.id() as i32;
        // SAFETY: signalling our own child by its pid, which we have not reaped yet.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a dnsmasq log line says about a machine: its MAC when it asks for
/// an address (`DHCPDISCOVER(eth1) 52:54:…`, `DHCPREQUEST`) or for a boot
/// answer in proxy mode (`PXE(eth1) 52:54:… proxy`).
pub fn dhcp_mac(line: &str) -> Option<String> {
    let asks = ["DHCPDISCOVER(", "DHCPREQUEST(", "PXE(", "DHCPACK("];
    if !asks.iter().any(|a| line.contains(a)) {
        return None;
    }
    line.split_whitespace().find_map(super::plan::normalize_mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_from_dnsmasq_log_lines() {
        assert_eq!(
            dhcp_mac("dnsmasq-dhcp[42]: 1234 DHCPDISCOVER(veth0) 52:54:00:00:00:11 ").as_deref(),
            Some("52:54:00:00:00:11")
        );
        assert_eq!(
            dhcp_mac("dnsmasq-dhcp[42]: 99 PXE(veth0) 52:54:00:AA:00:11 proxy").as_deref(),
            Some("52:54:00:aa:00:11")
        );
        assert_eq!(
            dhcp_mac("dnsmasq-dhcp[42]: 99 vendor class: PXEClient:Arch:00007"),
            None
        );
        assert_eq!(
            dhcp_mac("dnsmasq-tftp[42]: sent /x/ipxe.efi to 10.0.0.1"),
            None
        );
    }
}
