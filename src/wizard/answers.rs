//! `aerie init --answers FILE`: a partial site file instead of questions.
//!
//! Every required value that is missing is listed in one error (with its key
//! path, e.g. `nodes[1].role`), present values are checked by the same types
//! as `aerie validate` (unknown keys refused), and optional values get their
//! defaults (timezone UTC, no VLAN, ...). The missing values are found by the
//! site's own deserializer: each "missing field" is noted, filled with a
//! stand-in, and the parse repeated, so the list follows the model exactly.

use crate::site::findings::{Finding, InvalidSite, Report};
use crate::site::secrets::BmcPassword;
use crate::site::{load, Site};
use serde_norway::{Mapping, Value};
use serde_path_to_error::Segment;

/// A partial site, completed and checked; not yet validated across fields.
pub fn from_text(text: &str, origin: &str) -> Result<Site, InvalidSite> {
    let mut value: Value = match serde_norway::from_str(text) {
        Ok(Value::Null) => Value::Mapping(Mapping::new()),
        Ok(value) => value,
        // Not YAML: the loader names the line and column.
        Err(_) => return load::from_str(text, origin),
    };
    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    // Each round fills, replaces or removes one value; a site has far fewer.
    for _ in 0..10_000 {
        let err = match serde_path_to_error::deserialize::<_, Site>(value.clone()) {
            Ok(site) if missing.is_empty() && wrong.is_empty() => return Ok(site),
            Ok(_) => break,
            Err(err) => err,
        };
        let path: Vec<Segment> = err.path().iter().cloned().collect();
        let message = err.inner().to_string();
        let mended = if let Some(field) = missing_field(&message) {
            let key = match err.path().to_string().as_str() {
                "." | "" => field.to_string(),
                parent => format!("{parent}.{field}"),
            };
            missing.push(Finding::error(
                key.clone(),
                "a required value is missing",
                format!("add `{key}` to the answers file (see `aerie init --example lab`)"),
            ));
            fill(&mut value, &path, field)
        } else {
            // A present value is wrong: report it as the loader does, then
            // set it aside (a stand-in if required, else removed) and go on.
            wrong.push(type_error(&value, origin));
            set_aside(&mut value, &path)
        };
        if mended.is_none() {
            break;
        }
    }
    let findings = missing.into_iter().chain(wrong).collect();
    Err(InvalidSite(Report {
        file: origin.to_string(),
        findings,
    }))
}

/// The BMC passwords an answers file may give (`nodes[].bmc.password`, which
/// a site file never holds), taken out: the text without them, and each
/// password by the node's host name, for the secrets file. Text without any
/// comes back unchanged.
pub fn take_bmc_passwords(text: &str) -> (String, std::collections::BTreeMap<String, BmcPassword>) {
    let mut out = std::collections::BTreeMap::new();
    let Ok(mut value) = serde_norway::from_str::<Value>(text) else {
        return (text.to_string(), out);
    };
    let nodes = value
        .as_mapping_mut()
        .and_then(|m| m.get_mut("nodes"))
        .and_then(Value::as_sequence_mut);
    for node in nodes.into_iter().flatten() {
        let host = node
            .get("hostname")
            .and_then(Value::as_str)
            .map(str::to_string);
        let bmc = node.get_mut("bmc").and_then(Value::as_mapping_mut);
        let Some(password) = bmc.and_then(|b| b.remove("password")) else {
            continue;
        };
        if let (Some(host), Some(password)) = (host, password.as_str()) {
            out.insert(host, BmcPassword::new(password.to_string()));
        }
    }
    if out.is_empty() {
        return (text.to_string(), out);
    }
    let text = serde_norway::to_string(&value).expect("a YAML value serializes");
    (text, out)
}

/// Put a stand-in for the missing `field` into the mapping at `path`.
fn fill(value: &mut Value, path: &[Segment], field: &str) -> Option<()> {
    let map = at(value, path.iter())?.as_mapping_mut()?;
    map.insert(Value::String(field.to_string()), stand_in(field)?);
    Some(())
}

/// Replace the wrong value at `path` by a stand-in, or remove it.
fn set_aside(value: &mut Value, path: &[Segment]) -> Option<()> {
    let (last, parent) = path.split_last()?;
    let parent = at(value, parent.iter())?;
    match last {
        Segment::Map { key } => {
            let map = parent.as_mapping_mut()?;
            match stand_in(key) {
                Some(v) if !matches!(v, Value::Mapping(_) | Value::Sequence(_)) => {
                    map.insert(Value::String(key.clone()), v);
                }
                _ => {
                    map.remove(key.as_str())?;
                }
            }
        }
        Segment::Seq { index } => {
            let seq = parent.as_sequence_mut()?;
            (*index < seq.len()).then(|| seq.remove(*index))?;
        }
        _ => return None,
    }
    Some(())
}

