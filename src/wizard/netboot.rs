//! Network boot (`netboot:`): whether `aerie pxe serve` boots the nodes, in
//! which DHCP mode, on which interface and address. Answers are checked by
//! `validate`'s netboot rules on the site as it would be.

use super::parse::{field, ip, number};
use super::{ask, rules};
use crate::site::{Netboot, NetbootMode, Site, DEFAULT_HTTP_PORT};

/// The `netboot:` section, or None when the nodes are not booted from the network.
pub fn ask(site: &Site, existing: Option<&Netboot>) -> anyhow::Result<Option<Netboot>> {
    if !site.site.distro.installs_by_kickstart() {
        return Ok(None);
    }
    if !ask::yes(
        "Boot the nodes from the network with `aerie pxe serve` (DHCP, TFTP, HTTP from this machine)?",
        existing.is_some(),
    )? {
        return Ok(None);
    }
    let mode = ask::choose(
        "Who hands out addresses on the management network",
        &[
            (
                NetbootMode::Dhcp,
                "dhcp: aerie's dnsmasq, each node gets its site address".to_string(),
            ),
            (
                NetbootMode::Proxy,
                "proxy: the network's own DHCP server; aerie adds only the boot answer".to_string(),
            ),
        ],
        existing.map_or(NetbootMode::Dhcp, |n| n.mode),
    )?;
    let interface = ask::value(
        "This machine's interface on the management network",
        existing.map(|n| n.interface.to_string()),
        &field,
    )?;
    let mut netboot = Netboot {
        mode,
        interface,
        network: existing.and_then(|n| n.network.clone()),
        address: "0.0.0.0".parse().expect("an address"),
        http_port: existing.map_or(DEFAULT_HTTP_PORT, |n| n.http_port),
    };
    let with = |netboot: &Netboot| {
        let mut s = site.clone();
        s.netboot = Some(netboot.clone());
        s
    };
    netboot.address = ask::value(
        "This machine's address on the management network (TFTP and HTTP are served there)",
        existing.map(|n| n.address.to_string()),
        &|s: &str| {
            let addr = ip(s)?;
            let mut candidate = netboot.clone();
            candidate.address = addr;
            rules::errors_at(&with(&candidate), "netboot.address")?;
            Ok(addr)
        },
    )?;
    netboot.http_port = ask::value(
        "HTTP port of the boot server",
        Some(netboot.http_port.to_string()),
        &|s: &str| number(s, 1u16, u16::MAX),
    )?;
    Ok(Some(netboot))
}
