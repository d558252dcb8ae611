//! Issue 17's proof: aerie's settings take effect in a booted Debian 12 system.
//!
//! One VM, one flow (first boot, reboot, apply, reboot): the cached Debian 12
//! test image (scripts/make-test-debian-image.sh) under a qcow2 overlay, under
//! qemu (TCG, OVMF), with aerie's cidata volume for node1 of
//! tests/fixtures/debian-vm/site.yaml and a NIC on a tap in a network
//! namespace (aerie and ssh run in that namespace; the VM reaches nothing
//! else, no Debian mirror either: the site uses the test profile
//! tests/fixtures/debian-vm/profile.yaml, whose Debian packages the image has).
//!
//! 1. First boot: cloud-init applies the network config, installs the host key
//!    aerie rendered (`<site>.secrets.yaml`) and runs `aerie converge` from the
//!    volume; the serial console says `aerie: converged` and that a reboot is
//!    required; cloud-init reboots the VM (power_state on aerie's mark).
//! 2. After that boot, read from the running system over SSH (strict host key
//!    checking against the rendered key, never trust on first use: `aerie iso
//!    --cidata` pinned it in the known-hosts file `$AERIE_KNOWN_HOSTS` names,
//!    the test pins nothing itself):
//!    `/proc/cmdline` has `intel_iommu=on iommu=pt` (written by the real
//!    update-grub inside the VM), `modprobe mlx4_core` gives num_vfs 16,
//!    `kvm_intel` does not load under TCG (the emulated CPU has no VMX) so
//!    `modprobe -c` must report aerie's `options kvm_intel nested=1`, the
//!    metadata redirect is in `ebtables -t nat -L PREROUTING` exactly once
//!    (put there at boot by aerie's unit), and `aerie status` says reachable,
//!    pinned, in sync, no reboot required.
//! 3. The SSH road: a changed site (iommu amd: `amd_iommu=on`; num-vfs 8;
//!    `options kvm_amd nested=1`) through `aerie apply`, which marks the reboot;
//!    `aerie status` says reboot required; the VM reboots; its kernel shows the
//!    new argument, mlx4_core has 8 VFs, kvm_amd (which TCG's AMD-like CPU
//!    does load) reads nested=1, and status is in sync without a reboot due.
//! 4. The VM's host key replaced: status and apply refuse it (changed key).
//!
//!
//! Bad input on the way: before the apply, the VM's disk full: apply fails
//! naming the cause, every file stays whole as it was, no staged file is
//! left, status says out of sync; the rerun after freeing the disk converges.
//! And a second VM: node1's machine with fe1's volume refuses to converge.
//! And a third: a site whose gateway nothing answers on stops the first boot
//! before converging (console, `aerie status`); once the gateway answers,
//! the rerun the console names converges.
//!
//! Takes 5-8 minutes on the 2-core machine (three boots under TCG, and the
//! other VM's one boot beside them).
//! A missing image, qemu or OVMF fails the test naming scripts/test-deps.sh.

use crate::debian_image_boot::image;
use crate::harness::{aerie, ssh_keygen, tool, OutputText};
use crate::lab_support::{cidata_iso, Netns};
use crate::qemu::{self, BootSpec, Firmware, Media, Nic, Vm};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const NODE: &str = "node1";
const ADDR: &str = "10.44.50.11";
const GATEWAY: &str = "10.44.50.1/24";
const MAC: &str = "52:54:00:44:50:11";
/// The example key in the fixture sites, replaced by the test's own.
pub const FIXTURE_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHFpYXJuZXhhbXBsZWtleW9ubHlub3RyZWFsMDAwMDA admin@laptop";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/debian-vm")
        .join(name)
}

/// One boot's wait: generous, the machine may be busy (one TCG boot to login
/// is about a minute idle).
pub fn boot_timeout() -> Duration {
    Duration::from_secs(
        std::env::var("AERIE_BOOT_TIMEOUT")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(600),
    )
}

/// The test's world: a work dir (site, profile, keys, overlay, cidata), the
/// namespace with the tap (the site's gateway address on it).
struct Bed {
    dir: tempfile::TempDir,
    ns: Netns,
    key: PathBuf,
    known_hosts: PathBuf,
}

impl Bed {
    fn new() -> Bed {
        Bed::with_site(|s| s)
    }

