//! The qemu lab's network on this host: bridges with no physical port, tap
//! devices, the NAT table and IP forwarding. Every change goes through
//! `exec` (`ip`, `nft`); every name is checked before anything is made.

use crate::exec;
use anyhow::Context;
use ipnet::IpNet;
use std::net::IpAddr;

/// A name aerie wants is already taken on this host.
#[derive(Debug, thiserror::Error)]
#[error("{what} {name:?} already exists on this host, so the lab would clash with it; nothing was made.\n  fix: if it is left from an earlier lab, run `aerie lab down --dir DIR` for that lab or remove it by hand ({remove}); otherwise give the lab other names with `--prefix PREFIX`")]
pub struct NameTaken {
    pub what: &'static str,
    pub name: String,
    pub remove: String,
}

/// Longest network interface name Linux accepts (IFNAMSIZ - 1).
pub const IFNAME_MAX: usize = 15;

/// Whether a network interface of that name exists in this namespace.
pub fn link_exists(name: &str) -> anyhow::Result<bool> {
    let out = exec::run(&mut exec::command("ip", ["-o", "link", "show"]))?;
    Ok(parse_link_names(&String::from_utf8_lossy(&out.stdout))
        .iter()
        .any(|n| n == name))
}

/// Interface names from `ip -o link show` (`2: eth0@if5: <...`).
pub fn parse_link_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let name = l.split(": ").nth(1)?;
            Some(name.split('@').next()?.trim().to_string())
        })
        .collect()
}

/// Whether an nftables table exists.
pub fn nft_table_exists(family: &str, name: &str) -> anyhow::Result<bool> {
    let out = exec::run(&mut exec::command("nft", ["list", "tables"]))?;
    let want = format!("table {family} {name}");
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == want))
}

/// Refuse names that are taken, all at once.
pub fn check_free(bridges: &[String], taps: &[String], nft_table: &str) -> anyhow::Result<()> {
    for (what, names) in [("bridge", bridges), ("tap device", taps)] {
        for name in names {
            if link_exists(name)? {
                return Err(NameTaken {
                    what: if what == "bridge" {
                        "network interface (wanted for a bridge)"
                    } else {
                        "network interface (wanted for a tap device)"
                    },
                    name: name.clone(),
                    remove: format!("`ip link delete {name}`"),
                }
                .into());
            }
        }
    }
    if nft_table_exists("ip", nft_table)? {
        return Err(NameTaken {
            what: "nftables table",
            name: format!("ip {nft_table}"),
            remove: format!("`nft delete table ip {nft_table}`"),
        }
        .into());
    }
    Ok(())
}

fn ip(args: &[&str]) -> anyhow::Result<()> {
    exec::run(&mut exec::command("ip", args))?;
    Ok(())
}

/// A bridge with no physical port, up, with `address` (the lab's gateway) if given.
pub fn add_bridge(name: &str, address: Option<(IpAddr, u8)>) -> anyhow::Result<()> {
    ip(&["link", "add", "name", name, "type", "bridge"])?;
    if let Some((addr, prefix)) = address {
        ip(&["addr", "add", &format!("{addr}/{prefix}"), "dev", name])?;
    }
    ip(&["link", "set", "dev", name, "up"])
}

/// A tap device for qemu, a port of `bridge`, up.
pub fn add_tap(name: &str, bridge: &str) -> anyhow::Result<()> {
    ip(&["tuntap", "add", "dev", name, "mode", "tap"])?;
    ip(&["link", "set", "dev", name, "master", bridge])?;
    ip(&["link", "set", "dev", name, "up"])
}

pub fn delete_link(name: &str) -> anyhow::Result<()> {
    if !link_exists(name)? {
        return Ok(());
    }
    ip(&["link", "delete", "dev", name])
}

/// The NAT table: traffic from the lab's networks leaving by any other
/// interface than the lab's bridges is masqueraded (so the uplink is
/// whichever the host routes by).
pub fn nat_ruleset(table: &str, sources: &[IpNet], bridges: &[String]) -> String {
    let bridges = bridges
        .iter()
        .map(|b| format!("\"{b}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = format!(
        "table ip {table} {{\n  chain postrouting {{\n    type nat hook postrouting priority srcnat; policy accept;\n"
    );
    for net in sources {
        text.push_str(&format!(
            "    ip saddr {net} oifname != {{ {bridges} }} masquerade\n"
        ));
    }
    text.push_str("  }\n}\n");
    text
}

pub fn add_nft_table(ruleset: &str) -> anyhow::Result<()> {
    exec::run_with_input(
        &mut exec::command("nft", ["-f", "-"]),
        Some(ruleset.as_bytes()),
    )?;
    Ok(())
}

pub fn delete_nft_table(family: &str, name: &str) -> anyhow::Result<()> {
    if !nft_table_exists(family, name)? {
        return Ok(());
    }
    exec::run(&mut exec::command("nft", ["delete", "table", family, name]))?;
    Ok(())
}

fn sysctl_path(key: &str) -> String {
    format!("/proc/sys/{}", key.replace('.', "/"))
}

pub fn read_sysctl(key: &str) -> anyhow::Result<String> {
    let path = sysctl_path(key);
    Ok(std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {path}"))?
        .trim()
        .to_string())
}

pub fn write_sysctl(key: &str, value: &str) -> anyhow::Result<()> {
    let path = sysctl_path(key);
    std::fs::write(&path, format!("{value}\n"))
        .with_context(|| format!("cannot write {value} to {path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_link_names() {
        let text = "1: lo: <LOOPBACK,UP> mtu 65536\n5: veth0@if4: <BROADCAST> mtu 1500\n";
        assert_eq!(parse_link_names(text), ["lo", "veth0"]);
    }

    #[test]
    fn nat_table_masquerades_off_the_bridges() {
        let text = nat_ruleset(
            "aerie_lab",
            &["10.20.0.0/24".parse().unwrap()],
            &["ae-lab-b0".into(), "ae-lab-b1".into()],
        );
        assert!(
            text.contains(
                "ip saddr 10.20.0.0/24 oifname != { \"ae-lab-b0\", \"ae-lab-b1\" } masquerade"
            ),
            "{text}"
        );
    }
}
