//! The networks this machine is attached to, for validation warnings.

use ipnet::IpNet;

/// IPv4 and IPv6 networks of this machine's interfaces (loopback and
/// link-local left out). Empty when `ip` is unavailable: the warnings it feeds
/// are advice, never a reason to fail.
pub fn list() -> Vec<IpNet> {
    let mut cmd = crate::exec::command("ip", ["-o", "addr", "show"]);
    let Ok(output) = crate::exec::run(&mut cmd) else {
        return Vec::new();
    };
    parse_ip_addr(&String::from_utf8_lossy(&output.stdout))
}

/// Parse `ip -o addr show` lines: `2: eth0    inet 10.1.2.3/24 brd ...`.
pub fn parse_ip_addr(text: &str) -> Vec<IpNet> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            words.find(|w| *w == "inet" || *w == "inet6")?;
            words.next()?.parse::<IpNet>().ok()
        })
        .map(|net| net.trunc())
        .filter(|net| match net {
            IpNet::V4(n) => !n.addr().is_loopback() && !n.addr().is_link_local(),
            IpNet::V6(n) => !n.addr().is_loopback() && (n.addr().segments()[0] & 0xffc0) != 0xfe80,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_ip_o_addr() {
        let text = "1: lo    inet 127.0.0.1/8 scope host lo\n2: eth0    inet 10.44.1.7/24 brd 10.44.1.255 scope global eth0\n2: eth0    inet6 fe80::1/64 scope link\n";
        let nets = super::parse_ip_addr(text);
        assert_eq!(nets, vec!["10.44.1.0/24".parse().unwrap()]);
    }
}
