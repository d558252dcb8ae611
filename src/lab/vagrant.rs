//! The vagrant driver: `vagrant/Vagrantfile.j2` (through the template
//! loader, so `--templates DIR` overrides it) rendered for vagrant-libvirt,
//! `vagrant up`, then the nodes' SSH endpoints from `vagrant ssh-config` for
//! the SSH road.

use super::plan::LabPlan;
use super::state::{Ledger, Made};
use crate::exec;
use crate::templates::Templates;
use serde::Serialize;
use std::path::Path;

#[derive(Serialize)]
struct Ctx {
    site: String,
    #[serde(rename = "box")]
    box_name: String,
    vms: Vec<VmCtx>,
}

#[derive(Serialize)]
struct VmCtx {
    name: String,
    memory_mib: u32,
    cpus: u32,
    disk_gb: u32,
    nics: Vec<NicCtx>,
}

#[derive(Serialize)]
struct NicCtx {
    network: String,
    vlan: Option<u16>,
    ip: Option<String>,
    netmask: String,
    network_address: String,
    mac: String,
    auto_config: &'static str,
    libvirt_network: String,
    host_ip: Option<String>,
    forward_mode: &'static str,
}

/// The Vagrantfile of a lab, from `Vagrantfile.j2` (with the filter `ruby`).
pub fn render(plan: &LabPlan, box_name: &str, templates: &Templates) -> anyhow::Result<String> {
    let vms = plan
        .vms
        .iter()
        .map(|vm| VmCtx {
            name: vm.name.clone(),
            memory_mib: vm.memory_mib,
            cpus: vm.cpus,
            disk_gb: vm.disk_gb,
            nics: vm
                .nics
                .iter()
                .map(|nic| {
                    let net = plan
                        .networks
                        .iter()
                        .find(|n| n.name == nic.network)
                        .expect("every NIC's network is planned");
                    NicCtx {
                        network: net.name.clone(),
                        vlan: net.vlan,
                        ip: nic.address.map(|a| a.to_string()),
                        netmask: net.cidr.netmask().to_string(),
                        network_address: net.cidr.network().to_string(),
                        mac: nic.mac.clone(),
                        auto_config: if net.vlan.is_none() && nic.address.is_some() {
                            "true"
                        } else {
                            "false"
                        },
                        libvirt_network: format!("aerie-{}-{}", plan.site, net.name),
                        host_ip: net.host_address.map(|a| a.to_string()),
                        forward_mode: if net.host_address.is_some() {
                            "nat"
                        } else {
                            "none"
                        },
                    }
                })
                .collect(),
        })
        .collect();
    let ctx = Ctx {
        site: plan.site.clone(),
        box_name: box_name.to_string(),
        vms,
    };
    let templates = templates.extended(|env| env.add_filter("ruby", ruby_string));
    Ok(templates.render("Vagrantfile.j2", &ctx)?)
}

/// A Ruby double-quoted string literal: `\\`, `"` and `#` (interpolation) escaped.
pub fn ruby_string(value: String) -> String {
    let mut out = String::from('"');
    for c in value.chars() {
        match c {
            '\\' | '"' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One host of `vagrant ssh-config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshEndpoint {
    pub host: String,
    pub hostname: String,
    pub user: String,
    pub port: u16,
    pub identity_file: Option<String>,
}

/// Parse `vagrant ssh-config` output (one `Host` block per machine).
pub fn parse_ssh_config(text: &str) -> Vec<SshEndpoint> {
    let mut out: Vec<SshEndpoint> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let Some((key, value)) = line.split_once(char::is_whitespace) else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_string();
        match key.to_ascii_lowercase().as_str() {
            "host" => out.push(SshEndpoint {
                host: value,
                hostname: String::new(),
                user: "vagrant".into(),
                port: 22,
                identity_file: None,
            }),
            "hostname" => {
                if let Some(h) = out.last_mut() {
                    h.hostname = value;
                }
            }
            "user" => {
                if let Some(h) = out.last_mut() {
                    h.user = value;
                }
            }
            "port" => {
                if let (Some(h), Ok(p)) = (out.last_mut(), value.parse()) {
                    h.port = p;
                }
            }
            "identityfile" => {
                if let Some(h) = out.last_mut() {
                    h.identity_file.get_or_insert(value);
                }
            }
            _ => {}
        }
    }
    out
}

/// Write the Vagrantfile and bring the machines up.
pub fn up(
    plan: &LabPlan,
    dir: &Path,
    box_name: &str,
    templates: &Templates,
    ledger: &mut Ledger,
    progress: &super::progress::Progress,
) -> anyhow::Result<Vec<SshEndpoint>> {
    let file = dir.join("Vagrantfile");
    ledger.record(Made::File { path: file.clone() })?;
    crate::fsutil::write_atomic(
        &file,
        render(plan, box_name, templates)?.as_bytes(),
        0o644,
        crate::fsutil::Overwrite::Refuse,
    )?;
    let mut validate = exec::command("vagrant", ["validate"]);
    validate.current_dir(dir);
    exec::run(&mut validate)?;
    ledger.record(Made::Tree {
        path: dir.join(".vagrant"),
    })?;
    ledger.record(Made::VagrantMachines {
        dir: dir.to_path_buf(),
    })?;
    progress.step("vagrant up --provider=libvirt (downloads the box the first time)");
    let mut cmd = exec::command("vagrant", ["up", "--provider=libvirt"]);
    cmd.current_dir(dir);
    exec::run(&mut cmd)?;
    progress.step("vagrant ssh-config");
    let mut cmd = exec::command("vagrant", ["ssh-config"]);
    cmd.current_dir(dir);
    let out = exec::run(&mut cmd)?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let path = dir.join("ssh-config");
    ledger.record(Made::File { path: path.clone() })?;
    crate::fsutil::write_atomic(
        &path,
        text.as_bytes(),
        0o600,
        crate::fsutil::Overwrite::Allow,
    )?;
    Ok(parse_ssh_config(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruby_strings_cannot_interpolate() {
        assert_eq!(ruby_string("a\"#{x}\\".into()), r#""a\"\#{x}\\""#);
    }

    #[test]
    fn parses_vagrant_ssh_config() {
        let text = "Host fe1\n  HostName 192.168.121.5\n  User vagrant\n  Port 22\n  IdentityFile /lab/.vagrant/machines/fe1/libvirt/private_key\n  IdentitiesOnly yes\n\nHost node1\n  HostName 192.168.121.6\n  User vagrant\n  Port 2222\n";
        let hosts = parse_ssh_config(text);
        assert_eq!(hosts.len(), 2);
        assert_eq!(hosts[0].hostname, "192.168.121.5");
        assert_eq!(
            hosts[0].identity_file.as_deref(),
            Some("/lab/.vagrant/machines/fe1/libvirt/private_key")
        );
        assert_eq!(hosts[1].port, 2222);
    }
}
