//! `aerie examples`: the built-in example sites.

use crate::site::examples::EXAMPLES;

pub fn run() -> anyhow::Result<()> {
    for (name, description, _) in EXAMPLES {
        println!("{name:<8} {description}");
    }
    Ok(())
}
