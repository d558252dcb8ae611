//! Host concerns: one file each, every one a pure function that adds the
//! files, edits, actions and reboot reasons of its concern to a bundle.

mod eucalyptus;
mod family;
pub mod iommu;
mod metadata_redirect;
pub mod nested_kvm;
mod pci_flavor;
mod pci_passthrough;
mod pci_scheduler;
mod services;
mod sriov;

/// nova's PCI passthrough values, shared with Kolla's config overrides.
pub mod pci {
    pub use super::pci_passthrough::{alias_value, spec_value};
    pub use super::pci_scheduler::FILTER;
}

use crate::bundle::{BundleFile, Concern, Edit, FileEdit, HostBundle};
use crate::profile::{Profile, RoleSpec};
use crate::site::{Node, Site};

/// What every concern reads.
pub struct Ctx<'a> {
    pub site: &'a Site,
    pub node: &'a Node,
    pub profile: &'a Profile,
    pub role: &'a RoleSpec,
}

/// The bundle for one node: a pure function of the site, node and profile.
pub fn bundle_for(site: &Site, node: &Node, profile: &Profile) -> HostBundle {
    let role = profile.role_on(node.role, site.site.distro);
    let ctx = Ctx {
        site,
        node,
        profile,
        role: &role,
    };
    let mut bundle = HostBundle {
        hostname: node.hostname.to_string(),
        role: node.role,
        files: Vec::new(),
        edits: Vec::new(),
        actions: Vec::new(),
        units: Vec::new(),
        reboot_required: Vec::new(),
    };
    for concern in &role.concerns {
        let add = match concern {
            Concern::Iommu => iommu::add,
            Concern::Sriov => sriov::add,
            Concern::NestedKvm => nested_kvm::add,
            Concern::MetadataRedirect => metadata_redirect::add,
            Concern::PciPassthrough => pci_passthrough::add,
            Concern::PciScheduler => pci_scheduler::add,
            Concern::PciFlavor => pci_flavor::add,
            Concern::EucalyptusNetwork => eucalyptus::add,
            Concern::Services => continue,
        };
        add(&ctx, &mut bundle);
    }
    services::add(&ctx, &mut bundle);
    bundle
}

/// The bundle for every node of the site, in site order.
pub fn bundles(site: &Site) -> Vec<HostBundle> {
    let profile = Profile::built_in(site.site.profile);
    bundles_with(site, &profile)
}

/// The bundles with a given profile (tests use variants of the built-in ones).
pub fn bundles_with(site: &Site, profile: &Profile) -> Vec<HostBundle> {
    site.nodes
        .iter()
        .map(|node| bundle_for(site, node, profile))
        .collect()
}

/// A root-owned whole file.
pub fn root_file(path: &str, mode: u32, content: String, concern: Concern) -> BundleFile {
    debug_assert!(content.is_empty() || content.ends_with('\n'), "{path}");
    BundleFile {
        path: path.to_string(),
        mode,
        owner: "root".to_string(),
        group: "root".to_string(),
        content,
        concern,
    }
}

/// An edit of a shared file; `group` owns the file if aerie must create it.
pub fn edit(path: &str, edit: Edit, mode: u32, group: &str, concern: Concern) -> FileEdit {
    FileEdit {
        path: path.to_string(),
        edit,
        mode,
        owner: "root".to_string(),
        group: group.to_string(),
        concern,
    }
}

/// The header aerie puts on files it owns.
pub fn header(ctx: &Ctx, what: &str) -> String {
    format!(
        "# Written by aerie for {} (site {}): {what}.\n# aerie owns this file; local changes are replaced on the next delivery.\n",
        ctx.node.hostname, ctx.site.site.name
    )
}
