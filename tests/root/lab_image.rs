//! `aerie lab up --driver qemu --image DISK` for real, inside a network
//! namespace made by the test: the one-node Debian 12 site
//! tests/fixtures/debian-lab (its test profile sets the IOMMU kernel
//! arguments and installs no packages: the VM has no Debian mirror) on the
//! cached Debian 12 test image (scripts/make-test-debian-image.sh). The node
//! boots its own overlay under OVMF with its cidata volume (the volume
//! `aerie iso --config-only --cidata --node fe1` makes, file for file); its
//! first boot converges and reboots; `lab status` sees it up and converged;
//! `lab ssh fe1 -- cat /proc/cmdline` (the rendered host key pinned, no trust
//! on first use: a wrong pin is refused) shows the new kernel arguments;
//! `lab down` leaves no process, link, nft table or file, and the image is
//! untouched.
//!
//! Bad input, refused before anything is made: a file that is no disk image,
//! a site that is not Debian 12, an interface without a MAC, `--iso` with
//! `--image`.
//!
//! The boot test takes 3-6 minutes on the 2-core machine (two boots under
//! TCG); run it alone (`flock /tmp/aerie-vm.lock`).

use crate::debian_image_boot::image;
use crate::debian_vm::{boot_timeout, FIXTURE_KEY};
use crate::harness::{aerie, file_names, ssh_keygen, tool, OutputText};
use crate::lab_support::{cidata_iso, process_gone, Netns};
use crate::qemu::{self, kernel_command_line, strip_ansi};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/debian-lab")
        .join(name)
}

/// The work folder: the fixture site with `key`'s public half as root's key,
/// and its profile.
fn work(key: Option<&Path>) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("aerie-labimg-")
        .tempdir()
        .unwrap();
    let site = std::fs::read_to_string(fixture("site.yaml")).unwrap();
    assert!(site.contains(FIXTURE_KEY));
    let site = match key {
        Some(key) => {
            let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
            site.replace(FIXTURE_KEY, public.trim())
        }
        None => site,
    };
    std::fs::write(dir.path().join("site.yaml"), site).unwrap();
    std::fs::copy(fixture("profile.yaml"), dir.path().join("profile.yaml")).unwrap();
    dir
}

/// An ssh-agent holding the test's key, stopped (by its PID) on drop: `lab
/// ssh` runs OpenSSH, which finds the key through the agent as a user's would.
struct Agent {
    child: Child,
    sock: PathBuf,
    _dir: tempfile::TempDir,
}

