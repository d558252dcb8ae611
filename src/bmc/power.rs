//! `aerie bmc power on|off|cycle|status` on one node.

use super::client::Redfish;
use super::error::BmcError;
use super::system::{self, System};

/// What to do with the power.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerOp {
    On,
    Off,
    Cycle,
    Status,
}

impl PowerOp {
    pub fn as_str(self) -> &'static str {
        match self {
            PowerOp::On => "on",
            PowerOp::Off => "off",
            PowerOp::Cycle => "cycle",
            PowerOp::Status => "status",
        }
    }
}

/// Power on (nothing when on already), off (forced), cycle (a forced
/// restart, a power cycle, or off then on: the first the BMC allows; a system
/// that is off is powered on), or only read the state. Returns what was done.
pub fn apply(client: &Redfish, system: &System, op: PowerOp) -> Result<Vec<String>, BmcError> {
    let on = system.power == "On";
    let plan: Vec<&[&str]> = match (op, on) {
        (PowerOp::Status, _) | (PowerOp::On, true) => vec![],
        (PowerOp::Off, false) => vec![],
        (PowerOp::On, false) | (PowerOp::Cycle, false) => vec![&["On", "ForceOn"]],
        (PowerOp::Off, true) => vec![&["ForceOff"]],
        (PowerOp::Cycle, true) => {
            match system::reset_type(&system.reset_types, &["ForceRestart", "PowerCycle"]) {
                Some(_) => vec![&["ForceRestart", "PowerCycle"]],
                None => vec![&["ForceOff"], &["On", "ForceOn"]],
            }
        }
    };
    let mut did = Vec::new();
    for wanted in plan {
        let kind = system::reset_type(&system.reset_types, wanted).ok_or_else(|| {
            BmcError::Protocol(format!(
                "the BMC allows none of the resets {} (it allows {})",
                wanted.join(", "),
                system.reset_types.join(", ")
            ))
        })?;
        system::reset(client, system, kind)?;
        did.push(format!("reset {kind}"));
    }
    Ok(did)
}
