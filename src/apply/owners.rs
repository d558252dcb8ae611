//! The users and groups a delivery gives files to, known on the host before
//! anything is written: the read round trip asks for them, and a host that
//! lacks one (no `nova` group before the OpenStack packages are installed)
//! fails there, with nothing written.

use crate::bundle::converge::Plan;
use crate::bundle::HostBundle;
use std::collections::BTreeSet;

/// Every user and group the bundle names as an owner, once each; root is
/// always there and is left out.
pub fn names(bundle: &HostBundle) -> (Vec<&str>, Vec<&str>) {
    let mut users = BTreeSet::new();
    let mut groups = BTreeSet::new();
    let owners = bundle
        .files
        .iter()
        .map(|f| (&f.owner, &f.group))
        .chain(bundle.edits.iter().map(|e| (&e.owner, &e.group)));
    for (u, g) in owners {
        users.insert(u.as_str());
        groups.insert(g.as_str());
    }
    users.remove("root");
    groups.remove("root");
    (users.into_iter().collect(), groups.into_iter().collect())
}

/// What the plan's new files need that the host lacks, as one message with the
/// fix; `None` when every owner is there. Files that exist keep their owner
/// and need nothing.
pub fn missing(
    plan: &Plan,
    user_known: impl Fn(&str) -> bool,
    group_known: impl Fn(&str) -> bool,
) -> Option<String> {
    let mut lacks: Vec<(String, Vec<&str>)> = Vec::new();
    for f in plan.changed().filter(|f| !f.existed) {
        let needs = [
            (
                "user",
                f.owner.as_str(),
                user_known(&f.owner) || f.owner == "root",
            ),
            (
                "group",
                f.group.as_str(),
                group_known(&f.group) || f.group == "root",
            ),
        ];
        for (kind, name, known) in needs {
            if known {
                continue;
            }
            let what = format!("{kind} {name}");
            match lacks.iter_mut().find(|(w, _)| *w == what) {
                Some((_, paths)) => paths.push(&f.path),
                None => lacks.push((what, vec![&f.path])),
            }
        }
    }
    if lacks.is_empty() {
        return None;
    }
    let list: Vec<String> = lacks
        .iter()
        .map(|(what, paths)| format!("{what} (owner of {})", paths.join(", ")))
        .collect();
    Some(format!(
        "the host has no {}: install the profile's packages (they create {}) or deploy the host \
         first, then apply again; nothing was written on this host",
        list.join(", no "),
        if lacks.len() == 1 { "it" } else { "them" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::converge::PlannedFile;

    fn file(path: &str, group: &str, existed: bool) -> PlannedFile {
        PlannedFile {
            path: path.into(),
            content: Vec::new(),
            mode: 0o640,
            owner: "root".into(),
            group: group.into(),
            existed,
            changed: true,
        }
    }

    #[test]
    fn names_every_missing_owner_of_new_files_once() {
        let plan = Plan {
            files: vec![
                file("/etc/nova/nova.conf", "nova", false),
                file("/etc/nova/other.conf", "nova", false),
                file("/etc/neutron/dhcp_agent.ini", "neutron", true),
                file("/etc/modprobe.d/x.conf", "root", false),
            ],
            actions: Vec::new(),
        };
        let msg = missing(&plan, |_| false, |_| false).unwrap();
        assert_eq!(
            msg,
            "the host has no group nova (owner of /etc/nova/nova.conf, /etc/nova/other.conf): \
             install the profile's packages (they create it) or deploy the host first, then \
             apply again; nothing was written on this host"
        );
        assert_eq!(missing(&plan, |_| false, |g| g == "nova"), None);
    }
}
