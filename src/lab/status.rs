//! `lab status`: each VM, its address, whether its qemu runs and whether it
//! answers SSH (a TCP connection to its port within a timeout); for `--image`
//! labs, whether its first boot converged (its serial console says); with
//! `--boot pxe` also the boot server and each node's install step (the
//! server's state folder: status.json and the installed markers).

use super::process;
use super::state::{Made, State};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmStatus {
    pub name: String,
    pub role: String,
    pub address: String,
    /// `running`, `stopped` or `unknown` (vagrant: ask `vagrant status`).
    pub process: &'static str,
    pub ssh: bool,
    /// `--image` labs: the first boot's outcome as the serial console tells.
    pub converge: Option<&'static str>,
}

/// Whether something accepts TCP connections at `addr` within `timeout`.
pub fn answers(addr: SocketAddr, timeout: Duration) -> bool {
    TcpStream::connect_timeout(&addr, timeout).is_ok()
}

/// `running` or `stopped` for the process the ledger names `what`; `unknown` if none.
fn process_state(state: &State, what: &str) -> (&'static str, Option<u32>) {
    state
        .made
        .iter()
        .find_map(|m| match m {
            Made::Process {
                pid,
                start_time,
                what: w,
            } if w == what => Some(if process::is_alive(*pid, *start_time) {
                ("running", Some(*pid))
            } else {
                ("stopped", Some(*pid))
            }),
            _ => None,
        })
        .unwrap_or(("unknown", None))
}

/// The lab's boot server and what each node did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStatus {
    pub url: String,
    /// `running` or `stopped`.
    pub process: &'static str,
    pub pid: Option<u32>,
    pub log: std::path::PathBuf,
    /// Per VM: its latest install step (`-` before any) and whether it finished installing.
    pub nodes: Vec<(String, String, bool)>,
}

/// The boot server of a lab booted with `--boot pxe`; `None` for other labs.
pub fn boot_server(state: &State) -> Option<ServerStatus> {
    let record = state.netboot.as_ref()?;
    let (process, pid) = process_state(state, super::netboot::WHAT);
    let dir = crate::netboot::StateDir::new(&record.state_dir);
    let tracker = dir.read_status();
    let nodes = state
        .vms
        .iter()
        .map(|vm| {
            let step = tracker
                .as_ref()
                .and_then(|t| t.nodes.get(&vm.name))
                .and_then(|n| n.phase)
                .map_or("-", crate::netboot::Phase::as_str);
            (
                vm.name.clone(),
                step.to_string(),
                dir.is_installed(&vm.name),
            )
        })
        .collect();
    Some(ServerStatus {
        url: record.url.clone(),
        process,
        pid,
        log: record.log.clone(),
        nodes,
    })
}

pub fn of(state: &State, timeout: Duration) -> Vec<VmStatus> {
    state
        .vms
        .iter()
        .map(|vm| {
            let (process, _) = process_state(state, &format!("qemu of {}", vm.name));
            let ssh = vm
                .address
                .is_some_and(|a| answers(SocketAddr::new(a, vm.ssh_port), timeout));
            let converge = state.image.as_ref().map(|_| {
                let console = vm
                    .serial_log
                    .as_ref()
                    .and_then(|l| std::fs::read(l).ok())
                    .unwrap_or_default();
                super::converge_log::read(&String::from_utf8_lossy(&console)).as_str()
            });
            VmStatus {
                name: vm.name.clone(),
                role: vm.role.clone(),
                address: vm.address.map_or_else(|| "-".into(), |a| a.to_string()),
                process,
                ssh,
                converge,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listening_port_answers_and_a_closed_one_does_not() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(answers(addr, Duration::from_secs(1)));
        drop(listener);
        assert!(!answers(addr, Duration::from_millis(300)));
    }
}
