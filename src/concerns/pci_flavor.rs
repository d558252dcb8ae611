//! The flavor that requests passthrough devices, created on the frontend only
//! when `openstack flavor show` says it is absent.

use super::{Concern, Ctx};
use crate::bundle::{Action, HostBundle, Stage, Trigger};

pub fn add(ctx: &Ctx, bundle: &mut HostBundle) {
    let Some(sriov) = &ctx.site.features.sriov else {
        return;
    };
    let Some(flavor) = &sriov.flavor else {
        return;
    };
    if sriov.passthrough.is_empty() {
        return;
    }
    let aliases = sriov
        .passthrough
        .iter()
        .map(|p| format!("{}:{}", p.alias, flavor.devices))
        .collect::<Vec<_>>()
        .join(",");
    let name = flavor.name.to_string();
    // The openstack CLI needs the admin credentials the profile's registration
    // names; without them a real cloud answers "Missing value auth-url".
    let with_credentials = |argv: Vec<String>| match ctx
        .profile
        .registration
        .as_ref()
        .and_then(|r| r.credentials.as_deref())
    {
        Some(file) => crate::shell::sourcing(file, &argv),
        None => argv,
    };
    bundle.actions.push(Action {
        argv: with_credentials(vec![
            "openstack".into(),
            "flavor".into(),
            "create".into(),
            name.clone(),
            "--vcpus".into(),
            flavor.vcpus.to_string(),
            "--ram".into(),
            flavor.ram_mb.to_string(),
            "--disk".into(),
            flavor.disk_gb.to_string(),
            "--property".into(),
            format!("pci_passthrough:alias={aliases}"),
        ]),
        trigger: Trigger::Unless {
            check: with_credentials(vec![
                "openstack".into(),
                "flavor".into(),
                "show".into(),
                name,
            ]),
        },
        stage: Stage::Running,
        concern: Concern::PciFlavor,
    });
}