    /// The fixture site changed by `edit` (before the test's key goes in).
    fn with_site(edit: impl Fn(String) -> String) -> Bed {
        let dir = tempfile::Builder::new()
            .prefix("aerie-debvm-")
            .tempdir()
            .unwrap();
        let key = dir.path().join("id_ed25519");
        let public = ssh_keygen(&key);
        let site = edit(std::fs::read_to_string(fixture("site.yaml")).unwrap());
        assert!(site.contains(FIXTURE_KEY));
        std::fs::write(
            dir.path().join("site.yaml"),
            site.replace(FIXTURE_KEY, public.trim()),
        )
        .unwrap();
        std::fs::copy(fixture("profile.yaml"), dir.path().join("profile.yaml")).unwrap();
        let ns = Netns::new();
        ns.run("ip", &["link", "set", "lo", "up"]);
        ns.run("ip", &["tuntap", "add", "dev", "tap0", "mode", "tap"]);
        ns.run("ip", &["addr", "add", GATEWAY, "dev", "tap0"]);
        ns.run("ip", &["link", "set", "tap0", "up"]);
        let known_hosts = dir.path().join("known_hosts");
        Bed {
            dir,
            ns,
            key,
            known_hosts,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `aerie ARGS --profile profile.yaml` in the namespace, in the work dir,
    /// with the operator's known-hosts file in `$AERIE_KNOWN_HOSTS`:
    /// (exit code, stdout then stderr).
    fn aerie(&self, args: &[&str]) -> (i32, String) {
        self.aerie_run(args).code_text()
    }

    /// `aerie iso --config-only --cidata` for `node`, as a user makes it, into
    /// `NODE.iso`: what aerie said.
    fn cidata(&self, node: &str) -> String {
        let iso = format!("{node}.iso");
        let (code, out) = self.aerie(&cidata_iso(node, &iso));
        assert_eq!(code, 0, "{out}");
        out
    }

    /// node1's machine (its MAC on the tap) started on an overlay of `image`
    /// with `NODE.iso` (see [`Bed::cidata`]) as its CD; `reboots`: the guest
    /// may reboot itself.
    fn boot(&self, image: &Path, node: &str, reboots: bool) -> Vm {
        let disk = self.path("node1.qcow2");
        qemu::overlay(image, &disk).unwrap();
        let mut spec = BootSpec::new(&disk, Firmware::Uefi, Media::Overlay)
            .cdrom(self.path(&format!("{node}.iso")))
            .nic(Nic {
                netns: self.ns.name.clone(),
                tap: "tap0".into(),
                mac: MAC.into(),
            })
            .deadline(boot_timeout());
        if reboots {
            spec = spec.reboots();
        }
        Vm::start(&spec).unwrap()
    }

    fn aerie_run(&self, args: &[&str]) -> crate::harness::Run {
        aerie()
            .args(args)
            .args(["--profile", "profile.yaml"])
            .env("AERIE_KNOWN_HOSTS", &self.known_hosts)
            .cwd(self.dir.path())
            .in_netns(&self.ns.name)
    }

    /// The SSH options every road uses here: the test's key (the known-hosts
    /// file is `$AERIE_KNOWN_HOSTS`).
    fn reach(&self) -> Vec<String> {
        vec!["-i".into(), self.key.display().to_string()]
    }

    /// A command on the VM over OpenSSH with strict host key checking against
    /// the pinned key: (success, stdout then stderr).
    fn ssh(&self, command: &str) -> (bool, String) {
        ssh_pinned(&self.ns, &self.key, &self.known_hosts, ADDR, command)
    }

    fn ssh_ok(&self, command: &str) -> String {
        let (ok, out) = self.ssh(command);
        assert!(ok, "on the VM: `{command}` failed:\n{out}");
        out
    }

    /// Until sshd answers (after a boot), within the boot timeout.
    fn wait_ssh(&self, vm: &mut Vm) {
        let until = Instant::now() + boot_timeout();
        loop {
            let (ok, out) = self.ssh("true");
            if ok {
                return;
            }
            assert!(
                Instant::now() < until,
                "no SSH to the VM after {:?}: {out}\nserial log tail:\n{}",
                boot_timeout(),
                tail(&vm.log().unwrap())
            );
            std::thread::sleep(Duration::from_secs(2));
        }
    }

    /// `aerie status` for node1 as JSON: its row.
    fn status(&self) -> Value {
        let out = self
            .aerie_run(&["status", "site.yaml", "--nodes", NODE, "--output", "json"])
            .args(self.reach())
            .output();
        // Exit 2: the frontend (only named in the site) cannot say whether
        // node1 is registered; every other column is node1's own.
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "aerie status (exit {:?}) printed no JSON ({e}):\n{}",
                out.status.code(),
                out.text()
            )
        });
        v["nodes"][0].clone()
    }
}

