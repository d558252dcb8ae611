//! The nodes: host name, role, install disk, the management interface with
//! the next free address suggested, and which device attaches to each other
//! network. Each answer is checked by `validate`'s rules against the nodes
//! already given.

use super::networks::Answered;
use super::parse::{field, ip};
use super::{ask, defaults, rules};
use crate::site::fields::Name;
use crate::site::{Interface, Network, Node, Purpose, Role, Settings};
use std::net::IpAddr;

pub fn ask(
    settings: &Settings,
    networks: &[Answered],
    existing: &[Node],
) -> anyhow::Result<Vec<Node>> {
    let nets: Vec<Network> = networks.iter().map(|a| a.network.clone()).collect();
    ask::items(
        "node",
        existing,
        |n| format!("{} ({})", n.hostname, n.role.as_str()),
        |done: &[Node]| {
            (!done.iter().any(|n| n.role == Role::Frontend))
                .then(|| "The site needs a frontend node (exactly one).".to_string())
        },
        |done| done.len() < 2,
        |done, old| ask_one(settings, networks, &nets, done, old),
    )
}

fn default_hostname(prior: &[Node]) -> String {
    let taken = |name: &str| prior.iter().any(|n| n.hostname.as_str() == name);
    if prior.is_empty() && !taken("fe1") {
        return "fe1".to_string();
    }
    (1..)
        .map(|i| format!("node{i}"))
        .find(|name| !taken(name))
        .expect("some nodeN is free")
}

/// The interface an old node had on the network now answered as `net`.
fn old_interface<'a>(old: Option<&'a Node>, net: &Answered) -> Option<&'a Interface> {
    let name = net.old_name.as_deref()?;
    old?.interfaces.iter().find(|i| i.network.as_str() == name)
}

fn ask_one(
    settings: &Settings,
    networks: &[Answered],
    nets: &[Network],
    prior: &[Node],
    old: Option<&Node>,
) -> anyhow::Result<Node> {
    let i = prior.len();
    let key = format!("nodes[{i}]");
    let before = rules::partial(settings, nets, prior);
    let with = |node: &Node| {
        let mut nodes = prior.to_vec();
        nodes.push(node.clone());
        rules::partial(settings, nets, &nodes)
    };
    // Errors at `field_key`, and errors the answer causes elsewhere (a DHCP
    // range that now contains a node address).
    let check = |node: &Node, field_key: &str| {
        rules::new_errors(&before, &with(node), |k| {
            rules::under(k, field_key) || k.ends_with(".dhcp-range")
        })
    };
    let mut node = Node {
        hostname: "x".parse().expect("a valid host name"),
        role: Role::Compute,
        install_disk: None,
        ssh: old.and_then(|o| o.ssh.clone()),
        interfaces: Vec::new(),
        bmc: None,
    };

    let hostname_key = format!("{key}.hostname");
    node.hostname = ask::value(
        "Host name",
        Some(old.map_or_else(|| default_hostname(prior), |o| o.hostname.to_string())),
        &|s| {
            let mut candidate = node.clone();
            candidate.hostname = field(s)?;
            check(&candidate, &hostname_key)?;
            Ok(candidate.hostname)
        },
    )?;
    let has_frontend = prior.iter().any(|n| n.role == Role::Frontend);
    node.role = ask::choose(
        &format!("Role of {}", node.hostname),
        &[
            (
                Role::Frontend,
                "frontend (cloud controller; exactly one)".to_string(),
            ),
            (Role::Compute, "compute (runs instances)".to_string()),
        ],
        old.map_or(
            if has_frontend {
                Role::Compute
            } else {
                Role::Frontend
            },
            |o| o.role,
        ),
    )?;
    // Only a kickstart installs to a disk; Debian nodes are installed outside aerie.
    if settings.distro.installs_by_kickstart() {
        node.install_disk = ask::optional(
            &format!(
                "Disk to install {} on (e.g. sda, nvme0n1; `none` if it is only reached over SSH)",
                node.hostname
            ),
            match old {
                Some(o) => o.install_disk.as_ref().map(ToString::to_string),
                None => Some("sda".to_string()),
            },
            &field,
        )?;
    }

    let mut management_done = false;
    for net in networks {
        let n = &net.network;
        let was = old_interface(old, net);
        let k = node.interfaces.len();
        let ikey = format!("{key}.interfaces[{k}]");
        let questions = InterfaceQuestions {
            node: &node,
            n,
            was,
            prior,
            ikey: &ikey,
            check: &check,
        };
        if n.purpose == Purpose::Management && !management_done {
            management_done = true;
            let iface = questions.management()?;
            node.interfaces.push(iface);
            continue;
        }
        let attach_default = match old {
            Some(_) => was.is_some(),
            None => n.purpose == Purpose::Instances && k == 1,
        };
        if !ask::yes(
            &format!("Attach {} to {}{}?", node.hostname, n.name, vlan_note(n)),
            attach_default,
        )? {
            continue;
        }
        let iface = questions.attached()?;
        node.interfaces.push(iface);
    }
    let bmc_key = format!("{key}.bmc");
    node.bmc = super::bmc::ask(
        &node,
        old.and_then(|o| o.bmc.as_ref()),
        &bmc_key,
        &|n, k| check(n, k),
    )?;
    Ok(node)
}

