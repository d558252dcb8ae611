//! The metadata redirect on compute nodes: instances reach 169.254.169.254:80
//! on their own host. The rule goes in only when `ebtables --check` says it is
//! absent (ebtables lists it differently from how it is written, so text
//! comparison is wrong), and a unit the bundle carries restores it at boot.

use super::{Concern, Ctx};
use crate::bundle::{Action, HostBundle, Stage, Trigger};

pub const UNIT: &str = "aerie-metadata-redirect.service";

/// The rule, after `ebtables -t nat -I|--check`.
pub const RULE: &[&str] = &[
    "PREROUTING",
    "-p",
    "ipv4",
    "--ip-dst",
    "169.254.169.254",
    "--ip-proto",
    "tcp",
    "--ip-dport",
    "80",
    "-j",
    "redirect",
    "--redirect-target",
    "ACCEPT",
];

fn argv(op: &str) -> Vec<String> {
    ["ebtables", "-t", "nat", op]
        .iter()
        .chain(RULE)
        .map(|s| s.to_string())
        .collect()
}

/// The persistence unit: the same check-then-insert at every boot.
pub fn unit_text(ctx: &Ctx) -> String {
    let check = argv("--check").join(" ");
    let insert = argv("-I").join(" ");
    format!(
        "{}[Unit]\nDescription=aerie: redirect instance metadata requests (169.254.169.254:80) to this host\nAfter=network-pre.target\nBefore=network.target\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c '{check} || {insert}'\n\n[Install]\nWantedBy=multi-user.target\n",
        super::header(ctx, "the metadata redirect rule at boot")
    )
}

pub fn add(ctx: &Ctx, bundle: &mut HostBundle) {
    if !ctx.site.features.metadata_redirect {
        return;
    }
    let path = format!("/etc/systemd/system/{UNIT}");
    bundle.files.push(super::root_file(
        &path,
        0o644,
        unit_text(ctx),
        Concern::MetadataRedirect,
    ));
    bundle.units.push(UNIT.to_string());
    bundle.actions.push(Action::new(
        &["systemctl", "enable", UNIT],
        Trigger::unless(&["systemctl", "is-enabled", "--quiet", UNIT]),
        Stage::Install,
        Concern::MetadataRedirect,
    ));
    bundle.actions.push(Action {
        argv: argv("-I"),
        trigger: Trigger::Unless {
            check: argv("--check"),
        },
        stage: Stage::Running,
        concern: Concern::MetadataRedirect,
    });
}
