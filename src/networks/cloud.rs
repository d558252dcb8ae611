//! What the `openstack` CLI says exists, read from its `-f json` output. A
//! list (`subnet list --long`) names its columns by their headers, a single
//! object (`network show`, `subnet create`) by Neutron's attribute names: each
//! field is read under either name.

use serde_json::{Map, Value};

/// A network as `network show` / `network create` print it.
#[derive(Debug, Clone, PartialEq)]
pub struct Net {
    pub id: String,
    pub name: String,
    pub network_type: Option<String>,
    pub physnet: Option<String>,
    pub segment: Option<u64>,
    pub shared: bool,
}

/// A subnet as `subnet list --long` / `subnet create` print it.
#[derive(Debug, Clone, PartialEq)]
pub struct Subnet {
    pub id: String,
    pub name: String,
    pub network_id: String,
    pub cidr: String,
    pub gateway: Option<String>,
    /// (start, end) of each allocation pool.
    pub pools: Vec<(String, String)>,
    pub dns: Vec<String>,
    pub dhcp: bool,
}

/// The openstack CLI printed something aerie does not read as expected.
#[derive(Debug, thiserror::Error)]
#[error("cannot read `{command}`'s output: {why}")]
pub struct Unreadable {
    pub command: String,
    pub why: String,
}

fn field<'a>(o: &'a Map<String, Value>, names: &[&str]) -> Option<&'a Value> {
    names
        .iter()
        .find_map(|n| o.get(*n))
        .filter(|v| !v.is_null())
}

