//! Proves the test-host harness (tests/support/testbed.rs): real sshd per host, strict
//! host-key checking from the first connection, overlay upper dirs, stand-ins, teardown.
//! Needs root and the tools `scripts/test-deps.sh` installs; a missing one is a failure.

use crate::testbed;

use std::collections::HashSet;
use std::fs;
use std::process::{Command, Output};
use std::time::Instant;

use testbed::{TestHost, Testbed, SETUP_COMMAND};

/// The two tests that leave testbed leftovers on purpose and then sweep them
/// take turns, so neither sweeps the other's leftovers mid-check.
static LEFTOVER_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn ssh(tb: &Testbed, host: &TestHost, remote: &str) -> Output {
    tb.ssh(host).arg(remote).output().expect("run ssh")
}

fn ssh_ok(tb: &Testbed, host: &TestHost, remote: &str) -> String {
    let out = ssh(tb, host, remote);
    assert!(
        out.status.success(),
        "ssh {} {remote:?}: {}\n{}",
        host.name,
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn netns_names() -> HashSet<String> {
    fs::read_dir("/run/netns")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect()
}

fn root_ns_network() -> String {
    let mut s = String::new();
    for args in [
        &["-o", "link", "show"][..],
        &["route", "show", "table", "all"][..],
    ] {
        let out = Command::new("ip").args(args).output().unwrap();
        s += &String::from_utf8_lossy(&out.stdout);
    }
    s
}

#[test]
fn three_hosts_answer_hostname_over_strict_ssh() {
    let root_net_before = root_ns_network();
    let tb = Testbed::new(3).expect("testbed");
    assert_eq!(
        root_ns_network(),
        root_net_before,
        "the root namespace's interfaces and routes are never touched"
    );
    assert_eq!(tb.hosts().len(), 3);
    let known = tb.known_hosts();
    assert_eq!(known.lines().count(), 3, "{known}");
    let mut addrs = HashSet::new();
    let mut keys = HashSet::new();
    for h in tb.hosts() {
        assert!(known.contains(&h.known_hosts_line()));
        assert!(h.host_public_key().starts_with("ssh-ed25519 "));
        addrs.insert(h.addr);
        keys.insert(h.host_public_key());
        assert_eq!(ssh_ok(&tb, h, "hostname").trim(), h.name);
        assert_eq!(h.exec_ok("hostname").trim(), h.name);
    }
    assert_eq!(addrs.len(), 3);
    assert_eq!(keys.len(), 3, "each host has its own host key");
}

#[test]
fn file_written_over_ssh_shows_in_upper_only_on_that_host() {
    let tb = Testbed::new(2).expect("testbed");
    let (a, b) = (tb.host(1), tb.host(2));
    ssh_ok(
        &tb,
        a,
        "mkdir -p /etc/aerie && echo written-by-test > /etc/aerie/probe",
    );
    assert_eq!(
        fs::read_to_string(a.upper.join("etc/aerie/probe")).unwrap(),
        "written-by-test\n"
    );
    assert_eq!(
        fs::read_to_string(a.path("/etc/aerie/probe")).unwrap(),
        "written-by-test\n"
    );
    assert!(!b.path("/etc/aerie/probe").exists());
    assert!(
        a.changed_files().contains(&"etc/aerie/probe".into()),
        "{:?}",
        a.changed_files()
    );
    // SFTP works (aerie's upload path): the OpenSSH sftp client in batch mode.
    let batch = tb.dir().join("sftp-batch");
    let local = tb.dir().join("sftp-local");
    fs::write(&local, "via sftp\n").unwrap();
    fs::write(&batch, format!("put {} /root/via-sftp\n", local.display())).unwrap();
    let out = tb
        .lab_command("sftp")
        .args(["-F", "/dev/null", "-b"])
        .arg(&batch)
        .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
        .arg(format!(
            "-oUserKnownHostsFile={}",
            tb.known_hosts_file().display()
        ))
        .arg("-i")
        .arg(tb.client_key())
        .arg(format!("root@{}", a.addr))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        fs::read_to_string(a.upper.join("root/via-sftp")).unwrap(),
        "via sftp\n"
    );
}

#[test]
fn regenerated_host_key_makes_strict_ssh_fail() {
    let tb = Testbed::new(1).expect("testbed");
    let h = tb.host(1);
    let old_known = tb.known_hosts_file();
    let old_text = fs::read_to_string(&old_known).unwrap();
    ssh_ok(&tb, h, "true");
    let new_line = h.regenerate_host_key();
    assert_ne!(old_text.trim(), new_line);
    // The old pin is refused ...
    let pinned_old = tb.dir().join("known_hosts.old");
    fs::write(&pinned_old, &old_text).unwrap();
    let out = tb
        .lab_command("ssh")
        .args(["-F", "/dev/null", "-T", "-o", "BatchMode=yes"])
        .args(["-o", "StrictHostKeyChecking=yes"])
        .arg(format!("-oUserKnownHostsFile={}", pinned_old.display()))
        .arg("-i")
        .arg(tb.client_key())
        .arg(format!("root@{}", h.addr))
        .arg("true")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("Host key verification failed"), "{err}");
    // ... and the new one works.
    assert_eq!(tb.known_hosts().trim(), new_line);
    assert_eq!(ssh_ok(&tb, h, "hostname").trim(), h.name);
}

