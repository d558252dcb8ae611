//! `lab up --boot pxe`: the qemu lab's VMs boot from the network, from
//! aerie's own boot server (`crate::netboot`, the code `aerie pxe serve`
//! runs: dnsmasq child for DHCP and TFTP, aerie's HTTP server) on the lab's
//! management bridge.
//!
//! The lab derives the server's settings from its plan: `dhcp` mode on the
//! bridge of the untagged management network, the lab host's address there
//! as the server's. The site needs no `netboot:` section; one it has
//! describes the real site's boot server, and the lab's settings replace it
//! (only its `http-port` is kept). A node the site gives no MAC on that
//! network gets the lab's generated one, so the server knows every VM.
//!
//! The server must outlive `lab up`: it runs as a daemon of its own (the
//! hidden `aerie lab boot-server --dir DIR`, which reads `DIR/boot-server.json`
//! and serves with `DIR/netboot` as its state folder), recorded in the ledger
//! with its PID and start time like the qemu processes, so `lab down` stops
//! it (SIGTERM: it stops dnsmasq and HTTP itself) and `lab status` shows it.

use super::plan::{LabPlan, NetPlan, VmPlan};
use super::process;
use super::progress::Progress;
use super::state::{Ledger, Made};
use crate::exit::UsageError;
use crate::netboot::{serve, StateDir};
use crate::site::{Netboot, NetbootMode, Site, DEFAULT_HTTP_PORT};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The server's state folder inside the lab folder (`aerie pxe status --dir DIR/netboot`).
pub const STATE_DIR: &str = "netboot";
/// What the server serves: the site with the lab's `netboot:`, the base
/// ISO, the kernel arguments, every node's kickstart (0600: they hold the
/// root password hash).
pub const SPEC: &str = "boot-server.json";
/// The server's output: a line per event.
pub const LOG: &str = "boot-server.log";
/// The server's name in the ledger and in `lab status`.
pub const WHAT: &str = "aerie boot server";
/// How long `lab up` waits for the server to serve.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The network the lab boots from: the untagged management network, the
/// one the lab host has an address on.
pub fn boot_network(plan: &LabPlan) -> Result<&NetPlan, UsageError> {
    plan.networks
        .iter()
        .find(|n| n.host_address.is_some())
        .ok_or_else(|| {
            UsageError(
                "--boot pxe: the lab boots its VMs from its management network, and this site has no untagged management network for the lab host to serve on; give one `purpose: management` without a vlan, or use --boot iso".into(),
            )
        })
}

/// The index of the VM's NIC on the boot network (it gets the boot order).
pub fn boot_nic(vm: &VmPlan, net: &NetPlan) -> Option<usize> {
    vm.nics.iter().position(|n| n.network == net.name)
}

/// The site as the lab's boot server sees it: the lab's `netboot:` (see the
/// module), and the lab's MAC on every node's boot interface that has none.
/// Also returns what to tell the operator when the site had its own `netboot:`.
pub fn boot_site(site: &Site, plan: &LabPlan) -> Result<(Site, Option<String>), UsageError> {
    let net = boot_network(plan)?;
    let address = net
        .host_address
        .expect("the boot network has the host's address");
    let interface = net.bridge.parse().map_err(|e| {
        UsageError(format!(
            "--boot pxe: the bridge name {} is no interface name ({e}); give another --prefix",
            net.bridge
        ))
    })?;
    let mut derived = site.clone();
    let kept_port = site.netboot.as_ref().map(|n| n.http_port);
    let note = site.netboot.as_ref().map(|n| {
        format!(
            "the site's netboot: ({} on {} at {}) is the real site's boot server; the lab serves from its own bridge instead: dhcp on {} at {address}, keeping http-port {}",
            n.mode.as_str(),
            n.interface,
            n.address,
            net.bridge,
            n.http_port
        )
    });
    derived.netboot = Some(Netboot {
        mode: NetbootMode::Dhcp,
        interface,
        network: Some(net.name.parse().map_err(|e| UsageError(format!("{e}")))?),
        address,
        http_port: kept_port.unwrap_or(DEFAULT_HTTP_PORT),
    });
    for (node, vm) in derived.nodes.iter_mut().zip(&plan.vms) {
        let Some(k) = boot_nic(vm, net) else {
            return Err(UsageError(format!(
                "--boot pxe: {} has no interface on {}, the network the lab boots from; attach it (nodes[].interfaces) or use --boot iso",
                vm.name, net.name
            )));
        };
        let iface = &mut node.interfaces[k];
        if iface.address.is_none() {
            return Err(UsageError(format!(
                "--boot pxe: {} has no address on {}: the lab's DHCP hands each VM its site address; give nodes[].interfaces[{k}].address, or use --boot iso",
                vm.name, net.name
            )));
        }
        if iface.mac.is_none() {
            iface.mac = Some(vm.nics[k].mac.parse().map_err(|e| {
                UsageError(format!(
                    "the lab's MAC {} of {}: {e}",
                    vm.nics[k].mac, vm.name
                ))
            })?);
        }
    }
    // The boot server's own guard (a MAC in two nodes, an IPv6 network).
    crate::netboot::Plan::new(&derived).map_err(|e| UsageError(format!("--boot pxe: {e}")))?;
    Ok((derived, note))
}

