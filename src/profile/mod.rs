//! Profiles: what a cloud flavour (OpenStack, Eucalyptus) needs per role, as
//! data (`profiles/*.yaml`, built into the binary), so a new profile is a data
//! file, not code.

mod concern;
mod kolla;
mod preflight;
mod provider_networks;
mod registration;

pub use concern::Concern;
pub use kolla::{KollaGroups, KollaSpec};
pub use preflight::{PreflightSpec, RoleNeeds};
pub use provider_networks::ProviderNetworksSpec;
pub use registration::{
    expand, DoneIf, FrontendKey, InitStep, ListFormat, Listing, Per, RegistrationSpec, Step,
    Variant, Vars,
};

use crate::site::{Distro, ProfileName, Role};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// One profile file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    /// The cloud release; for OpenStack it decides nova's PCI key names.
    pub release: String,
    pub frontend: RoleSpec,
    pub compute: RoleSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nova: Option<NovaSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eucalyptus: Option<EucalyptusSpec>,
    /// How `aerie register` makes the cloud know its compute nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<RegistrationSpec>,
    /// How `aerie networks` makes the instances networks provider networks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_networks: Option<ProviderNetworksSpec>,
    /// What `aerie preflight` checks per role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preflight: Option<PreflightSpec>,
    /// The Kolla-Ansible this profile deploys with (`aerie deploy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kolla: Option<KollaSpec>,
}

/// What one role gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RoleSpec {
    /// The kickstart template (in `kickstart/`).
    pub kickstart: String,
    #[serde(default)]
    pub repos: Vec<Repo>,
    #[serde(default)]
    pub packages: Vec<String>,
    /// Services enabled at install time.
    #[serde(default)]
    pub services: Vec<String>,
    /// The host concerns that apply to this role.
    #[serde(default)]
    pub concerns: Vec<Concern>,
    /// Services restarted when one of these files changed.
    #[serde(default)]
    pub restart: BTreeMap<String, Vec<String>>,
    /// The role's package and service names on Debian, where they differ
    /// from EL's (no part: the profile does not run on Debian).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debian: Option<DebianRole>,
}

/// What one role installs, enables and restarts on Debian.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DebianRole {
    pub packages: Vec<String>,
    pub services: Vec<String>,
    #[serde(default)]
    pub restart: BTreeMap<String, Vec<String>>,
}

/// A package repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Repo {
    pub name: String,
    pub baseurl: String,
}

/// nova's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NovaSpec {
    pub config_file: String,
    /// nova's own `[filter_scheduler] enabled_filters` default for the release,
    /// kept when aerie adds PciPassthroughFilter to an absent key.
    pub default_filters: Vec<String>,
}

/// Eucalyptus networking settings that are policy, not site facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct EucalyptusSpec {
    pub config_file: String,
    pub vnet_mode: String,
    pub vnet_bridge: String,
    pub addrs_per_net: u32,
}

/// The profiles built into aerie.
const BUILT_IN: &[(&str, &str)] = &[
    ("openstack", include_str!("../../profiles/openstack.yaml")),
    ("eucalyptus", include_str!("../../profiles/eucalyptus.yaml")),
    ("kolla", include_str!("../../profiles/kolla.yaml")),
];

impl Profile {
    /// The built-in profile for a site's `profile:` value.
    pub fn built_in(which: ProfileName) -> Profile {
        let text = BUILT_IN
            .iter()
            .find(|(name, _)| *name == which.as_str())
            .map(|(_, text)| *text)
            .expect("every site profile has a built-in file");
        Profile::parse(text, which.as_str()).expect("built-in profiles parse (tested)")
    }

    /// Parse a profile file.
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<Profile> {
        serde_norway::from_str(text).with_context(|| format!("profile {origin} is not valid"))
    }

    pub fn role(&self, role: Role) -> &RoleSpec {
        match role {
            Role::Frontend => &self.frontend,
            Role::Compute => &self.compute,
        }
    }

