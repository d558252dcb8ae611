//! The site file's types: exactly the contract of `shared/site-format.md`.
//!
//! Keys are kebab-case and unknown keys are refused, so a typo can never be
//! silently ignored. Values are parsed into checked types here (addresses,
//! names, ids); rules that relate values to each other live in `validate`.

use super::fields::*;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// A whole cloud: its settings, networks, host features and nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Site {
    pub site: Settings,
    pub networks: Vec<Network>,
    #[serde(default)]
    pub features: Features,
    /// How `aerie pxe serve` boots the nodes from the network (None: no network boot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netboot: Option<Netboot>,
    pub nodes: Vec<Node>,
}

/// Site-wide settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Settings {
    pub name: Name,
    pub domain: Domain,
    pub profile: ProfileName,
    pub distro: Distro,
    #[serde(default = "default_timezone")]
    pub timezone: Timezone,
    #[serde(default)]
    pub dns: Vec<IpAddr>,
    #[serde(default)]
    pub ntp: Vec<HostOrAddress>,
    #[serde(default)]
    pub ssh_keys: Vec<SshPublicKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_password_hash: Option<PasswordHash>,
    /// The Neutron physical network that carries the instances networks'
    /// VLANs (one trunk device per host); absent: [`DEFAULT_PHYSNET`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physnet: Option<ObjectName>,
    /// Where the kolla profile pulls its container images, for a site
    /// without internet (Kolla's `docker_registry`); none: Kolla's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_registry: Option<Registry>,
}

/// The physnet when the site names none: Kolla-Ansible's name for its first
/// `neutron_external_interface`, and the usual name in Neutron's guides.
pub const DEFAULT_PHYSNET: &str = "physnet1";

fn default_timezone() -> Timezone {
    "UTC".parse().expect("UTC is a valid time zone")
}

/// The cloud software a site runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileName {
    Openstack,
    Eucalyptus,
    /// OpenStack in containers, deployed by Kolla-Ansible (`aerie deploy`).
    Kolla,
}

/// The operating system installed on the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Distro {
    Rocky9,
    Alma9,
    CentosStream9,
    /// Debian 12 (bookworm): installed outside aerie (no kickstart); aerie
    /// configures it through cloud-init (cidata) or over SSH.
    Debian12,
}

/// What a network carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    Management,
    Instances,
    Storage,
    External,
    Infiniband,
}

/// A node's job in the cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Frontend,
    Compute,
}

/// Which IOMMU to turn on in the kernel command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Iommu {
    Intel,
    Amd,
    #[default]
    Off,
}

/// One network of the site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Network {
    pub name: Name,
    pub purpose: Purpose,
    pub cidr: IpNet,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
    /// None: untagged (the key is left out when aerie writes a site).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhcp_range: Option<[IpAddr; 2]>,
}

/// Host features to set up.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Features {
    #[serde(default)]
    pub iommu: Iommu,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sriov: Option<Sriov>,
    #[serde(default)]
    pub metadata_redirect: bool,
    #[serde(default)]
    pub nested_kvm: bool,
}

/// SR-IOV virtual functions and their use by instances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Sriov {
    pub driver: ModuleName,
    pub num_vfs: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_vf: Option<u32>,
    #[serde(default)]
    pub passthrough: Vec<Passthrough>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Option<Flavor>,
}

/// A PCI device class offered to instances through nova PCI passthrough.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Passthrough {
    pub alias: ObjectName,
    pub vendor_id: PciId,
    pub product_id: PciId,
}

/// The flavor that requests passthrough devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Flavor {
    pub name: ObjectName,
    pub vcpus: u32,
    pub ram_mb: u32,
    pub disk_gb: u32,
    pub devices: u32,
}

/// Network boot (`aerie pxe serve`): where the server sits and how it answers DHCP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Netboot {
    pub mode: NetbootMode,
    /// This machine's interface on the boot network (dnsmasq listens there).
    pub interface: DeviceName,
    /// The management network the nodes boot on; default: the first management network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<Name>,
    /// This machine's address on that network: TFTP and HTTP are served there.
    pub address: IpAddr,
    #[serde(default = "default_http_port")]
    pub http_port: u16,
}

pub const DEFAULT_HTTP_PORT: u16 = 8080;

fn default_http_port() -> u16 {
    DEFAULT_HTTP_PORT
}

/// Who hands out addresses on the boot network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetbootMode {
    /// aerie's dnsmasq is the network's DHCP server: each node gets its site address.
    Dhcp,
    /// The network already has a DHCP server: aerie's dnsmasq only adds the boot
    /// answer (proxy DHCP) and hands out no address.
    Proxy,
}

