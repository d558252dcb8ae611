//! The inventory: kolla-ansible's own `multinode` file, kept as it ships
//! (every service group stays Kolla's), with the example hosts of its top
//! groups (control, network, compute, monitoring, storage) replaced by the
//! site's, and a host_vars file per node: how Ansible reaches it (its SSH
//! target, by default the management address) and its Kolla interfaces.

use super::{header, instances_device, management_device, yaml_str, InputError, KollaFile, Source};
use crate::profile::KollaSpec;
use crate::site::Site;

/// The top groups of the multinode inventory whose hosts aerie sets.
const TOP_GROUPS: &[&str] = &["control", "network", "compute", "monitoring", "storage"];

pub fn files(site: &Site, spec: &KollaSpec, source: &Source) -> Result<Vec<KollaFile>, InputError> {
    let mut out = vec![KollaFile {
        path: "inventory".into(),
        mode: 0o644,
        content: inventory(site, spec, source)?,
    }];
    for (i, node) in site.nodes.iter().enumerate() {
        let mut vars = header(site, &source.version);
        let host = node.ssh_host(site).ok_or_else(|| InputError {
            key: format!("nodes[{i}].interfaces"),
            message: format!(
                "{} has no management address and no ssh.host: Ansible cannot reach it",
                node.hostname
            ),
        })?;
        vars += &format!("ansible_host: {}\n", yaml_str(&host));
        vars += &format!("ansible_user: {}\n", yaml_str(node.ssh_user()));
        vars += &format!("ansible_port: {}\n", node.ssh_port());
        vars += &format!(
            "network_interface: {}\n",
            yaml_str(management_device(site, i, node)?)
        );
        vars += &format!(
            "neutron_external_interface: {}\n",
            yaml_str(instances_device(site, i, node)?)
        );
        out.push(KollaFile {
            path: format!("host_vars/{}.yml", node.hostname),
            mode: 0o644,
            content: vars,
        });
    }
    // The deployment host runs Kolla's local tasks with the venv's own Python.
    out.push(KollaFile {
        path: "host_vars/localhost.yml".into(),
        mode: 0o644,
        content: format!(
            "{}ansible_python_interpreter: \"{{{{ ansible_playbook_python }}}}\"\n",
            header(site, &source.version)
        ),
    });
    Ok(out)
}

/// The multinode text with the site's hosts in the top groups.
fn inventory(site: &Site, spec: &KollaSpec, source: &Source) -> Result<String, InputError> {
    let missing: Vec<&str> = TOP_GROUPS
        .iter()
        .copied()
        .filter(|g| {
            !source
                .multinode
                .lines()
                .any(|l| l.trim() == format!("[{g}]"))
        })
        .collect();
    if !missing.is_empty() {
        return Err(InputError {
            key: "profile.kolla.version".into(),
            message: format!(
                "kolla-ansible {}'s multinode inventory has no group {}",
                source.version,
                missing.join(", ")
            ),
        });
    }
    let mut out = format!(
        "# Kolla-Ansible {}'s ansible/inventory/multinode, the example hosts of its\n\
         # top groups replaced by site {}'s nodes (host variables in host_vars/).\n\
         # Written by aerie: change the site file and run `aerie render` again.\n",
        source.version, site.site.name
    );
    let mut current: Option<&str> = None;
    for line in source.multinode.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            current = TOP_GROUPS
                .iter()
                .copied()
                .find(|g| trimmed == format!("[{g}]"));
            out += line;
            out.push('\n');
            if let Some(group) = current {
                for node in &site.nodes {
                    if spec.groups_of(node.role).iter().any(|g| g == group) {
                        out += node.hostname.as_str();
                        out.push('\n');
                    }
                }
            }
            continue;
        }
        // In a top group, drop the example hosts; keep comments and blanks.
        if current.is_some() && !trimmed.is_empty() && !trimmed.starts_with('#') {
            continue;
        }
        out += line;
        out.push('\n');
    }
    Ok(out)
}
