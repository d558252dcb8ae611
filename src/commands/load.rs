//! The one way a command loads its site: validated, its warnings printed
//! once (on stderr), with the profile `--profile FILE` names or, without it,
//! the built-in one the site's `profile:` names.

use crate::cli::SiteArg;
use crate::profile::Profile;
use crate::site::{self, Site};
use anyhow::Context;
use std::path::Path;

/// The site and its profile.
pub fn load(arg: &SiteArg) -> anyhow::Result<(Site, Profile)> {
    let (site, report) = site::load_valid(&arg.source(), &Default::default())?;
    for warning in report.findings.iter() {
        eprintln!("{warning}");
    }
    let profile = match &arg.profile {
        None => Profile::built_in(site.site.profile),
        Some(path) => profile_file(path)?,
    };
    Ok((site, profile))
}

/// A profile file (`--profile FILE`).
pub fn profile_file(path: &Path) -> anyhow::Result<Profile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the profile {}", path.display()))?;
    Profile::parse(&text, &path.display().to_string())
}
