//! The qemu driver for real, inside a network namespace made by the test:
//! `aerie lab up --driver qemu --accel tcg --iso BASE` (no working /dev/kvm
//! here) makes aerie's installer ISO from the base (`DIR/installer.iso`) and
//! starts the lab example's three VMs from it; each reaches the installer
//! kernel with its own kernel command line (its node, its role's kickstart
//! on the installer ISO) on its serial log; `lab status` sees them; `lab
//! down` leaves no process, tap, bridge, nft rule, changed sysctl or file
//! behind.

use crate::lab_support;
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
        &small_lab_up(&iso, "2")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
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

    // Each VM boots the installer kernel with its own command line: the
    // installer ISO's stage 2 and its role's kickstart, found by the ISO's
    // UUID as blkid reads it (the base's label needs escaping, which GRUB
    // breaks: one reference for every boot path), and its node.
    let blkid = std::process::Command::new("blkid")
        .args(["-p", "-o", "value", "-s", "UUID"])
        .arg(lab.join("installer.iso"))
        .output()
        .unwrap();
    let uuid = String::from_utf8_lossy(&blkid.stdout).trim().to_string();
    assert!(!uuid.is_empty(), "blkid reads no UUID from installer.iso");
    let mut times = Vec::new();
    let nodes = [
        ("fe1", "frontend"),
        ("node1", "compute"),
        ("node2", "compute"),
    ];
    let lines = nodes_command_lines(&lab, &nodes.map(|(node, _)| node), start);
    for ((node, role), (line, at)) in nodes.into_iter().zip(lines) {
        for want in [
            format!("inst.stage2=hd:UUID={uuid} "),
            format!("inst.ks=hd:UUID={uuid}:/ks/{role}.cfg "),
            format!("aerie.node={node} "),
            "console=ttyS0,115200".to_string(),
        ] {
            assert!(line.contains(&want), "{node}: {want:?} not in {line:?}");
        }
        assert!(!line.contains("OEMDRV"), "{node}: {line:?}");
        times.push(format!("{node} {at:.1?}"));
    }
    eprintln!(
        "lab up returned after {up_time:.1?}; installer kernel reached: {}",
        times.join(", ")
    );

    // The installer ISO (made from the base, as `aerie iso` makes it) holds
    // the role kickstarts, the site and every node's kickstart; no config ISO.
    let installer = lab.join("installer.iso");
    let listing = ns.run(
        "xorriso",
        &[
            "-indev",
            installer.to_str().unwrap(),
            "-find",
            "/",
            "-type",
            "f",
        ],
    );
    for f in [
        "'/ks/frontend.cfg'",
        "'/ks/compute.cfg'",
        "'/aerie/site.yaml'",
        "'/aerie/fe1/ks.cfg'",
        "'/aerie/node2/bundle.json'",
    ] {
        assert!(listing.contains(f), "{f} not on installer.iso:\n{listing}");
    }
    let scratch = tempfile::tempdir().unwrap();
    let read_back = |inside: &str| {
        let to = scratch.path().join(inside.replace('/', "_"));
        ns.run(
            "xorriso",
            &[
                "-osirrox",
                "on",
                "-indev",
                installer.to_str().unwrap(),
                "-extract",
                inside,
                to.to_str().unwrap(),
            ],
        );
        std::fs::read_to_string(&to).unwrap()
    };
    assert_eq!(
        read_back("/aerie/site.yaml"),
        include_str!("../../examples/lab.yaml")
    );
    let frontend = read_back("/ks/frontend.cfg");
    assert!(
        frontend.contains("Kickstart dispatcher for site lab"),
        "{frontend}"
    );
    assert!(!lab.join("config.iso").exists());
    let state_text = std::fs::read_to_string(lab.join("lab.json")).unwrap();
    assert!(
        state_text.contains(installer.to_str().unwrap()),
        "installer.iso not in the ledger: {state_text}"
    );

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