/// A command on the VM at `addr` over OpenSSH from the namespace `ns`, as
/// root with `key`, the host key checked strictly against `known_hosts` (the
/// pin `aerie iso --cidata` wrote, never trust on first use): (success,
/// stdout then stderr).
pub fn ssh_pinned(
    ns: &Netns,
    key: &Path,
    known_hosts: &Path,
    addr: &str,
    command: &str,
) -> (bool, String) {
    tool("ssh")
        .args(["-F", "none", "-i"])
        .arg(key)
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=5",
            "-o",
            "LogLevel=ERROR",
        ])
        .arg(format!("root@{addr}"))
        .arg(command)
        .in_netns(&ns.name)
        .outcome()
}

/// The end of a serial log, for a failure's message.
pub fn tail(s: &str) -> &str {
    qemu::tail(s, 4000)
}

/// What `aerie iso --cidata` pinned: node1's rendered host key (the public
/// half in the secrets file), for its address, and nothing else.
fn assert_rendered_key_pinned(bed: &Bed, iso_out: &str) {
    let secrets = std::fs::read_to_string(bed.path("debvm.secrets.yaml"))
        .expect("aerie iso --cidata wrote the site's secrets beside it");
    let doc: serde_norway::Value = serde_norway::from_str(&secrets).unwrap();
    let public = doc["host-keys"][NODE]["public"]
        .as_str()
        .expect("a host key for node1 in the secrets");
    let key: Vec<&str> = public.split_whitespace().take(2).collect();
    let pins = std::fs::read_to_string(&bed.known_hosts)
        .expect("aerie iso --cidata wrote $AERIE_KNOWN_HOSTS");
    let lines: Vec<&str> = pins.lines().collect();
    assert_eq!(lines.len(), 1, "{pins}");
    assert!(
        lines[0].starts_with(&format!("{ADDR} {} ", key.join(" "))),
        "{pins}"
    );
    assert!(iso_out.contains("pinned node1's host key"), "{iso_out}");
}

/// What the running system says about aerie's settings, after a boot.
fn module_param(bed: &Bed, module: &str, param: &str) -> String {
    bed.ssh_ok(&format!(
        "modprobe {module} && cat /sys/module/{module}/parameters/{param}"
    ))
    .trim()
    .to_string()
}

fn metadata_rules(bed: &Bed) -> usize {
    let list = bed.ssh_ok("ebtables -t nat -L PREROUTING");
    list.lines()
        .filter(|l| l.contains("169.254.169.254"))
        .count()
}

/// Waits for the next kernel's command line on the serial console after `mark`.
fn next_kernel(vm: &mut Vm, mark: usize, what: &str) -> String {
    vm.wait_kernel_since(mark, what, boot_timeout()).unwrap()
}

/// Bad input: the machine with node1's MAC booted with fe1's volume. The
/// first boot refuses to converge and says so on the serial console, naming
/// both nodes' MACs; nothing reboots. (cloud-init has still applied what it
/// applies before aerie's command: fe1's host name, root's keys; the network
/// config matches fe1's MAC, so this machine gets no address.)
#[test]
fn a_cidata_volume_for_another_node_is_refused_on_first_boot() {
    let (image, _facts) = image();
    qemu::check_tools().unwrap();
    let bed = Bed::new();
    bed.cidata("fe1");
    let mut vm = bed.boot(&image, "fe1", false);
    let log = vm
        .wait_for("cloud-init's end", |l| {
            l.contains("Cloud-init v.") && l.contains(" finished at ")
        })
        .unwrap();
    assert!(
        log.contains(&format!(
            "aerie: this cidata volume is for fe1 (MAC 52:54:00:44:50:10), not this machine (MACs: {MAC}"
        )),
        "{}",
        tail(&log)
    );
    assert!(!log.contains("aerie: converged"), "{}", tail(&log));
    assert!(!log.contains("ran       "), "{}", tail(&log));
    assert!(!log.contains("aerie: reboot required"), "{}", tail(&log));
    eprintln!(
        "debian12 vm, another node's volume: refused after {:.0?}",
        vm.elapsed()
    );
}

