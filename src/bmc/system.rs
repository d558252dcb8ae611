//! Finding the node's ComputerSystem on its BMC and reading what aerie acts
//! on: power state, reset types, boot override, where virtual media lives.

use super::client::Redfish;
use super::error::BmcError;
use serde_json::Value;

/// A ComputerSystem as aerie uses it.
#[derive(Debug, Clone)]
pub struct System {
    /// `/redfish/v1/Systems/ID`.
    pub path: String,
    pub manufacturer: String,
    /// The service root's `Vendor`, if it says.
    pub vendor: String,
    pub power: String,
    pub reset_target: String,
    /// `ResetType@Redfish.AllowableValues`; empty when the BMC does not say.
    pub reset_types: Vec<String>,
    /// The system's own VirtualMedia collection, if it lists one.
    pub virtual_media: Option<String>,
    /// The managers' paths (`Links.ManagedBy`).
    pub managers: Vec<String>,
}

fn id_of(value: &Value) -> Option<&str> {
    value["@odata.id"].as_str()
}

fn protocol(what: String) -> BmcError {
    BmcError::Protocol(what)
}

/// The members of a collection, as paths.
pub fn members(client: &Redfish, path: &str) -> Result<Vec<String>, BmcError> {
    let collection = client.get(path)?;
    Ok(collection["Members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| id_of(m).map(|s| s.trim_end_matches('/').to_string()))
        .collect())
}

/// The system this node is: `system_id` among the BMC's systems, or its only one.
pub fn find(client: &Redfish, system_id: Option<&str>) -> Result<System, BmcError> {
    let root = client.service_root()?;
    let systems = id_of(&root["Systems"])
        .ok_or_else(|| protocol("the Redfish service root lists no Systems".to_string()))?
        .to_string();
    let paths = members(client, &systems)?;
    let path = match system_id {
        Some(id) => paths
            .iter()
            .find(|p| p.rsplit('/').next() == Some(id))
            .cloned()
            .ok_or_else(|| {
                protocol(format!(
                    "the BMC has no system {id:?}; it lists {}: set bmc.system-id to one of them",
                    list(&paths)
                ))
            })?,
        None => match paths.as_slice() {
            [only] => only.clone(),
            _ => {
                return Err(protocol(format!(
                    "the BMC lists {} systems ({}); say which is this node with bmc.system-id",
                    paths.len(),
                    list(&paths)
                )))
            }
        },
    };
    let body = client.get(&path)?;
    let reset = &body["Actions"]["#ComputerSystem.Reset"];
    Ok(System {
        manufacturer: body["Manufacturer"].as_str().unwrap_or("").to_string(),
        vendor: root["Vendor"].as_str().unwrap_or("").to_string(),
        power: power_state(&body),
        reset_target: reset["target"].as_str().map_or_else(
            || format!("{path}/Actions/ComputerSystem.Reset"),
            str::to_string,
        ),
        reset_types: reset["ResetType@Redfish.AllowableValues"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        virtual_media: id_of(&body["VirtualMedia"]).map(str::to_string),
        managers: body["Links"]["ManagedBy"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| id_of(m).map(str::to_string))
            .collect(),
        path,
    })
}

/// The system read again (its power state changes under aerie's feet).
pub fn find_again(client: &Redfish, system: &System) -> Result<System, BmcError> {
    let body = client.get(&system.path)?;
    Ok(System {
        power: power_state(&body),
        ..system.clone()
    })
}

fn list(paths: &[String]) -> String {
    if paths.is_empty() {
        return "none".to_string();
    }
    paths
        .iter()
        .map(|p| p.rsplit('/').next().unwrap_or(p))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn power_state(body: &Value) -> String {
    body["PowerState"].as_str().unwrap_or("Unknown").to_string()
}

/// The reset type to send for `wanted`, among those the BMC allows: the
/// first of the alternatives it lists (all of them when it lists none).
pub fn reset_type<'a>(allowed: &[String], wanted: &[&'a str]) -> Option<&'a str> {
    if allowed.is_empty() {
        return wanted.first().copied();
    }
    wanted
        .iter()
        .copied()
        .find(|w| allowed.iter().any(|a| a == w))
}

/// Ask for a reset of this type.
pub fn reset(client: &Redfish, system: &System, kind: &str) -> Result<(), BmcError> {
    client.post(
        &system.reset_target,
        &serde_json::json!({ "ResetType": kind }),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_types_follow_what_the_bmc_allows() {
        let allowed: Vec<String> = ["On", "ForceOff", "PowerCycle"].map(String::from).to_vec();
        assert_eq!(
            reset_type(&allowed, &["ForceRestart", "PowerCycle"]),
            Some("PowerCycle")
        );
        assert_eq!(reset_type(&allowed, &["GracefulRestart"]), None);
        assert_eq!(
            reset_type(&[], &["ForceRestart", "PowerCycle"]),
            Some("ForceRestart")
        );
    }
}