/// `--boot pxe`: what to serve and how to start the server.
pub struct PxeServe {
    pub spec: ServerSpec,
    /// The server's command line before `--dir DIR` (the command layer
    /// knows it: aerie's own binary, `lab boot-server`).
    pub argv: Vec<OsString>,
}

/// What the server serves: written by `lab up`, read by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSpec {
    /// The site with the lab's `netboot:`, as YAML.
    pub site: String,
    /// The base ISO: kernel, initrd and stage2 are served from it.
    pub base: PathBuf,
    /// Kernel arguments of every install (the lab's serial console).
    pub kernel_args: Vec<String>,
    /// Every node's kickstart, by host name.
    pub kickstarts: BTreeMap<String, String>,
}

impl ServerSpec {
    /// The spec of the lab in `dir` and its site.
    pub fn load(dir: &Path) -> anyhow::Result<(Site, ServerSpec)> {
        let path = dir.join(SPEC);
        let text = std::fs::read(&path).with_context(|| {
            format!(
                "cannot read {} (`aerie lab up --boot pxe` writes it)",
                path.display()
            )
        })?;
        let spec: ServerSpec = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a lab boot server's spec", path.display()))?;
        let site = crate::site::load::from_str(&spec.site, &path.display().to_string())?;
        Ok((site, spec))
    }

    /// What `serve` runs with: the lab's state folder, no other listener.
    pub fn options(&self, dir: &Path) -> serve::Options {
        serve::Options {
            dir: dir.join(STATE_DIR),
            base: self.base.clone(),
            extra_args: self.kernel_args.clone(),
            listen: None,
            no_dhcp: false,
        }
    }
}

/// Everything the server needs that can be refused before anything is
/// made: the base ISO's installer kernel and initrd, iPXE, dnsmasq.
pub fn preflight(base: &Path) -> anyhow::Result<()> {
    serve::check_base(base).map_err(|e| {
        e.context("--boot pxe serves the installer from --iso: give a distribution's installer ISO")
    })?;
    serve::check_dhcp_tools()
}

