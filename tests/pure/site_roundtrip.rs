//! Every built-in example survives load -> to_yaml -> load unchanged: what
//! `aerie init` writes reads back as the same site.

use aerie::site::{examples, load};

#[test]
fn every_example_round_trips_through_yaml() {
    for (name, _, text) in examples::EXAMPLES {
        let site = load::from_str(text, name).unwrap();
        let yaml = load::to_yaml(&site);
        let again = load::from_str(&yaml, name)
            .unwrap_or_else(|e| panic!("example {name} does not reload:\n{e}\n{yaml}"));
        assert_eq!(
            site, again,
            "example {name} changed in the round trip:\n{yaml}"
        );
    }
}
