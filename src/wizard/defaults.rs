//! Defaults the wizard computes from a network's CIDR: the gateway (the first
//! host), a DHCP range for instances that keeps clear of it, and the next free
//! address for a node. Pure functions over addresses; IPv4 and IPv6 alike.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where node addresses start in networks big enough: `.10` in a /24, as in
/// the example site, leaving room below for routers and switches.
const FIRST_NODE_OFFSET: u128 = 10;

fn to_number(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

fn to_addr(cidr: &IpNet, n: u128) -> IpAddr {
    match cidr {
        IpNet::V4(_) => IpAddr::V4(Ipv4Addr::from(n as u32)),
        IpNet::V6(_) => IpAddr::V6(Ipv6Addr::from(n)),
    }
}

/// The network's first and last usable host numbers (IPv4 excludes the
/// network and broadcast addresses, except in /31 and /32).
fn host_span(cidr: &IpNet) -> (u128, u128) {
    let cidr = cidr.trunc();
    let first = to_number(cidr.network());
    let last = to_number(cidr.broadcast());
    let ends_reserved = matches!(cidr, IpNet::V4(_)) && cidr.prefix_len() < 31;
    if ends_reserved {
        (first + 1, last - 1)
    } else {
        (first, last)
    }
}

/// The number of addresses in the network, saturating for huge IPv6 prefixes.
fn size(cidr: &IpNet) -> u128 {
    let host_bits = u32::from(cidr.max_prefix_len() - cidr.prefix_len());
    1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
}

/// The suggested gateway: the first host of the network.
pub fn gateway(cidr: &IpNet) -> IpAddr {
    to_addr(cidr, host_span(cidr).0)
}

/// A DHCP range for instances: `.10`-`.200` in a /24, scaled for other sizes,
/// and never containing `gateway`. `None` when the network is too small.
pub fn dhcp_range(cidr: &IpNet, gateway: Option<IpAddr>) -> Option<[IpAddr; 2]> {
    let (first, last) = host_span(cidr);
    let base = to_number(cidr.trunc().network());
    let size = size(cidr);
    let (mut start, mut end) = if size >= 32 {
        let end = base + size / 256 * 200 + (size % 256) * 200 / 256;
        (base + FIRST_NODE_OFFSET, end.min(last))
    } else {
        (first + 1, last)
    };
    if let Some(gw) = gateway.map(to_number) {
        if start <= gw && gw <= end {
            if end - gw >= gw - start {
                start = gw + 1;
            } else {
                end = gw - 1;
            }
        }
    }
    (start < end).then(|| [to_addr(cidr, start), to_addr(cidr, end)])
}

/// The first address from `.10` on (or the first host in small networks) that
/// is not the gateway, not taken and outside every range; `None` if the
/// network is full.
pub fn next_free(
    cidr: &IpNet,
    gateway: Option<IpAddr>,
    taken: &[IpAddr],
    ranges: &[[IpAddr; 2]],
) -> Option<IpAddr> {
    let (first, last) = host_span(cidr);
    let base = to_number(cidr.trunc().network());
    let start = if size(cidr) >= 32 {
        base + FIRST_NODE_OFFSET
    } else {
        first
    };
    let free = |n: u128| {
        let addr = to_addr(cidr, n);
        Some(addr) != gateway
            && !taken.contains(&addr)
            && !ranges
                .iter()
                .any(|[a, b]| to_number(*a) <= n && n <= to_number(*b))
    };
    // Look at a bounded number of candidates: a wizard never needs more.
    const TRIES: u128 = 1 << 16;
    (start..=last.min(start.saturating_add(TRIES)))
        .chain(first..start)
        .find(|&n| free(n))
        .map(|n| to_addr(cidr, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn gateway_is_the_first_host() {
        assert_eq!(gateway(&net("10.44.1.0/24")), ip("10.44.1.1"));
        assert_eq!(gateway(&net("10.44.1.7/24")), ip("10.44.1.1"));
        assert_eq!(gateway(&net("fd00::/64")), ip("fd00::"));
    }

    #[test]
    fn dhcp_range_of_a_slash_24_matches_the_example() {
        let cidr = net("10.44.1.0/24");
        assert_eq!(
            dhcp_range(&cidr, Some(ip("10.44.1.1"))),
            Some([ip("10.44.1.10"), ip("10.44.1.200")])
        );
    }

    #[test]
    fn dhcp_range_scales_and_avoids_the_gateway() {
        assert_eq!(
            dhcp_range(&net("10.44.0.0/16"), None),
            Some([ip("10.44.0.10"), ip("10.44.200.0")])
        );
        assert_eq!(
            dhcp_range(&net("10.44.1.0/24"), Some(ip("10.44.1.20"))),
            Some([ip("10.44.1.21"), ip("10.44.1.200")])
        );
        assert_eq!(
            dhcp_range(&net("10.44.1.0/28"), Some(ip("10.44.1.1"))),
            Some([ip("10.44.1.2"), ip("10.44.1.14")])
        );
        assert_eq!(
            dhcp_range(&net("10.44.1.0/30"), Some(ip("10.44.1.1"))),
            None
        );
    }

    #[test]
    fn next_free_skips_taken_gateway_and_ranges() {
        let cidr = net("10.20.0.0/24");
        let gw = Some(ip("10.20.0.1"));
        assert_eq!(next_free(&cidr, gw, &[], &[]), Some(ip("10.20.0.10")));
        assert_eq!(
            next_free(&cidr, gw, &[ip("10.20.0.10")], &[]),
            Some(ip("10.20.0.11"))
        );
        assert_eq!(
            next_free(&cidr, gw, &[], &[[ip("10.20.0.5"), ip("10.20.0.100")]]),
            Some(ip("10.20.0.101"))
        );
        let small = net("10.20.0.0/30");
        assert_eq!(
            next_free(&small, Some(ip("10.20.0.1")), &[], &[]),
            Some(ip("10.20.0.2"))
        );
        assert_eq!(
            next_free(&small, Some(ip("10.20.0.1")), &[ip("10.20.0.2")], &[]),
            None
        );
    }
}
