//! `aerie status`: where every node stands, changing nothing. Per node, over
//! its own SSH session (host keys checked, never pinned): reachable, host key,
//! bundle in sync (the bundle's converge plan over the SSH file reader finds
//! no difference), reboot required (the running kernel lacks what the bundle
//! set up: IOMMU arguments, nested KVM; or `aerie apply` left its mark,
//! `/run/aerie/reboot-required`, and the host has not booted since), why
//! its first boot stopped (the `aerie:` line a Debian node's cloud-init
//! script left in `/var/lib/aerie/first-boot-failed`), and, from the
//! frontend's listing, registered with the cloud; the cloud column (`cloud.rs`):
//! a compute node's service up and hypervisor listed, the frontend's deployed
//! marker.

pub mod cloud;
pub mod table;

use crate::bundle::converge::{self, HostFiles};
use crate::bundle::Concern;
use crate::bundle::HostBundle;
use crate::concerns::iommu;
use crate::pool;
use crate::preflight::facts::{self, Facts};
use crate::site::{Iommu, Site};
use crate::ssh::read::{self, ReadRequest};
use crate::ssh::{Connection, Options, Pins, SshError, Target};
use serde::Serialize;

/// The host key as the pins see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostKey {
    /// The host showed the pinned key.
    Pinned,
    /// The host showed another key than the pinned one.
    Changed,
    /// No key is pinned for the host.
    Unknown,
    /// Not reached: the key was not seen.
    Unchecked,
}

/// One node's row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub host: String,
    pub address: String,
    pub role: String,
    pub reachable: bool,
    pub host_key: HostKey,
    /// No bundle file differs (None: not checked).
    pub in_sync: Option<bool>,
    /// The files that differ from the bundle.
    pub drift: Vec<String>,
    pub reboot_required: Option<bool>,
    pub reboot_reasons: Vec<String>,
    /// Known to the cloud (compute nodes; None: not applicable or not known).
    pub registered: Option<bool>,
    /// Why the node's first boot stopped before converging (or how its
    /// converge failed), as it said on the console; absent when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_boot: Option<String>,
    /// What the cloud says of the node (None: not known; see the report's
    /// `cloud_error`).
    pub cloud: Option<cloud::Cloud>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Row {
    /// Everything as it should be.
    pub fn healthy(&self) -> bool {
        self.reachable
            && self.host_key == HostKey::Pinned
            && self.in_sync == Some(true)
            && self.reboot_required == Some(false)
            && self.registered != Some(false)
            && self.first_boot.is_none()
            && self.error.is_none()
            && !(self.role == "compute" && self.registered.is_none())
            && !self.cloud.as_ref().is_some_and(cloud::Cloud::faulty)
    }
}

/// One node to look at.
pub struct Job {
    pub host: String,
    pub role: String,
    pub target: Target,
    pub address: String,
    pub bundle: HostBundle,
}

/// Look at every node (at most `parallel` at a time); rows in job order.
pub fn look(
    site: &Site,
    jobs: Vec<Job>,
    opts: &Options,
    pins: &Pins,
    facts_root: &str,
    parallel: usize,
) -> Vec<Row> {
    pool::fan_out(jobs, parallel, |job| {
        look_at(site, &job, opts, pins, facts_root)
    })
}

/// One node's row: unreachable or its key refused, or what it holds.
fn look_at(site: &Site, job: &Job, opts: &Options, pins: &Pins, facts_root: &str) -> Row {
    let mut row = Row {
        host: job.host.clone(),
        address: job.address.clone(),
        role: job.role.clone(),
        reachable: false,
        host_key: HostKey::Unchecked,
        in_sync: None,
        drift: Vec::new(),
        reboot_required: None,
        reboot_reasons: Vec::new(),
        registered: None,
        first_boot: None,
        cloud: None,
        error: None,
    };
    let conn = match Connection::open(&job.target, opts, pins) {
        Ok(c) => c,
        Err(e) => {
            (row.reachable, row.host_key) = match &e {
                SshError::Unreachable { .. } => (false, HostKey::Unchecked),
                SshError::ChangedHostKey { .. } => (true, HostKey::Changed),
                SshError::UnknownHostKey { .. } => (true, HostKey::Unknown),
                _ => (true, HostKey::Pinned),
            };
            row.error = Some(e.to_string());
            return row;
        }
    };
    look_reached(site, job, &conn, facts_root, &mut row);
    row
}

