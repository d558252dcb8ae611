//! Network boot by `aerie pxe serve`, in a network namespace made by the
//! test: a bridge (10.44.9.1/24, aerie's address), a tap per qemu VM (TCG),
//! the real dnsmasq as aerie's child, the fixture base ISO with a real kernel
//! (fixtures/iso/make-base-el9.sh). A VM under SeaBIOS (qemu's iPXE ROM) and
//! one under OVMF (no ROM: the firmware's own PXE loads ipxe.efi by TFTP, as
//! real servers do) reach the installer kernel's `Command line:` with their
//! own `inst.ks=` and an `inst.stage2=` at aerie's server. A VM with an
//! unknown MAC and one marked installed boot no installer. In proxy mode a
//! second dnsmasq (another namespace) is the site's DHCP server. Bad input
//! is refused with a clear message and leaves nothing running.

use crate::harness::{aerie, tool};
use crate::lab_support::{fixture_iso, iso_without_kernel, Netns};
use crate::qemu::{kernel_command_line, BootSpec, Firmware, Nic, Vm};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SERVER: &str = "10.44.9.1";
const URL: &str = "http://10.44.9.1:8080";

/// A namespace with the boot bridge, and a work folder with the base ISO.
struct Bed {
    ns: Netns,
    work: tempfile::TempDir,
    base: PathBuf,
}

fn bed() -> Bed {
    let ns = Netns::new();
    ns.run("ip", &["link", "set", "lo", "up"]);
    ns.run("ip", &["link", "add", "br0", "type", "bridge"]);
    ns.run(
        "ip",
        &["addr", "add", &format!("{SERVER}/24"), "dev", "br0"],
    );
    ns.run("ip", &["link", "set", "br0", "up"]);
    let work = tempfile::tempdir().unwrap();
    let base = fixture_iso(work.path());
    Bed { ns, work, base }
}

impl Bed {
    fn tap(&self, name: &str) {
        self.ns
            .run("ip", &["tuntap", "add", "dev", name, "mode", "tap"]);
        self.ns
            .run("ip", &["link", "set", name, "master", "br0", "up"]);
    }

    fn vm(&self, firmware: Firmware, tap: &str, mac: &str, rom: bool) -> Vm {
        self.tap(tap);
        Vm::start(&BootSpec::network(
            firmware,
            Nic {
                netns: self.ns.name.clone(),
                tap: tap.to_string(),
                mac: mac.to_string(),
            },
            rom,
        ))
        .unwrap()
    }

    fn write_site(&self, mode: &str, nodes: &[(&str, &str, &str)]) -> PathBuf {
        let mut yaml = format!(
            "site:\n  name: pxt\n  domain: pxt.test\n  profile: openstack\n  distro: rocky9\nnetworks:\n  - name: mgmt\n    purpose: management\n    cidr: 10.44.9.0/24\n    gateway: 10.44.9.254\n    dhcp-range: [10.44.9.100, 10.44.9.150]\nnetboot:\n  mode: {mode}\n  interface: br0\n  address: {SERVER}\nnodes:\n"
        );
        for (i, (host, mac, addr)) in nodes.iter().enumerate() {
            let role = if i == 0 { "frontend" } else { "compute" };
            yaml.push_str(&format!(
                "  - hostname: {host}\n    role: {role}\n    interfaces:\n      - network: mgmt\n        mac: \"{mac}\"\n        address: {addr}\n"
            ));
        }
        let path = self.work.path().join("site.yaml");
        std::fs::write(&path, yaml).unwrap();
        path
    }

    fn pxe_dir(&self) -> PathBuf {
        self.work.path().join("pxe")
    }

    /// `aerie pxe serve` run to its end (for bad input): exit code and text.
    fn serve_once(&self, base: &Path, env: &[(&str, &str)]) -> (i32, String) {
        let mut run = aerie()
            .args(["pxe", "serve", "site.yaml", "--base"])
            .arg(base)
            .args(["--dir", "pxe"])
            .cwd(self.work.path())
            .in_netns(&self.ns.name);
        for (k, v) in env {
            run = run.env(k, v);
        }
        run.code_text()
    }

