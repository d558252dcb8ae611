//! `aerie preflight` against real-sshd test hosts. These machines cannot
//! provide the hardware facts (their /proc and /sys are the test machine's),
//! so each host gets FIXTURES: a directory /srv/facts holding the proc/ and
//! sys/ files a real node would have, and a tmpfs of a chosen size where the
//! profile measures free disk; preflight reads them with --facts-root /srv/facts.
//! The reading itself (one script over SSH) is the real code path.

use crate::apply_support;
use crate::harness::node;
use apply_support::*;
use serde_json::Value;

const ROOT: &str = "/srv/facts";

#[derive(Clone)]
struct Hw {
    flags: &'static str,
    cmdline: &'static str,
    mem_kb: u64,
    iommu: bool,
    nested: Option<&'static str>,
    /// (address, vendor, device, sriov_totalvfs)
    pci: Vec<(&'static str, &'static str, &'static str, Option<u32>)>,
    disk: &'static str,
}

fn good() -> Hw {
    Hw {
        flags: "fpu vme de pse tsc msr pae vmx sse sse2",
        cmdline: "BOOT_IMAGE=(hd0,gpt2)/vmlinuz-5.14.0 root=/dev/mapper/rl-root ro intel_iommu=on iommu=pt",
        mem_kb: 32_778_452,
        iommu: true,
        nested: Some("Y"),
        pci: vec![
            ("0000:00:02.0", "0x8086", "0x3e92", None),
            ("0000:03:00.0", "0x15b3", "0x1003", Some(8)),
        ],
        disk: "100g",
    }
}

fn q(s: &str) -> String {
    shlex::try_quote(s).unwrap().into_owned()
}

/// Lay the fixture tree in the host (inside it: its own namespaces and root).
fn fixture(h: &TestHost, hw: &Hw) {
    let mut sh = format!(
        "set -e; r={ROOT}; mkdir -p $r/proc $r/sys/class/iommu $r/sys/bus/pci/devices $r/var/lib\n"
    );
    sh.push_str(&format!(
        "printf 'processor\\t: 0\\nflags\\t\\t: %s\\n\\nprocessor\\t: 1\\nflags\\t\\t: %s\\n' {f} {f} > $r/proc/cpuinfo\n",
        f = q(hw.flags)
    ));
    sh.push_str(&format!(
        "printf '%s\\n' {} > $r/proc/cmdline\n",
        q(hw.cmdline)
    ));
    sh.push_str(&format!(
        "printf 'MemTotal:       {} kB\\nMemFree:         1000 kB\\n' > $r/proc/meminfo\n",
        hw.mem_kb
    ));
    if hw.iommu {
        sh.push_str("mkdir -p $r/sys/class/iommu/dmar0 $r/sys/class/iommu/dmar1\n");
    }
    if let Some(v) = hw.nested {
        sh.push_str(&format!(
            "mkdir -p $r/sys/module/kvm_intel/parameters && echo {v} > $r/sys/module/kvm_intel/parameters/nested\n"
        ));
    }
    for (addr, vendor, device, vfs) in &hw.pci {
        sh.push_str(&format!(
            "d=$r/sys/bus/pci/devices/{addr}; mkdir -p $d; echo {vendor} > $d/vendor; echo {device} > $d/device\n"
        ));
        if let Some(n) = vfs {
            sh.push_str(&format!("echo {n} > $d/sriov_totalvfs\n"));
        }
    }
    sh.push_str(&format!(
        "mount -t tmpfs -o size={} tmpfs $r/var/lib\n",
        hw.disk
    ));
    h.exec_ok(&sh);
}

fn preflight(
    tb: &Testbed,
    site: &std::path::Path,
    kh: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    lab_aerie(tb, "preflight", site, kh)
        .args(["--facts-root", ROOT])
        .args(extra)
        .output()
}

fn check<'a>(r: &'a Value, host: &str, name: &str) -> &'a Value {
    node(r, host)["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no check {name} on {host}: {r:#}"))
}

fn failed_with(r: &Value, host: &str, name: &str, detail: &str, remedy: &str) {
    let c = check(r, host, name);
    assert_eq!(c["outcome"], "fail", "{host} {name}: {c:#}");
    assert!(
        c["detail"].as_str().unwrap().contains(detail),
        "{host} {name}: {c:#}"
    );
    assert!(
        c["remedy"].as_str().unwrap().contains(remedy),
        "{host} {name}: {c:#}"
    );
}

