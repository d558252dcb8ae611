//! `aerie lab up --driver qemu --boot pxe` for real, inside a network
//! namespace made by the test: the lab runs aerie's own boot server (the
//! code of `aerie pxe serve`: the real dnsmasq as its child, aerie's HTTP
//! server) as a daemon on its management bridge, at the lab host's address
//! there (10.20.0.1); the lab example's three VMs get no CD and no kernel,
//! boot from their NIC (SeaBIOS, qemu's iPXE ROM) and reach the installer
//! kernel with their own `inst.ks=` and an `inst.stage2=` at that server.
//! `lab status` shows the server and each node's install step; `lab down`
//! leaves no qemu, dnsmasq, server, interface, nft rule or file. Bad input
//! (`--driver vagrant`, a base ISO without a kernel) makes nothing; a server
//! that cannot start (its port taken) rolls back everything already made.

use crate::lab_support::*;
use std::path::Path;
use std::time::Instant;

const URL: &str = "http://10.20.0.1:8080";

fn pxe_lab_up(iso: &Path) -> Vec<String> {
    let mut args = small_lab_up(iso, "1");
    args.extend(["--boot".to_string(), "pxe".to_string()]);
    args
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The ledger's processes: (what, pid).
fn processes(lab: &Path) -> Vec<(String, u32)> {
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(lab.join("lab.json")).unwrap()).unwrap();
    state["made"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "process")
        .map(|m| {
            (
                m["what"].as_str().unwrap().to_string(),
                m["pid"].as_u64().unwrap() as u32,
            )
        })
        .collect()
}

fn cmdline(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
        .unwrap_or_default()
        .replace('\0', " ")
}

