//! What aerie knows about SR-IOV drivers: which module option carries the
//! number of virtual functions, and how many the driver allows.

/// One SR-IOV capable driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SriovDriver {
    /// The kernel module, as `lsmod` names it.
    pub module: &'static str,
    /// The module option that sets the number of VFs.
    pub count_option: &'static str,
    /// The most VFs the driver accepts.
    pub max_vfs: u32,
    /// Whether the driver has `probe_vf` (VFs the host itself binds).
    pub has_probe_vf: bool,
}

/// Drivers whose VF count is a module option (set in /etc/modprobe.d).
pub const DRIVERS: &[SriovDriver] = &[
    // mlx4: MLX4_MAX_NUM_VF in drivers/net/ethernet/mellanox/mlx4/main.c
    SriovDriver {
        module: "mlx4_core",
        count_option: "num_vfs",
        max_vfs: 126,
        has_probe_vf: true,
    },
    SriovDriver {
        module: "ixgbe",
        count_option: "max_vfs",
        max_vfs: 63,
        has_probe_vf: false,
    },
    SriovDriver {
        module: "igb",
        count_option: "max_vfs",
        max_vfs: 7,
        has_probe_vf: false,
    },
];

/// The driver with this module name.
pub fn lookup(module: &str) -> Option<&'static SriovDriver> {
    DRIVERS.iter().find(|d| d.module == module)
}

/// The known module names, for messages.
pub fn names() -> String {
    DRIVERS
        .iter()
        .map(|d| d.module)
        .collect::<Vec<_>>()
        .join(", ")
}
