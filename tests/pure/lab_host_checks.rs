//! `aerie lab up` host checks, run by the real binary on fixture host trees
//! (`AERIE_HOST_ROOT`: /proc, /sys, /dev, /etc read under it): no KVM, nested
//! off (with and without the offered fix), nested on, not enough memory.
//! Every failure names its fix, exits 69, and nothing is made.

use crate::harness;
use harness::{aerie, HostRoot, OutputText};

use std::path::Path;
use std::process::Output;

/// A host state as files.
struct HostTree {
    dir: tempfile::TempDir,
}

impl HostTree {
    fn new(kvm: bool, cpu_flag: &str, nested: Option<&str>, mem_kib: u64) -> HostTree {
        let dir = HostRoot::new()
            .kvm(kvm)
            .cpu_flag(cpu_flag)
            .nested(nested)
            .mem_available_kib(mem_kib)
            .temp();
        HostTree { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }
}

const PLENTY: u64 = HostRoot::PLENTY_KIB;

fn lab_up(host: &HostTree, work: &Path, extra: &[&str]) -> (Output, String) {
    let out = aerie()
        .args(["lab", "up", "--example", "lab", "--dir", "lab"])
        // Small disks unless a test says otherwise: the disk check reads
        // this machine's real free space.
        .args(if extra.contains(&"--disk-gb") {
            &[][..]
        } else {
            &["--disk-gb", "1"][..]
        })
        .args(extra)
        .env("AERIE_HOST_ROOT", host.root())
        .cwd(work)
        .output();
    let text = out.text();
    (out, text)
}

fn assert_nothing_made(work: &Path) {
    assert!(!work.join("lab").exists(), "the lab folder was made");
    assert_eq!(std::fs::read_dir(work).unwrap().count(), 0);
}

#[test]
fn no_kvm_fails_with_remedies_and_makes_nothing() {
    let host = HostTree::new(false, "", None, PLENTY);
    let work = tempfile::tempdir().unwrap();
    let (out, text) = lab_up(&host, work.path(), &["--driver", "qemu", "--iso", "x.iso"]);
    assert_eq!(out.status.code(), Some(69), "{text}");
    assert!(text.contains("neither vmx (Intel VT-x) nor svm"), "{text}");
    assert!(text.contains("/dev/kvm does not exist"), "{text}");
    assert!(text.contains("fix: "), "{text}");
    assert!(text.contains("--accel tcg"), "{text}");
    assert!(text.contains("nothing was made"), "{text}");
    assert_nothing_made(work.path());
}

#[test]
fn nested_off_says_reload_and_makes_nothing() {
    let host = HostTree::new(true, "vmx", Some("N"), PLENTY);
    let work = tempfile::tempdir().unwrap();
    let (out, text) = lab_up(&host, work.path(), &[]);
    assert_eq!(out.status.code(), Some(69), "{text}");
    assert!(text.contains("nested virtualization is off"), "{text}");
    assert!(
        text.contains("modprobe -r kvm_intel && modprobe kvm_intel"),
        "{text}"
    );
    assert!(text.contains("or reboot the host"), "{text}");
    // Not at a terminal and no flag: the fix is only offered, not made.
    assert!(!host.root().join("etc/modprobe.d/kvm-nested.conf").exists());
    assert_nothing_made(work.path());
}

#[test]
fn nested_off_with_the_flag_writes_the_option_and_still_says_reload() {
    let host = HostTree::new(true, "vmx", Some("N"), PLENTY);
    let work = tempfile::tempdir().unwrap();
    let (out, text) = lab_up(&host, work.path(), &["--enable-nested"]);
    assert_eq!(out.status.code(), Some(69), "{text}");
    let conf = std::fs::read_to_string(host.root().join("etc/modprobe.d/kvm-nested.conf")).unwrap();
    assert!(conf.contains("options kvm_intel nested=1\n"), "{conf}");
    assert!(
        text.contains("still OFF until kvm_intel is reloaded"),
        "{text}"
    );
    assert_nothing_made(work.path());
}

#[test]
fn nested_on_passes_the_checks() {
    let host = HostTree::new(true, "vmx", Some("Y"), PLENTY);
    let work = tempfile::tempdir().unwrap();
    // The checks pass; the qemu driver then wants its ISO: a usage error
    // before anything is made.
    let (out, text) = lab_up(&host, work.path(), &["--driver", "qemu"]);
    assert_eq!(out.status.code(), Some(64), "{text}");
    assert!(!text.contains("cannot run the lab"), "{text}");
    assert!(text.contains("give --iso PATH"), "{text}");
    assert_nothing_made(work.path());
}

#[test]
fn not_enough_memory_names_the_numbers_and_the_fix() {
    let host = HostTree::new(true, "vmx", Some("Y"), 4 * 1024 * 1024);
    let work = tempfile::tempdir().unwrap();
    let (out, text) = lab_up(&host, work.path(), &["--driver", "qemu"]);
    assert_eq!(out.status.code(), Some(69), "{text}");
    assert!(
        text.contains("[memory] the lab's VMs need 8192 MiB"),
        "{text}"
    );
    assert!(text.contains("only 4096 MiB are available"), "{text}");
    assert!(text.contains("--memory MIB"), "{text}");
    assert_nothing_made(work.path());
    // Smaller VMs fit.
    let (out, text) = lab_up(
        &host,
        work.path(),
        &["--driver", "qemu", "--memory", "1024"],
    );
    assert_eq!(out.status.code(), Some(64), "{text}");
}

#[test]
fn not_enough_disk_names_the_folder_and_the_fix() {
    let host = HostTree::new(true, "vmx", Some("Y"), PLENTY);
    let work = tempfile::tempdir().unwrap();
    // Three 4 TiB disks: more than this machine has free.
    let (out, text) = lab_up(
        &host,
        work.path(),
        &["--driver", "qemu", "--disk-gb", "4096"],
    );
    assert_eq!(out.status.code(), Some(69), "{text}");
    assert!(
        text.contains("[disk] the VMs' disks may grow to 12582912 MiB"),
        "{text}"
    );
    assert!(text.contains("--disk-gb N"), "{text}");
    assert_nothing_made(work.path());
}

#[test]
fn tcg_without_kvm_warns_loudly() {
    let host = HostTree::new(false, "", None, PLENTY);
    let work = tempfile::tempdir().unwrap();
    let (out, text) = lab_up(&host, work.path(), &["--driver", "qemu", "--accel", "tcg"]);
    assert_eq!(out.status.code(), Some(64), "{text}");
    assert!(text.contains("SOFTWARE EMULATION"), "{text}");
    assert!(text.contains("nested KVM is NOT available"), "{text}");
    assert_nothing_made(work.path());
}

#[test]
fn tcg_is_for_the_qemu_driver_only() {
    let host = HostTree::new(true, "vmx", Some("Y"), PLENTY);
    let work = tempfile::tempdir().unwrap();
    let (out, text) = lab_up(&host, work.path(), &["--accel", "tcg"]);
    assert_eq!(out.status.code(), Some(64), "{text}");
    assert!(text.contains("--driver qemu only"), "{text}");
}

#[test]
fn a_broken_vagrantfile_template_from_templates_is_named_and_nothing_is_left() {
    // `--templates DIR` reaches the vagrant driver: the host passes the
    // checks, and DIR/vagrant/Vagrantfile.j2 (not the built-in one) fails.
    let host = HostTree::new(true, "vmx", Some("Y"), PLENTY);
    let work = tempfile::tempdir().unwrap();
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("vagrant")).unwrap();
    std::fs::write(
        t.path().join("vagrant/Vagrantfile.j2"),
        "# {{ site }}\n\n{{ no_such }}\n",
    )
    .unwrap();
    let (out, text) = lab_up(
        &host,
        work.path(),
        &["--templates", &t.path().to_string_lossy()],
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("template Vagrantfile.j2 line 3: undefined value"),
        "{text}"
    );
    assert!(
        text.contains("everything it had made was removed"),
        "{text}"
    );
    assert_nothing_made(work.path());
}
