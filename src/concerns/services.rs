//! Service restarts: a service restarts only when one of its files changed in
//! this delivery (the profile says which files belong to which services).

use super::{Concern, Ctx};
use crate::bundle::{Action, HostBundle, Stage, Trigger};
use std::collections::BTreeMap;

pub fn add(ctx: &Ctx, bundle: &mut HostBundle) {
    let paths = bundle.paths();
    let mut by_service: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (file, services) in &ctx.role.restart {
        if !paths.contains(&file.as_str()) {
            continue;
        }
        for s in services {
            by_service.entry(s).or_default().push(file.clone());
        }
    }
    for (service, paths) in by_service {
        bundle.actions.push(Action {
            argv: vec![
                "systemctl".into(),
                "try-restart".into(),
                service.to_string(),
            ],
            trigger: Trigger::Changed { paths },
            stage: Stage::Running,
            concern: Concern::Services,
        });
    }
}
