//! The readable parts of the rendered tree: `actions.txt` per host, `plan.txt`
//! for the site, and the dispatcher's node table.

use crate::bundle::{HostBundle, Profile, Stage, Trigger};
use crate::site::Site;
use serde::Serialize;
use std::fmt::Write;

fn concern(c: crate::host::Concern) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// What aerie does on one host, in order, for a person to read.
pub fn actions_text(bundle: &HostBundle) -> String {
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
                crate::bundle::quote_argv(check)
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
            a.command_line(),
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
    s
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
    let _ = writeln!(
        s,
        "\nks.cfg                 one kickstart for every node: its %pre finds the node by MAC\n                       (or aerie.node=HOSTNAME on the boot line) and includes HOST/ks.cfg\nHOST/ks.cfg            the node's own kickstart (valid on its own, too)\nHOST/bundle.json       the node's bundle, as the SSH road and `aerie converge` read it\nHOST/actions.txt       files, edits, commands and reboot reasons, in order\nHOST/root/PATH         every file the bundle writes; shared files (edits) are shown\n                       applied to an EMPTY file, i.e. only what aerie sets in them"
    );
    s
}

#[derive(Serialize)]
pub struct DispatchNode {
    hostname: String,
    macs: Vec<String>,
}

#[derive(Serialize)]
pub struct DispatchContext {
    site: String,
    nodes: Vec<DispatchNode>,
}

/// The dispatcher's table: every node and its MAC addresses.
pub fn dispatch_context(site: &Site) -> DispatchContext {
    DispatchContext {
        site: site.site.name.to_string(),
        nodes: site
            .nodes
            .iter()
            .map(|n| DispatchNode {
                hostname: n.hostname.to_string(),
                macs: n
                    .interfaces
                    .iter()
                    .filter_map(|i| i.mac.as_ref().map(|m| m.to_string()))
                    .collect(),
            })
            .collect(),
    }
}
