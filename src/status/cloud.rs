//! `aerie status`'s cloud column: for a compute node, whether the cloud lists
//! its compute service up and its hypervisor (from the frontend, with the
//! profile's credentials: the profile's `wait-up` and `registered` listings, one
//! call each for all nodes); for the frontend, whether the site is deployed
//! (the marker [`crate::site::deployed::PATH`], read in the frontend's own read round
//! trip).

use crate::site::deployed::{Deployed, PATH};
use serde::Serialize;

/// A compute node's service, as the cloud's service listing has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    Up,
    /// Listed, not up.
    Down,
    /// The listing has no service of this node.
    Absent,
}

/// The cloud column of one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Cloud {
    Compute {
        /// None: the profile lists no services, or the listing failed.
        service: Option<Service>,
        /// A service not up: its state as the listing says (`State=down`).
        #[serde(skip_serializing_if = "Option::is_none")]
        service_state: Option<String>,
        /// None: the listing failed.
        hypervisor_listed: Option<bool>,
    },
    Frontend {
        deployed: bool,
        /// The marker's content (None: not deployed, or not a marker: `problem`).
        #[serde(skip_serializing_if = "Option::is_none")]
        marker: Option<Deployed>,
        #[serde(skip_serializing_if = "Option::is_none")]
        problem: Option<String>,
    },
}

impl Cloud {
    /// The frontend's cell from the marker file's bytes (None: no such file).
    pub fn frontend(marker: Option<&[u8]>) -> Cloud {
        let parse = |bytes: &[u8]| {
            serde_json::from_slice::<Deployed>(bytes).map_err(|e| {
                format!(
                    "{PATH} is not aerie's deployed marker ({e}); remove it if the site is not \
                     deployed, or rerun `aerie deploy --local`"
                )
            })
        };
        match marker.map(parse) {
            None => Cloud::Frontend {
                deployed: false,
                marker: None,
                problem: None,
            },
            Some(Ok(m)) => Cloud::Frontend {
                deployed: true,
                marker: Some(m),
                problem: None,
            },
            Some(Err(e)) => Cloud::Frontend {
                deployed: false,
                marker: None,
                problem: Some(e),
            },
        }
    }

    /// Whether the cloud says something is wrong (a service down or absent, a
    /// hypervisor not listed). Not deployed is not a fault: a site whose cloud
    /// aerie did not deploy never has the marker.
    pub fn faulty(&self) -> bool {
        match self {
            Cloud::Compute {
                service,
                hypervisor_listed,
                ..
            } => {
                matches!(service, Some(Service::Down | Service::Absent))
                    || *hypervisor_listed == Some(false)
            }
            Cloud::Frontend { problem, .. } => problem.is_some(),
        }
    }

    /// The table's cell.
    pub fn cell(&self) -> String {
        match self {
            Cloud::Compute {
                service,
                hypervisor_listed,
                ..
            } => {
                let s = match service {
                    Some(Service::Up) => "up",
                    Some(Service::Down) => "DOWN",
                    Some(Service::Absent) => "NO SERVICE",
                    None => "-",
                };
                let h = match hypervisor_listed {
                    Some(true) => "listed",
                    Some(false) => "NOT LISTED",
                    None => "-",
                };
                format!("{s}, {h}")
            }
            Cloud::Frontend { deployed: true, .. } => "deployed".into(),
            Cloud::Frontend { problem: None, .. } => "not deployed".into(),
            Cloud::Frontend { .. } => "BAD MARKER".into(),
        }
    }

    /// Lines under the row that say more.
    pub fn details(&self) -> Vec<String> {
        match self {
            Cloud::Compute {
                service: Some(Service::Down),
                service_state,
                ..
            } => vec![format!(
                "cloud: its compute service is listed, not up ({})",
                service_state.as_deref().unwrap_or("no state")
            )],
            Cloud::Compute {
                service: Some(Service::Absent),
                ..
            } => vec!["cloud: the cloud lists no compute service of it".into()],
            Cloud::Compute {
                hypervisor_listed: Some(false),
                ..
            } => vec!["cloud: the cloud lists no hypervisor of it".into()],
            Cloud::Frontend {
                marker: Some(m), ..
            } => vec![format!(
                "cloud: site {} deployed by aerie {} at {} (site file sha256 {})",
                m.site,
                m.aerie_version,
                m.time,
                &m.site_sha256[..m.site_sha256.len().min(12)]
            )],
            Cloud::Frontend {
                problem: Some(p), ..
            } => vec![format!("cloud: {p}")],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_say_what_the_cloud_says() {
        let c = |service, hypervisor_listed| Cloud::Compute {
            service,
            service_state: None,
            hypervisor_listed,
        };
        assert_eq!(c(Some(Service::Up), Some(true)).cell(), "up, listed");
        assert!(!c(Some(Service::Up), Some(true)).faulty());
        let down = Cloud::Compute {
            service: Some(Service::Down),
            service_state: Some("State=down".into()),
            hypervisor_listed: Some(true),
        };
        assert_eq!(down.cell(), "DOWN, listed");
        assert!(down.faulty());
        assert_eq!(
            down.details(),
            ["cloud: its compute service is listed, not up (State=down)"]
        );
        let absent = c(Some(Service::Absent), Some(false));
        assert_eq!(absent.cell(), "NO SERVICE, NOT LISTED");
        assert!(absent.faulty());
        assert_eq!(c(None, None).cell(), "-, -");
        assert!(!c(None, None).faulty());

        assert_eq!(Cloud::frontend(None).cell(), "not deployed");
        assert!(!Cloud::frontend(None).faulty());
        let m = serde_json::to_vec(&Deployed::now("lab", b"x")).unwrap();
        let fe = Cloud::frontend(Some(&m));
        assert_eq!(fe.cell(), "deployed");
        assert!(fe.details()[0].starts_with("cloud: site lab deployed by aerie "));
        let bad = Cloud::frontend(Some(b"junk"));
        assert_eq!(bad.cell(), "BAD MARKER");
        assert!(bad.faulty());
        assert!(bad.details()[0]
            .starts_with("cloud: /var/lib/aerie/deployed is not aerie's deployed marker"));
        let json = serde_json::to_value(&down).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"service": "down", "service_state": "State=down", "hypervisor_listed": true})
        );
        assert_eq!(
            serde_json::to_value(c(Some(Service::Up), Some(true))).unwrap(),
            serde_json::json!({"service": "up", "hypervisor_listed": true})
        );
    }
}
