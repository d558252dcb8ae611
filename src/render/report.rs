//! The readable parts of the rendered tree: `actions.txt` per host, `plan.txt`
//! for the site, and the dispatcher's node table.

use crate::bundle::{HostBundle, Stage, Trigger};
use crate::profile::Profile;
use crate::site::Site;
use serde::Serialize;
use std::fmt::Write;

fn concern(c: crate::bundle::Concern) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// What aerie does on one host, in order, for a person to read.
pub fn actions_text(bundle: &HostBundle) -> Result<String, crate::shell::Unquotable> {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# {} ({}): what aerie delivers, in order.\n",
        bundle.hostname,
        bundle.role.as_str()
    );
    let _ = writeln!(s, "Files aerie owns (written whole):");
    if bundle.files.is_empty() {
        let _ = writeln!(s, "  (none)");
    }
    for f in &bundle.files {
        let _ = writeln!(
            s,
            "  {} {:04o} {}:{}  [{}]",
            f.path,
            f.mode,
            f.owner,
            f.group,
            concern(f.concern)
        );
    }
    let _ = writeln!(
        s,
        "\nEdits of shared files (applied to the host's current file; every other line kept):"
    );
    if bundle.edits.is_empty() {
        let _ = writeln!(s, "  (none)");
    }
    for e in &bundle.edits {
        let _ = writeln!(
            s,
            "  {}: {}  [{}]",
            e.path,
            e.edit.describe(),
            concern(e.concern)
        );
    }
    let _ = writeln!(s, "\nCommands:");
    if bundle.actions.is_empty() {
        let _ = writeln!(s, "  (none)");
    }
    for (i, a) in bundle.actions.iter().enumerate() {
        let when = match &a.trigger {
            Trigger::Changed { paths } => format!("only when {} changed", paths.join(" or ")),
            Trigger::Unless { check } => format!(
                "unless `{}` succeeds (checked first)",
                crate::shell::join(check)?
            ),
        };
        let stage = match a.stage {
            Stage::Install => "also at install time",
            Stage::Running => "on the running host",
        };
        let _ = writeln!(
            s,
            "  {}. {}\n     {when}; {stage}  [{}]",
            i + 1,
            a.command_line()?,
            concern(a.concern)
        );
    }
    if !bundle.units.is_empty() {
        let _ = writeln!(s, "\nUnits enabled: {}", bundle.units.join(", "));
    }
    let _ = writeln!(s, "\nReboot required:");
    if bundle.reboot_required.is_empty() {
        let _ = writeln!(s, "  no");
    }
    for r in &bundle.reboot_required {
        let _ = writeln!(s, "  - {} [{}]", r.reason, concern(r.concern));
    }
    Ok(s)
}

/// The summary of a render.
pub fn plan_text(
    site: &Site,
    profile: &Profile,
    bundles: &[HostBundle],
    options: crate::render::Options,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "aerie plan for site {}: profile {} {}, {}, {} node(s){}\n",
        site.site.name,
        profile.name,
        profile.release,
        site.site.distro.as_str(),
        bundles.len(),
        if options.minimal {
            ", minimal (operating system only)"
        } else {
            ""
        }
    );
    let width = bundles
        .iter()
        .map(|b| b.hostname.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        s,
        "{:width$}  {:8}  {:>5}  {:>5}  {:>7}  reboot",
        "host", "role", "files", "edits", "actions"
    );
    for b in bundles {
        let _ = writeln!(
            s,
            "{:width$}  {:8}  {:>5}  {:>5}  {:>7}  {}",
            b.hostname,
            b.role.as_str(),
            b.files.len(),
            b.edits.len(),
            b.actions.len(),
            if b.reboot_required.is_empty() {
                "no"
            } else {
                "yes"
            }
        );
    }
    if !site.site.distro.installs_by_kickstart() {
        let _ = writeln!(
            s,
            "\nNo kickstarts: {} nodes are installed outside aerie. Give each node its cloud-init\nvolume (`aerie iso SITE --config-only --cidata --node HOST`: cloud-init writes the\nbundle and runs `aerie converge`), or configure running nodes over SSH (`aerie apply SITE`).\nHOST/bundle.json       the node's bundle, as the SSH road and `aerie converge` read it\nHOST/actions.txt       files, edits, commands and reboot reasons, in order\nHOST/root/PATH         every file the bundle writes; shared files (edits) are shown\n                       applied to an EMPTY file, i.e. only what aerie sets in them",
            site.site.distro.as_str()
        );
        return s;
    }
    let _ = writeln!(
        s,
        "\nks.cfg                 one kickstart for every node: its %pre finds the node by MAC\n                       (or aerie.node=HOSTNAME on the boot line) and includes HOST/ks.cfg\nHOST/ks.cfg            the node's own kickstart (valid on its own, too)\nHOST/bundle.json       the node's bundle, as the SSH road and `aerie converge` read it\nHOST/actions.txt       files, edits, commands and reboot reasons, in order\nHOST/root/PATH         every file the bundle writes; shared files (edits) are shown\n                       applied to an EMPTY file, i.e. only what aerie sets in them"
    );
    s
}

#[derive(Serialize)]
pub struct DispatchNode {
    hostname: String,
    role: &'static str,
    macs: Vec<String>,
}

#[derive(Serialize)]
pub struct DispatchContext {
    site: String,
    /// The role the table is restricted to (None: every node).
    role: Option<&'static str>,
    nodes: Vec<DispatchNode>,
    /// Nodes of other roles: recognised by MAC only to say which entry to pick.
    others: Vec<DispatchNode>,
    /// The node installed when neither a MAC nor aerie.node= names one.
    default_node: Option<String>,
    /// Where the per-node kickstarts lie below the media's root ("" or "minimal/").
    media_dir: String,
}

/// Which nodes a dispatcher serves and where it finds their kickstarts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchScope<'a> {
    /// Only nodes of this role (a boot-menu entry per role); None: all.
    pub role: Option<crate::site::Role>,
    /// Per-node kickstarts under this folder of the media ("" = its root).
    pub media_dir: &'a str,
}

fn dispatch_node(n: &crate::site::Node) -> DispatchNode {
    DispatchNode {
        hostname: n.hostname.to_string(),
        role: n.role.as_str(),
        macs: n
            .interfaces
            .iter()
            .filter_map(|i| i.mac.as_ref().map(|m| m.to_string()))
            .collect(),
    }
}

/// The dispatcher's table: every node and its MAC addresses.
pub fn dispatch_context(site: &Site) -> DispatchContext {
    dispatch_context_for(site, DispatchScope::default())
}

/// The dispatcher's table for `scope`. A role with exactly one node (the
/// frontend) installs that node when no MAC matches: "Install Front-End" on an
/// unknown machine makes it the frontend, as the Silvereye CD did.
pub fn dispatch_context_for(site: &Site, scope: DispatchScope<'_>) -> DispatchContext {
    let (nodes, others): (Vec<_>, Vec<_>) = site
        .nodes
        .iter()
        .partition(|n| scope.role.is_none_or(|r| n.role == r));
    let default_node = match (scope.role, nodes.as_slice()) {
        (Some(_), [only]) => Some(only.hostname.to_string()),
        _ => None,
    };
    DispatchContext {
        site: site.site.name.to_string(),
        role: scope.role.map(|r| r.as_str()),
        nodes: nodes.into_iter().map(dispatch_node).collect(),
        others: others.into_iter().map(dispatch_node).collect(),
        default_node,
        media_dir: scope.media_dir.to_string(),
    }
}
