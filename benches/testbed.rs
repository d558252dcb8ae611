//! Figures for the test-host harness: bring-up and teardown time for N hosts and
//! memory per idle host. `scripts/bench-testbed.sh [N ...]` runs it (needs root).

#[path = "../tests/support/testbed.rs"]
mod testbed;

use std::fs;
use std::process::Command;
use std::time::Instant;

use testbed::Testbed;

fn main() {
    bench_bringup();
}

fn ssh_ok(tb: &Testbed, host: &testbed::TestHost, remote: &str) -> String {
    let out = tb.ssh(host).arg(remote).output().expect("run ssh");
    assert!(
        out.status.success(),
        "ssh {}: {}",
        host.name,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn bench_bringup() {
    let sizes: Vec<usize> = std::env::var("AERIE_BENCH_HOSTS")
        .unwrap_or_else(|_| "10 50".into())
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect();
    for n in sizes {
        let avail_before = mem_available_kb();
        let t0 = Instant::now();
        let tb = Testbed::new(n).expect("testbed");
        let up = t0.elapsed();
        std::thread::sleep(std::time::Duration::from_millis(500));
        let avail_after = mem_available_kb();
        // Real memory of the host processes: PSS of everything in the hosts' netns.
        let mut pss_kb = 0u64;
        let mut procs = 0;
        for h in tb.hosts() {
            let out = Command::new("ip")
                .args(["netns", "pids", &h.netns])
                .output()
                .unwrap();
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                procs += 1;
                pss_kb += smaps_pss_kb(pid);
            }
        }
        let t1 = Instant::now();
        // One strict ssh round trip to the last host: the whole path works at this size.
        let last = tb.host(n);
        assert_eq!(ssh_ok(&tb, last, "hostname").trim(), last.name);
        let ssh_t = t1.elapsed();
        let t2 = Instant::now();
        drop(tb);
        let down = t2.elapsed();
        println!(
            "BENCH hosts={n} up={:.2}s down={:.2}s ssh_one={:.2}s procs={procs} pss_per_host={:.2}MB mem_available_drop_per_host={:.2}MB",
            up.as_secs_f64(),
            down.as_secs_f64(),
            ssh_t.as_secs_f64(),
            pss_kb as f64 / 1024.0 / n as f64,
            (avail_before.saturating_sub(avail_after)) as f64 / 1024.0 / n as f64,
        );
    }
}

fn mem_available_kb() -> u64 {
    fs::read_to_string("/proc/meminfo")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

fn smaps_pss_kb(pid: &str) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
