//! The example sites built into the binary (`--example NAME`).

/// (name, one-line description, YAML text)
pub const EXAMPLES: &[(&str, &str, &str)] = &[
    (
        "lab",
        "1 frontend, 2 compute nodes, 2 instance VLANs with external gateways, SR-IOV (mlx4), metadata redirect, nested KVM",
        include_str!("../../examples/lab.yaml"),
    ),
    (
        "eucalyptus",
        "Eucalyptus (MANAGED-NOVLAN): cloud/cluster controller and 2 node controllers, public IP range, AMD IOMMU",
        include_str!("../../examples/eucalyptus.yaml"),
    ),
    (
        "netboot",
        "1 frontend, 2 compute nodes installed from the network by `aerie pxe serve` (netboot: dhcp mode)",
        include_str!("../../examples/netboot.yaml"),
    ),
    (
        "kolla",
        "the lab's hosts with OpenStack 2025.1 in containers by Kolla-Ansible (openvswitch, provider VLANs), a local image registry",
        include_str!("../../examples/kolla.yaml"),
    ),
];

/// The YAML text of the example with this name.
pub fn get(name: &str) -> Option<&'static str> {
    EXAMPLES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, text)| *text)
}

/// The example names, for messages.
pub fn names() -> String {
    EXAMPLES
        .iter()
        .map(|(n, _, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}
