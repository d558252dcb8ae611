//! Benchmark (`cargo bench --bench apply`, via `scripts/bench-apply.sh`). Prints
//! figures; asserts only that the runs succeeded.
//!
//! For each N in $AERIE_BENCH_HOSTS (default "50 200"): N test hosts, then
//!   1. `aerie apply` first run (every file written, actions run),
//!   2. `aerie apply` again (no-op),
//!   3. the raw lower bound of the same writes: `xargs -P50` running
//!      `ssh HOST 'cat > FILE'` once per (host, file), the same bytes aerie wrote.
//!
//! aerie runs under `/usr/bin/time -v` for its peak RSS. $AERIE_BIN picks the binary
//! (the script passes the release build).

#[path = "../tests/apply_support/mod.rs"]
mod apply_support;
#[path = "../tests/support/harness.rs"]
mod harness;
use apply_support::*;
use std::process::Command;
use std::time::Instant;

fn aerie_bin() -> String {
    std::env::var("AERIE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_aerie").to_string())
}

/// (seconds, peak RSS in MB, JSON report) of one timed apply.
fn timed_apply(
    tb: &Testbed,
    site: &std::path::Path,
    kh: &std::path::Path,
    parallel: usize,
) -> (f64, f64, serde_json::Value) {
    let time = testbed::require_tool("time").expect("/usr/bin/time (scripts/test-deps.sh)");
    let mut cmd = Command::new(time);
    cmd.arg("-v")
        .arg(aerie_bin())
        .arg("apply")
        .arg(site)
        .arg("--known-hosts")
        .arg(kh)
        .arg("--identity")
        .arg(tb.client_key())
        .args(["--output", "json", "--parallel", &parallel.to_string()])
        .env("HOME", tb.dir())
        .env_remove("SSH_AUTH_SOCK");
    let start = Instant::now();
    let out = tb.in_lab(&cmd).output().unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert!(out.status.success(), "{}", explain(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rss_kb: f64 = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("time -v output");
    (secs, rss_kb / 1024.0, report(&out))
}

/// The raw bound: one `ssh HOST 'cat > FILE'` per written file, 50 at a time.
fn raw_bound(tb: &Testbed, r: &serde_json::Value) -> (f64, usize) {
    let kh = tb.known_hosts_file();
    let dir = tb.dir().join("raw");
    std::fs::create_dir_all(&dir).unwrap();
    let mut jobs = String::new();
    let mut n = 0;
    for h in tb.hosts() {
        for (i, path) in paths(host(r, &h.name), "files", "path").iter().enumerate() {
            let local = dir.join(format!("{}-{i}", h.name));
            std::fs::copy(h.path(path), &local).unwrap();
            jobs.push_str(&format!("{} {} /root/raw-{i}\n", h.addr, local.display()));
            n += 1;
        }
    }
    let jobs_file = dir.join("jobs");
    std::fs::write(&jobs_file, jobs).unwrap();
    let ssh = format!(
        "ssh -F /dev/null -T -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile={} \
         -o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o KexAlgorithms=curve25519-sha256 -i {}",
        kh.display(),
        tb.client_key().display()
    );
    let script = format!(
        "xargs -P50 -L1 sh -c '{ssh} root@\"$0\" \"cat > $2\" < \"$1\"' < {}",
        jobs_file.display()
    );
    let start = Instant::now();
    let out = tb
        .run_in_lab(Command::new("sh").args(["-c", &script]))
        .unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert!(out.status.success(), "{}", explain(&out));
    (secs, n)
}

fn main() {
    let sizes = std::env::var("AERIE_BENCH_HOSTS").unwrap_or_else(|_| "50 200".into());
    for n in sizes
        .split_whitespace()
        .map(|s| s.parse::<usize>().unwrap())
    {
        let tb = testbed(n);
        let site = write_site(&tb, &site_yaml(&tb));
        let kh = known_hosts_copy(&tb);
        let (first, rss1, r) = timed_apply(&tb, &site, &kh, 50);
        assert_eq!(r["summary"]["changed"], n, "{r:#}");
        let (noop, rss2, r2) = timed_apply(&tb, &site, &kh, 50);
        assert_eq!(r2["summary"]["ok"], n, "{r2:#}");
        let (raw, files) = raw_bound(&tb, &r);
        println!(
            "BENCH hosts={n} files={files} aerie_first={first:.2}s aerie_noop={noop:.2}s raw_xargs_ssh_cat={raw:.2}s \
             ratio_first={:.2} ratio_noop={:.2} peak_rss_first={rss1:.1}MB peak_rss_noop={rss2:.1}MB",
            first / raw,
            noop / raw
        );
    }
}
