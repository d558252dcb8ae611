//! Cross-field rules for one answer, checked by `validate` itself: the wizard
//! builds the site as it would be with the answer in place, runs
//! `validate::check`, and keeps the errors about the key being asked that the
//! site without the answer did not have. One rule book for the wizard and
//! `aerie validate`.

use crate::site::validate::{check, Context};
use crate::site::{Features, Finding, Network, Node, Settings, Severity, Site};

/// A site assembled from the answers given so far.
pub fn partial(settings: &Settings, networks: &[Network], nodes: &[Node]) -> Site {
    Site {
        site: settings.clone(),
        networks: networks.to_vec(),
        features: Features::default(),
        netboot: None,
        nodes: nodes.to_vec(),
    }
}

/// The errors `after` has and `before` has not, among the keys `about` picks,
/// as one message for the prompt.
pub fn new_errors(before: &Site, after: &Site, about: impl Fn(&str) -> bool) -> Result<(), String> {
    let old = check(before, &Context::default());
    message(
        check(after, &Context::default())
            .into_iter()
            .filter(|f| about(&f.problem.what) && !old.contains(f)),
    )
}

/// The errors `site` has at `key` or under it (`key.x`, `key[0]`).
pub fn errors_at(site: &Site, key: &str) -> Result<(), String> {
    message(
        check(site, &Context::default())
            .into_iter()
            .filter(|f| under(&f.problem.what, key)),
    )
}

fn message(findings: impl Iterator<Item = Finding>) -> Result<(), String> {
    let errors: Vec<String> = findings
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}; {}", f.problem.message, f.problem.fix))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n  "))
    }
}

/// Whether finding key `k` is `key` or lies under it.
pub fn under(k: &str, key: &str) -> bool {
    k == key
        || k.strip_prefix(key)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_under_a_prefix() {
        assert!(under("networks[1].gateway", "networks[1].gateway"));
        assert!(under("networks[1].dhcp-range[0]", "networks[1].dhcp-range"));
        assert!(!under("networks[10].gateway", "networks[1]"));
        assert!(under("networks[1].gateway", "networks[1]"));
    }
}
