//! Which nodes a run touches: all, those named with `--hosts`, or one `--role`.

use crate::exit::UsageError;
use crate::site::{Node, Role, Site};

/// The selected nodes in site order; an unknown name is a usage error naming it.
pub fn nodes<'a>(
    site: &'a Site,
    hosts: &[String],
    role: Option<Role>,
) -> Result<Vec<&'a Node>, UsageError> {
    let unknown: Vec<&str> = hosts
        .iter()
        .map(String::as_str)
        .filter(|h| site.node(h).is_none())
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = site.nodes.iter().map(|n| n.hostname.as_str()).collect();
        return Err(UsageError(format!(
            "--hosts names {} not in the site; its nodes are: {}",
            unknown.join(", "),
            known.join(", ")
        )));
    }
    let picked: Vec<&Node> = site
        .nodes
        .iter()
        .filter(|n| hosts.is_empty() || hosts.iter().any(|h| h == n.hostname.as_str()))
        .filter(|n| role.is_none_or(|r| n.role == r))
        .collect();
    if picked.is_empty() {
        return Err(UsageError(
            "no node of the site matches --hosts/--role".to_string(),
        ));
    }
    Ok(picked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab() -> Site {
        crate::site::load::from_str(crate::site::examples::get("lab").unwrap(), "lab").unwrap()
    }

    #[test]
    fn all_by_default_then_by_name_and_role() {
        let site = lab();
        assert_eq!(nodes(&site, &[], None).unwrap().len(), 3);
        let names = |v: Vec<&Node>| v.iter().map(|n| n.hostname.to_string()).collect::<Vec<_>>();
        assert_eq!(
            names(nodes(&site, &["node2".into(), "fe1".into()], None).unwrap()),
            ["fe1", "node2"]
        );
        assert_eq!(
            names(nodes(&site, &[], Some(Role::Compute)).unwrap()),
            ["node1", "node2"]
        );
    }

    #[test]
    fn unknown_names_are_named() {
        let err = nodes(&lab(), &["nope".into(), "fe1".into()], None).unwrap_err();
        assert!(
            err.0.contains("nope") && err.0.contains("node1"),
            "{}",
            err.0
        );
    }
}