#[test]
fn pxe_lab_boots_every_node_from_the_network_and_down_leaves_nothing() {
    let ns = Netns::new();
    let work = tempfile::tempdir().unwrap();
    let iso = fixture_iso(work.path());
    let forward_before = ns.ip_forward();
    let start = Instant::now();
    let (out, text) = ns.aerie(&strs(&pxe_lab_up(&iso)), work.path());
    assert!(out.status.success(), "lab up --boot pxe failed:\n{text}");
    let up_time = start.elapsed();
    assert!(
        text.contains(&format!("aerie's boot server at {URL}")),
        "{text}"
    );
    let lab = work.path().join("lab");

    // The server is a daemon of the ledger's, beside one qemu per node; its
    // dnsmasq child serves the management bridge.
    let procs = processes(&lab);
    let server = procs
        .iter()
        .find(|(what, _)| what == "aerie boot server")
        .unwrap_or_else(|| panic!("no boot server in the ledger: {procs:?}"))
        .1;
    assert!(!process_gone(server), "the boot server is not running");
    assert!(
        cmdline(server).contains(" lab boot-server --dir "),
        "{}",
        cmdline(server)
    );
    let dnsmasq: u32 = std::fs::read_to_string(lab.join("netboot/dnsmasq.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(!process_gone(dnsmasq));
    let conf = std::fs::read_to_string(lab.join("netboot/dnsmasq.conf")).unwrap();
    assert!(conf.contains("interface=ae-lab-b0"), "{conf}");
    let qemus: Vec<u32> = procs
        .iter()
        .filter(|(what, _)| what.starts_with("qemu of "))
        .map(|(_, pid)| *pid)
        .collect();
    assert_eq!(qemus.len(), 3, "{procs:?}");
    // No CD, no kernel of their own: each boots its management NIC first.
    for pid in &qemus {
        let line = cmdline(*pid);
        for absent in ["cdrom", "-kernel", "-append"] {
            assert!(!line.contains(absent), "{absent} in {line}");
        }
        assert!(line.contains(",bootindex=1"), "{line}");
    }
    assert!(!lab.join("installer.iso").exists());
    // The kickstarts the lab hands out are its own rendering, kept private.
    use std::os::unix::fs::PermissionsExt;
    let spec = std::fs::metadata(lab.join("boot-server.json")).unwrap();
    assert_eq!(spec.permissions().mode() & 0o777, 0o600);

    // Each VM reaches the installer kernel with its own kickstart and the
    // stage 2 at the lab's server.
    let mut times = Vec::new();
    let nodes = [
        ("fe1", "52-54-00-00-00-10"),
        ("node1", "52-54-00-00-00-11"),
        ("node2", "52-54-00-00-00-12"),
    ];
    let lines = nodes_command_lines(&lab, &nodes.map(|(node, _)| node), start);
    for ((node, mac), (line, at)) in nodes.into_iter().zip(lines) {
        let args: Vec<&str> = line.split_whitespace().collect();
        for want in [
            format!("inst.ks={URL}/ks/{node}.cfg"),
            format!("inst.stage2={URL}/iso"),
            format!("BOOTIF=01-{mac}"),
            "console=ttyS0,115200".to_string(),
        ] {
            assert!(
                args.contains(&want.as_str()),
                "{node}: {want} not in {line}"
            );
        }
        assert!(!line.contains("hd:"), "{node}: {line}");
        times.push(format!("{node} {at:.1?}"));
    }
    eprintln!(
        "lab up --boot pxe returned after {up_time:.1?}; installer kernel reached: {}",
        times.join(", ")
    );
    // From the lab host itself (its own address goes by lo).
    ns.run("ip", &["link", "set", "lo", "up"]);
    let ks = ns.run("curl", &["-fsS", &format!("{URL}/ks/node2.cfg")]);
    assert!(ks.contains("--hostname=node2"), "{ks}");
    assert!(ks.contains(&format!("{URL}/done/node2")), "{ks}");

    // lab status: the server and each node's step (the server's own status).
    let (out, text) = ns.aerie(&["lab", "status", "--dir", "lab"], work.path());
    assert!(out.status.success(), "{text}");
    let vms_running = text
        .lines()
        .filter(|l| l.contains(" running ") && !l.starts_with("boot server"))
        .count();
    assert_eq!(vms_running, 3, "{text}");
    assert!(
        text.contains(&format!("boot server: running (pid {server}, {URL}")),
        "{text}"
    );
    // At its kernel, or already past it (the installer fetched its kickstart).
    for node in ["fe1", "node1", "node2"] {
        assert!(
            text.lines().any(|l| l.starts_with(node)
                && (l.contains(" kernel ") || l.contains(" kickstart "))
                && l.ends_with(" no")),
            "{node}: {text}"
        );
    }
    // `aerie pxe status` reads the same state folder.
    let (out, text) = ns.aerie(&["pxe", "status", "--dir", "lab/netboot"], work.path());
    assert!(out.status.success(), "{text}");
    assert!(text.contains("server: running"), "{text}");

    let (out, text) = ns.aerie(&["lab", "down", "--dir", "lab"], work.path());
    assert!(out.status.success(), "lab down failed:\n{text}");
    assert!(
        text.contains(&format!("stopped aerie boot server (pid {server})")),
        "{text}"
    );
    for pid in qemus.iter().chain([&server, &dnsmasq]) {
        assert!(process_gone(*pid), "{pid} still runs after lab down");
    }
    assert_eq!(ns.links(), ["lo"], "interfaces left behind");
    assert!(
        !ns.nft_ruleset().contains("table"),
        "nft rules left: {}",
        ns.nft_ruleset()
    );
    assert_eq!(ns.ip_forward(), forward_before, "ip_forward not restored");
    assert!(!lab.exists(), "the lab folder is left");
    assert!(
        ns.pids().is_empty(),
        "processes left in the namespace: {:?}",
        ns.pids()
    );
}

#[test]
fn pxe_lab_bad_input_makes_nothing_and_a_failed_server_is_rolled_back() {
    let ns = Netns::new();
    let work = tempfile::tempdir().unwrap();
    let iso = fixture_iso(work.path());
    let nothing_made = |ns: &Netns| {
        assert_eq!(ns.links(), ["lo"], "interfaces made");
        assert!(!ns.nft_ruleset().contains("table"));
        assert!(!work.path().join("lab").exists(), "the lab folder is left");
        assert!(ns.pids().is_empty(), "left running: {:?}", ns.pids());
    };

    // --boot pxe with the vagrant driver.
    let (out, text) = ns.aerie(
        &[
            "lab",
            "up",
            "--example",
            "lab",
            "--driver",
            "vagrant",
            "--boot",
            "pxe",
            "--dir",
            "lab",
        ],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(64), "{text}");
    assert!(
        text.contains("--boot pxe works with --driver qemu only"),
        "{text}"
    );
    nothing_made(&ns);

    // A base ISO without an installer kernel.
    let empty = iso_without_kernel(work.path());
    let (out, text) = ns.aerie(&strs(&pxe_lab_up(&empty)), work.path());
    assert_eq!(out.status.code(), Some(65), "{text}");
    assert!(
        text.contains("has no /images/pxeboot/vmlinuz and /images/pxeboot/initrd.img"),
        "{text}"
    );
    assert!(
        text.contains("--boot pxe serves the installer from --iso"),
        "{text}"
    );
    nothing_made(&ns);

    // The server's port taken on every address: the server ends before it
    // serves; lab up says why (its log) and removes everything it made.
    ns.run("ip", &["link", "set", "lo", "up"]);
    let holder = ns.hold_port("0.0.0.0", 8080);
    let (out, text) = ns.aerie(&strs(&pxe_lab_up(&iso)), work.path());
    drop(holder);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("the boot server ended") && text.contains("port 8080 is already taken"),
        "{text}"
    );
    assert!(
        text.contains("everything it had made was removed"),
        "{text}"
    );
    nothing_made(&ns);
}
