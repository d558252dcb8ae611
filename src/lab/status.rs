//! `lab status`: each VM, its address, whether its qemu runs and whether it
//! answers SSH (a TCP connection to its port within a timeout); for `--image`
//! labs, whether its first boot converged (its serial console says).

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

pub fn of(state: &State, timeout: Duration) -> Vec<VmStatus> {
    state
        .vms
        .iter()
        .map(|vm| {
            let what = format!("qemu of {}", vm.name);
            let process = state
                .made
                .iter()
                .find_map(|m| match m {
                    Made::Process {
                        pid,
                        start_time,
                        what: w,
                    } if *w == what => Some(if process::is_alive(*pid, *start_time) {
                        "running"
                    } else {
                        "stopped"
                    }),
                    _ => None,
                })
                .unwrap_or("unknown");
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
