//! The `kolla:` section of a profile: which Kolla-Ansible it drives and how a
//! site maps onto Kolla's inputs (base distro, physnet, inventory groups).

use crate::site::{Distro, Role};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct KollaSpec {
    /// The one kolla-ansible version this profile drives.
    pub version: String,
    /// What `pip install` puts into the venv aerie makes for this profile.
    pub requirements: Vec<String>,
    /// The ansible-core range that kolla-ansible version wants (for messages).
    pub ansible_core: String,
    /// `neutron_plugin_agent`: openvswitch or ovn.
    pub neutron_plugin: String,
    /// `kolla_base_distro` per aerie distro.
    pub base_distro: BTreeMap<String, String>,
    /// The multinode inventory's top groups each role joins.
    pub groups: KollaGroups,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct KollaGroups {
    pub frontend: Vec<String>,
    pub compute: Vec<String>,
}

impl KollaSpec {
    /// Kolla's base distro for the site's distro (None: Kolla has no images for it).
    pub fn base_distro_for(&self, distro: Distro) -> Option<&str> {
        self.base_distro.get(distro.as_str()).map(String::as_str)
    }

    pub fn groups_of(&self, role: Role) -> &[String] {
        match role {
            Role::Frontend => &self.groups.frontend,
            Role::Compute => &self.groups.compute,
        }
    }

    /// Every group some role joins, in first-seen order.
    pub fn all_groups(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for g in self.groups.frontend.iter().chain(&self.groups.compute) {
            if !out.contains(&g.as_str()) {
                out.push(g);
            }
        }
        out
    }
}
