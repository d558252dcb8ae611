//! The configuration of aerie's own dnsmasq (pure): DHCP (or proxy DHCP) on
//! the boot network, TFTP of the iPXE binaries, and the chain into aerie's
//! HTTP server. Firmware PXE gets iPXE by TFTP (BIOS `undionly.kpxe`, UEFI
//! `ipxe.efi`, told apart by client-arch); iPXE itself (DHCP user class
//! `iPXE`, as qemu's NIC ROMs are) gets the HTTP script straight away.

use super::plan::Plan;
use crate::site::NetbootMode;
use std::fmt::Write;
use std::path::Path;

/// Debian's `ipxe` package puts its binaries here.
pub const IPXE_DIR: &str = "/usr/lib/ipxe";
/// What BIOS firmware PXE loads (iPXE over the firmware's UNDI driver).
pub const BIOS_IPXE: &str = "undionly.kpxe";
/// What x86-64 UEFI firmware PXE loads.
pub const UEFI_IPXE: &str = "ipxe.efi";

/// The path iPXE fetches first; it chains to the per-MAC script.
pub const BOOT_SCRIPT: &str = "/boot.ipxe";

/// Files the server writes beside the config.
pub struct Paths<'a> {
    pub leases: &'a Path,
    pub tftp_root: &'a Path,
}

/// dnsmasq's configuration for `plan`.
pub fn render(plan: &Plan, paths: &Paths<'_>) -> String {
    let mut c = String::with_capacity(256 + plan.nodes.len() * 48);
    let net = plan.network;
    let _ = writeln!(
        c,
        "# aerie pxe serve: dnsmasq for network {} ({net}), mode {}",
        plan.network_name,
        plan.mode.as_str()
    );
    c.push_str("# Written by aerie and run as its child; not the machine's dnsmasq.\n");
    c.push_str("port=0\n");
    let _ = writeln!(c, "interface={}", plan.interface);
    c.push_str("bind-interfaces\n");
    c.push_str("log-dhcp\n");
    c.push_str("no-ping\n");
    let _ = writeln!(c, "dhcp-leasefile={}", paths.leases.display());
    c.push_str("enable-tftp\n");
    let _ = writeln!(c, "tftp-root={}", paths.tftp_root.display());
    c.push_str("dhcp-match=set:efi64,option:client-arch,7\n");
    c.push_str("dhcp-match=set:efi64,option:client-arch,9\n");
    c.push_str("dhcp-userclass=set:ipxe,iPXE\n");
    let script = format!("{}{BOOT_SCRIPT}", plan.base_url());
    match plan.mode {
        NetbootMode::Dhcp => {
            c.push_str("dhcp-authoritative\n");
            let _ = writeln!(
                c,
                "dhcp-range=set:boot,{},static,{},1h",
                net.network(),
                net.netmask()
            );
            if let Some([start, end]) = plan.dynamic_range {
                let _ = writeln!(c, "dhcp-range=set:boot,{start},{end},{},1h", net.netmask());
            }
            // The site's router and DNS servers, or none: never dnsmasq's
            // default of this machine (which routes nothing and runs no DNS).
            let router = plan.gateway.map(|g| g.to_string()).unwrap_or_default();
            let _ = writeln!(c, "dhcp-option=tag:boot,option:router{}", prefixed(&router));
            let dns: Vec<String> = plan.dns.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                c,
                "dhcp-option=tag:boot,option:dns-server{}",
                prefixed(&dns.join(","))
            );
            let _ = writeln!(c, "domain={}", plan.domain);
            for node in &plan.nodes {
                match node.address {
                    Some(a) => {
                        let _ = writeln!(c, "dhcp-host={},{a},{}", node.mac, node.hostname);
                    }
                    None => {
                        let _ = writeln!(c, "dhcp-host={},{}", node.mac, node.hostname);
                    }
                }
            }
            for (arch, file) in [("efi64", UEFI_IPXE), ("!efi64", BIOS_IPXE)] {
                let _ = writeln!(c, "dhcp-boot=tag:!ipxe,tag:{arch},{file},,{}", plan.server);
            }
            let _ = writeln!(c, "dhcp-boot=tag:ipxe,{script}");
        }
        NetbootMode::Proxy => {
            // No address is handed out: the network's own DHCP server does that.
            let _ = writeln!(c, "dhcp-range={},proxy,{}", net.network(), net.netmask());
            for (csa, file) in [("x86PC", "undionly"), ("X86-64_EFI", "ipxe.efi")] {
                let _ = writeln!(
                    c,
                    "pxe-service=tag:!ipxe,{csa},\"aerie: iPXE\",{file},{}",
                    plan.server
                );
            }
            let _ = writeln!(c, "dhcp-boot=tag:ipxe,{script}");
            let _ = writeln!(c, "pxe-service=tag:ipxe,x86PC,\"aerie\",{script}");
            let _ = writeln!(c, "pxe-service=tag:ipxe,X86-64_EFI,\"aerie\",{script}");
        }
    }
    c
}

/// `,VALUE`, or nothing for an empty value (dnsmasq then sends no such option).
fn prefixed(value: &str) -> String {
    if value.is_empty() {
        String::new()
    } else {
        format!(",{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netboot::plan::Plan;
    use crate::site::{examples, load};

    fn conf(mode: NetbootMode) -> String {
        let mut site = load::from_str(examples::get("netboot").unwrap(), "x").unwrap();
        site.netboot.as_mut().unwrap().mode = mode;
        let plan = Plan::new(&site).unwrap();
        render(
            &plan,
            &Paths {
                leases: Path::new("/d/leases"),
                tftp_root: Path::new("/usr/lib/ipxe"),
            },
        )
    }

    #[test]
    fn dhcp_mode_gives_each_node_its_address_and_chains_ipxe() {
        let c = conf(NetbootMode::Dhcp);
        assert!(c.contains("interface=eth1\nbind-interfaces\n"), "{c}");
        assert!(c.contains("port=0\n"));
        assert!(
            c.contains("dhcp-host=52:54:00:00:00:11,10.20.0.11,node1\n"),
            "{c}"
        );
        assert!(
            c.contains("dhcp-range=set:boot,10.20.0.100,10.20.0.199,255.255.255.0,1h\n"),
            "{c}"
        );
        assert!(
            c.contains("dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi,,10.20.0.2\n"),
            "{c}"
        );
        assert!(
            c.contains("dhcp-boot=tag:ipxe,http://10.20.0.2:8080/boot.ipxe\n"),
            "{c}"
        );
        assert!(!c.contains("proxy"));
        assert!(
            c.contains("dhcp-option=tag:boot,option:router,10.20.0.1\n"),
            "{c}"
        );
        assert!(
            c.contains("dhcp-option=tag:boot,option:dns-server,192.0.2.53\n"),
            "{c}"
        );
    }

    #[test]
    fn proxy_mode_hands_out_no_address() {
        let c = conf(NetbootMode::Proxy);
        assert!(
            c.contains("dhcp-range=10.20.0.0,proxy,255.255.255.0\n"),
            "{c}"
        );
        assert!(!c.contains("dhcp-host="), "{c}");
        assert!(!c.contains("dhcp-authoritative"), "{c}");
        assert_eq!(c.matches("dhcp-range=").count(), 1, "{c}");
    }
}