/// Write the spec, start the server as a daemon (`argv` then `--dir DIR`),
/// record it, and wait until it serves (its `server.json` names it). If it
/// ends first, the error holds the end of its log.
pub fn start(
    dir: &Path,
    spec: &ServerSpec,
    argv: &[OsString],
    ledger: &mut Ledger,
    progress: &Progress,
) -> anyhow::Result<()> {
    progress.step("starting the lab's boot server (DHCP, TFTP, HTTP)");
    let spec_path = dir.join(SPEC);
    ledger.record(Made::File {
        path: spec_path.clone(),
    })?;
    let text = serde_json::to_vec_pretty(spec)?;
    crate::fsutil::write_atomic(&spec_path, &text, 0o600, crate::fsutil::Overwrite::Refuse)?;
    let state = dir.join(STATE_DIR);
    ledger.record(Made::Tree {
        path: state.clone(),
    })?;
    let log_path = dir.join(LOG);
    ledger.record(Made::File {
        path: log_path.clone(),
    })?;
    let log = std::fs::OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot create {}", log_path.display()))?;
    let (program, args) = argv
        .split_first()
        .context("no program to run the boot server")?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(args).arg("--dir").arg(dir);
    let mut child = crate::exec::spawn_detached(&mut cmd, log)?;
    let pid = child.id();
    let (start_time, _) = process::stat(pid)
        .with_context(|| format!("the boot server (pid {pid}) ended right after starting"))?;
    ledger.record(Made::Process {
        pid,
        start_time,
        what: WHAT.into(),
    })?;
    let state = StateDir::new(&state);
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(info) = state.running_server() {
            if info.pid == pid {
                progress.say(&format!(
                    "  boot server {} (pid {pid}), its log {}",
                    info.url,
                    log_path.display()
                ));
                return Ok(());
            }
        }
        if let Some(status) = child.try_wait()? {
            anyhow::bail!(
                "the boot server ended ({status}) before serving; its log {}:\n{}",
                log_path.display(),
                tail(&log_path)
            );
        }
        if Instant::now() > deadline {
            anyhow::bail!(
                "the boot server did not serve within {READY_TIMEOUT:?}; its log {}:\n{}",
                log_path.display(),
                tail(&log_path)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The last lines of a log, for an error.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::plan::fixture::{lab, sizes};
    use crate::lab::plan::plan;

    #[test]
    fn the_lab_serves_dhcp_on_its_management_bridge_at_the_hosts_address() {
        let site = lab();
        let p = plan(&site, &sizes(), "ae-lab").unwrap();
        let (derived, note) = boot_site(&site, &p).unwrap();
        assert_eq!(note, None);
        let nb = derived.netboot.as_ref().unwrap();
        assert_eq!(nb.mode, NetbootMode::Dhcp);
        assert_eq!(nb.interface.to_string(), "ae-lab-b0");
        assert_eq!(nb.address.to_string(), "10.20.0.1");
        assert_eq!(nb.http_port, DEFAULT_HTTP_PORT);
        let server = crate::netboot::Plan::new(&derived).unwrap();
        assert_eq!(server.base_url(), "http://10.20.0.1:8080");
        assert_eq!(server.nodes.len(), 3);
        assert_eq!(boot_nic(&p.vms[0], boot_network(&p).unwrap()), Some(0));
        // Round trip: what the server reads is what the lab derived.
        let back = crate::site::load::from_str(&crate::site::load::to_yaml(&derived), "x").unwrap();
        assert_eq!(back, derived);
    }

    #[test]
    fn a_sites_own_netboot_is_replaced_and_said_so_keeping_its_port() {
        let mut site = lab();
        let netboot =
            crate::site::load::from_str(crate::site::examples::get("netboot").unwrap(), "netboot")
                .unwrap()
                .netboot
                .unwrap();
        site.netboot = Some(Netboot {
            http_port: 8181,
            ..netboot
        });
        let p = plan(&site, &sizes(), "ae-lab").unwrap();
        let (derived, note) = boot_site(&site, &p).unwrap();
        let note = note.unwrap();
        assert!(
            note.contains("the lab serves from its own bridge"),
            "{note}"
        );
        assert!(note.contains("keeping http-port 8181"), "{note}");
        let nb = derived.netboot.unwrap();
        assert_eq!(nb.interface.to_string(), "ae-lab-b0");
        assert_eq!(nb.http_port, 8181);
    }

    #[test]
    fn nodes_without_a_mac_get_the_labs_and_without_an_address_are_refused() {
        let mut site = lab();
        site.nodes[1].interfaces[0].mac = None;
        let p = plan(&site, &sizes(), "ae-lab").unwrap();
        let (derived, _) = boot_site(&site, &p).unwrap();
        assert_eq!(
            derived.nodes[1].interfaces[0]
                .mac
                .as_ref()
                .unwrap()
                .to_string(),
            p.vms[1].nics[0].mac
        );
        site.nodes[2].interfaces[0].address = None;
        let p = plan(&site, &sizes(), "ae-lab").unwrap();
        let err = boot_site(&site, &p).unwrap_err().0;
        assert!(err.contains("node2 has no address on mgmt"), "{err}");
        assert!(err.contains("nodes[].interfaces[0].address"), "{err}");
    }

    #[test]
    fn a_node_off_the_boot_network_is_refused() {
        let mut site = lab();
        site.nodes[2].interfaces.remove(0);
        let p = plan(&site, &sizes(), "ae-lab").unwrap();
        let err = boot_site(&site, &p).unwrap_err().0;
        assert!(err.contains("node2 has no interface on mgmt"), "{err}");
        assert!(err.contains("--boot iso"), "{err}");
    }
}
