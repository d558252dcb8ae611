//! The site as the operator reviews it: the YAML that will be written, with
//! the root password hash elided (a hash is still a secret worth guarding).

use crate::site::{load, Site};

/// What stands in for the password hash in the review.
pub const ELIDED: &str = "<SHA-512 crypt hash, not shown>";

/// The YAML text of `site`, without the password hash.
pub fn yaml(site: &Site) -> String {
    let text = load::to_yaml(site);
    match &site.site.root_password_hash {
        Some(hash) => text.replace(hash.as_str(), ELIDED),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_not_shown() {
        let mut site = load::from_str(crate::site::examples::get("lab").unwrap(), "lab").unwrap();
        let hash = crate::site::fields::PasswordHash::from_password("secret").unwrap();
        site.site.root_password_hash = Some(hash.clone());
        let text = yaml(&site);
        assert!(!text.contains(hash.as_str()));
        assert!(!text.contains("$6$"));
        assert!(text.contains(ELIDED));
    }
}
