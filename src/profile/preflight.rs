//! What each role needs before anything is installed (`preflight:` in
//! `profiles/*.yaml`): thresholds are data, the checks are code.

use serde::{Deserialize, Serialize};

/// The `preflight:` section of a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PreflightSpec {
    pub frontend: RoleNeeds,
    pub compute: RoleNeeds,
}

/// One role's needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RoleNeeds {
    /// The CPU must offer hardware virtualization (vmx or svm).
    #[serde(default)]
    pub cpu_virtualization: bool,
    /// Installed memory (MemTotal), in MiB.
    pub memory_mb: u64,
    /// Free space where the cloud keeps its data.
    #[serde(default)]
    pub disk: Vec<DiskNeed>,
}

/// Free space under a path (its nearest existing directory, before install).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DiskNeed {
    pub path: String,
    pub gb: u64,
}

impl PreflightSpec {
    pub fn role(&self, role: crate::site::Role) -> &RoleNeeds {
        match role {
            crate::site::Role::Frontend => &self.frontend,
            crate::site::Role::Compute => &self.compute,
        }
    }
}