    fn serve(&self) -> Server {
        let events = self.work.path().join("events.jsonl");
        let stderr = self.work.path().join("serve.stderr");
        let mut cmd = aerie()
            .args(["pxe", "serve", "site.yaml", "--base"])
            .arg(&self.base)
            .args([
                "--dir",
                "pxe",
                "--console",
                "ttyS0,115200",
                "--output",
                "json",
            ])
            .cwd(self.work.path())
            .in_netns(&self.ns.name)
            .command();
        cmd.stdin(Stdio::null())
            .stdout(std::fs::File::create(&events).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap());
        let child = cmd.spawn().unwrap();
        let mut server = Server {
            child,
            events,
            stderr,
        };
        server.wait_event("the server to start", Duration::from_secs(60), |e| {
            e["event"] == "server" && e["detail"].as_str().unwrap_or("").starts_with("serving on")
        });
        server
    }

    /// `program args` in the namespace: its exit status and stdout.
    fn in_ns(&self, program: &str, args: &[&str]) -> (bool, String) {
        let out = self.ns.command(program).args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }
}

/// A running `aerie pxe serve`, its JSON events in a file.
struct Server {
    child: Child,
    events: PathBuf,
    stderr: PathBuf,
}

impl Server {
    fn events(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.events)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    fn says(&self) -> String {
        format!(
            "events:\n{}\nstderr:\n{}",
            std::fs::read_to_string(&self.events).unwrap_or_default(),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }

    fn wait_event(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let start = Instant::now();
        loop {
            if let Some(e) = self.events().into_iter().find(|e| pred(e)) {
                return e;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "aerie pxe serve exited ({status}) while waiting for {what}\n{}",
                    self.says()
                );
            }
            assert!(
                start.elapsed() < timeout,
                "no event for {what} within {timeout:?}\n{}",
                self.says()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// SIGTERM; it must exit 0 within 15 s.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "serve exited {status}\n{}", self.says());
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "serve did not stop on SIGTERM\n{}",
                self.says()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_kernel(vm: &mut Vm, host: &str) -> String {
    vm.wait_kernel(&format!("{host}'s installer kernel"))
        .unwrap()
}

fn assert_installer_line(line: &str, host: &str, mac: &str) {
    let args: Vec<&str> = line.split_whitespace().collect();
    for want in [
        format!("inst.ks={URL}/ks/{host}.cfg"),
        format!("inst.stage2={URL}/iso"),
        format!("BOOTIF=01-{}", mac.replace(':', "-")),
        "console=ttyS0,115200".to_string(),
    ] {
        assert!(args.contains(&want.as_str()), "{want} not in {line}");
    }
}

fn names(events: &[serde_json::Value], node: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["node"] == node)
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn seabios_and_ovmf_vms_boot_their_installer_and_unknown_or_installed_ones_do_not() {
    let bed = bed();
    bed.write_site(
        "dhcp",
        &[
            ("bios1", "52:54:00:44:09:11", "10.44.9.11"),
            ("uefi1", "52:54:00:44:09:12", "10.44.9.12"),
            ("done1", "52:54:00:44:09:13", "10.44.9.13"),
        ],
    );
    let mut server = bed.serve();

    // What each node is served, over the real routes.
    let (ok, ks) = bed.in_ns("curl", &["-fsS", &format!("{URL}/ks/uefi1.cfg")]);
    assert!(
        ok && ks.contains("network ") && ks.contains("--hostname=uefi1"),
        "{ks}"
    );
    assert!(
        ks.contains(&format!("-X POST {URL}/done/uefi1\n%end\n")),
        "{ks}"
    );
    let kernel = bed.work.path().join("vmlinuz");
    let (ok, _) = bed.in_ns(
        "curl",
        &[
            "-fsS",
            "-o",
            kernel.to_str().unwrap(),
            &format!("{URL}/iso/images/pxeboot/vmlinuz"),
        ],
    );
    assert!(ok);
    assert_eq!(
        std::fs::read(&kernel).unwrap(),
        std::fs::read(
            "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/linux"
        )
        .unwrap(),
        "the kernel served from the ISO is not the one the ISO holds"
    );
    // Files go out by sendfile: a HEAD says the length, a range is that
    // range, and one curl fetching a file, a kickstart (the router's) and the
    // file again gets all three (a new connection after the router's answer).
    let want = std::fs::read(&kernel).unwrap();
    let (ok, head) = bed.in_ns(
        "curl",
        &["-fsSI", &format!("{URL}/iso/images/pxeboot/vmlinuz")],
    );
    assert!(ok, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("content-length: {}\r\n", want.len())),
        "{head}"
    );
    let part = bed.work.path().join("part");
    let (ok, said) = bed.in_ns(
        "curl",
        &[
            "-fsS",
            "-r",
            "1000-1999",
            "-o",
            part.to_str().unwrap(),
            &format!("{URL}/iso/images/pxeboot/vmlinuz"),
        ],
    );
    assert!(ok, "{said}");
    assert_eq!(std::fs::read(&part).unwrap(), want[1000..2000]);
    let (again, ks2) = (bed.work.path().join("again"), bed.work.path().join("ks2"));
    let (ok, said) = bed.in_ns(
        "curl",
        &[
            "-fsS",
            "-o",
            part.to_str().unwrap(),
            &format!("{URL}/iso/images/pxeboot/vmlinuz"),
            "-o",
            ks2.to_str().unwrap(),
            &format!("{URL}/ks/uefi1.cfg"),
            "-o",
            again.to_str().unwrap(),
            &format!("{URL}/iso/images/pxeboot/vmlinuz"),
        ],
    );
    assert!(ok, "{said}");
    assert_eq!(std::fs::read(&part).unwrap(), want);
    assert_eq!(std::fs::read_to_string(&ks2).unwrap(), ks);
    assert_eq!(std::fs::read(&again).unwrap(), want);
    // done1 finished installing (its %post's call).
    let (ok, said) = bed.in_ns(
        "curl",
        &["-fsS", "-X", "POST", &format!("{URL}/done/done1")],
    );
    assert!(ok, "{said}");
    assert!(bed.pxe_dir().join("installed/done1").is_file());

    let mut bios = bed.vm(Firmware::Bios, "tap1", "52:54:00:44:09:11", true);
    let mut uefi = bed.vm(Firmware::Uefi, "tap2", "52:54:00:44:09:12", false);
    let line = wait_kernel(&mut bios, "bios1");
    assert_installer_line(&line, "bios1", "52:54:00:44:09:11");
    let line = wait_kernel(&mut uefi, "uefi1");
    assert_installer_line(&line, "uefi1", "52:54:00:44:09:12");
    drop(bios);
    drop(uefi);
    let events = server.events();
    for host in ["bios1", "uefi1"] {
        let seen = names(&events, host);
        for step in ["dhcp-seen", "script", "kernel"] {
            assert!(
                seen.iter().any(|s| s == step),
                "{host}: no {step} in {seen:?}"
            );
        }
    }
    // The UEFI VM had no iPXE ROM: its firmware loaded ipxe.efi by TFTP.
    let log = std::fs::read_to_string(bed.pxe_dir().join("dnsmasq.log")).unwrap();
    assert!(log.contains("tftp/ipxe.efi to 10.44.9.12"), "{log}");

    // An unknown machine and an installed node: the local-disk script, logged.
    let unknown = bed.vm(Firmware::Bios, "tap3", "52:54:00:44:09:99", true);
    let installed = bed.vm(Firmware::Bios, "tap4", "52:54:00:44:09:13", true);
    server.wait_event(
        "the unknown MAC's local boot",
        Duration::from_secs(300),
        |e| e["event"] == "local-boot" && e["mac"] == "52:54:00:44:09:99",
    );
    // done1's first network boot since its install: its first boot, from its disk.
    server.wait_event("done1's local boot", Duration::from_secs(300), |e| {
        e["event"] == "first-boot" && e["node"] == "done1"
    });
    // Time enough to have loaded a kernel had it been told to.
    std::thread::sleep(Duration::from_secs(15));
    for vm in [&unknown, &installed] {
        let log = vm.log().unwrap();
        assert!(
            kernel_command_line(&log).is_none(),
            "an installer booted:\n{log}"
        );
    }
    let done1 = names(&server.events(), "done1");
    assert!(
        !done1.iter().any(|s| s == "kernel" || s == "script"),
        "{done1:?}"
    );
    drop(unknown);
    drop(installed);

    // Status, while it runs, then a clean stop: nothing left in the namespace.
    let status = aerie()
        .args(["pxe", "status", "--dir", "pxe"])
        .cwd(bed.work.path())
        .output();
    let text = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(text.contains("server: running"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("bios1") && l.contains("kernel")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("done1") && l.ends_with("yes")),
        "{text}"
    );
    server.stop();
    assert_eq!(
        bed.ns.pids(),
        Vec::<u32>::new(),
        "left running in the namespace"
    );
    assert!(!bed.pxe_dir().join("server.json").exists());
    // `aerie status` shows the install state (the nodes themselves are not
    // up: their rows say unreachable, exit 2).
    let known = bed.work.path().join("known_hosts");
    let out = aerie()
        .args([
            "status",
            "site.yaml",
            "--pxe-dir",
            "pxe",
            "--output",
            "json",
            "--connect-timeout",
            "2",
            "--known-hosts",
        ])
        .arg(&known)
        .cwd(bed.work.path())
        .in_netns(&bed.ns.name)
        .output();
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let install = json["install"].as_array().expect("an install list");
    let of = |n: &str| install.iter().find(|i| i["node"] == n).unwrap().clone();
    assert_eq!(of("bios1")["step"], "kernel", "{install:?}");
    assert_eq!(of("done1")["installed"], true, "{install:?}");
    assert_eq!(of("done1")["step"], "first-boot", "{install:?}");
    assert_eq!(of("uefi1")["installed"], false, "{install:?}");
    let after = aerie()
        .args(["pxe", "status", "--dir", "pxe"])
        .cwd(bed.work.path())
        .output();
    assert!(String::from_utf8_lossy(&after.stdout).contains("server: not running"));

    // reinstall: done1 is offered its installer again.
    let out = aerie()
        .args(["pxe", "reinstall", "done1", "--dir", "pxe"])
        .cwd(bed.work.path())
        .output();
    assert!(out.status.success());
    assert!(!bed.pxe_dir().join("installed/done1").exists());
}

#[test]
fn proxy_mode_leaves_addresses_to_the_sites_dhcp_server() {
    let bed = bed();
    bed.write_site("proxy", &[("node1", "52:54:00:44:09:21", "10.44.9.21")]);
    // The site's own DHCP server, in a namespace of its own on the bridge.
    let site_ns = Netns::new();
    let peer = format!("vs{}", std::process::id() % 100000);
    tool("ip")
        .args([
            "link",
            "add",
            &peer,
            "type",
            "veth",
            "peer",
            "name",
            "dhcp0",
            "netns",
            &site_ns.name,
        ])
        .run();
    tool("ip")
        .args(["link", "set", &peer, "netns", &bed.ns.name])
        .run();
    bed.ns
        .run("ip", &["link", "set", &peer, "master", "br0", "up"]);
    site_ns.run("ip", &["addr", "add", "10.44.9.2/24", "dev", "dhcp0"]);
    site_ns.run("ip", &["link", "set", "dhcp0", "up"]);
    let leases = bed.work.path().join("site.leases");
    let conf = bed.work.path().join("site-dhcp.conf");
    std::fs::write(
        &conf,
        format!(
            "port=0\ninterface=dhcp0\nbind-interfaces\nno-ping\nlog-dhcp\ndhcp-range=10.44.9.100,10.44.9.150,255.255.255.0,1h\ndhcp-leasefile={}\n",
            leases.display()
        ),
    )
    .unwrap();
    let mut site_dhcp = site_ns
        .command("dnsmasq")
        .arg("--keep-in-foreground")
        .arg(format!("--conf-file={}", conf.display()))
        .arg(format!(
            "--pid-file={}",
            bed.work.path().join("site.pid").display()
        ))
        .arg("--log-facility=-")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let mut server = bed.serve();
    let mut vm = bed.vm(Firmware::Bios, "tap1", "52:54:00:44:09:21", true);
    let line = wait_kernel(&mut vm, "node1");
    assert_installer_line(&line, "node1", "52:54:00:44:09:21");
    drop(vm);
    let script = server.wait_event("node1's script", Duration::from_secs(10), |e| {
        e["node"] == "node1" && e["event"] == "script"
    });
    // Its address came from the site's range, handed out by the site's server.
    let from = script["detail"]
        .as_str()
        .unwrap()
        .trim_start_matches("from ");
    let addr: std::net::Ipv4Addr = from.parse().unwrap();
    assert!((100..=150).contains(&addr.octets()[3]), "{script}");
    let site_leases = std::fs::read_to_string(&leases).unwrap();
    assert!(site_leases.contains("52:54:00:44:09:21"), "{site_leases}");
    let ours = std::fs::read_to_string(bed.pxe_dir().join("dnsmasq.leases")).unwrap_or_default();
    assert!(
        ours.trim().is_empty(),
        "aerie handed out an address: {ours}"
    );
    let log = std::fs::read_to_string(bed.pxe_dir().join("dnsmasq.log")).unwrap();
    assert!(log.contains("proxy"), "{log}");
    assert!(
        !log.contains("DHCPACK"),
        "aerie acknowledged an address:\n{log}"
    );
    server.stop();
    assert_eq!(
        bed.ns.pids(),
        Vec::<u32>::new(),
        "left running in the namespace"
    );
    let _ = site_dhcp.kill();
    let _ = site_dhcp.wait();
}

#[test]
fn bad_input_is_refused_clearly_and_leaves_nothing_running() {
    let bed = bed();
    let nothing_runs = |bed: &Bed| {
        assert_eq!(
            bed.ns.pids(),
            Vec::<u32>::new(),
            "left running in the namespace"
        );
        assert!(!bed.pxe_dir().join("server.json").exists());
    };

    // A MAC in two nodes.
    bed.write_site(
        "dhcp",
        &[
            ("n1", "52:54:00:44:09:31", "10.44.9.31"),
            ("n2", "52:54:00:44:09:31", "10.44.9.32"),
        ],
    );
    let (code, text) = bed.serve_once(&bed.base, &[]);
    assert_eq!(code, 65, "{text}");
    assert!(text.contains("nodes[1].interfaces[0].mac"), "{text}");
    assert!(
        text.contains("52:54:00:44:09:31 is already used by nodes[0]"),
        "{text}"
    );
    nothing_runs(&bed);

    bed.write_site("dhcp", &[("n1", "52:54:00:44:09:31", "10.44.9.31")]);

    // A base ISO without an installer kernel.
    let empty = iso_without_kernel(bed.work.path());
    let (code, text) = bed.serve_once(&empty, &[]);
    assert_eq!(code, 65, "{text}");
    assert!(
        text.contains("has no /images/pxeboot/vmlinuz and /images/pxeboot/initrd.img"),
        "{text}"
    );
    assert!(text.contains("give such an ISO as --base"), "{text}");
    nothing_runs(&bed);

    // dnsmasq missing.
    let (code, text) = bed.serve_once(&bed.base, &[("AERIE_DNSMASQ", "/nonexistent/dnsmasq")]);
    assert_eq!(code, 69, "{text}");
    assert!(text.contains("dnsmasq"), "{text}");
    assert!(text.contains("apt-get install"), "{text}");
    nothing_runs(&bed);

    // The HTTP port taken by another program.
    let holder = bed.ns.hold_port(SERVER, 8080);
    let (code, text) = bed.serve_once(&bed.base, &[]);
    drop(holder);
    assert_eq!(code, 69, "{text}");
    assert!(text.contains("cannot listen on 10.44.9.1:8080"), "{text}");
    assert!(text.contains("port 8080 is already taken"), "{text}");
    nothing_runs(&bed);
}
