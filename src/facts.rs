//! What a machine's /proc and /sys files say, parsed: one pure parser for
//! the lab's host checks (files read here, under `--host-root`) and for
//! `aerie preflight` and `aerie status` (the same files read on each node
//! by preflight's script over SSH). No I/O here.

/// The CPU's virtualization extension, from its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuVirt {
    /// Intel VT-x (`vmx`): the module is kvm_intel.
    Intel,
    /// AMD-V (`svm`): the module is kvm_amd.
    Amd,
    /// Neither flag.
    None,
}

impl CpuVirt {
    /// `vmx` or `svm` among the CPU's flags.
    pub fn of(flags: &[String]) -> CpuVirt {
        if flags.iter().any(|f| f == "vmx") {
            CpuVirt::Intel
        } else if flags.iter().any(|f| f == "svm") {
            CpuVirt::Amd
        } else {
            CpuVirt::None
        }
    }

    /// The KVM module for this CPU.
    pub fn module(self) -> Option<&'static str> {
        match self {
            CpuVirt::Intel => Some("kvm_intel"),
            CpuVirt::Amd => Some("kvm_amd"),
            CpuVirt::None => None,
        }
    }
}

/// The flags of /proc/cpuinfo's first `flags` line (every CPU has the same).
pub fn cpu_flags(cpuinfo: &str) -> Vec<String> {
    cpuinfo
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(key, _)| key.trim() == "flags")
        .map(|(_, flags)| flags.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// A /proc/meminfo value in KiB: `MemAvailable:   123456 kB`.
pub fn meminfo_kib(meminfo: &str, key: &str) -> Option<u64> {
    meminfo.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// A KVM module's `nested` parameter is on (`Y` or `1`).
pub fn nested_on(value: &str) -> bool {
    matches!(value.trim(), "Y" | "y" | "1")
}

/// The `Available` column (KiB) of `df -Pk`'s second line.
pub fn df_available_kib(df: &str) -> Option<u64> {
    df.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()
}

/// One PCI function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PciDevice {
    /// `0000:03:00.0`.
    pub address: String,
    /// Lower-case hex without `0x`: `15b3`.
    pub vendor: String,
    pub device: String,
    /// `sriov_totalvfs`, when the function is SR-IOV capable.
    pub total_vfs: Option<u32>,
}

/// What a host said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub cpu_flags: Vec<String>,
    pub cmdline: Option<String>,
    pub mem_total_kb: Option<u64>,
    pub iommu_units: Vec<String>,
    /// (module, value) for kvm_intel / kvm_amd when loaded.
    pub nested: Vec<(String, String)>,
    pub pci: Vec<PciDevice>,
    /// (path, free KiB) for each asked path; None when it could not be measured.
    pub disk_free_kb: Vec<(String, Option<u64>)>,
}

impl Facts {
    /// The arguments of `args` that the running kernel's command line lacks.
    pub fn missing_kernel_args<'a>(&self, args: &'a [String]) -> Vec<&'a str> {
        let cmdline = self.cmdline.as_deref().unwrap_or_default();
        let words: Vec<&str> = cmdline.split_whitespace().collect();
        args.iter()
            .map(String::as_str)
            .filter(|a| !words.contains(a))
            .collect()
    }
}

fn hex(s: &str) -> String {
    s.trim().trim_start_matches("0x").to_ascii_lowercase()
}

/// Parse the output of preflight's facts script: `@@section` lines, each
/// followed by the lines of the files it read (cpuinfo's `flags` line,
/// meminfo's `MemTotal:` line, …), each read by the functions above.
pub fn parse(text: &str) -> Facts {
    let mut f = Facts::default();
    let mut section = "";
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("@@") {
            section = name;
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        match section {
            "cpuflags" if f.cpu_flags.is_empty() => f.cpu_flags = cpu_flags(line),
            "cmdline" if !line.trim().is_empty() => f.cmdline = Some(line.trim().to_string()),
            "meminfo" => f.mem_total_kb = f.mem_total_kb.or_else(|| meminfo_kib(line, "MemTotal")),
            "iommu" if !line.trim().is_empty() => f.iommu_units.push(line.trim().to_string()),
            "nested" if words.len() == 2 => {
                f.nested.push((words[0].to_string(), words[1].to_string()))
            }
            "pci" if words.len() >= 3 => f.pci.push(PciDevice {
                address: words[0].to_string(),
                vendor: hex(words[1]),
                device: hex(words[2]),
                total_vfs: words.get(3).and_then(|w| w.parse().ok()),
            }),
            "disk" if !words.is_empty() => f.disk_free_kb.push((
                words[0].to_string(),
                words.get(1).and_then(|w| w.parse().ok()),
            )),
            _ => {}
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(cpuinfo: &str) -> CpuVirt {
        CpuVirt::of(&cpu_flags(cpuinfo))
    }

    #[test]
    fn reads_cpu_flags() {
        assert_eq!(
            flags("processor : 0\nflags\t\t: fpu vme vmx sse\nflags : fpu\n"),
            CpuVirt::Intel
        );
        assert_eq!(flags("flags : fpu svm\n"), CpuVirt::Amd);
        assert_eq!(flags("flags : fpu sse\n"), CpuVirt::None);
        assert_eq!(flags(""), CpuVirt::None);
    }

    #[test]
    fn reads_meminfo_df_and_nested() {
        let m = "MemTotal: 2000 kB\nMemAvailable:    1048576 kB\n";
        assert_eq!(meminfo_kib(m, "MemAvailable"), Some(1048576));
        assert_eq!(meminfo_kib(m, "MemTotal"), Some(2000));
        assert_eq!(meminfo_kib(m, "MemFree"), None);
        let df = "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/vda 100 50 2048 50% /\n";
        assert_eq!(df_available_kib(df), Some(2048));
        assert_eq!(df_available_kib("garbage"), None);
        assert!(nested_on("Y\n") && nested_on("1") && !nested_on("N") && !nested_on("0"));
    }

    #[test]
    fn sections_of_the_facts_script() {
        let text = "@@cpuflags\nflags\t\t: fpu vmx\n@@cmdline\nro iommu=pt\n@@meminfo\nMemTotal:  16314352 kB\n@@nested\nkvm_intel N\n@@pci\n0000:03:00.0 0x15b3 0x1003 8\n@@disk\n/var 2048\n@@end\n";
        let f = parse(text);
        assert_eq!(f.cpu_flags, ["fpu", "vmx"]);
        assert_eq!(f.cmdline.as_deref(), Some("ro iommu=pt"));
        assert_eq!(f.mem_total_kb, Some(16314352));
        assert_eq!(f.nested, [("kvm_intel".to_string(), "N".to_string())]);
        assert_eq!(f.pci[0].vendor, "15b3");
        assert_eq!(f.disk_free_kb, [("/var".to_string(), Some(2048))]);
    }
}
