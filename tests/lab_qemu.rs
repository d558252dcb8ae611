//! The qemu driver for real, inside a network namespace made by the test:
//! `aerie lab up --driver qemu --accel tcg` (no working /dev/kvm here)
//! starts the lab example's three VMs; each reaches the installer kernel with
//! its own kernel command line (its node, the OEMDRV kickstart) on its serial
//! log; `lab status` sees them; `lab down` leaves no process, tap, bridge,
//! nft rule, changed sysctl or file behind.

mod lab_support;
use lab_support::*;
use std::time::Instant;

#[test]
fn qemu_lab_boots_every_node_and_down_leaves_nothing() {
    let ns = Netns::new();
    let work = tempfile::tempdir().unwrap();
    let iso = fixture_iso(work.path());
    let forward_before = ns.ip_forward();
    let start = Instant::now();
    let (out, text) = ns.aerie(
        &[
            "lab",
            "up",
            "--example",
            "lab",
            "--driver",
            "qemu",
            "--accel",
            "tcg",
            "--iso",
            iso.to_str().unwrap(),
            "--dir",
            "lab",
            "--memory",
            "512",
            "--cpus",
            "1",
            "--disk-gb",
            "2",
        ],
        work.path(),
    );
    assert!(out.status.success(), "lab up failed:\n{text}");
    let up_time = start.elapsed();
    assert!(text.contains("SOFTWARE EMULATION"), "{text}");
    let lab = work.path().join("lab");

    // Made: three bridges (one per site network in use), two taps per VM,
    // the NAT table, forwarding on, one qemu per node.
    let links = ns.links();
    for name in [
        "ae-lab-b0",
        "ae-lab-b1",
        "ae-lab-b2",
        "ae-lab-t0-0",
        "ae-lab-t0-1",
        "ae-lab-t1-0",
        "ae-lab-t2-1",
    ] {
        assert!(
            links.contains(&name.to_string()),
            "{name} missing: {links:?}"
        );
    }
    let rules = ns.nft_ruleset();
    assert!(
        rules.contains("ip saddr 10.20.0.0/24 oifname != {"),
        "{rules}"
    );
    assert!(rules.contains("masquerade"), "{rules}");
    assert_eq!(ns.ip_forward(), "1");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(lab.join("lab.json")).unwrap()).unwrap();
    let pids: Vec<u32> = state["made"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "process")
        .map(|m| m["pid"].as_u64().unwrap() as u32)
        .collect();
    assert_eq!(pids.len(), 3, "{state}");

    // Each VM boots the installer kernel with its own command line.
    let mut times = Vec::new();
    for node in ["fe1", "node1", "node2"] {
        let log = lab.join(format!("{node}.serial.log"));
        let (line, at) = wait_for_command_line(&log, start, boot_deadline()).unwrap();
        for want in [
            format!("aerie.node={node} "),
            "inst.ks=hd:LABEL=OEMDRV:/ks.cfg ".to_string(),
            "inst.stage2=hd:LABEL=Rocky\\x209.4\\x20x86_64 ".to_string(),
            "console=ttyS0,115200".to_string(),
        ] {
            assert!(line.contains(&want), "{node}: {want:?} not in {line:?}");
        }
        times.push(format!("{node} {at:.1?}"));
    }
    eprintln!(
        "lab up returned after {up_time:.1?}; installer kernel reached: {}",
        times.join(", ")
    );

    // The OEMDRV config ISO holds the dispatcher and every node's kickstart and bundle.
    let listing = ns.run(
        "xorriso",
        &[
            "-indev",
            lab.join("config.iso").to_str().unwrap(),
            "-find",
            "/",
            "-type",
            "f",
        ],
    );
    for f in ["'/ks.cfg'", "'/fe1/ks.cfg'", "'/node2/bundle.json'"] {
        assert!(listing.contains(f), "{f} not on config.iso:\n{listing}");
    }
    let pvd = ns
        .command("xorriso")
        .args([
            "-indev",
            lab.join("config.iso").to_str().unwrap(),
            "-pvd_info",
        ])
        .output()
        .unwrap();
    let pvd = format!(
        "{}{}",
        String::from_utf8_lossy(&pvd.stdout),
        String::from_utf8_lossy(&pvd.stderr)
    );
    assert!(pvd.contains("Volume Id    : OEMDRV"), "{pvd}");

    let (out, text) = ns.aerie(&["lab", "status", "--dir", "lab"], work.path());
    assert!(out.status.success(), "{text}");
    assert_eq!(text.matches(" running ").count(), 3, "{text}");
    assert!(text.contains("10.20.0.11"), "{text}");

    let (out, text) = ns.aerie(&["lab", "down", "--dir", "lab"], work.path());
    assert!(out.status.success(), "lab down failed:\n{text}");
    for pid in &pids {
        assert!(process_gone(*pid), "qemu {pid} still runs after lab down");
    }
    assert_eq!(ns.links(), ["lo"], "interfaces left behind");
    assert!(
        !ns.nft_ruleset().contains("table"),
        "nft rules left: {}",
        ns.nft_ruleset()
    );
    assert_eq!(ns.ip_forward(), forward_before, "ip_forward not restored");
    assert!(
        !lab.exists(),
        "the lab folder is left: {:?}",
        std::fs::read_dir(&lab).map(|d| d.count())
    );
    assert!(
        ns.pids().is_empty(),
        "processes left in the namespace: {:?}",
        ns.pids()
    );
}