#[test]
fn kill_and_start_sshd() {
    let tb = Testbed::new(1).expect("testbed");
    let h = tb.host(1);
    h.kill_sshd();
    assert!(h.sshd_pid().is_none());
    let out = ssh(&tb, h, "true");
    assert!(!out.status.success(), "host is down");
    // exec works without sshd, in fresh namespaces.
    assert_eq!(h.exec_ok("hostname").trim(), h.name);
    h.start_sshd();
    assert_eq!(ssh_ok(&tb, h, "hostname").trim(), h.name);
}

#[test]
fn host_is_confined() {
    let tb = Testbed::new(1).expect("testbed");
    let h = tb.host(1);
    // Capabilities that could reboot or change the machine are gone, over ssh too.
    let bnd = ssh_ok(&tb, h, "grep CapBnd /proc/self/status");
    let bnd = u64::from_str_radix(bnd.split_whitespace().nth(1).unwrap(), 16).unwrap();
    for cap in [
        22, /* sys_boot */
        16, /* sys_module */
        25, /* sys_time */
    ] {
        assert_eq!(
            bnd & (1 << cap),
            0,
            "cap {cap} still in bounding set {bnd:x}"
        );
    }
    assert!(!h
        .exec("reboot -f 2>&1; date -s 2000-01-01")
        .status
        .success());
    // Own PID namespace: only the host's processes are visible; sshd is pid 1.
    let ps = h.exec_ok("ps -e -o pid=,comm=");
    assert!(ps.lines().any(|l| l.trim() == "1 sshd"), "{ps}");
    // Network: only lo and eth0, address on eth0, the lab reachable.
    let addrs = h.exec_ok("ip -o -4 addr show");
    assert!(
        addrs.contains(&format!("eth0    inet {}/22", h.addr)),
        "{addrs}"
    );
    assert_eq!(
        h.exec_ok("ip -o link show | wc -l").trim(),
        "2",
        "only lo and eth0"
    );
    assert_eq!(h.exec_ok("cat /etc/hostname").trim(), h.name);
}

#[test]
fn standin_records_calls() {
    let tb = Testbed::builder()
        .hosts(1)
        .standin("update-grub", "/usr/sbin/update-grub")
        .build()
        .expect("testbed");
    let h = tb.host(1);
    assert!(h.standin_calls("update-grub").is_empty());
    ssh_ok(&tb, h, "update-grub && update-grub --flag 'two words'");
    assert_eq!(
        h.standin_calls("update-grub"),
        vec![vec![], vec!["--flag".to_string(), "two words".to_string()]]
    );
    // Installed at run time as well (this one lands in upper).
    h.install_standin("modprobe", "/usr/sbin/modprobe");
    h.exec_ok("modprobe -r kvm_intel");
    assert_eq!(
        h.standin_calls("modprobe"),
        vec![vec!["-r".to_string(), "kvm_intel".to_string()]]
    );
    // /usr/sbin/modprobe was a symlink to /bin/kmod: replaced inside the host only.
    assert!(h.upper.join("usr/sbin/modprobe").is_file());
    assert!(!h.upper.join("usr/sbin/update-grub").exists());
    assert!(!h.upper.join("usr/bin/kmod").exists());
    // The host's own kmod (in the suite's test root, under the overlay) is untouched.
    assert!(fs::read(h.path("/bin/kmod"))
        .unwrap()
        .starts_with(b"\x7fELF"));
    assert!(h.path("/bin/kmod").starts_with(&h.root));
}

#[test]
fn paths_resolve_inside_the_host_root() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    fs::create_dir_all(root.join("usr/sbin")).unwrap();
    fs::create_dir_all(root.join("bin")).unwrap();
    std::os::unix::fs::symlink("usr/sbin", root.join("sbin")).unwrap();
    std::os::unix::fs::symlink("/bin/kmod", root.join("usr/sbin/modprobe")).unwrap();
    std::os::unix::fs::symlink("../../../..", root.join("usr/sbin/up")).unwrap();
    let r = |p, follow| testbed::resolve_in_root(root, p, follow).unwrap();
    assert_eq!(r("/sbin/modprobe", true), root.join("bin/kmod"));
    assert_eq!(r("/sbin/modprobe", false), root.join("usr/sbin/modprobe"));
    assert_eq!(r("/sbin/new-tool", false), root.join("usr/sbin/new-tool"));
    assert_eq!(r("/usr/sbin/up/etc/passwd", true), root.join("etc/passwd"));
    assert_eq!(r("/../../etc", true), root.join("etc"));
}

