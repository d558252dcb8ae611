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

pub fn text(rows: &[Row], frontend_note: Option<&str>) -> String {
    let mut out = format!(
        "{:<12} {:<16} {:<9} {:<9} {:<7} {:<7} {}\n",
        "HOST", "ADDRESS", "REACHABLE", "HOST KEY", "IN SYNC", "REBOOT", "REGISTERED"
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
            "{:<12} {:<16} {:<9} {:<9} {:<7} {:<7} {}",
            r.host,
            r.address,
            if r.reachable { "yes" } else { "NO" },
            key,
            yes_no(r.in_sync),
            reboot,
            yes_no(r.registered)
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
        if let Some(e) = &r.error {
            let _ = writeln!(out, "    error: {e}");
        }
    }
    if let Some(note) = frontend_note {
        let _ = writeln!(out, "registered: {note}");
    }
    let healthy = rows.iter().filter(|r| r.healthy()).count();
    let _ = writeln!(out, "{} node(s): {healthy} as they should be", rows.len());
    out
}
