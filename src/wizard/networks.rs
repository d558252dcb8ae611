//! The networks: name, purpose, CIDR, VLAN, gateway and, for instances, the
//! DHCP range, with defaults computed from the CIDR. Each answer is checked by
//! `validate`'s rules against the networks already given.

use super::parse::{cidr, field, ip, number, range, show_range};
use super::{ask, defaults, rules};
use crate::site::{Network, Purpose, Settings};

/// A network as answered, with the name it had in the edited file (so node
/// interfaces can follow a rename).
#[derive(Debug, Clone)]
pub struct Answered {
    pub network: Network,
    pub old_name: Option<String>,
}

pub fn ask(settings: &Settings, existing: &[Network]) -> anyhow::Result<Vec<Answered>> {
    ask::items(
        "network",
        existing,
        |n| format!("{} ({}, {})", n.name, n.purpose.as_str(), n.cidr),
        |done: &[Answered]| {
            (!done
                .iter()
                .any(|a| a.network.purpose == Purpose::Management))
            .then(|| {
                "A management network is needed: aerie installs and reaches nodes over it."
                    .to_string()
            })
        },
        |done| done.len() < 2,
        |done, old| {
            let prior: Vec<Network> = done.iter().map(|a| a.network.clone()).collect();
            Ok(Answered {
                network: ask_one(settings, &prior, old)?,
                old_name: old.map(|o| o.name.to_string()),
            })
        },
    )
}

fn purposes() -> Vec<(Purpose, String)> {
    [
        (
            Purpose::Management,
            "management (install, SSH, cloud services)",
        ),
        (
            Purpose::Instances,
            "instances (VLAN for instances, DHCP by dnsmasq)",
        ),
        (Purpose::Storage, "storage"),
        (Purpose::External, "external"),
        (Purpose::Infiniband, "infiniband"),
    ]
    .into_iter()
    .map(|(p, label)| (p, label.to_string()))
    .collect()
}

fn ask_one(
    settings: &Settings,
    prior: &[Network],
    old: Option<&Network>,
) -> anyhow::Result<Network> {
    let i = prior.len();
    let key = format!("networks[{i}]");
    let has_management = prior.iter().any(|n| n.purpose == Purpose::Management);
    let before = rules::partial(settings, prior, &[]);
    // The network as answered so far; fields not yet asked keep their old
    // value or a stand-in, and only errors at the asked key count.
    let mut net = old.cloned().unwrap_or_else(|| Network {
        name: "x".parse().expect("a valid name"),
        purpose: Purpose::Management,
        cidr: "192.0.2.0/24".parse().expect("a valid cidr"),
        gateway: None,
        vlan: None,
        dhcp_range: None,
    });
    let with = |net: &Network| {
        let mut networks = prior.to_vec();
        networks.push(net.clone());
        rules::partial(settings, &networks, &[])
    };
    let check = |net: &Network, field_key: &str| {
        rules::new_errors(&before, &with(net), |k| rules::under(k, field_key))
    };

    let name_key = format!("{key}.name");
    let default_name = if has_management {
        format!("net{i}")
    } else {
        "mgmt".to_string()
    };
    net.name = ask::value(
        "Network name",
        Some(old.map_or(default_name, |o| o.name.to_string())),
        &|s| {
            let mut candidate = net.clone();
            candidate.name = field(s)?;
            check(&candidate, &name_key)?;
            Ok(candidate.name)
        },
    )?;
    net.purpose = ask::choose(
        &format!("Purpose of {}", net.name),
        &purposes(),
        old.map_or(
            if has_management {
                Purpose::Instances
            } else {
                Purpose::Management
            },
            |o| o.purpose,
        ),
    )?;
    let cidr_key = format!("{key}.cidr");
    net.gateway = None;
    net.dhcp_range = None;
    net.cidr = ask::value(
        &format!(
            "Network of {} in CIDR notation (e.g. 10.44.1.0/24)",
            net.name
        ),
        old.map(|o| o.cidr.to_string()),
        &|s| {
            let mut candidate = net.clone();
            candidate.cidr = cidr(s)?;
            check(&candidate, &cidr_key)?;
            Ok(candidate.cidr)
        },
    )?;
    let vlan_key = format!("{key}.vlan");
    net.vlan = ask::optional(
        &format!(
            "VLAN id of {} (1-4094; `none` or empty: untagged)",
            net.name
        ),
        old.and_then(|o| o.vlan).map(|v| v.to_string()),
        &|s| {
            let mut candidate = net.clone();
            candidate.vlan = Some(number(s, 1u16, 4094)?);
            check(&candidate, &vlan_key)?;
            Ok(candidate.vlan.expect("set above"))
        },
    )?;
    let gateway_key = format!("{key}.gateway");
    let suggested = match old {
        Some(o) if o.cidr == net.cidr => o.gateway,
        _ => Some(defaults::gateway(&net.cidr)),
    };
    net.gateway = ask::optional(
        &format!(
            "Gateway of {} (the router's address; `none` if there is none)",
            net.name
        ),
        suggested.map(|g| g.to_string()),
        &|s| {
            let mut candidate = net.clone();
            candidate.gateway = Some(ip(s)?);
            check(&candidate, &gateway_key)?;
            Ok(candidate.gateway.expect("set above"))
        },
    )?;
    if net.purpose == Purpose::Instances {
        let range_key = format!("{key}.dhcp-range");
        let suggested = match old {
            Some(o) if o.cidr == net.cidr && o.dhcp_range.is_some() => o.dhcp_range,
            _ => defaults::dhcp_range(&net.cidr, net.gateway),
        };
        net.dhcp_range = ask::optional(
            &format!(
                "DHCP range for instances on {} (first-last; `none` for no DHCP)",
                net.name
            ),
            suggested.map(show_range),
            &|s| {
                let mut candidate = net.clone();
                candidate.dhcp_range = Some(range(s)?);
                check(&candidate, &range_key)?;
                Ok(candidate.dhcp_range.expect("set above"))
            },
        )?;
    } else if let Some(o) = old.filter(|o| o.cidr == net.cidr) {
        net.dhcp_range = o.dhcp_range;
    }
    Ok(net)
}
