//! Reading a cloud's listings (`openstack … -f json`, `euca_conf --list-nodes`)
//! and finding a node in them by hostname, FQDN or address.

use crate::profile::{ListFormat, Listing};
use serde_json::Value;

/// How the cloud may name a node.
#[derive(Debug, Clone)]
pub struct NodeNames {
    pub hostname: String,
    pub fqdn: String,
    pub address: String,
}

impl NodeNames {
    /// Whether a name the cloud printed is this node.
    pub fn is(&self, name: &str) -> bool {
        let name = name.trim();
        let short = name.split('.').next().unwrap_or(name);
        name.eq_ignore_ascii_case(&self.fqdn)
            || name == self.address
            || (name.parse::<std::net::IpAddr>().is_err()
                && short.eq_ignore_ascii_case(&self.hostname))
    }
}

/// A listing, parsed.
#[derive(Debug, Clone)]
pub enum Listed {
    /// JSON rows: (host name, id, whether the `when` fields match, a summary).
    Rows(Vec<Row>),
    /// The words of a text listing.
    Words(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Row {
    pub host: String,
    pub id: Option<String>,
    pub counts: bool,
    /// The `when` fields as the row has them (`State=down`), for messages.
    pub state: String,
}

/// What a listing says about one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Listed, and the `when` fields match.
    Yes {
        id: Option<String>,
    },
    /// Listed, but not in the wanted state (e.g. `State=down`).
    NotYet {
        id: Option<String>,
        state: String,
    },
    Absent,
}

/// The listing's output does not have the shape the profile says.
#[derive(Debug, thiserror::Error)]
#[error("`{command}` printed {problem}")]
pub struct ListError {
    pub command: String,
    pub problem: String,
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Parse a listing's stdout.
pub fn parse(listing: &Listing, stdout: &[u8]) -> Result<Listed, ListError> {
    let command = crate::shell::join(&listing.argv).map_err(|e| ListError {
        command: listing.argv.first().cloned().unwrap_or_default(),
        problem: format!("nothing aerie could read: {e}"),
    })?;
    match listing.format {
        ListFormat::Words => Ok(Listed::Words(
            String::from_utf8_lossy(stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect(),
        )),
        ListFormat::Json => {
            let value: Value = serde_json::from_slice(stdout).map_err(|e| ListError {
                command: command.clone(),
                problem: format!("no JSON ({e})"),
            })?;
            let Value::Array(items) = value else {
                return Err(ListError {
                    command,
                    problem: "JSON that is not a list".into(),
                });
            };
            let host_field = listing.host_field.as_deref().unwrap_or("Host");
            let mut rows = Vec::new();
            for item in &items {
                let Some(host) = item.get(host_field) else {
                    return Err(ListError {
                        command,
                        problem: format!("rows without the field {host_field:?}"),
                    });
                };
                let counts = listing
                    .when
                    .iter()
                    .all(|(k, want)| item.get(k).map(text_of).as_deref() == Some(want.as_str()));
                let state = listing
                    .when
                    .keys()
                    .map(|k| format!("{k}={}", item.get(k).map(text_of).unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(", ");
                rows.push(Row {
                    host: text_of(host),
                    id: listing
                        .id_field
                        .as_ref()
                        .and_then(|f| item.get(f))
                        .map(text_of),
                    counts,
                    state,
                });
            }
            Ok(Listed::Rows(rows))
        }
    }
}

impl Listed {
    /// Where the node stands in this listing (a counting row wins over others).
    pub fn seen(&self, node: &NodeNames) -> Seen {
        match self {
            Listed::Words(words) => {
                if words.iter().any(|w| node.is(w)) {
                    Seen::Yes { id: None }
                } else {
                    Seen::Absent
                }
            }
            Listed::Rows(rows) => {
                let mine: Vec<&Row> = rows.iter().filter(|r| node.is(&r.host)).collect();
                if let Some(r) = mine.iter().find(|r| r.counts) {
                    Seen::Yes { id: r.id.clone() }
                } else if let Some(r) = mine.first() {
                    Seen::NotYet {
                        id: r.id.clone(),
                        state: r.state.clone(),
                    }
                } else {
                    Seen::Absent
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn node() -> NodeNames {
        NodeNames {
            hostname: "node1".into(),
            fqdn: "node1.lab.example.org".into(),
            address: "10.0.0.11".into(),
        }
    }

    fn services() -> Listing {
        Listing {
            argv: vec!["openstack".into()],
            format: ListFormat::Json,
            host_field: Some("Host".into()),
            when: BTreeMap::from([("State".into(), "up".into())]),
            id_field: Some("ID".into()),
        }
    }

    #[test]
    fn names_match_short_fqdn_and_address_only() {
        let n = node();
        for yes in ["node1", "NODE1.lab.example.org", "node1.other", "10.0.0.11"] {
            assert!(n.is(yes), "{yes}");
        }
        for no in ["node10", "node", "10.0.0.1", "10.0.0.110"] {
            assert!(!n.is(no), "{no}");
        }
    }

    #[test]
    fn json_rows_with_state_and_id() {
        let out = br#"[{"ID": 7, "Binary": "nova-compute", "Host": "node1.lab.example.org", "Zone": "nova", "Status": "enabled", "State": "down", "Updated At": null},
                       {"ID": 8, "Binary": "nova-compute", "Host": "node2", "Zone": "nova", "Status": "enabled", "State": "up", "Updated At": "2024-01-01T00:00:00.000000"}]"#;
        let listed = parse(&services(), out).unwrap();
        assert_eq!(
            listed.seen(&node()),
            Seen::NotYet {
                id: Some("7".into()),
                state: "State=down".into()
            }
        );
        let mut n2 = node();
        n2.hostname = "node2".into();
        n2.fqdn = "node2.lab.example.org".into();
        assert_eq!(
            listed.seen(&n2),
            Seen::Yes {
                id: Some("8".into())
            }
        );
        let mut n3 = node();
        n3.hostname = "node3".into();
        n3.fqdn = "x".into();
        n3.address = "y".into();
        assert_eq!(listed.seen(&n3), Seen::Absent);
    }

    #[test]
    fn bad_json_is_an_error_naming_the_command() {
        let err = parse(&services(), b"Missing value auth-url required").unwrap_err();
        assert!(
            err.to_string().starts_with("`openstack` printed no JSON"),
            "{err}"
        );
        assert!(parse(&services(), b"{}").is_err());
        assert!(parse(&services(), br#"[{"Name": "x"}]"#).is_err());
    }

    #[test]
    fn words_listing() {
        let l = Listing {
            argv: vec!["euca_conf".into(), "--list-nodes".into()],
            format: ListFormat::Words,
            host_field: None,
            when: BTreeMap::new(),
            id_field: None,
        };
        let listed = parse(&l, b"registered nodes:\n   10.0.0.11  cluster01  \n").unwrap();
        assert_eq!(listed.seen(&node()), Seen::Yes { id: None });
        let listed = parse(&l, b"registered nodes:\n   10.0.0.110  cluster01\n").unwrap();
        assert_eq!(listed.seen(&node()), Seen::Absent);
    }
}