#[test]
fn passing_nodes_pass_and_each_failure_names_its_remedy() {
    let tb = testbed(6);
    let site = write_site(&tb, &site_yaml(&tb));
    let kh = known_hosts_copy(&tb);
    fixture(
        tb.host(1),
        &Hw {
            mem_kb: 16_000_000,
            ..good()
        },
    );
    fixture(tb.host(2), &good());
    // host3: everything wrong that the operator fixes in the BIOS, the memory, the
    // disk, or with aerie apply and a reboot.
    fixture(
        tb.host(3),
        &Hw {
            flags: "fpu vme de pse tsc msr pae sse sse2",
            cmdline: "BOOT_IMAGE=/vmlinuz ro quiet",
            mem_kb: 2_000_000,
            iommu: false,
            nested: Some("N"),
            pci: vec![("0000:03:00.0", "0x15b3", "0x1003", Some(0))],
            disk: "1g",
        },
    );
    // host4: the kernel asks for the IOMMU but the BIOS has VT-d off; too few VFs.
    fixture(
        tb.host(4),
        &Hw {
            iommu: false,
            pci: vec![("0000:03:00.0", "0x15b3", "0x1003", Some(2))],
            ..good()
        },
    );
    // host5: no adapter of the site's vendor; kvm_intel not loaded.
    fixture(
        tb.host(5),
        &Hw {
            nested: None,
            pci: vec![("0000:00:1f.6", "0x8086", "0x15bb", None)],
            ..good()
        },
    );
    tb.host(6).kill_sshd();

    let out = preflight(
        &tb,
        &site,
        &kh,
        &["--output", "json", "--connect-timeout", "2"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let outcome = |h: &str| node(&r, h)["outcome"].clone();
    assert_eq!(outcome("host1"), "pass", "{r:#}");
    assert_eq!(outcome("host2"), "pass", "{r:#}");
    for h in ["host3", "host4", "host5"] {
        assert_eq!(outcome(h), "fail");
    }
    assert_eq!(outcome("host6"), "unreachable");
    // The frontend gets only memory and disk; compute nodes every check.
    let names = |h: &str| -> Vec<String> {
        node(&r, h)["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["check"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("host1"), ["memory", "disk /var/lib"]);
    assert_eq!(
        names("host2"),
        [
            "cpu virtualization",
            "iommu",
            "sr-iov",
            "memory",
            "disk /var/lib/nova",
            "nested kvm"
        ]
    );
    assert!(check(&r, "host2", "sr-iov")["detail"]
        .as_str()
        .unwrap()
        .contains("0000:03:00.0 [15b3:1003] sriov_totalvfs 8 >= num-vfs 4"));

    failed_with(
        &r,
        "host3",
        "cpu virtualization",
        "no vmx or svm",
        "VT-x / AMD-V (SVM) in the BIOS",
    );
    failed_with(
        &r,
        "host3",
        "iommu",
        "lacks intel_iommu=on iommu=pt",
        "`aerie apply` adds intel_iommu=on iommu=pt to the kernel command line; then reboot",
    );
    failed_with(
        &r,
        "host3",
        "sr-iov",
        "sriov_totalvfs 0",
        "SRIOV_EN=1 NUM_OF_VFS=4",
    );
    failed_with(
        &r,
        "host3",
        "memory",
        "1.9 GiB installed, compute needs 4.0 GiB",
        "add memory",
    );
    failed_with(
        &r,
        "host3",
        "disk /var/lib/nova",
        "needs 40 GiB",
        "mount a larger disk at /var/lib/nova",
    );
    failed_with(
        &r,
        "host3",
        "nested kvm",
        "kvm_intel nested=N",
        "then reboot",
    );
    failed_with(
        &r,
        "host4",
        "iommu",
        "although the kernel command line has intel_iommu=on",
        "enable VT-d in the BIOS/UEFI setup, then reboot",
    );
    failed_with(
        &r,
        "host4",
        "sr-iov",
        "sriov_totalvfs 2 < num-vfs 4",
        "NUM_OF_VFS=4",
    );
    failed_with(
        &r,
        "host5",
        "sr-iov",
        "no PCI device of vendor 15b3",
        "adapter is installed",
    );
    failed_with(&r, "host5", "nested kvm", "kvm_intel is not loaded", "BIOS");
    assert_eq!(check(&r, "host4", "cpu virtualization")["outcome"], "pass");

    // The text table: a row per check, the remedy under each failure.
    let out = preflight(
        &tb,
        &site,
        &kh,
        &["--nodes", "host3,host6", "--connect-timeout", "2"],
    );
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("host3        iommu                  FAIL   not active"),
        "{text}"
    );
    assert!(
        text.contains("remedy: `aerie apply` adds intel_iommu=on"),
        "{text}"
    );
    assert!(
        text.contains(
            "host6        -                      UNREACHABLE cannot connect to 10.44.1.6"
        ),
        "{text}"
    );

    // Only passing nodes: exit 0. Nothing was changed on any host but the fixtures.
    let out = preflight(&tb, &site, &kh, &["--nodes", "host1,host2"]);
    assert!(out.status.success(), "{}", explain(&out));
}
