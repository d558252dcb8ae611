//! The one way a command loads its site: validated, its warnings printed
//! once (on stderr), with the profile `--profile FILE` names or, without it,
//! the built-in one the site's `profile:` names.

use crate::cli::SiteArg;
use crate::exit::UsageError;
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
    let missing = profile.missing_debian();
    if !site.site.distro.installs_by_kickstart() && !missing.is_empty() {
        let roles: Vec<&str> = missing.iter().map(|r| r.as_str()).collect();
        return Err(UsageError(format!(
            "site.distro: the profile {} has no `debian` part for {} (the package and service names on {}); add one to each role of the profile, or use a kickstart distro (rocky9, alma9, centos-stream9)",
            profile.name,
            roles.join(", "),
            site.site.distro.as_str()
        ))
        .into());
    }
    Ok((site, profile))
}

/// A command that installs nodes by kickstart refuses a site whose
/// distribution is not installed that way, and says what to do instead.
pub fn kickstart_road(site: &Site, command: &str) -> anyhow::Result<()> {
    if site.site.distro.installs_by_kickstart() {
        return Ok(());
    }
    Err(UsageError(format!(
        "site.distro: {distro} nodes are not installed by kickstart, and `{command}` installs by kickstart. Install {distro} on the nodes yourself, then give each its cloud-init volume (`aerie iso SITE --config-only --cidata --node HOST`: cloud-init writes the bundle and runs `aerie converge`) or configure them over SSH (`aerie apply SITE`); `aerie render` writes their bundles",
        distro = site.site.distro.as_str()
    ))
    .into())
}

/// A profile file (`--profile FILE`).
pub fn profile_file(path: &Path) -> anyhow::Result<Profile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the profile {}", path.display()))?;
    Profile::parse(&text, &path.display().to_string())
}
