//! One `aerie bmc` run: every selected node's BMC at once, at most
//! `parallel` at a time; each node's failure is its own, the others finish.

use super::boot::{self, Media};
use super::client::{Endpoint, Options, Redfish};
use super::error::BmcError;
use super::power::{self, PowerOp};
use super::quirks::Quirks;
use super::system;
use serde::Serialize;
use std::time::Instant;

/// One node's BMC and what to find on it.
#[derive(Debug, Clone)]
pub struct Job {
    pub host: String,
    pub endpoint: Endpoint,
    pub system_id: Option<String>,
}

/// What to do on every node.
#[derive(Debug, Clone)]
pub enum Action {
    Power(PowerOp),
    Boot(Media),
}

/// Told as the run goes (the command draws progress from it).
pub trait Observer: Sync {
    fn started(&self, host: &str);
    fn step(&self, host: &str, what: &str);
    fn finished(&self, result: &NodeResult);
}

/// How one node's BMC fared.
#[derive(Debug, Clone, Serialize)]
pub struct NodeResult {
    pub host: String,
    pub bmc: String,
    pub ok: bool,
    /// The power state read last (`On`, `Off`, …), when the BMC was reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power: Option<String>,
    /// What aerie did, in order.
    pub did: Vec<String>,
    /// Requests (or steps) aerie had to make again.
    pub retries: u32,
    pub seconds: f64,
    /// Retries and quirks met on the way.
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    pub unreachable: bool,
}

pub fn run(
    jobs: Vec<Job>,
    action: &Action,
    quirks: &Quirks,
    options: &Options,
    parallel: usize,
    observer: &dyn Observer,
) -> Vec<NodeResult> {
    crate::pool::fan_out(jobs, parallel, |job| {
        observer.started(&job.host);
        let result = one(&job, action, quirks, options, observer);
        observer.finished(&result);
        result
    })
}

fn one(
    job: &Job,
    action: &Action,
    quirks: &Quirks,
    options: &Options,
    observer: &dyn Observer,
) -> NodeResult {
    let start = Instant::now();
    let mut result = NodeResult {
        host: job.host.clone(),
        bmc: job.endpoint.base.clone(),
        ok: false,
        power: None,
        did: Vec::new(),
        retries: 0,
        seconds: 0.0,
        notes: Vec::new(),
        error: None,
        unreachable: false,
    };
    let client = match Redfish::new(job.endpoint.clone(), options) {
        Ok(client) => client,
        Err(e) => {
            result.error = Some(format!("{e:#}"));
            return result;
        }
    };
    let step = |what: &str| observer.step(&job.host, what);
    let outcome = (|| -> Result<(Vec<String>, String), BmcError> {
        step("log in");
        client.login()?;
        step("find the system");
        let found = system::find(&client, job.system_id.as_deref())?;
        let did = match action {
            Action::Power(op) => power::apply(&client, &found, *op)?,
            Action::Boot(media) => {
                let quirk = quirks.lookup(&found.manufacturer, &found.vendor);
                boot::boot(&client, &found, quirk, media, &step)?
            }
        };
        let power = if did.is_empty() {
            found.power.clone()
        } else {
            system::find_again(&client, &found)?.power
        };
        Ok((did, power))
    })();
    client.logout();
    match outcome {
        Ok((did, power)) => {
            result.ok = true;
            result.did = did;
            result.power = Some(power);
        }
        Err(e) => {
            result.unreachable = e.unreachable();
            result.error = Some(e.to_string());
        }
    }
    result.retries = client.retries();
    result.notes = client.notes();
    result.seconds = start.elapsed().as_secs_f64();
    result
}
