//! How a profile registers compute nodes, as data (`registration:` in
//! `profiles/*.yaml`): which listing says a node is up, which says it is
//! registered, and the commands that register and deregister. A new cloud
//! flavour is a new data file, not code.
//!
//! Arguments are argv words; placeholders inside a word are replaced per node
//! (`{hostname}`, `{fqdn}`, `{address}`, `{id}`) or for the whole batch
//! (`{addresses}`, `{hostnames}`: space-separated, in one word).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `registration:` section of a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RegistrationSpec {
    /// A file on the frontend sourced before every command (admin credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    /// Put the frontend's SSH public key into each node's root authorized_keys first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_frontend_key: Option<FrontendKey>,
    /// After registering, run the frontend bundle's PCI flavor action (check first).
    #[serde(default)]
    pub flavor: bool,
    /// The commands, by release; the first variant whose `releases` names the
    /// profile's major release (or that names none) is used.
    pub variants: Vec<Variant>,
}

/// The frontend's key the nodes must accept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FrontendKey {
    /// The public key file on the frontend.
    pub public: String,
    /// Run on the frontend when the key does not exist yet.
    #[serde(default)]
    pub generate: Vec<String>,
}

/// One release family's commands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Variant {
    /// Major releases this variant is for (`"3"`, `"4"`); empty: every release.
    #[serde(default)]
    pub releases: Vec<String>,
    /// Poll this listing until each node is up before registering it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_up: Option<Listing>,
    /// The cloud's own first steps on the frontend, in order, before any
    /// node is registered (Eucalyptus: initialise the database, register
    /// walrus, the cluster and the storage controller). Each is checked first
    /// and skipped when its check says it is done.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub initialize: Vec<InitStep>,
    /// Which nodes the cloud knows: read before (idempotence) and after (verification).
    pub registered: Listing,
    /// The registration commands.
    pub register: Vec<Step>,
    /// Forget a reinstalled node (run per node before registering it again).
    #[serde(default)]
    pub deregister: Vec<Step>,
    /// Run on the node itself after deregistering it (e.g. restart the agent
    /// so it registers afresh).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_node_after_deregister: Vec<String>,
}

/// One step of the cloud's initialisation on the frontend. Placeholders are
/// the frontend's: `{hostname}`, `{fqdn}`, `{address}` (its management address).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct InitStep {
    /// What the step makes, for messages and the report (`walrus`).
    pub name: String,
    /// The command that does it.
    pub argv: Vec<String>,
    /// The check run first: the step is done when it exits 0 (and its
    /// output holds `contains`, when given).
    pub done_if: DoneIf,
    /// Source the registration's credentials file for the check and the
    /// command (false: the cloud has none before it is initialised).
    #[serde(default)]
    pub credentials: bool,
}

/// How an initialisation step is known to be done already.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DoneIf {
    pub argv: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
}

/// A command whose output lists nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Listing {
    pub argv: Vec<String>,
    pub format: ListFormat,
    /// json: the field naming the host (matched against hostname, FQDN, address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_field: Option<String>,
    /// json: a row counts only when these fields have these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub when: BTreeMap<String, String>,
    /// json: the field that gives `{id}` to deregister commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_field: Option<String>,
}

/// How a listing prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListFormat {
    /// A JSON array of objects (`openstack … -f json`).
    Json,
    /// Text: a node is listed when its address or hostname is a word of the output.
    Words,
}

/// One registration command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Step {
    pub argv: Vec<String>,
    /// Once per node, or once for every node that needs it.
    pub per: Per,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Per {
    Node,
    All,
}

/// What placeholders stand for.
#[derive(Debug, Clone, Default)]
pub struct Vars<'a> {
    pub hostname: &'a str,
    pub fqdn: &'a str,
    pub address: &'a str,
    pub id: &'a str,
    pub addresses: &'a str,
    pub hostnames: &'a str,
}

impl RegistrationSpec {
    /// The variant for a release (`"3.4.2"` is major `"3"`).
    pub fn variant(&self, release: &str) -> Option<&Variant> {
        let major = release.split('.').next().unwrap_or(release);
        self.variants
            .iter()
            .find(|v| v.releases.is_empty() || v.releases.iter().any(|r| r == major))
    }
}

/// Replace the placeholders in every word of argv.
pub fn expand(argv: &[String], vars: &Vars) -> Vec<String> {
    argv.iter()
        .map(|word| {
            word.replace("{hostname}", vars.hostname)
                .replace("{fqdn}", vars.fqdn)
                .replace("{addresses}", vars.addresses)
                .replace("{address}", vars.address)
                .replace("{hostnames}", vars.hostnames)
                .replace("{id}", vars.id)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fill_words_not_split_them() {
        let argv: Vec<String> = [
            "euca_conf",
            "--register-nodes",
            "{addresses}",
            "-h={address}",
        ]
        .map(String::from)
        .to_vec();
        let vars = Vars {
            address: "10.0.0.2",
            addresses: "10.0.0.2 10.0.0.3",
            ..Default::default()
        };
        assert_eq!(
            expand(&argv, &vars),
            [
                "euca_conf",
                "--register-nodes",
                "10.0.0.2 10.0.0.3",
                "-h=10.0.0.2"
            ]
        );
    }

    #[test]
    fn variant_by_major_release() {
        let listing = Listing {
            argv: vec!["x".into()],
            format: ListFormat::Words,
            host_field: None,
            when: BTreeMap::new(),
            id_field: None,
        };
        let v = |r: &[&str]| Variant {
            releases: r.iter().map(|s| s.to_string()).collect(),
            wait_up: None,
            initialize: vec![],
            registered: listing.clone(),
            register: vec![],
            deregister: vec![],
            on_node_after_deregister: vec![],
        };
        let spec = RegistrationSpec {
            credentials: None,
            copy_frontend_key: None,
            flavor: false,
            variants: vec![v(&["3"]), v(&["4", "5"])],
        };
        assert_eq!(spec.variant("3.4.2").unwrap().releases, ["3"]);
        assert_eq!(spec.variant("5").unwrap().releases, ["4", "5"]);
        assert!(spec.variant("2").is_none());
    }
}