/// A reached node: in sync (its files and the plan), the frontend's
/// deployed marker, reboot required (its kernel's facts, aerie's mark) and
/// why its first boot stopped. A read that fails is the row's error.
fn look_reached(site: &Site, job: &Job, conn: &Connection, facts_root: &str, row: &mut Row) {
    row.reachable = true;
    row.host_key = HostKey::Pinned;
    // The bundle's files and the reboot mark (the frontend: and the deployed
    // marker), in one round trip.
    let frontend = job.role == crate::site::Role::Frontend.as_str();
    let mut paths = job.bundle.paths();
    paths.push(converge::REBOOT_MARKER);
    paths.push(converge::FIRST_BOOT_MARK);
    if frontend {
        paths.push(crate::site::deployed::PATH);
    }
    let state = read::read(
        conn,
        &ReadRequest {
            paths: &paths,
            ..Default::default()
        },
    );
    match state.as_ref().map(|s| converge::plan(&job.bundle, s)) {
        Ok(Ok(plan)) => {
            row.drift = plan.changed().map(|f| f.path.clone()).collect();
            row.in_sync = Some(row.drift.is_empty());
        }
        Ok(Err(e)) => row.error = Some(e.to_string()),
        Err(e) => row.error = Some(e.to_string()),
    }
    let state = state.ok();
    if frontend {
        match state.as_ref().map(|s| s.read(crate::site::deployed::PATH)) {
            Some(Ok(marker)) => row.cloud = Some(cloud::Cloud::frontend(marker.as_deref())),
            Some(Err(e)) => {
                row.error = Some(format!("cannot read {}: {e}", crate::site::deployed::PATH))
            }
            None => {}
        }
    }
    let mut reasons = Vec::new();
    let known = match facts::read(conn, facts_root, &[]) {
        Ok(f) => {
            reasons = reboot_reasons(site, &job.bundle, &f);
            true
        }
        Err(e) => {
            row.error = Some(e.to_string());
            false
        }
    };
    // The mark aerie left when it changed what needs a reboot (gone once booted).
    match state.as_ref().map(|s| s.read(converge::REBOOT_MARKER)) {
        Some(Ok(Some(marker))) => reasons.extend(marked(&marker)),
        Some(Ok(None)) | None => {}
        Some(Err(e)) => row.error = Some(format!("cannot read {}: {e}", converge::REBOOT_MARKER)),
    }
    // The first boot's own word on why it stopped.
    match state.as_ref().map(|s| s.read(converge::FIRST_BOOT_MARK)) {
        Some(Ok(Some(mark))) => {
            let text = String::from_utf8_lossy(&mark).trim().to_string();
            row.first_boot = Some(text);
        }
        Some(Ok(None)) | None => {}
        Some(Err(e)) => row.error = Some(format!("cannot read {}: {e}", converge::FIRST_BOOT_MARK)),
    }
    row.reboot_required = if !reasons.is_empty() {
        Some(true)
    } else {
        known.then_some(false)
    };
    row.reboot_reasons = reasons;
}

/// The reboot aerie's mark asks for: its reasons, or that it is there.
fn marked(marker: &[u8]) -> Vec<String> {
    let reasons = converge::marker_reasons(marker);
    if reasons.is_empty() {
        return vec![format!("marked in {}", converge::REBOOT_MARKER)];
    }
    reasons
        .into_iter()
        .map(|r| format!("not booted since aerie's change: {r}"))
        .collect()
}

/// What the running system lacks of what the bundle set up.
pub fn reboot_reasons(site: &Site, bundle: &HostBundle, f: &Facts) -> Vec<String> {
    let wants = |c: Concern| bundle.reboot_required.iter().any(|r| r.concern == c);
    let mut out = Vec::new();
    if wants(Concern::Iommu) {
        let args = iommu::kernel_args(site.features.iommu);
        let missing = f.missing_kernel_args(&args);
        if !missing.is_empty() {
            out.push(format!(
                "the running kernel's command line lacks {}",
                missing.join(" ")
            ));
        }
    }
    if wants(Concern::NestedKvm) {
        let modules: &[&str] = match site.features.iommu {
            Iommu::Intel => &["kvm_intel"],
            Iommu::Amd => &["kvm_amd"],
            Iommu::Off => &["kvm_intel", "kvm_amd"],
        };
        for (m, v) in f
            .nested
            .iter()
            .filter(|(m, _)| modules.contains(&m.as_str()))
        {
            if v != "Y" && v != "1" {
                out.push(format!("{m} runs with nested={v}"));
            }
        }
    }
    out
}
