//! Kolla's config overrides for aerie's concerns (`config/`, merged by Kolla
//! into each service's file): nova's PCI passthrough per compute host, the
//! alias and PciPassthroughFilter for nova-api and nova-scheduler, and the
//! instances VLANs as neutron's ML2 VLAN ranges on the profile's physnet.

use super::{header, KollaFile};
use crate::concerns::pci;
use crate::profile::{KollaSpec, Profile};
use crate::site::{Purpose, Role, Site};

pub fn files(site: &Site, profile: &Profile, spec: &KollaSpec) -> Vec<KollaFile> {
    let version = &spec.version;
    let mut out = Vec::new();
    let ini = |path: String, body: String| KollaFile {
        path,
        mode: 0o644,
        content: format!("{}{body}", header(site, version)),
    };
    let passthrough = site
        .features
        .sriov
        .as_ref()
        .map(|s| s.passthrough.as_slice())
        .unwrap_or_default();
    if !passthrough.is_empty() {
        let alias = pci::alias_value(passthrough);
        let spec_line = format!(
            "{} = {}\n",
            profile.pci_spec_key(),
            pci::spec_value(passthrough)
        );
        out.push(ini(
            "config/nova/nova-api.conf".into(),
            format!("[pci]\nalias = {alias}\n"),
        ));
        let mut filters: Vec<&str> = profile
            .nova
            .as_ref()
            .map(|n| n.default_filters.iter().map(String::as_str).collect())
            .unwrap_or_default();
        if !filters.contains(&pci::FILTER) {
            filters.push(pci::FILTER);
        }
        out.push(ini(
            "config/nova/nova-scheduler.conf".into(),
            format!(
                "[filter_scheduler]\nenabled_filters = {}\n\n[pci]\nalias = {alias}\n",
                filters.join(",")
            ),
        ));
        for node in site.nodes.iter().filter(|n| n.role == Role::Compute) {
            out.push(ini(
                format!("config/nova/{}/nova.conf", node.hostname),
                format!("[pci]\n{spec_line}alias = {alias}\n"),
            ));
        }
    }
    if let Some(ranges) = vlan_ranges(site, site.physnet()) {
        out.push(ini(
            "config/neutron/ml2_conf.ini".into(),
            format!("[ml2_type_vlan]\nnetwork_vlan_ranges = {ranges}\n"),
        ));
    }
    out
}

/// `physnet:first:last` per run of consecutive VLAN ids of the instances
/// networks (only the site's own ids are ever inside a range).
fn vlan_ranges(site: &Site, physnet: &str) -> Option<String> {
    let mut ids: Vec<u16> = site
        .networks
        .iter()
        .filter(|n| n.purpose == Purpose::Instances)
        .filter_map(|n| n.vlan)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut runs: Vec<(u16, u16)> = Vec::new();
    for id in ids {
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == id => *last = id,
            _ => runs.push((id, id)),
        }
    }
    (!runs.is_empty()).then(|| {
        runs.iter()
            .map(|(a, b)| format!("{physnet}:{a}:{b}"))
            .collect::<Vec<_>>()
            .join(",")
    })
}
