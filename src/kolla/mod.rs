//! Kolla-Ansible's inputs from a site, pure: the inventory (kolla-ansible's
//! own `multinode` inventory with the site's hosts in its top groups, host
//! variables per node), `globals.yml`, `passwords.yml` (made by kolla-genpwd
//! and kept in the site's secrets; here only placed) and the config overrides
//! of aerie's concerns under `config/`. `aerie render` writes them under
//! `kolla/`; `aerie deploy` runs kolla-ansible on them.

mod globals;
mod inventory;
mod overrides;

use crate::profile::{KollaSpec, Profile};
use crate::site::{Node, Purpose, Site};

pub use globals::VirtType;

/// What aerie does not make itself: kolla-ansible's own multinode inventory
/// (read from the installed package) and the passwords kolla-genpwd made.
#[derive(Clone)]
pub struct Source {
    pub version: String,
    pub multinode: String,
    pub passwords: String,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("version", &self.version)
            .field("passwords", &"(hidden)")
            .finish_non_exhaustive()
    }
}

/// One file of Kolla's inputs, relative to the `kolla/` directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KollaFile {
    pub path: String,
    pub mode: u32,
    pub content: String,
}

/// Why a site cannot become Kolla's inputs (site validation catches these
/// first; this names the key too).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct InputError {
    pub key: String,
    pub message: String,
}

/// Every input file, in a stable order.
pub fn inputs(
    site: &Site,
    profile: &Profile,
    source: &Source,
    virt: VirtType,
) -> Result<Vec<KollaFile>, InputError> {
    let spec = spec(profile)?;
    let mut out = inventory::files(site, spec, source)?;
    out.push(globals::file(site, profile, spec, source, virt)?);
    out.push(KollaFile {
        path: "passwords.yml".into(),
        mode: 0o600,
        content: source.passwords.clone(),
    });
    out.extend(overrides::files(site, profile, spec));
    Ok(out)
}

fn spec(profile: &Profile) -> Result<&KollaSpec, InputError> {
    profile.kolla.as_ref().ok_or_else(|| InputError {
        key: "profile".into(),
        message: format!("the {} profile has no `kolla:` section", profile.name),
    })
}

/// The header every file aerie writes carries.
fn header(site: &Site, version: &str) -> String {
    format!(
        "# Written by aerie for site {} (Kolla-Ansible {version}). Do not edit:\n\
         # change the site file and run `aerie render` again.\n",
        site.site.name
    )
}

/// A node's device on the first network of `purpose` it is attached to.
fn device_on<'a>(site: &Site, node: &'a Node, purpose: Purpose) -> Option<(usize, &'a str)> {
    node.interfaces.iter().enumerate().find_map(|(j, iface)| {
        let net = site.network(iface.network.as_str())?;
        (net.purpose == purpose)
            .then_some(iface.device.as_ref().map(|d| (j, d.as_str())))
            .flatten()
    })
}

/// The node's management device, or the key-named error.
fn management_device<'a>(site: &Site, i: usize, node: &'a Node) -> Result<&'a str, InputError> {
    device_on(site, node, Purpose::Management)
        .map(|(_, d)| d)
        .ok_or_else(|| InputError {
            key: format!("nodes[{i}].interfaces"),
            message: format!(
                "{} has no device on the management network (Kolla's network_interface)",
                node.hostname
            ),
        })
}

/// The node's device on the instances networks, or the key-named error.
fn instances_device<'a>(site: &Site, i: usize, node: &'a Node) -> Result<&'a str, InputError> {
    device_on(site, node, Purpose::Instances)
        .map(|(_, d)| d)
        .ok_or_else(|| InputError {
            key: format!("nodes[{i}].interfaces"),
            message: format!(
                "{} has no device on an instances network (Kolla's neutron_external_interface)",
                node.hostname
            ),
        })
}

/// A YAML scalar: JSON's string quoting is valid YAML.
fn yaml_str(value: &str) -> String {
    serde_json::Value::String(value.to_string()).to_string()
}

#[cfg(test)]
mod tests;
