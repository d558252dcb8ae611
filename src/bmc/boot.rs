//! `aerie bmc boot` on one node: with `--iso URL`, eject every virtual-media
//! slot that holds media, insert the ISO by URL into a CD/DVD slot and read it
//! back; set the one-time boot override (always with
//! `BootSourceOverrideEnabled: Once` beside the target, as some BMCs require)
//! and read it back, sending it once more if the BMC did not keep it; then
//! restart the system (or power it on). What differs by make of BMC comes
//! from the quirks table.

use super::client::Redfish;
use super::error::BmcError;
use super::power::{self, PowerOp};
use super::quirks::{MediaHome, Quirk};
use super::system::{self, System};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// What the node boots once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Media {
    /// This ISO, by URL, in a virtual CD.
    Iso(String),
    /// The network (PXE).
    Pxe,
}

/// Boot the node once from `media`; `step` says where it is. Returns what was done.
pub fn boot(
    client: &Redfish,
    system: &System,
    quirk: &Quirk,
    media: &Media,
    step: &dyn Fn(&str),
) -> Result<Vec<String>, BmcError> {
    let mut did = Vec::new();
    let mut system = system.clone();
    let target = match media {
        Media::Iso(url) => {
            if quirk.power_off_before_insert && system.power != "Off" {
                step("power off (this BMC inserts media only when off)");
                did.extend(power::apply(client, &system, PowerOp::Off)?);
                wait_for_power(client, &mut system, "Off", Duration::from_secs(60))?;
                client.note(format!("powered off before insert ({})", quirk.why));
            }
            step("eject virtual media");
            let slots = media_slots(client, &system, quirk)?;
            let ejected = eject_all(client, &slots)?;
            if ejected > 0 {
                did.push(format!("ejected {ejected}"));
            }
            step("insert the ISO");
            let slot = cd_slot(&slots).ok_or_else(|| {
                BmcError::Protocol("the BMC has no virtual CD or DVD slot".to_string())
            })?;
            insert(client, slot, url)?;
            did.push(format!("inserted into {}", last(&slot.path)));
            quirk.cd_target.clone()
        }
        Media::Pxe => quirk.pxe_target.clone(),
    };
    step("set boot once");
    set_once(client, &system, quirk, &target)?;
    did.push(format!("boot once {target}"));
    step("reset");
    let fresh = system::find_again(client, &system)?;
    did.extend(power::apply(client, &fresh, PowerOp::Cycle)?);
    Ok(did)
}

/// One virtual-media slot.
#[derive(Debug, Clone)]
struct Slot {
    path: String,
    body: Value,
}

fn last(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The slots of the collection the quirk names first, else of the other.
fn media_slots(client: &Redfish, system: &System, quirk: &Quirk) -> Result<Vec<Slot>, BmcError> {
    let on_system = || system.virtual_media.clone();
    let on_manager = || -> Result<Option<String>, BmcError> {
        for manager in &system.managers {
            let body = client.get(manager)?;
            if let Some(id) = body["VirtualMedia"]["@odata.id"].as_str() {
                return Ok(Some(id.to_string()));
            }
        }
        Ok(None)
    };
    let collection = match quirk.virtual_media {
        MediaHome::System => match on_system() {
            Some(c) => Some(c),
            None => on_manager()?,
        },
        MediaHome::Manager => match on_manager()? {
            Some(c) => Some(c),
            None => on_system(),
        },
    };
    let collection = collection.ok_or_else(|| {
        BmcError::Protocol(
            "the BMC lists no VirtualMedia, under the system or its managers: it cannot boot an ISO by URL (try --pxe)"
                .to_string(),
        )
    })?;
    system::members(client, &collection)?
        .into_iter()
        .map(|path| {
            let body = client.get(&path)?;
            Ok(Slot { path, body })
        })
        .collect()
}

fn action(slot: &Slot, name: &str) -> String {
    slot.body["Actions"][format!("#VirtualMedia.{name}")]["target"]
        .as_str()
        .map_or_else(
            || format!("{}/Actions/VirtualMedia.{name}", slot.path),
            str::to_string,
        )
}

fn holds_media(body: &Value) -> bool {
    body["Inserted"].as_bool() == Some(true)
}

/// Eject what every slot holds; how many were ejected.
fn eject_all(client: &Redfish, slots: &[Slot]) -> Result<usize, BmcError> {
    let mut n = 0;
    for slot in slots.iter().filter(|s| holds_media(&s.body)) {
        client.post(&action(slot, "EjectMedia"), &json!({}))?;
        n += 1;
    }
    Ok(n)
}

fn cd_slot(slots: &[Slot]) -> Option<&Slot> {
    slots.iter().find(|s| {
        s.body["MediaTypes"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| matches!(t.as_str(), Some("CD" | "DVD")))
    })
}

/// Insert the ISO and read the slot back.
fn insert(client: &Redfish, slot: &Slot, url: &str) -> Result<(), BmcError> {
    client.post(
        &action(slot, "InsertMedia"),
        &json!({ "Image": url, "Inserted": true, "WriteProtected": true }),
    )?;
    let back = client.get(&slot.path)?;
    if back["Image"].as_str() != Some(url) || !holds_media(&back) {
        return Err(BmcError::Protocol(format!(
            "the BMC accepted the ISO but its slot {} reads Image {}, Inserted {}",
            last(&slot.path),
            back["Image"],
            back["Inserted"]
        )));
    }
    Ok(())
}

/// PATCH the one-time override and read it back; once more if the BMC did
/// not keep it.
fn set_once(
    client: &Redfish,
    system: &System,
    quirk: &Quirk,
    target: &str,
) -> Result<(), BmcError> {
    let body = json!({ "Boot": {
        "BootSourceOverrideTarget": target,
        "BootSourceOverrideEnabled": "Once",
    }});
    let mut seen = String::new();
    for attempt in 1..=2 {
        if attempt == 2 {
            client.count_retry();
            client.note(format!(
                "the BMC did not keep the boot override ({seen}); sent it again"
            ));
        }
        client.patch(&system.path, &body)?;
        let back = client.get(&system.path)?;
        let got_target = back["Boot"]["BootSourceOverrideTarget"]
            .as_str()
            .unwrap_or("");
        let got_enabled = back["Boot"]["BootSourceOverrideEnabled"]
            .as_str()
            .unwrap_or("");
        if got_target == target && quirk.once_reads_back_as.iter().any(|e| e == got_enabled) {
            if got_enabled != "Once" {
                client.note(format!(
                    "the override reads back as {got_enabled} ({})",
                    quirk.why
                ));
            }
            return Ok(());
        }
        seen = format!("it reads BootSourceOverrideTarget {got_target:?}, BootSourceOverrideEnabled {got_enabled:?}");
    }
    Err(BmcError::Protocol(format!(
        "the BMC accepted the one-time boot override to {target} twice but ignores it: {seen}; \
         update its firmware, or set the boot order on its console"
    )))
}

/// Poll the system until its power reads `want`.
fn wait_for_power(
    client: &Redfish,
    system: &mut System,
    want: &str,
    limit: Duration,
) -> Result<(), BmcError> {
    let start = Instant::now();
    loop {
        let body = client.get(&system.path)?;
        system.power = system::power_state(&body);
        if system.power == want {
            return Ok(());
        }
        if start.elapsed() > limit {
            return Err(BmcError::Protocol(format!(
                "the system still reads power {} after {} s, not {want}",
                system.power,
                limit.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