impl Agent {
    fn with_key(key: &Path) -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("agent.sock");
        let child = Command::new(crate::harness::find_tool("ssh-agent"))
            .arg("-D")
            .arg("-a")
            .arg(&sock)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let until = Instant::now() + Duration::from_secs(10);
        while !sock.exists() {
            assert!(Instant::now() < until, "ssh-agent made no socket");
            std::thread::sleep(Duration::from_millis(50));
        }
        tool("ssh-add").arg(key).env("SSH_AUTH_SOCK", &sock).run();
        Agent {
            child,
            sock,
            _dir: dir,
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The serial log from byte `from` on, escape codes stripped, once `pred`
/// holds on it (panics with its tail after the boot timeout).
fn wait_log(log: &Path, from: usize, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let until = Instant::now() + boot_timeout();
    loop {
        let raw = std::fs::read(log).unwrap_or_default();
        let text = strip_ansi(&String::from_utf8_lossy(&raw[from.min(raw.len())..]));
        if pred(&text) {
            return text;
        }
        let tail: String = text
            .chars()
            .rev()
            .take(3000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        assert!(
            Instant::now() < until,
            "{what}: not on {} within {:?}; tail:\n{tail}",
            log.display(),
            boot_timeout()
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn modified(path: &Path) -> (u64, SystemTime) {
    let m = std::fs::metadata(path).unwrap();
    (m.len(), m.modified().unwrap())
}

/// A file of the ISO (xorriso, read only).
fn iso_file(iso: &Path, inside: &str, scratch: &Path) -> Vec<u8> {
    let to = scratch.join(format!(
        "{}{}",
        iso.file_name().unwrap().to_string_lossy(),
        inside.replace('/', "_")
    ));
    tool("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(iso)
        .arg("-extract")
        .arg(inside)
        .arg(&to)
        .run();
    std::fs::read(&to).unwrap()
}

#[test]
fn an_image_lab_converges_its_node_reboots_it_and_down_leaves_nothing() {
    let (image, _facts) = image();
    qemu::check_tools().unwrap();
    let ns = Netns::new();
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("id_ed25519");
    ssh_keygen(&key);
    let agent = Agent::with_key(&key);
    let work = work(Some(&key));
    let image_before = modified(&image);
    let forward_before = ns.ip_forward();
    let aerie_in = |args: &[&str]| {
        aerie()
            .args(args)
            .cwd(work.path())
            .env("SSH_AUTH_SOCK", &agent.sock)
            // `aerie iso --cidata` pins the node's key there, not in root's file.
            .env("AERIE_KNOWN_HOSTS", keys.path().join("aerie_known_hosts"))
            .in_netns(&ns.name)
            .code_text()
    };

    let started = Instant::now();
    let (code, text) = aerie_in(&[
        "lab",
        "up",
        "site.yaml",
        "--profile",
        "profile.yaml",
        "--driver",
        "qemu",
        "--accel",
        "tcg",
        "--image",
        image.to_str().unwrap(),
        "--dir",
        "lab",
        "--memory",
        "1024",
        "--cpus",
        "1",
    ]);
    assert_eq!(code, 0, "lab up failed:\n{text}");
    let up_returned = started.elapsed();
    let lab = work.path().join("lab");
    let log = lab.join("fe1.serial.log");

    // Made: the bridge (the site's gateway on it), the tap, the NAT, one
    // qemu; the overlay over the image, the node's volume, the pins.
    let links = ns.links();
    for name in ["ae-deblab-b0", "ae-deblab-t0-0"] {
        assert!(links.contains(&name.to_string()), "{name}: {links:?}");
    }
    let addr = ns.run("ip", &["-o", "addr", "show", "dev", "ae-deblab-b0"]);
    assert!(addr.contains("10.44.60.1/24"), "{addr}");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(lab.join("lab.json")).unwrap()).unwrap();
    assert_eq!(state["image"], image.to_str().unwrap(), "{state:#}");
    let made: Vec<&serde_json::Value> = state["made"].as_array().unwrap().iter().collect();
    let files: Vec<&str> = made
        .iter()
        .filter(|m| m["kind"] == "file")
        .map(|m| m["path"].as_str().unwrap())
        .collect();
    for f in [
        "fe1.qcow2",
        "fe1.cidata.iso",
        "fe1.OVMF_VARS.fd",
        "known_hosts",
    ] {
        let want = lab.join(f);
        assert!(
            files.contains(&want.to_str().unwrap()),
            "{f} not in the ledger: {files:?}"
        );
    }
    let pids: Vec<u32> = made
        .iter()
        .filter(|m| m["kind"] == "process")
        .map(|m| m["pid"].as_u64().unwrap() as u32)
        .collect();
    assert_eq!(pids.len(), 1, "{state:#}");
    let info = tool("qemu-img")
        .args(["info", "-U", "--output", "json"])
        .arg(lab.join("fe1.qcow2"))
        .run()
        .stdout_text();
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(
        info["backing-filename"],
        image.to_str().unwrap(),
        "{info:#}"
    );
    assert_eq!(info["backing-filename-format"], "raw", "{info:#}");
    use std::os::unix::fs::PermissionsExt;
    for private in ["fe1.qcow2", "fe1.cidata.iso", "fe1.OVMF_VARS.fd"] {
        let mode = std::fs::metadata(lab.join(private))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{private} is mode {mode:o}");
    }

    // The node's volume is the one `aerie iso` makes for it (the same
    // secrets file beside the site: the same host key).
    let (code, text) = aerie_in(
        &[
            &cidata_iso("fe1", "fe1.iso")[..],
            &["--profile", "profile.yaml"],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{text}");
    let scratch = tempfile::tempdir().unwrap();
    for f in ["/user-data", "/meta-data", "/network-config", "/aerie"] {
        assert!(
            iso_file(&lab.join("fe1.cidata.iso"), f, scratch.path())
                == iso_file(&work.path().join("fe1.iso"), f, scratch.path()),
            "{f} differs between the lab's volume and aerie iso's"
        );
    }
    let network = String::from_utf8(iso_file(
        &lab.join("fe1.cidata.iso"),
        "/network-config",
        scratch.path(),
    ))
    .unwrap();
    assert!(network.contains("52:54:00:44:60:10"), "{network}");

    // First boot: converged from the volume, the reboot it asked for, the
    // second kernel with the arguments update-grub wrote.
    let first = wait_log(
        &log,
        0,
        "aerie's first converge and its reboot notice",
        |l| l.contains("aerie: reboot required") || l.contains("aerie: converge FAILED"),
    );
    let converged = started.elapsed();
    assert!(
        first.contains("aerie: converged on /var/lib/aerie/bundle.json"),
        "{first}"
    );
    assert!(first.contains("ran       update-grub"), "{first}");
    let mark = std::fs::metadata(&log).unwrap().len() as usize;
    let second = wait_log(&log, mark, "the second boot's kernel", |l| {
        kernel_command_line(l).is_some()
    });
    let cmdline = kernel_command_line(&second).unwrap();
    assert!(cmdline.contains("intel_iommu=on iommu=pt"), "{cmdline}");

    // `lab status`: up, converged, SSH answering.
    let until = Instant::now() + boot_timeout();
    let status = loop {
        let (code, text) = aerie_in(&["lab", "status", "--dir", "lab"]);
        assert_eq!(code, 0, "{text}");
        if text.contains(" answers") {
            break text;
        }
        assert!(Instant::now() < until, "SSH never answered:\n{text}");
        std::thread::sleep(Duration::from_secs(2));
    };
    let ssh_ready = started.elapsed();
    assert!(status.contains("CONVERGE"), "{status}");
    let row = status.lines().find(|l| l.starts_with("fe1 ")).unwrap();
    for want in ["10.44.60.10", " running ", " converged ", " answers"] {
        assert!(row.contains(want), "{want:?} not in {row:?}");
    }

    // `lab ssh` with the rendered key pinned (sshd may still be starting:
    // a few tries), then a wrong pin refused: no trust on first use.
    let until = Instant::now() + boot_timeout();
    let proc_cmdline = loop {
        let (code, text) = aerie_in(&[
            "lab",
            "ssh",
            "fe1",
            "--dir",
            "lab",
            "--",
            "cat",
            "/proc/cmdline",
        ]);
        if code == 0 {
            break text;
        }
        assert!(Instant::now() < until, "lab ssh failed: {text}");
        std::thread::sleep(Duration::from_secs(3));
    };
    assert!(
        proc_cmdline.contains("intel_iommu=on iommu=pt"),
        "{proc_cmdline}"
    );
    let pins = std::fs::read_to_string(lab.join("known_hosts")).unwrap();
    assert!(pins.starts_with("10.44.60.10 ssh-ed25519 "), "{pins}");
    let other_pub = ssh_keygen(&keys.path().join("other"));
    let blob = other_pub.split_whitespace().nth(1).unwrap();
    std::fs::write(
        lab.join("known_hosts"),
        format!("10.44.60.10 ssh-ed25519 {blob}\n"),
    )
    .unwrap();
    let (code, text) = aerie_in(&["lab", "ssh", "fe1", "--dir", "lab", "--", "true"]);
    assert_ne!(code, 0, "a wrong pin was accepted: {text}");
    assert!(text.contains("Host key verification failed"), "{text}");
    std::fs::write(lab.join("known_hosts"), &pins).unwrap();

    // `lab down`: nothing left.
    let (code, text) = aerie_in(&["lab", "down", "--dir", "lab"]);
    assert_eq!(code, 0, "lab down failed:\n{text}");
    for pid in &pids {
        assert!(process_gone(*pid), "qemu {pid} still runs after lab down");
    }
    assert_eq!(ns.links(), ["lo"], "interfaces left behind");
    assert!(!ns.nft_ruleset().contains("table"), "{}", ns.nft_ruleset());
    assert_eq!(ns.ip_forward(), forward_before, "ip_forward not restored");
    assert!(!lab.exists(), "the lab folder is left");
    assert!(ns.pids().is_empty(), "processes left: {:?}", ns.pids());
    assert_eq!(
        file_names(work.path()),
        [
            "deblab.secrets.yaml",
            "fe1.iso",
            "profile.yaml",
            "site.yaml"
        ]
    );
    assert_eq!(modified(&image), image_before, "the image was written");
    eprintln!(
        "lab up --image (TCG): lab up returned {up_returned:.0?}, first boot converged {converged:.0?}, \
         SSH ready after its reboot {ssh_ready:.0?}"
    );
}

/// `lab up --image` with `args` in a fresh namespace and work folder: exit
/// code and text; nothing may be made (no link, no nft table, no lab folder,
/// no secrets file).
fn refused(args: &[&str], site: Option<&str>) -> (i32, String) {
    let ns = Netns::new();
    let work = work(None);
    if let Some(text) = site {
        std::fs::write(work.path().join("site.yaml"), text).unwrap();
    }
    let before = file_names(work.path());
    let out = aerie()
        .args(["lab", "up"])
        .args(args)
        .args(["--driver", "qemu", "--accel", "tcg", "--dir", "lab"])
        .cwd(work.path())
        .in_netns(&ns.name)
        .output();
    let text = out.text();
    assert_eq!(ns.links(), ["lo"], "{text}");
    assert!(!ns.nft_ruleset().contains("table"), "{text}");
    assert_eq!(file_names(work.path()), before, "files made: {text}");
    (out.status.code().unwrap_or(-1), text)
}

/// [`refused`] for the work folder's site and profile with `--image IMAGE`
/// and `extra`.
fn refused_image(image: &str, extra: &[&str], site: Option<&str>) -> (i32, String) {
    let args = ["site.yaml", "--profile", "profile.yaml", "--image", image];
    refused(&[&args[..], extra].concat(), site)
}

#[test]
fn a_file_that_is_no_disk_image_is_refused_naming_image() {
    let tmp = tempfile::tempdir().unwrap();
    let text_file = tmp.path().join("notes.img");
    std::fs::write(&text_file, "not a disk\n".repeat(200_000)).unwrap();
    let (code, out) = refused_image(text_file.to_str().unwrap(), &[], None);
    assert_eq!(code, 64, "{out}");
    assert!(
        out.contains(&format!("--image {}", text_file.display())),
        "{out}"
    );
    assert!(out.contains("no partition table"), "{out}");
    assert!(out.contains("give a bootable disk image"), "{out}");
    let (code, out) = refused_image("/nonexistent/disk.img", &[], None);
    assert_eq!(code, 64, "{out}");
    assert!(
        out.contains("--image /nonexistent/disk.img: no such file"),
        "{out}"
    );
}

#[test]
fn a_site_that_is_not_debian12_is_refused_with_image() {
    let (image, _) = image();
    let (code, out) = refused(
        &["--example", "lab", "--image", image.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 64, "{out}");
    assert!(out.contains("site.distro: rocky9"), "{out}");
    assert!(out.contains("`--image`"), "{out}");
    assert!(out.contains("distro: debian12"), "{out}");
    assert!(out.contains("--iso PATH"), "{out}");
}

#[test]
fn an_interface_without_a_mac_and_iso_with_image_are_refused() {
    let (image, _) = image();
    let site = std::fs::read_to_string(fixture("site.yaml")).unwrap();
    let no_mac = site.replace("        mac: \"52:54:00:44:60:10\"\n", "");
    assert_ne!(no_mac, site);
    let (code, out) = refused_image(image.to_str().unwrap(), &[], Some(&no_mac));
    assert_eq!(code, 64, "{out}");
    assert!(
        out.contains("nodes[0].interfaces[0].mac (fe1, network mgmt)"),
        "{out}"
    );
    let (code, out) = refused_image(image.to_str().unwrap(), &["--iso", "base.iso"], None);
    // clap's usage errors exit 64 in aerie, like its own.
    assert_eq!(code, 64, "{out}");
    assert!(out.contains("cannot be used with"), "{out}");
}