fn vlan_note(n: &Network) -> String {
    match n.vlan {
        Some(vlan) => format!(" (VLAN {vlan}, {})", n.cidr),
        None => format!(" ({})", n.cidr),
    }
}

fn addresses(nodes: &[Node]) -> Vec<IpAddr> {
    nodes
        .iter()
        .flat_map(|n| n.interfaces.iter().filter_map(|i| i.address))
        .collect()
}

/// What the questions about one interface see: the node so far, the
/// network, the node's interface there before (when editing), the nodes
/// asked before it, the interface's key and the check of an answer.
#[derive(Clone, Copy)]
struct InterfaceQuestions<'a> {
    node: &'a Node,
    n: &'a Network,
    was: Option<&'a Interface>,
    prior: &'a [Node],
    ikey: &'a str,
    check: &'a dyn Fn(&Node, &str) -> Result<(), String>,
}

impl InterfaceQuestions<'_> {
    /// The address the interface had, or the network's next one that no
    /// node before it, the gateway or the DHCP range takes.
    fn suggested_address(&self) -> Option<IpAddr> {
        let taken = addresses(self.prior);
        self.was.and_then(|w| w.address).or_else(|| {
            defaults::next_free(
                &self.n.cidr,
                self.n.gateway,
                &taken,
                self.n.dhcp_range.as_slice(),
            )
        })
    }

    /// The interface on the management network: device, MAC and address.
    fn management(&self) -> anyhow::Result<Interface> {
        let network: Name = self.n.name.clone();
        let mut iface = Interface {
            network,
            device: None,
            mac: None,
            address: None,
        };
        let attempt = |iface: &Interface, key: &str| {
            let mut candidate = self.node.clone();
            candidate.interfaces.push(iface.clone());
            (self.check)(&candidate, key)
        };
        iface.device = ask::optional(
            &format!(
                "Management device of {} on {} (`none` to go by MAC only)",
                self.node.hostname, self.n.name
            ),
            match self.was {
                Some(w) => w.device.as_ref().map(ToString::to_string),
                None => Some("eth0".to_string()),
            },
            &|s| field(s),
        )?;
        let mac_key = format!("{}.mac", self.ikey);
        iface.mac = ask::optional(
            "MAC address of that device (kickstart matches by MAC; empty or `none`: match by device)",
            self.was.and_then(|w| w.mac.as_ref()).map(ToString::to_string),
            &|s| {
                let mut candidate = iface.clone();
                candidate.mac = Some(field(s)?);
                attempt(&candidate, &mac_key)?;
                Ok(candidate.mac.expect("set above"))
            },
        )?;
        if iface.device.is_none() && iface.mac.is_none() {
            // Neither given: validate's rule says what is missing; ask for the MAC again.
            let reason = attempt(&iface, self.ikey).err().unwrap_or_default();
            ask::note(&format!("  {reason}"));
            iface.mac = Some(ask::value(
                "MAC address of the management device",
                None,
                &|s| {
                    let mut candidate = iface.clone();
                    candidate.mac = Some(field(s)?);
                    attempt(&candidate, &mac_key)?;
                    Ok(candidate.mac.expect("set above"))
                },
            )?);
        }
        let address_key = format!("{}.address", self.ikey);
        let suggested = self.suggested_address();
        iface.address = Some(ask::value(
            &format!(
                "Address of {} on {} ({})",
                self.node.hostname, self.n.name, self.n.cidr
            ),
            suggested.map(|a| a.to_string()),
            &|s| {
                let mut candidate = iface.clone();
                candidate.address = Some(ip(s)?);
                attempt(&candidate, &address_key)?;
                Ok(candidate.address.expect("set above"))
            },
        )?);
        Ok(iface)
    }

    /// An interface on a network other than the first management one, once
    /// attached: its device and, off an instances network, its address.
    fn attached(&self) -> anyhow::Result<Interface> {
        let mut iface = Interface {
            network: self.n.name.clone(),
            device: None,
            mac: self.was.and_then(|w| w.mac.clone()),
            address: self.was.and_then(|w| w.address),
        };
        iface.device = ask::optional(
            &format!(
                "Device of {} on {} (VLANs may share a device)",
                self.node.hostname, self.n.name
            ),
            Some(self.was.map_or_else(
                || "eth1".to_string(),
                |w| w.device.as_ref().map_or(String::new(), ToString::to_string),
            ))
            .filter(|d| !d.is_empty()),
            &|s| {
                let mut candidate = self.node.clone();
                let mut attached = iface.clone();
                attached.device = Some(field(s)?);
                candidate.interfaces.push(attached.clone());
                (self.check)(&candidate, self.ikey)?;
                Ok(attached.device.expect("set above"))
            },
        )?;
        if self.n.purpose != Purpose::Instances {
            let suggested = self.suggested_address();
            let address_key = format!("{}.address", self.ikey);
            iface.address = ask::optional(
                &format!(
                    "Address of {} on {} (`none` for no address)",
                    self.node.hostname, self.n.name
                ),
                suggested.map(|a| a.to_string()),
                &|s| {
                    let mut candidate = self.node.clone();
                    let mut attached = iface.clone();
                    attached.address = Some(ip(s)?);
                    candidate.interfaces.push(attached.clone());
                    (self.check)(&candidate, &address_key)?;
                    Ok(attached.address.expect("set above"))
                },
            )?;
        }
        Ok(iface)
    }
}
