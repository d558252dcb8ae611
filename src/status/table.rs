//! `aerie status` as a table for people.

use super::{HostKey, Row};
use std::fmt::Write;

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "-",
    }
}

pub fn text(rows: &[Row], frontend_note: Option<&str>, cloud_note: Option<&str>) -> String {
    let mut out = format!(
        "{:<12} {:<16} {:<9} {:<9} {:<7} {:<7} {:<10} {}\n",
        "HOST", "ADDRESS", "REACHABLE", "HOST KEY", "IN SYNC", "REBOOT", "REGISTERED", "CLOUD"
    );
    for r in rows {
        let key = match r.host_key {
            HostKey::Pinned => "pinned",
            HostKey::Changed => "CHANGED",
            HostKey::Unknown => "unknown",
            HostKey::Unchecked => "-",
        };
        let reboot = match r.reboot_required {
            Some(true) => "YES",
            Some(false) => "no",
            None => "-",
        };
        let _ = writeln!(
            out,
            "{:<12} {:<16} {:<9} {:<9} {:<7} {:<7} {:<10} {}",
            r.host,
            r.address,
            if r.reachable { "yes" } else { "NO" },
            key,
            yes_no(r.in_sync),
            reboot,
            yes_no(r.registered),
            r.cloud.as_ref().map_or_else(|| "-".into(), |c| c.cell())
        );
        for path in &r.drift {
            let _ = writeln!(out, "    differs from its bundle: {path}");
        }
        for reason in &r.reboot_reasons {
            let _ = writeln!(out, "    reboot required: {reason}");
        }
        if let Some(f) = &r.first_boot {
            let _ = writeln!(out, "    first boot stopped: {f}");
        }
        for line in r.cloud.iter().flat_map(|c| c.details()) {
            let _ = writeln!(out, "    {line}");
        }
        if let Some(e) = &r.error {
            let _ = writeln!(out, "    error: {e}");
        }
    }
    if let Some(note) = frontend_note {
        let _ = writeln!(out, "registered: {note}");
    }
    if let Some(note) = cloud_note {
        let _ = writeln!(out, "cloud: {note}");
    }
    let healthy = rows.iter().filter(|r| r.healthy()).count();
    let _ = writeln!(out, "{} node(s): {healthy} as they should be", rows.len());
    out
}
