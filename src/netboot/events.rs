//! What happens to each node while it boots, as events, and the latest step
//! of each (the tracker). Steps of one install, in order: DHCP seen → iPXE
//! script fetched → kernel → kickstart → install done → first boot.

use serde::Serialize;
use std::collections::BTreeMap;

/// A node's step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    DhcpSeen,
    Script,
    Kernel,
    Kickstart,
    InstallDone,
    FirstBoot,
}

impl Phase {
    pub const ALL: [Phase; 6] = [
        Phase::DhcpSeen,
        Phase::Script,
        Phase::Kernel,
        Phase::Kickstart,
        Phase::InstallDone,
        Phase::FirstBoot,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::DhcpSeen => "dhcp-seen",
            Phase::Script => "script",
            Phase::Kernel => "kernel",
            Phase::Kickstart => "kickstart",
            Phase::InstallDone => "install-done",
            Phase::FirstBoot => "first-boot",
        }
    }

    /// 1..=6, for progress bars.
    pub fn step(self) -> u64 {
        Phase::ALL.iter().position(|p| *p == self).unwrap_or(0) as u64 + 1
    }
}

/// One thing the server saw or did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Seconds since the Unix epoch.
    pub time: u64,
    /// The site's node, when the machine is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// A node's step, or `local-boot` (a machine told to boot its disk), or
    /// `server` (the server's own news).
    pub event: String,
    pub detail: String,
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Event {
    pub fn phase(node: &str, mac: Option<&str>, phase: Phase, detail: impl Into<String>) -> Event {
        Event {
            time: now(),
            node: Some(node.to_string()),
            mac: mac.map(str::to_string),
            event: phase.as_str().to_string(),
            detail: detail.into(),
        }
    }

    pub fn other(
        kind: &str,
        node: Option<&str>,
        mac: Option<&str>,
        detail: impl Into<String>,
    ) -> Event {
        Event {
            time: now(),
            node: node.map(str::to_string),
            mac: mac.map(str::to_string),
            event: kind.to_string(),
            detail: detail.into(),
        }
    }
}

/// Each node's latest step.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Tracker {
    pub nodes: BTreeMap<String, NodeStatus>,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct NodeStatus {
    pub phase: Option<Phase>,
    pub since: u64,
}

impl Tracker {
    pub fn new<'a>(nodes: impl IntoIterator<Item = &'a str>) -> Tracker {
        Tracker {
            nodes: nodes
                .into_iter()
                .map(|n| (n.to_string(), NodeStatus::default()))
                .collect(),
        }
    }

    /// Record `phase` for `node`; false when it says nothing new. DHCP seen
    /// starts a boot, except right after the script or the kernel: that is
    /// the installer's own DHCP, mid-boot.
    pub fn advance(&mut self, node: &str, phase: Phase) -> bool {
        let Some(status) = self.nodes.get_mut(node) else {
            return false;
        };
        let new = match (status.phase, phase) {
            (Some(Phase::Script | Phase::Kernel | Phase::DhcpSeen), Phase::DhcpSeen) => false,
            (old, new) => old != Some(new),
        };
        if new {
            status.phase = Some(phase);
            status.since = now();
        }
        new
    }

    /// Forget a node's steps (it is to be installed again).
    pub fn reset(&mut self, node: &str) {
        if let Some(s) = self.nodes.get_mut(node) {
            *s = NodeStatus::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_advance_and_dhcp_only_starts_a_boot() {
        let mut t = Tracker::new(["n1"]);
        assert!(t.advance("n1", Phase::DhcpSeen));
        assert!(!t.advance("n1", Phase::DhcpSeen));
        assert!(t.advance("n1", Phase::Script));
        assert!(t.advance("n1", Phase::Kernel));
        assert!(
            !t.advance("n1", Phase::DhcpSeen),
            "the installer's own DHCP"
        );
        assert!(t.advance("n1", Phase::Kickstart));
        assert!(
            t.advance("n1", Phase::DhcpSeen),
            "a new boot after a failed install"
        );
        assert!(t.advance("n1", Phase::Script));
        assert!(t.advance("n1", Phase::Kickstart));
        assert!(t.advance("n1", Phase::InstallDone));
        assert!(t.advance("n1", Phase::FirstBoot));
        assert!(!t.advance("nobody", Phase::Script));
        assert_eq!(Phase::FirstBoot.step(), 6);
        let json = serde_json::to_string(&Event::phase("n1", None, Phase::DhcpSeen, "x")).unwrap();
        assert!(json.contains("\"event\":\"dhcp-seen\""), "{json}");
        assert!(!json.contains("mac"), "{json}");
    }
}
