//! `aerie status`: one row per node; changes nothing anywhere.

use super::reach;
use crate::cli::{OutputFormat, StatusArgs};
use crate::exit::{Reported, UsageError, HOSTS_FAILED};
use crate::frontend::Frontend;
use crate::profile::Profile;
use crate::register::listing::{self, Listed, NodeNames, Seen};
use crate::site::{Role, Site};
use crate::ssh::{Connection, Pins};
use crate::status::cloud::{Cloud, Service};
use crate::status::{self, Job, Row};

pub fn run(args: &StatusArgs) -> anyhow::Result<()> {
    let (site, profile) = super::load(&args.site)?;
    let nodes = crate::apply::select::nodes(&site, &args.nodes, None)
        .map_err(|e| UsageError(e.0.replace("--hosts", "--nodes")))?;
    let mut jobs = Vec::new();
    for node in &nodes {
        let target = reach::target(&site, node)?;
        jobs.push(Job {
            host: node.hostname.to_string(),
            role: node.role.as_str().to_string(),
            address: reach::address(&target),
            target,
            bundle: crate::concerns::bundle_for(&site, node, &profile),
        });
    }
    // Status never pins a key: unknown keys are reported, not trusted.
    let pins = reach::pins(&args.reach, false)?;
    let opts = reach::options(&args.reach);
    let mut rows = status::look(
        &site,
        jobs,
        &opts,
        &pins,
        &args.facts_root,
        args.reach.parallel as usize,
    );
    let (note, cloud_note) = from_the_cloud(&site, &profile, &pins, &opts, &mut rows);

    let install = install_state(&args.pxe_dir, &rows);
    match args.reach.output {
        OutputFormat::Json => {
            let mut out = serde_json::json!({
                "nodes": rows,
                "registered_error": note,
                "cloud_error": cloud_note,
            });
            if let Some(install) = &install {
                out["install"] = serde_json::to_value(install)?;
            }
            println!("{}", serde_json::to_string_pretty(&out)?)
        }
        OutputFormat::Text => {
            print!(
                "{}",
                status::table::text(&rows, note.as_deref(), cloud_note.as_deref())
            );
            if let Some(install) = &install {
                println!("install (aerie pxe, {}):", args.pxe_dir.display());
                for i in install {
                    println!(
                        "  {:<12} {:<12} installed: {}",
                        i.node,
                        i.step.unwrap_or("-"),
                        if i.installed { "yes" } else { "no" }
                    );
                }
            }
        }
    }
    if rows.iter().all(Row::healthy) {
        Ok(())
    } else {
        Err(Reported(HOSTS_FAILED).into())
    }
}

/// A node's network install, as `aerie pxe serve` left it.
#[derive(serde::Serialize)]
struct Install {
    node: String,
    step: Option<&'static str>,
    installed: bool,
}

/// The install state of these rows' nodes, when `dir` holds a boot server's status.
fn install_state(dir: &std::path::Path, rows: &[Row]) -> Option<Vec<Install>> {
    let state = crate::netboot::StateDir::new(dir);
    let tracker = state.read_status()?;
    Some(
        rows.iter()
            .filter_map(|r| {
                let s = tracker.nodes.get(&r.host)?;
                Some(Install {
                    node: r.host.clone(),
                    step: s.phase.map(crate::netboot::Phase::as_str),
                    installed: state.is_installed(&r.host),
                })
            })
            .collect(),
    )
}

/// Fill `registered` and the cloud column for compute rows from the frontend's
/// listings (the profile's `registered` one, and its `wait-up` service listing:
/// one call each for every node), or say why not: (registered's note, the cloud
/// column's note).
fn from_the_cloud(
    site: &Site,
    profile: &Profile,
    pins: &Pins,
    opts: &crate::ssh::Options,
    rows: &mut [Row],
) -> (Option<String>, Option<String>) {
    if !rows.iter().any(|r| r.role == Role::Compute.as_str()) {
        return (None, None);
    }
    let listings = match listings(site, profile, pins, opts) {
        Ok(l) => l,
        Err(e) => return (Some(e.clone()), Some(e)),
    };
    let (hypervisors, services) = listings;
    for row in rows.iter_mut().filter(|r| r.role == Role::Compute.as_str()) {
        let node = site.node(&row.host).expect("rows come from the site");
        let names = NodeNames {
            hostname: row.host.clone(),
            fqdn: format!("{}.{}", row.host, site.site.domain),
            address: node
                .management_address(site)
                .map_or_else(|| row.address.clone(), |a| a.to_string()),
        };
        let listed = hypervisors
            .as_ref()
            .ok()
            .map(|l| matches!(l.seen(&names), Seen::Yes { .. }));
        row.registered = listed;
        let (service, service_state) = match services.as_ref().map(|s| s.as_ref().ok()) {
            Some(Some(l)) => match l.seen(&names) {
                Seen::Yes { .. } => (Some(Service::Up), None),
                Seen::NotYet { state, .. } => (Some(Service::Down), Some(state)),
                Seen::Absent => (Some(Service::Absent), None),
            },
            _ => (None, None),
        };
        row.cloud = Some(Cloud::Compute {
            service,
            service_state,
            hypervisor_listed: listed,
        });
    }
    let registered_note = hypervisors.as_ref().err().cloned();
    let cloud_note = registered_note
        .clone()
        .or_else(|| services.and_then(Result::err));
    (registered_note, cloud_note)
}

type Listing = Result<Listed, String>;

/// The frontend's two listings: what the cloud knows (hypervisors), and its
/// compute services when the profile has such a listing.
fn listings(
    site: &Site,
    profile: &Profile,
    pins: &Pins,
    opts: &crate::ssh::Options,
) -> Result<(Listing, Option<Listing>), String> {
    let spec = profile
        .registration
        .as_ref()
        .ok_or("the profile has no registration data")?;
    let variant = spec
        .variant(&profile.release)
        .ok_or("the profile has no registration commands for its release")?;
    let fe_node = site.frontend().ok_or("the site has no single frontend")?;
    let target = reach::target(site, fe_node).map_err(|e| e.to_string())?;
    let conn = Connection::open(&target, opts, pins)
        .map_err(|e| format!("cannot ask the frontend {}: {e}", fe_node.hostname))?;
    let fe = Frontend {
        runner: &conn,
        credentials: spec.credentials.clone(),
    };
    let list = |listing: &crate::profile::Listing| -> Listing {
        let ran = fe.run(&listing.argv).map_err(|e| e.to_string())?;
        if !ran.success() {
            return Err(ran.message());
        }
        listing::parse(listing, &ran.output.stdout).map_err(|e| e.to_string())
    };
    let hypervisors = list(&variant.registered);
    let services = variant.wait_up.as_ref().map(list);
    Ok((hypervisors, services))
}