#[test]
fn a_debian12_vm_converges_from_its_cidata_reboots_and_takes_an_apply_over_ssh() {
    let (image, _facts) = image();
    qemu::check_tools().unwrap();
    let bed = Bed::new();

    // The node's volume, as a user makes it.
    let out = bed.cidata(NODE);
    assert_rendered_key_pinned(&bed, &out);
    let started = Instant::now();
    let mut vm = bed.boot(&image, NODE, true);

    // 1. First boot: converge from the volume, the reboot it asks for.
    let first = vm
        .wait_for("aerie's first converge and its reboot notice", |l| {
            l.contains("aerie: reboot required") || l.contains("aerie: converge FAILED")
        })
        .unwrap();
    let converged = started.elapsed();
    assert!(
        first.contains("aerie: converged on /var/lib/aerie/bundle.json"),
        "{}",
        tail(&first)
    );
    assert!(
        first.contains("ran       update-grub"),
        "converge ran update-grub:\n{}",
        tail(&first)
    );
    let mark = vm.mark().unwrap();
    let cmdline = next_kernel(&mut vm, mark, "the second boot's kernel");
    assert!(
        cmdline.contains("intel_iommu=on iommu=pt"),
        "the rebooted kernel's command line: {cmdline}"
    );
    bed.wait_ssh(&mut vm);
    let rebooted = started.elapsed();

    // 2. The running system, read over SSH with the rendered key pinned.
    let proc_cmdline = bed.ssh_ok("cat /proc/cmdline");
    assert!(
        proc_cmdline.contains("intel_iommu=on iommu=pt"),
        "/proc/cmdline: {proc_cmdline}"
    );
    let grub_cfg = bed.ssh_ok("grep -c 'intel_iommu=on iommu=pt' /boot/grub/grub.cfg");
    assert_ne!(grub_cfg.trim(), "0", "update-grub wrote the arguments");
    assert_eq!(module_param(&bed, "mlx4_core", "num_vfs"), "16");
    // Under TCG the emulated CPU is AMD-like (svm, no vmx): kvm_amd loads at
    // boot and kvm_intel does not (modprobe even exits 0: the kernel answers
    // that a vendor module is loaded already). So: aerie's option for it,
    // as modprobe itself reads its configuration.
    let (_, why) = bed.ssh("modprobe kvm_intel; dmesg | grep 'kvm:' | tail -n 1");
    assert!(
        !bed.ssh("test -d /sys/module/kvm_intel").0,
        "kvm_intel loaded here: assert its nested parameter instead ({why})"
    );
    eprintln!("kvm_intel does not load under TCG: {}", why.trim());
    let modprobe_c = bed.ssh_ok("modprobe -c");
    assert!(
        modprobe_c
            .lines()
            .any(|l| l == "options kvm_intel nested=1"),
        "modprobe -c does not report aerie's option"
    );
    assert_eq!(metadata_rules(&bed), 1);
    let unit = bed.ssh_ok("systemctl is-active aerie-metadata-redirect.service");
    assert_eq!(unit.trim(), "active");
    assert!(
        !bed.ssh("test -e /run/aerie/reboot-required").0,
        "the mark is gone with the reboot"
    );
    let asked = Instant::now();
    let row = bed.status();
    let status_took = asked.elapsed();
    assert_eq!(row["reachable"], true, "{row:#}");
    assert_eq!(row["host_key"], "pinned", "{row:#}");
    assert_eq!(row["in_sync"], true, "{row:#}");
    assert_eq!(row["reboot_required"], false, "{row:#}");
    let in_sync = started.elapsed();

    // 3. The SSH road: a changed site, applied; the reboot it marks.
    let site = std::fs::read_to_string(bed.path("site.yaml")).unwrap();
    let changed =
        site.replacen("iommu: intel", "iommu: amd", 1)
            .replacen("num-vfs: 16", "num-vfs: 8", 1);
    assert_ne!(changed, site);
    std::fs::write(bed.path("site.yaml"), changed).unwrap();
    let mut args = vec!["apply", "site.yaml", "--hosts", NODE];
    let reach = bed.reach();
    args.extend(reach.iter().map(String::as_str));

    // Bad input first: the VM's root file system full (root's reserve too).
    // The delivery fails and says so, leaves every file whole as it was and
    // no staged file behind; status reports the node out of sync.
    let watched =
        "cat /etc/modprobe.d/mlx4_core.conf /etc/modprobe.d/kvm-nested.conf /etc/default/grub";
    let before = bed.ssh_ok(watched);
    bed.ssh_ok(
        "set -- $(stat -f -c '%f %S' /); fallocate -l $(( ($1 - 8) * $2 )) /aerie-test-fill; \
         dd if=/dev/zero of=/aerie-test-fill2 bs=4k 2>/dev/null; df -k / | tail -n 1",
    );
    let (code, out) = bed.aerie(&args);
    assert_eq!(code, 2, "apply to a full disk:\n{out}");
    assert!(
        out.contains("No space left on device"),
        "apply names the cause:\n{out}"
    );
    assert_eq!(
        bed.ssh_ok(watched),
        before,
        "a file changed on the full disk"
    );
    let staged =
        bed.ssh_ok("ls -a /etc/modprobe.d /etc/default /boot/grub | grep -c '^\\.aerie-' || true");
    assert_eq!(staged.trim(), "0", "staged files left behind");
    let row = bed.status();
    assert_eq!(row["reachable"], true, "{row:#}");
    assert_eq!(row["in_sync"], false, "{row:#}");
    bed.ssh_ok("rm -f /aerie-test-fill /aerie-test-fill2");

    // The rerun converges.
    let (code, out) = bed.aerie(&args);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("reboot"), "apply says a reboot is due:\n{out}");
    assert!(bed.ssh("test -e /run/aerie/reboot-required").0);
    let row = bed.status();
    assert_eq!(row["in_sync"], true, "{row:#}");
    assert_eq!(row["reboot_required"], true, "{row:#}");

    let mark = vm.mark().unwrap();
    let applied = Instant::now();
    // The session ends with the reboot; its exit status is not the point.
    let _ = bed.ssh("systemctl reboot");
    let cmdline = next_kernel(&mut vm, mark, "the kernel after apply's reboot");
    assert!(
        cmdline.contains("amd_iommu=on"),
        "the kernel after apply: {cmdline}"
    );
    bed.wait_ssh(&mut vm);
    let proc_cmdline = bed.ssh_ok("cat /proc/cmdline");
    assert!(proc_cmdline.contains("amd_iommu=on"), "{proc_cmdline}");
    assert_eq!(module_param(&bed, "mlx4_core", "num_vfs"), "8");
    assert_eq!(module_param(&bed, "kvm_amd", "nested"), "1");
    assert!(bed
        .ssh_ok("modprobe -c")
        .lines()
        .any(|l| l == "options kvm_amd nested=1"));
    assert_eq!(metadata_rules(&bed), 1);
    let row = bed.status();
    assert_eq!(row["host_key"], "pinned", "{row:#}");
    assert_eq!(row["in_sync"], true, "{row:#}");
    assert_eq!(row["reboot_required"], false, "{row:#}");
    let apply_rebooted = applied.elapsed();

    // 4. The VM's host key replaced (as by a reinstall, or someone in the
    // middle): status and apply refuse it with the changed-key error.
    bed.ssh_ok(
        "rm -f /etc/ssh/ssh_host_*; ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key \
         && systemctl restart ssh",
    );
    let row = bed.status();
    assert_eq!(row["host_key"], "changed", "{row:#}");
    let error = row["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("REFUSED: the host key of 10.44.50.11 has CHANGED")
            && error.contains("aerie hosts forget 10.44.50.11"),
        "{row:#}"
    );
    let (code, out) = bed.aerie(&args);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("has CHANGED"), "{out}");

    eprintln!(
        "debian12 vm: first boot to converged {:.0?}, to SSH after its reboot {:.0?}, \
         in sync (checks done) {:.0?}, aerie status then {:.1?}; apply's reboot to SSH {:.0?}; \
         whole flow {:.0?}",
        converged,
        rebooted,
        in_sync,
        status_took,
        apply_rebooted,
        started.elapsed()
    );
}