    /// The role as installed on `distro`: on Debian, the packages, services
    /// and restarts of its `debian` part (EL's when it has none: a site
    /// cannot be loaded with such a profile, see `missing_debian`).
    pub fn role_on(&self, role: Role, distro: Distro) -> Cow<'_, RoleSpec> {
        let spec = self.role(role);
        match (distro.installs_by_kickstart(), &spec.debian) {
            (false, Some(debian)) => Cow::Owned(RoleSpec {
                packages: debian.packages.clone(),
                services: debian.services.clone(),
                restart: debian.restart.clone(),
                ..spec.clone()
            }),
            _ => Cow::Borrowed(spec),
        }
    }

    /// The roles without a `debian` part (a Debian site needs one per role).
    pub fn missing_debian(&self) -> Vec<Role> {
        [Role::Frontend, Role::Compute]
            .into_iter()
            .filter(|r| self.role(*r).debian.is_none())
            .collect()
    }

    /// OpenStack renamed `[pci] passthrough_whitelist` to `device_spec` in Zed.
    pub fn pci_spec_key(&self) -> &'static str {
        const BEFORE_ZED: &[&str] = &[
            "austin", "bexar", "cactus", "diablo", "essex", "folsom", "grizzly", "havana",
            "icehouse", "juno", "kilo", "liberty", "mitaka", "newton", "ocata", "pike", "queens",
            "rocky", "stein", "train", "ussuri", "victoria", "wallaby", "xena", "yoga",
        ];
        if BEFORE_ZED.contains(&self.release.to_ascii_lowercase().as_str()) {
            "passthrough_whitelist"
        } else {
            "device_spec"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_profiles_parse() {
        for (name, text) in BUILT_IN {
            let profile = Profile::parse(text, name).unwrap();
            assert_eq!(profile.name, *name);
            let reg = profile.registration.expect("registration data");
            assert!(reg.variant(&profile.release).is_some(), "{name}");
            assert!(profile.preflight.is_some(), "{name}");
        }
    }

    #[test]
    fn debian_names_replace_el_names_on_debian_only() {
        let p = Profile::built_in(ProfileName::Openstack);
        assert!(p.missing_debian().is_empty());
        let el = p.role_on(Role::Compute, Distro::Rocky9);
        assert!(el.packages.iter().any(|x| x == "openstack-nova-compute"));
        let deb = p.role_on(Role::Compute, Distro::Debian12);
        assert!(deb.packages.iter().any(|x| x == "nova-compute"));
        assert!(!deb.packages.iter().any(|x| x.starts_with("openstack-")));
        assert!(deb.services.iter().all(|x| !x.starts_with("openstack-")));
        assert_eq!(deb.restart["/etc/nova/nova.conf"], ["nova-compute"]);
        assert_eq!(deb.concerns, el.concerns);
        let euca = Profile::built_in(ProfileName::Eucalyptus);
        assert_eq!(euca.missing_debian(), [Role::Frontend, Role::Compute]);
    }

    #[test]
    fn kolla_profile_maps_every_distro_kolla_supports() {
        let p = Profile::built_in(ProfileName::Kolla);
        let k = p.kolla.as_ref().expect("kolla section");
        for d in crate::site::validate::KOLLA_DISTROS {
            assert!(k.base_distro_for(*d).is_some(), "{d:?}");
        }
        assert_eq!(k.base_distro_for(Distro::Alma9), None);
        assert!(k
            .requirements
            .iter()
            .any(|r| r == &format!("kolla-ansible=={}", k.version)));
        assert_ne!(k.neutron_plugin, "linuxbridge");
        assert!(p.missing_debian().is_empty());
    }

    #[test]
    fn release_decides_the_pci_key() {
        let mut p = Profile::built_in(ProfileName::Openstack);
        p.release = "yoga".into();
        assert_eq!(p.pci_spec_key(), "passthrough_whitelist");
        p.release = "zed".into();
        assert_eq!(p.pci_spec_key(), "device_spec");
        p.release = "2023.1".into();
        assert_eq!(p.pci_spec_key(), "device_spec");
    }
}
