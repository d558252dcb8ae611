//! How a profile turns the site's instances networks into the cloud's
//! provider networks (`provider-networks:` in `profiles/*.yaml`, read by
//! `aerie networks`). Only Neutron has them; the commands themselves are
//! Neutron's CLI (`networks/`), the profile says where and as whom they run.

use serde::{Deserialize, Serialize};

/// The `provider-networks:` section of a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ProviderNetworksSpec {
    /// A file on the frontend sourced before every `openstack` command (admin credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    /// Create the networks shared (`--share`): every project's instances may attach.
    #[serde(default)]
    pub share: bool,
}
