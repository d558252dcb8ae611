//! A node's BMC: whether aerie may drive it over Redfish, then its address,
//! user, system id and TLS pin (each checked by the site's types and
//! `validate`'s rules); its password is asked separately, typed hidden, and
//! kept only in the site's secrets file, never in the site.

use super::ask;
use super::parse::field;
use crate::site::secrets::{BmcPassword, Secrets};
use crate::site::{Bmc, BmcKind, Node, Site};
use dialoguer::theme::ColorfulTheme;
use std::collections::BTreeMap;

/// The `bmc:` of `node`, asked; `check` runs the site's rules on the node as
/// it would be, for the key given.
pub fn ask(
    node: &Node,
    old: Option<&Bmc>,
    key: &str,
    check: &dyn Fn(&Node, &str) -> Result<(), String>,
) -> anyhow::Result<Option<Bmc>> {
    if !ask::yes(
        &format!(
            "Manage {} through its BMC over Redfish (power, boot from virtual media)?",
            node.hostname
        ),
        old.is_some(),
    )? {
        return Ok(None);
    }
    let attempt = |bmc: &Bmc, k: &str| {
        let mut candidate = node.clone();
        candidate.bmc = Some(bmc.clone());
        check(&candidate, k)
    };
    let address_key = format!("{key}.address");
    let address = ask::value(
        &format!("BMC address of {} (https://HOST[:PORT])", node.hostname),
        old.map(|b| b.address.to_string()),
        &|s| field(s),
    )?;
    let user = ask::value(
        "BMC user",
        Some(old.map_or_else(|| "admin".to_string(), |b| b.user.to_string())),
        &|s| field(s),
    )?;
    let mut bmc = Bmc {
        kind: BmcKind::Redfish,
        address,
        user,
        system_id: None,
        tls_fingerprint: None,
    };
    bmc.system_id = ask::optional(
        "Redfish system id (empty: the BMC's only system)",
        old.and_then(|b| b.system_id.as_ref())
            .map(ToString::to_string),
        &|s| {
            let mut candidate = bmc.clone();
            candidate.system_id = Some(field(s)?);
            attempt(&candidate, &format!("{key}.system-id"))?;
            Ok(candidate.system_id.expect("set above"))
        },
    )?;
    if bmc.address.tls() {
        bmc.tls_fingerprint = ask::optional(
            "TLS certificate fingerprint to pin (sha256:…; empty: the system's trusted CAs)",
            old.and_then(|b| b.tls_fingerprint).map(|f| f.to_string()),
            &|s| field(s),
        )?;
    }
    if let Err(reason) = attempt(&bmc, &address_key) {
        ask::note(&format!("  {reason}"));
        return ask(node, Some(&bmc), key, check);
    }
    Ok(Some(bmc))
}

/// The BMC password of every node that has a BMC: kept when the secrets
/// already hold one and the operator says so, else typed hidden, twice. An
/// empty password is left unset (`aerie bmc password` sets it later).
pub fn passwords(site: &Site, known: &Secrets) -> anyhow::Result<BTreeMap<String, BmcPassword>> {
    let mut out = BTreeMap::new();
    for node in &site.nodes {
        let Some(bmc) = &node.bmc else { continue };
        let host = node.hostname.to_string();
        if let Some(old) = known.bmc_password(&host) {
            if ask::yes(&format!("Keep the BMC password of {host}?"), true)? {
                out.insert(host, old.clone());
                continue;
            }
        }
        let typed = zeroize::Zeroizing::new(
            dialoguer::Password::with_theme(&ColorfulTheme::default())
                .with_prompt(format!(
                    "BMC password of {host} ({} at {}; empty: set it later with `aerie bmc password`)",
                    bmc.user, bmc.address
                ))
                .allow_empty_password(true)
                .with_confirmation("Type it again", "the two passwords differ; type it twice again")
                .interact()?,
        );
        if !typed.is_empty() {
            out.insert(host, BmcPassword::new(typed.to_string()));
        }
    }
    Ok(out)
}
