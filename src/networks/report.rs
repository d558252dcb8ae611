//! `aerie networks`' results as text (the JSON form is the [`Report`] itself).

use super::{NetworkReport, Report, Status};
use std::fmt::Write;

fn label(s: Status) -> &'static str {
    match s {
        Status::Created => "created",
        Status::Present => "present",
        Status::Missing => "missing (--check)",
        Status::Differs => "DIFFERS",
        Status::Failed => "FAILED",
    }
}

/// One network's lines.
pub fn network_text(n: &NetworkReport) -> String {
    let mut out = format!(
        "{:<14} {} (subnet {}, {})\n",
        n.network,
        label(n.status),
        n.subnet,
        n.key
    );
    let verb = if n.status == Status::Missing {
        "would run"
    } else {
        "ran"
    };
    for c in &n.commands {
        let _ = writeln!(out, "    {verb}: {c}");
    }
    for d in &n.differences {
        let _ = writeln!(
            out,
            "    {}: the site says {}, the cloud has {}",
            d.field, d.site, d.cloud
        );
        let _ = writeln!(out, "      fix: {}", d.fix);
    }
    if let Some(e) = &n.error {
        let _ = writeln!(out, "    error: {}", e.replace('\n', "\n      "));
    }
    out
}

/// The whole run: the networks, then one summary line.
pub fn text(r: &Report) -> String {
    let mut out = String::new();
    for n in &r.networks {
        out.push_str(&network_text(n));
    }
    if let Some(e) = &r.error {
        let _ = writeln!(out, "error: {e}");
    }
    let count = |s: Status| r.networks.iter().filter(|n| n.status == s).count();
    let _ = writeln!(
        out,
        "{} network(s) on physnet {}: {} created, {} present, {} missing, {} differ, {} failed ({} openstack commands)",
        r.networks.len(),
        r.physnet,
        count(Status::Created),
        count(Status::Present),
        count(Status::Missing),
        count(Status::Differs),
        count(Status::Failed),
        r.calls
    );
    out
}
