//! The names of the concerns: the reasons aerie touches a host. A profile
//! lists which apply per role; every bundle entry says which one made it.

use serde::{Deserialize, Serialize};

/// A reason aerie touches a host; profiles list which apply per role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Concern {
    /// `intel_iommu=on iommu=pt` (or AMD) on the kernel command line.
    Iommu,
    /// SR-IOV virtual functions through the driver's module options.
    Sriov,
    /// Nested virtualisation in kvm_intel / kvm_amd.
    NestedKvm,
    /// ebtables redirect of 169.254.169.254:80 to the local metadata service.
    MetadataRedirect,
    /// nova-compute's `[pci]` device spec and alias.
    PciPassthrough,
    /// nova-api / scheduler: `[pci] alias` and PciPassthroughFilter.
    PciScheduler,
    /// The flavor that requests the passthrough alias.
    PciFlavor,
    /// eucalyptus.conf VNET_* keys.
    EucalyptusNetwork,
    /// Service restarts after their files changed.
    Services,
}