/// For "missing field `role`": `role`.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.split("missing field `").nth(1)?;
    rest.split('`').next()
}

/// The first type error or unknown key, as the loader reports it. The value
/// has stand-ins for the missing keys, so line numbers would not match the
/// operator's file: only the key path is kept.
fn type_error(value: &Value, origin: &str) -> Finding {
    let text = serde_norway::to_string(value).unwrap_or_default();
    let mut finding = match load::from_str(&text, origin) {
        Err(InvalidSite(report)) => report.findings.into_iter().next(),
        Ok(_) => None,
    }
    .unwrap_or_else(|| Finding::error("(file)", "the answers do not form a site", ""));
    finding.line = None;
    finding.column = None;
    finding
}

/// The value at a path, for filling in.
fn at<'a, 'p>(
    value: &'a mut Value,
    mut path: impl Iterator<Item = &'p Segment>,
) -> Option<&'a mut Value> {
    match path.next() {
        None => Some(value),
        Some(Segment::Seq { index }) => at(value.as_sequence_mut()?.get_mut(*index)?, path),
        Some(Segment::Map { key }) => at(value.as_mapping_mut()?.get_mut(key.as_str())?, path),
        Some(_) => None,
    }
}

/// A well-typed stand-in for a required key, so parsing can go on to find
/// the next missing one. Never written: a site with stand-ins is refused.
fn stand_in(field: &str) -> Option<Value> {
    let text = |s: &str| Some(Value::String(s.to_string()));
    match field {
        "site" => Some(Value::Mapping(Mapping::new())),
        "networks" | "nodes" | "interfaces" | "passthrough" => Some(Value::Sequence(Vec::new())),
        "type" => text("redfish"),
        "name" | "hostname" | "network" | "alias" => text("placeholder"),
        "domain" => text("placeholder.invalid"),
        "profile" => text("openstack"),
        "distro" => text("rocky9"),
        "purpose" => text("management"),
        "role" => text("compute"),
        "cidr" => text("192.0.2.0/24"),
        "driver" => text("mlx4_core"),
        "vendor-id" | "product-id" => text("0000"),
        "mode" => text("dhcp"),
        "interface" => text("eth0"),
        "address" => text("192.0.2.2"),
        "num-vfs" | "vcpus" | "ram-mb" | "disk-gb" | "devices" => Some(Value::Number(1.into())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Vec<String> {
        from_text(text, "answers.yaml")
            .unwrap_err()
            .0
            .findings
            .into_iter()
            .map(|f| f.problem.what)
            .collect()
    }

    #[test]
    fn lists_every_missing_value() {
        let text = "site: {name: lab}\nnetworks:\n  - name: mgmt\n    purpose: management\nnodes:\n  - hostname: fe1\n    role: frontend\n    interfaces: []\n  - hostname: node1\n";
        assert_eq!(
            keys(text),
            [
                "site.domain",
                "site.profile",
                "site.distro",
                "networks[0].cidr",
                "nodes[1].role",
                "nodes[1].interfaces"
            ]
        );
    }

    #[test]
    fn an_empty_file_misses_the_top_level_keys() {
        assert_eq!(
            keys(""),
            [
                "site",
                "site.name",
                "site.domain",
                "site.profile",
                "site.distro",
                "networks",
                "nodes"
            ]
        );
    }

    #[test]
    fn wrong_values_and_unknown_keys_are_reported_with_the_missing_ones() {
        let text = "site: {name: Bad Name, domian: x, dns: [192.0.2.1, nope]}\nnetworks: [{name: mgmt, cidr: 10.0.0.0/33}]\nnodes: []\n";
        assert_eq!(
            keys(text),
            [
                "site.domain",
                "site.profile",
                "site.distro",
                "networks[0].purpose",
                "site.name",
                "site.domian",
                "site.dns[1]",
                "networks[0].cidr"
            ]
        );
    }

    #[test]
    fn a_complete_file_gets_defaults() {
        let site = from_text(crate::site::examples::get("lab").unwrap(), "lab").unwrap();
        assert_eq!(site.site.timezone.as_str(), "UTC");
    }
}