impl NetbootMode {
    pub fn as_str(self) -> &'static str {
        match self {
            NetbootMode::Dhcp => "dhcp",
            NetbootMode::Proxy => "proxy",
        }
    }
}

/// One server of the site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Node {
    pub hostname: Hostname,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_disk: Option<DiskName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<SshTarget>,
    pub interfaces: Vec<Interface>,
    /// The node's BMC, for `aerie bmc` (power, boot from virtual media).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bmc: Option<super::bmc::Bmc>,
}

/// How aerie reaches a running node over SSH; every field has a default.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SshTarget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<HostOrAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// A node's attachment to a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Interface {
    pub network: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
}

impl Site {
    /// The network with this name.
    pub fn network(&self, name: &str) -> Option<&Network> {
        self.networks.iter().find(|n| n.name.as_str() == name)
    }

    /// The frontend node, if there is exactly one.
    pub fn frontend(&self) -> Option<&Node> {
        let mut frontends = self.nodes.iter().filter(|n| n.role == Role::Frontend);
        match (frontends.next(), frontends.next()) {
            (Some(node), None) => Some(node),
            _ => None,
        }
    }

    /// The network the nodes boot on (`netboot.network`, else the first management one).
    pub fn netboot_network(&self) -> Option<&Network> {
        let netboot = self.netboot.as_ref()?;
        match &netboot.network {
            Some(name) => self.network(name.as_str()),
            None => self
                .networks
                .iter()
                .find(|n| n.purpose == Purpose::Management),
        }
    }

    /// The node with this host name.
    pub fn node(&self, hostname: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.hostname.as_str() == hostname)
    }

    /// The physnet of the instances networks (`site.physnet`, else [`DEFAULT_PHYSNET`]).
    pub fn physnet(&self) -> &str {
        self.site
            .physnet
            .as_ref()
            .map_or(DEFAULT_PHYSNET, |p| p.as_str())
    }
}

impl Node {
    /// The node's address on the first management network it is attached to.
    pub fn management_address(&self, site: &Site) -> Option<IpAddr> {
        self.interfaces.iter().find_map(|i| {
            let network = site.network(i.network.as_str())?;
            (network.purpose == Purpose::Management)
                .then_some(i.address)
                .flatten()
        })
    }

    /// Where aerie connects over SSH: the explicit target, else the management address.
    pub fn ssh_host(&self, site: &Site) -> Option<String> {
        self.ssh
            .as_ref()
            .and_then(|s| s.host.as_ref().map(|h| h.to_string()))
            .or_else(|| self.management_address(site).map(|a| a.to_string()))
    }

    pub fn ssh_user(&self) -> &str {
        self.ssh
            .as_ref()
            .and_then(|s| s.user.as_ref())
            .map_or("root", |u| u.as_str())
    }

    pub fn ssh_port(&self) -> u16 {
        self.ssh.as_ref().and_then(|s| s.port).unwrap_or(22)
    }
}

impl ProfileName {
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileName::Openstack => "openstack",
            ProfileName::Eucalyptus => "eucalyptus",
            ProfileName::Kolla => "kolla",
        }
    }

    /// Whether the instances networks become Neutron provider networks on
    /// the site's physnet (`aerie networks`): VLANs of one trunk per host.
    pub fn has_provider_networks(self) -> bool {
        match self {
            ProfileName::Openstack => true,
            // Eucalyptus' own networking (MANAGED-NOVLAN) has no physnet.
            ProfileName::Eucalyptus => false,
            // Kolla's neutron_external_interface is that one trunk.
            ProfileName::Kolla => true,
        }
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Frontend => "frontend",
            Role::Compute => "compute",
        }
    }
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Management => "management",
            Purpose::Instances => "instances",
            Purpose::Storage => "storage",
            Purpose::External => "external",
            Purpose::Infiniband => "infiniband",
        }
    }
}

impl Distro {
    pub fn as_str(self) -> &'static str {
        match self {
            Distro::Rocky9 => "rocky9",
            Distro::Alma9 => "alma9",
            Distro::CentosStream9 => "centos-stream9",
            Distro::Debian12 => "debian12",
        }
    }

    /// Whether aerie installs this distribution with a kickstart (Anaconda).
    pub fn installs_by_kickstart(self) -> bool {
        match self {
            Distro::Rocky9 | Distro::Alma9 | Distro::CentosStream9 => true,
            Distro::Debian12 => false,
        }
    }
}