/// Bad input: a site the VM cannot reach. The site gives node1 a gateway
/// nothing answers on (10.44.50.254: a wrong `gateway`, as when the machine
/// is not on the network the site says). The first boot stops before
/// converging and says so on the serial console, naming the gateway and the
/// site key; `aerie status` (over SSH: the test's namespace is on node1's
/// subnet) shows the same line and nothing of the bundle was written. Then
/// the gateway answers (its address comes up in the namespace) and the
/// rerun the console names converges; status has no first-boot line left.
#[test]
fn a_site_whose_gateway_does_not_answer_stops_the_first_boot_and_a_rerun_converges() {
    let (image, _facts) = image();
    qemu::check_tools().unwrap();
    let bed = Bed::with_site(|s| {
        let bad = s.replacen("gateway: 10.44.50.1\n", "gateway: 10.44.50.254\n", 1);
        assert_ne!(bad, s);
        bad
    });
    bed.cidata(NODE);
    let mut vm = bed.boot(&image, NODE, false);
    let log = vm
        .wait_for("the first boot's word on the gateway", |l| {
            l.contains("aerie: cannot reach")
                || l.contains("aerie: converged")
                || l.contains("aerie: converge FAILED")
        })
        .unwrap();
    let stopped = vm.elapsed();
    let said = "aerie: cannot reach the gateway 10.44.50.254 of network mgmt from 10.44.50.11: \
                nothing answers there. Nothing converged. Fix the site key networks[0].gateway";
    assert!(log.contains(said), "{}", tail(&log));
    assert!(
        log.contains("then run: sh /var/lib/aerie/first-boot"),
        "{}",
        tail(&log)
    );
    assert!(!log.contains("aerie: converged"), "{}", tail(&log));

    // SSH works on the subnet: status shows the first boot's line, and
    // nothing of the bundle is on the node.
    bed.wait_ssh(&mut vm);
    let row = bed.status();
    assert_eq!(row["host_key"], "pinned", "{row:#}");
    let first_boot = row["first_boot"].as_str().unwrap_or_default();
    assert!(first_boot.starts_with(said), "{row:#}");
    assert_eq!(row["in_sync"], false, "{row:#}");
    let (_, text) = bed.aerie(&[
        "status",
        "site.yaml",
        "--nodes",
        NODE,
        "-i",
        &bed.key.display().to_string(),
    ]);
    assert!(
        text.contains(&format!("    first boot stopped: {said}")),
        "{text}"
    );
    let untouched = bed.ssh_ok(
        "ls /etc/modprobe.d /etc/systemd/system; grep -c intel_iommu /etc/default/grub || true; \
         ls /usr/local/sbin; ls /run/aerie 2>/dev/null || true",
    );
    assert!(
        !untouched.contains("mlx4_core.conf")
            && !untouched.contains("aerie-metadata-redirect")
            && !untouched.contains("reboot-required")
            && !untouched.contains("aerie\n"),
        "the stopped first boot wrote something:\n{untouched}"
    );
    assert!(
        untouched.contains("\n0\n"),
        "GRUB's defaults changed:\n{untouched}"
    );

    // The gateway answers now; the rerun the console named converges.
    bed.ns
        .run("ip", &["addr", "add", "10.44.50.254/24", "dev", "tap0"]);
    let rerun_started = Instant::now();
    let rerun = bed.ssh_ok("sh /var/lib/aerie/first-boot 2>&1");
    let rerun_took = rerun_started.elapsed();
    assert!(
        rerun.contains("aerie: the gateway 10.44.50.254 of network mgmt answers")
            && rerun.contains("aerie: converged on /var/lib/aerie/bundle.json")
            && rerun.contains(
                "aerie: reboot required (/run/aerie/reboot-required): reboot this machine"
            ),
        "{rerun}"
    );
    let row = bed.status();
    assert!(row.get("first_boot").is_none(), "{row:#}");
    assert_eq!(row["in_sync"], true, "{row:#}");
    assert_eq!(row["reboot_required"], true, "{row:#}");
    eprintln!(
        "debian12 vm, a gateway nothing answers on: stopped on the console after {stopped:.0?}; \
         the rerun converged in {rerun_took:.1?}"
    );
}
