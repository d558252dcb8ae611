//! What a lab VM's serial console says of its first boot: the `aerie:` lines
//! the cidata volume's first boot prints (see `crate::iso::cidata`). Pure.

/// The first boot's outcome as far as the console tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Converge {
    /// No `aerie:` outcome yet (booting, installing packages, converging).
    Pending,
    /// `aerie: converged`, no reboot asked.
    Converged,
    /// `aerie: converged` and a reboot required: converged once it rebooted.
    Rebooting,
    /// `aerie: converge FAILED` or the volume refused (another node's).
    Failed,
}

impl Converge {
    pub fn as_str(self) -> &'static str {
        match self {
            Converge::Pending => "pending",
            Converge::Converged => "converged",
            Converge::Rebooting => "rebooting",
            Converge::Failed => "FAILED",
        }
    }
}

/// Read the console. A reboot asked for counts as done once a kernel has
/// started after the notice (its `Command line:`).
pub fn read(console: &str) -> Converge {
    let mut state = Converge::Pending;
    for line in console.lines() {
        if line.contains("aerie: converge FAILED")
            || line.contains("aerie: this cidata volume is for")
        {
            state = Converge::Failed;
        } else if line.contains("aerie: converged on ") {
            state = Converge::Converged;
        } else if line.contains("aerie: reboot required") && state == Converge::Converged {
            state = Converge::Rebooting;
        } else if line.contains("Command line: ") && state == Converge::Rebooting {
            state = Converge::Converged;
        }
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_first_boot() {
        let boot = "[    0.000000] Command line: BOOT_IMAGE=/vmlinuz root=UUID=x\n";
        assert_eq!(read(boot), Converge::Pending);
        let done = format!("{boot}aerie: converged on /var/lib/aerie/bundle.json\n");
        assert_eq!(read(&done), Converge::Converged);
        let asks = format!("{done}aerie: reboot required (/run/aerie/reboot-required): rebooting when cloud-init is done\n");
        assert_eq!(read(&asks), Converge::Rebooting);
        let again = format!(
            "{asks}[    0.000000] Command line: BOOT_IMAGE=/vmlinuz intel_iommu=on iommu=pt\n"
        );
        assert_eq!(read(&again), Converge::Converged);
        assert_eq!(
            read("aerie: converge FAILED (exit 1): see the lines above\n"),
            Converge::Failed
        );
        assert_eq!(
            read(
                "aerie: this cidata volume is for fe1 (MAC 52:54:00:44:50:10), not this machine\n"
            ),
            Converge::Failed
        );
    }
}
