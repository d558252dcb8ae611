//! `globals.yml`: the site-wide Kolla settings aerie decides. The interfaces
//! here are the frontend's; every host's own are in its host_vars file.

use super::{header, instances_device, management_device, yaml_str, InputError, KollaFile, Source};
use crate::profile::{KollaSpec, Profile};
use crate::site::Site;

/// `nova_compute_virt_type`: kvm on real hardware, qemu where guests are
/// emulated (the lab under TCG).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VirtType {
    #[default]
    Kvm,
    Qemu,
}

impl VirtType {
    pub fn as_str(self) -> &'static str {
        match self {
            VirtType::Kvm => "kvm",
            VirtType::Qemu => "qemu",
        }
    }
}

pub fn file(
    site: &Site,
    profile: &Profile,
    spec: &KollaSpec,
    source: &Source,
    virt: VirtType,
) -> Result<KollaFile, InputError> {
    let distro = site.site.distro;
    let base = spec.base_distro_for(distro).ok_or_else(|| InputError {
        key: "site.distro".into(),
        message: format!("Kolla has no base distro for {}", distro.as_str()),
    })?;
    let (i, frontend) = site
        .nodes
        .iter()
        .enumerate()
        .find(|(_, n)| Some(*n) == site.frontend())
        .ok_or_else(|| InputError {
            key: "nodes".into(),
            message: "the site has no single frontend for Kolla's control plane".into(),
        })?;
    let vip = frontend
        .management_address(site)
        .ok_or_else(|| InputError {
            key: format!("nodes[{i}].interfaces"),
            message: format!(
                "{} has no management address (Kolla's kolla_internal_vip_address)",
                frontend.hostname
            ),
        })?;
    let set = |key: &str, value: &str| format!("{key}: {}\n", yaml_str(value));
    let mut out = header(site, &source.version);
    out += &set("kolla_base_distro", base);
    out += &set("openstack_release", &profile.release);
    out += "# The frontend's; each host's own are in host_vars/<host>.yml.\n";
    out += &set("network_interface", management_device(site, i, frontend)?);
    out += &set(
        "neutron_external_interface",
        instances_device(site, i, frontend)?,
    );
    out += "# One controller: its management address is the internal endpoint, no load balancer.\n";
    out += &set("kolla_internal_vip_address", &vip.to_string());
    out += &set("enable_haproxy", "no");
    out += &set("enable_keepalived", "no");
    out += &set("neutron_plugin_agent", &spec.neutron_plugin);
    out += &set("enable_neutron_provider_networks", "yes");
    out += "# site.physnet: the name of neutron_external_interface's network.\n";
    out += &set("neutron_physical_networks", site.physnet());
    out += &set("nova_compute_virt_type", virt.as_str());
    if let Some(registry) = &site.site.container_registry {
        out += "# site.container-registry: images from the site's own registry.\n";
        out += &set("docker_registry", registry.as_str());
    }
    Ok(KollaFile {
        path: "globals.yml".into(),
        mode: 0o644,
        content: out,
    })
}