#[test]
fn drop_leaves_nothing_behind() {
    let tb = Testbed::new(2).expect("testbed");
    let dir = tb.dir().to_path_buf();
    let mut names: Vec<String> = tb.hosts().iter().map(|h| h.netns.clone()).collect();
    names.push(tb.lab_netns().to_string());
    let pids: Vec<u32> = tb.hosts().iter().filter_map(|h| h.sshd_pid()).collect();
    assert_eq!(pids.len(), 2);
    // A session process left running on a host must go too.
    let h = tb.host(1);
    let mut bg = tb.ssh(h);
    bg.arg("sleep 300 </dev/null >/dev/null 2>&1 &");
    assert!(bg.status().unwrap().success());
    let mounts_before = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(mounts_before.contains(dir.to_str().unwrap()));
    let t0 = Instant::now();
    drop(tb);
    eprintln!("teardown of 2 hosts: {:?}", t0.elapsed());
    let now = netns_names();
    for n in &names {
        assert!(!now.contains(n), "netns {n} left");
    }
    for p in pids {
        assert!(
            !std::path::Path::new(&format!("/proc/{p}")).exists(),
            "pid {p} left"
        );
    }
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(dir.to_str().unwrap()), "mount left");
    assert!(!dir.exists(), "{} left", dir.display());
}

#[test]
fn stale_leftovers_of_dead_process_are_cleaned() {
    let _only_one = LEFTOVER_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    testbed::initial_cleanup();
    // A pid that surely is dead now.
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let id = format!("{dead}x7");
    let lab = format!("aet{id}l");
    let host = format!("aet{id}h1");
    let base = std::env::var_os("AERIE_TESTBED_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/tmp/aerie-testbed".into());
    let dir = base.join(&id);
    let mnt = dir.join("hosts/host1/root");
    fs::create_dir_all(&mnt).unwrap();
    fs::write(dir.join("owner"), format!("{dead} 1")).unwrap();
    for ns in [&lab, &host] {
        assert!(Command::new("ip")
            .args(["netns", "add", ns])
            .status()
            .unwrap()
            .success());
    }
    assert!(Command::new("mount")
        .args(["-t", "tmpfs", "tmpfs"])
        .arg(&mnt)
        .status()
        .unwrap()
        .success());
    let cleaned = testbed::cleanup_stale().expect("cleanup");
    assert!(cleaned.contains(&id), "{cleaned:?}");
    let now = netns_names();
    assert!(!now.contains(&lab) && !now.contains(&host));
    assert!(!dir.exists());
}

#[test]
fn panic_in_a_test_still_tears_down() {
    let cell: std::sync::Mutex<(Option<std::path::PathBuf>, Option<String>)> =
        std::sync::Mutex::new((None, None));
    let r = std::panic::catch_unwind(|| {
        let tb = Testbed::new(1).expect("testbed");
        *cell.lock().unwrap() = (
            Some(tb.dir().to_path_buf()),
            Some(tb.lab_netns().to_string()),
        );
        panic!("test failure with a testbed up");
    });
    assert!(r.is_err());
    let (dir, lab) = cell.into_inner().unwrap();
    assert!(!dir.unwrap().exists());
    assert!(!netns_names().contains(&lab.unwrap()));
}

/// A test process killed with its testbed up (abort: no Drop) leaves sshds, namespaces
/// and mounts behind; the next run's stale cleanup removes them.
#[test]
fn crashed_process_leftovers_are_cleaned() {
    if std::env::var_os("AERIE_SELFTEST_CRASH").is_some() {
        let tb = Testbed::new(2).expect("testbed");
        println!("CRASHED-ID {} {}", tb.lab_netns(), tb.dir().display());
        std::process::abort();
    }
    let _only_one = LEFTOVER_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    testbed::initial_cleanup();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "testbed_selftest::crashed_process_leftovers_are_cleaned",
            "--nocapture",
        ])
        .env("AERIE_SELFTEST_CRASH", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("CRASHED-ID "))
        .unwrap_or_else(|| panic!("no id: {stdout} {}", String::from_utf8_lossy(&out.stderr)));
    let (lab, dir) = line.split_once(' ').unwrap();
    assert!(netns_names().contains(lab), "left behind by the crash");
    assert!(std::path::Path::new(dir)
        .join("hosts/host1/root/usr")
        .exists());
    testbed::cleanup_stale().expect("cleanup");
    assert!(!netns_names().contains(lab));
    assert!(!std::path::Path::new(dir).exists());
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(dir));
}

#[test]
fn missing_tools_fail_naming_the_setup_command() {
    let e = testbed::require_tool("aerie-no-such-tool").unwrap_err();
    assert!(e.to_string().contains(SETUP_COMMAND), "{e}");
    let empty = tempfile::tempdir().unwrap();
    let e = testbed::check_rootfs(empty.path()).unwrap_err();
    assert!(e.to_string().contains("sshd"), "{e}");
    assert!(e.to_string().contains(SETUP_COMMAND), "{e}");
    // The real ones are there (otherwise this is the failure that names the setup).
    for tool in [
        "ip",
        "unshare",
        "setpriv",
        "ssh",
        "sftp",
        "ssh-keygen",
        "debootstrap",
    ] {
        testbed::require_tool(tool).unwrap();
    }
    testbed::check_rootfs(&testbed::rootfs().unwrap()).unwrap();
}
