//! What a lab is made with: the driver that makes its VMs and the
//! accelerator that runs them. The command line maps its flags onto these;
//! the state file records the driver by its name.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How the VMs are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Driver {
    /// Vagrant with the vagrant-libvirt provider.
    Vagrant,
    /// qemu driven by aerie: bridge, taps, NAT, qcow2 disks, installer boot.
    Qemu,
}

impl Driver {
    pub fn as_str(self) -> &'static str {
        match self {
            Driver::Vagrant => "vagrant",
            Driver::Qemu => "qemu",
        }
    }
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the lab's VMs are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Accel {
    /// Hardware virtualization (/dev/kvm); nested KVM inside the VMs.
    Kvm,
    /// Software emulation: works without KVM, slow, no KVM inside the VMs.
    Tcg,
}

/// How the qemu driver's VMs reach the installer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Boot {
    /// aerie's installer ISO as each VM's CD, its kernel booted directly.
    Iso,
    /// From the network: aerie's boot server (`crate::netboot`, the code of
    /// `aerie pxe serve`) on the lab's management bridge; no CD.
    Pxe,
}

impl Boot {
    pub fn as_str(self) -> &'static str {
        match self {
            Boot::Iso => "iso",
            Boot::Pxe => "pxe",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_file_names_the_driver_as_before() {
        for driver in [Driver::Vagrant, Driver::Qemu] {
            let json = serde_json::to_string(&driver).unwrap();
            assert_eq!(json, format!("\"{}\"", driver.as_str()));
            assert_eq!(serde_json::from_str::<Driver>(&json).unwrap(), driver);
        }
    }
}
