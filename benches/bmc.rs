//! Benchmark (`cargo bench --bench bmc`, via `scripts/bench-bmc.sh`). Prints
//! figures; asserts only that the runs did what they should.
//!
//! 1. For each N in $AERIE_BENCH_BMC (default "50 200"): sushy-tools'
//!    emulator with N fake systems (basic auth, bcrypt cost 4), and
//!    `aerie bmc boot --iso URL` on all of them at the default cap (50):
//!    the wall time, and the time per system.
//! 2. The time each injected fault adds: one system booted through the
//!    fault-injecting stand-in, clean and with each fault, each 3 times on a
//!    fresh stand-in (a fault fires once per stand-in), the medians.
//!
//! $AERIE_BIN picks the binary (the script passes the release build).

#[allow(dead_code)]
#[path = "../tests/support/redfish.rs"]
mod redfish;
#[allow(dead_code)]
#[path = "../tests/support/redfish_faults.rs"]
mod redfish_faults;
use redfish::{Emulator, FileServer};
use redfish_faults::{Fault, FaultProxy};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn bin() -> String {
    std::env::var("AERIE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_aerie").to_string())
}

/// One timed `aerie bmc boot`: (seconds, its JSON report).
fn boot(site: &Path, url: &str, extra: &[&str]) -> (f64, serde_json::Value) {
    let start = Instant::now();
    let out = Command::new(bin())
        .args(["bmc", "boot"])
        .arg(site)
        .args(["--iso", url, "--output", "json"])
        .args(extra)
        .output()
        .unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "aerie bmc boot: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (seconds, report)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let sizes: Vec<usize> = std::env::var("AERIE_BENCH_BMC")
        .unwrap_or_else(|_| "50 200".into())
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect();
    let iso = FileServer::start(vec![0x41; 64 * 1024]);
    let url = iso.url("aerie.iso");
    println!("BENCH | systems | aerie bmc boot (s) | per system (ms) | retries |");
    println!("BENCH |---|---|---|---|");
    for n in sizes {
        let emulator = Emulator::start(n, None);
        let dir = tempfile::tempdir().unwrap();
        let site = redfish::write_plain_site(dir.path(), &emulator.base(), &emulator.systems);
        let (seconds, report) = boot(&site, &url, &[]);
        assert_eq!(report["summary"]["ok"], n, "{report:#}");
        let retries: u64 = report["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["retries"].as_u64().unwrap())
            .sum();
        println!(
            "BENCH | {n} | {seconds:.2} | {:.0} | {retries} |",
            seconds * 1000.0 / n as f64
        );
        // Why the retries were made: the distinct reasons, counted.
        let mut reasons: HashMap<String, usize> = HashMap::new();
        for r in report["nodes"].as_array().unwrap() {
            for note in r["notes"].as_array().unwrap() {
                let note = note.as_str().unwrap();
                let reason = note.split_once(": ").map_or(note, |(_, r)| r);
                let reason = reason.split("; retried").next().unwrap_or(reason);
                *reasons.entry(reason.to_string()).or_default() += 1;
            }
        }
        let mut reasons: Vec<_> = reasons.into_iter().collect();
        reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
        for (reason, count) in reasons.iter().take(3) {
            eprintln!("BENCH   ({n} systems) {count} x {reason}");
        }
    }

    // The cost of each fault, on one system behind a fresh stand-in per run.
    let emulator = Emulator::start(1, None);
    let system = emulator.systems[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let quirks = dir.path().join("quirks.yaml");
    std::fs::write(
        &quirks,
        "- match: Aerie Stand-in BMC\n  why: the stand-in refuses media while on\n  power-off-before-insert: true\n  \
         cd-target: UsbCd\n  once-reads-back-as: [Once, Continuous]\n\
         - match: Sushy Emulator\n  why: sushy-tools reports Continuous\n  once-reads-back-as: [Once, Continuous]\n- match: \"\"\n",
    )
    .unwrap();
    let cases: Vec<(&str, Option<Fault>)> = vec![
        ("none", None),
        ("503 on the first insert", Some(Fault::BusyOnFirstInsert)),
        ("dropped connection (first GET)", Some(Fault::DropFirstGet)),
        (
            "ignores the boot override (fails)",
            Some(Fault::IgnoresBootOnce),
        ),
        (
            "power off before insert (stand-in make)",
            Some(Fault::PlaysVendor("Aerie Stand-in BMC".into())),
        ),
    ];
    let mut clean = 0.0;
    println!("BENCH");
    println!("BENCH | fault | median of 3 (s) | added (s) | node result |");
    println!("BENCH |---|---|---|---|");
    for (name, fault) in cases {
        let mut times = Vec::new();
        let mut result = String::new();
        for _ in 0..3 {
            if matches!(fault, Some(Fault::PlaysVendor(_))) {
                // The make refuses media while on: start each run powered on.
                emulator.post(
                    &format!("/redfish/v1/Systems/{system}/Actions/ComputerSystem.Reset"),
                    serde_json::json!({ "ResetType": "On" }),
                );
                emulator.wait_power(&system, "On");
            }
            // Each run starts from the emulator's default boot device.
            emulator.patch(
                &format!("/redfish/v1/Systems/{system}"),
                serde_json::json!({ "Boot": { "BootSourceOverrideTarget": "Hdd" } }),
            );
            let faults = HashMap::from([(system.clone(), fault.clone().into_iter().collect())]);
            let proxy = FaultProxy::start(emulator.port, faults);
            let site =
                redfish::write_plain_site(dir.path(), &proxy.base(), std::slice::from_ref(&system));
            let quirks_arg = quirks.to_str().unwrap();
            let (seconds, report) = boot(&site, &url, &["--quirks", quirks_arg]);
            let n0 = &report["nodes"][0];
            result = if n0["ok"] == true {
                format!("ok, {} retries", n0["retries"])
            } else {
                "failed (as it should)".to_string()
            };
            for note in n0["notes"].as_array().unwrap() {
                eprintln!("BENCH   ({name}) note: {}", note.as_str().unwrap());
            }
            times.push(seconds);
        }
        let m = median(times);
        if fault.is_none() {
            clean = m;
        }
        println!("BENCH | {name} | {m:.2} | {:+.2} | {result} |", m - clean);
    }
}
