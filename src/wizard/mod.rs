//! `aerie init`'s questions: the site asked for section by section, each
//! answer checked on the spot by the site's field types and `validate`'s
//! rules, then shown for review. Without a terminal, `answers` takes a
//! partial site file instead.

pub mod answers;
mod ask;
pub mod bmc;
mod defaults;
mod features;
mod netboot;
mod networks;
mod nodes;
mod parse;
mod password;
pub mod review;
mod rules;
mod settings;
mod ssh_keys;

use crate::site::Site;

/// Whether there is a terminal to ask on: input from it, prompts drawn on
/// standard error.
pub fn can_ask() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Ask for a whole site; `base` (the file being edited) gives the defaults.
pub fn ask_site(base: Option<&Site>) -> anyhow::Result<Site> {
    ask::note("The site: cloud software, names and services");
    let settings = settings::ask(base.map(|b| &b.site))?;
    ask::note("Networks (the first management network carries installs and SSH)");
    let networks = networks::ask(&settings, base.map_or(&[][..], |b| &b.networks))?;
    ask::note("Nodes");
    let nodes = nodes::ask(&settings, &networks, base.map_or(&[][..], |b| &b.nodes))?;
    let nets: Vec<_> = networks.into_iter().map(|a| a.network).collect();
    let mut site = rules::partial(&settings, &nets, &nodes);
    ask::note("Host features");
    site.features = features::ask(&site, base.map(|b| &b.features))?;
    site.netboot = netboot::ask(&site, base.and_then(|b| b.netboot.as_ref()))?;
    Ok(site)
}

/// Show the site and ask whether to write it.
pub fn confirm(site: &Site, output: &std::path::Path) -> anyhow::Result<bool> {
    ask::note("");
    ask::note(&review::yaml(site));
    ask::yes(&format!("Write this site to {}?", output.display()), true)
}