fn text(o: &Map<String, Value>, names: &[&str]) -> Option<String> {
    field(o, names).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn flag(o: &Map<String, Value>, names: &[&str]) -> bool {
    match field(o, names) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn required(o: &Map<String, Value>, names: &[&str]) -> Result<String, String> {
    text(o, names).ok_or_else(|| format!("no {} in {}", names[0], Value::Object(o.clone())))
}

fn parse(command: &str, bytes: &[u8]) -> Result<Value, Unreadable> {
    serde_json::from_slice(bytes).map_err(|e| Unreadable {
        command: command.to_string(),
        why: format!("{e}: {}", String::from_utf8_lossy(bytes).trim()),
    })
}

fn objects(command: &str, v: &Value) -> Result<Vec<Map<String, Value>>, Unreadable> {
    let bad = |why: &str| Unreadable {
        command: command.to_string(),
        why: why.to_string(),
    };
    v.as_array()
        .ok_or_else(|| bad("not a JSON list"))?
        .iter()
        .map(|o| {
            o.as_object()
                .cloned()
                .ok_or_else(|| bad("not a list of objects"))
        })
        .collect()
}

fn wrap<T>(command: &str, r: Result<T, String>) -> Result<T, Unreadable> {
    r.map_err(|why| Unreadable {
        command: command.to_string(),
        why,
    })
}

/// `openstack network list -f json`: (id, name) of every network.
pub fn network_list(command: &str, bytes: &[u8]) -> Result<Vec<(String, String)>, Unreadable> {
    let v = parse(command, bytes)?;
    objects(command, &v)?
        .iter()
        .map(|o| {
            let id = wrap(command, required(o, &["ID", "id"]))?;
            Ok((id, text(o, &["Name", "name"]).unwrap_or_default()))
        })
        .collect()
}

/// `openstack network show|create -f json`.
pub fn network(command: &str, bytes: &[u8]) -> Result<Net, Unreadable> {
    let v = parse(command, bytes)?;
    let o = v.as_object().ok_or_else(|| Unreadable {
        command: command.to_string(),
        why: "not a JSON object".into(),
    })?;
    let segment = field(o, &["provider:segmentation_id"]).and_then(|v| match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    });
    Ok(Net {
        id: wrap(command, required(o, &["id"]))?,
        name: text(o, &["name"]).unwrap_or_default(),
        network_type: text(o, &["provider:network_type"]),
        physnet: text(o, &["provider:physical_network"]),
        segment,
        shared: flag(o, &["shared"]),
    })
}

fn subnet_of(o: &Map<String, Value>) -> Result<Subnet, String> {
    let pools = match field(o, &["Allocation Pools", "allocation_pools"]) {
        Some(Value::Array(list)) => list
            .iter()
            .map(|p| {
                let p = p.as_object().ok_or("an allocation pool is not an object")?;
                Ok((required(p, &["start"])?, required(p, &["end"])?))
            })
            .collect::<Result<Vec<_>, String>>()?,
        None => Vec::new(),
        Some(other) => return Err(format!("allocation pools as {other}")),
    };
    let dns = match field(o, &["Name Servers", "dns_nameservers"]) {
        Some(Value::Array(list)) => list
            .iter()
            .map(|d| {
                d.as_str()
                    .map(str::to_string)
                    .ok_or("a name server is not a string")
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
        Some(other) => return Err(format!("name servers as {other}")),
    };
    Ok(Subnet {
        id: required(o, &["ID", "id"])?,
        name: text(o, &["Name", "name"]).unwrap_or_default(),
        network_id: required(o, &["Network", "network_id"])?,
        cidr: required(o, &["Subnet", "cidr"])?,
        gateway: text(o, &["Gateway", "gateway_ip"]),
        pools,
        dns,
        dhcp: flag(o, &["DHCP", "enable_dhcp"]),
    })
}

/// `openstack subnet list --long -f json`.
pub fn subnet_list(command: &str, bytes: &[u8]) -> Result<Vec<Subnet>, Unreadable> {
    let v = parse(command, bytes)?;
    objects(command, &v)?
        .iter()
        .map(|o| wrap(command, subnet_of(o)))
        .collect()
}

/// `openstack subnet create -f json`.
pub fn subnet(command: &str, bytes: &[u8]) -> Result<Subnet, Unreadable> {
    let v = parse(command, bytes)?;
    let o = v.as_object().ok_or_else(|| Unreadable {
        command: command.to_string(),
        why: "not a JSON object".into(),
    })?;
    wrap(command, subnet_of(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_rows_and_single_objects_read_alike() {
        let row =
            br#"[{"ID": "s1", "Name": "demo-net-subnet", "Network": "n1", "Subnet": "10.44.1.0/24",
            "Project": "p", "DHCP": true, "Name Servers": ["192.0.2.53"],
            "Allocation Pools": [{"start": "10.44.1.10", "end": "10.44.1.200"}], "Host Routes": [],
            "IP Version": 4, "Gateway": "10.44.1.1", "Service Types": [], "Tags": []}]"#;
        let one = br#"{"allocation_pools": [{"start": "10.44.1.10", "end": "10.44.1.200"}],
            "cidr": "10.44.1.0/24", "dns_nameservers": ["192.0.2.53"], "enable_dhcp": true,
            "gateway_ip": "10.44.1.1", "id": "s1", "ip_version": 4, "name": "demo-net-subnet",
            "network_id": "n1"}"#;
        let listed = subnet_list("l", row).unwrap();
        assert_eq!(listed, vec![subnet("c", one).unwrap()]);
        assert_eq!(
            listed[0].pools,
            [("10.44.1.10".into(), "10.44.1.200".into())]
        );
        let none = subnet(
            "c",
            br#"{"id": "s", "network_id": "n", "cidr": "10.0.0.0/24", "gateway_ip": null}"#,
        )
        .unwrap();
        assert_eq!(none.gateway, None);
        assert!(subnet_list("l", b"oops")
            .unwrap_err()
            .to_string()
            .contains("cannot read `l`"));
    }

    #[test]
    fn network_provider_attributes() {
        let n = network(
            "s",
            br#"{"id": "n1", "name": "demo-net", "provider:network_type": "vlan",
                "provider:physical_network": "physnet1", "provider:segmentation_id": 101, "shared": true}"#,
        )
        .unwrap();
        assert_eq!(n.segment, Some(101));
        assert_eq!(n.physnet.as_deref(), Some("physnet1"));
        assert!(n.shared);
        let l = network_list("l", br#"[{"ID": "n1", "Name": "demo-net", "Subnets": []}]"#).unwrap();
        assert_eq!(l, [("n1".to_string(), "demo-net".to_string())]);
    }
}
