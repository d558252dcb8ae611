//! Benchmark (`cargo bench --bench apply`, via `scripts/bench-apply.sh`). Prints
//! figures; asserts only that the runs did what they should.
//!
//! For each N in $AERIE_BENCH_HOSTS (default "10 50 200"), on N fresh test hosts
//! (the test site: a frontend and compute nodes with every feature on, so a compute
//! node gets 5 files, the GRUB and nova.conf edits and the ebtables check-or-insert),
//! in one run:
//!   1. the floor: one OpenSSH session per host writing three 2 kB files,
//!      `xargs -P50` running `ssh HOST 'head -c 2048 > f1; head -c 2048 > f2; head -c 2048 > f3'`
//!      (`head -c`, not `cat`: the three files share one stdin);
//!   2. `aerie apply --parallel 50`, first run (every file written, actions run);
//!   3. `aerie apply` again (nothing to do);
//!   4. the floor again (the figure is the mean of both).
//!
//! aerie runs under `/usr/bin/time -v` for its peak RSS, with `AERIE_DEBUG_SSH=1`
//! for the SSH channels it opened per host. Each phase also counts, per host, the
//! processes the host forked (the pid its PID namespace hands out next, before and
//! after) and the CPU time its sshd and everything under it used (the listener's
//! reaped children), and the CPU time of the client side (aerie, or xargs and the
//! ssh clients): work that does not depend on the machine's load, unlike wall time. $AERIE_BIN picks the binary (the script
//! passes the release build); $AERIE_BASELINE_BIN, when set, runs another build the
//! same way on its own fresh hosts, for a before/after in the same run.

#[path = "../tests/support/apply_support.rs"]
mod apply_support;
#[path = "../tests/support/harness.rs"]
mod harness;
#[path = "../tests/support/testbed.rs"]
mod testbed;
use apply_support::*;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Work per host that does not depend on the machine's load.
#[derive(Clone, Copy)]
struct Cost {
    /// Processes forked on the host (sshd's own included).
    forks: f64,
    /// CPU ms on the host: sshd and every process under it.
    remote_ms: f64,
    /// CPU ms on the client side (aerie, or xargs + ssh).
    client_ms: f64,
}

/// Counters of a testbed before a phase.
struct Counters {
    pids: Vec<u64>,
    remote_ticks: u64,
    client_ticks: u64,
}

/// Reaped children's CPU ticks (user + system) of `pid`.
fn children_ticks(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    // Fields 16 and 17 of proc(5) (cutime, cstime); `rest` starts at field 3.
    f[13].parse::<u64>().unwrap() + f[14].parse::<u64>().unwrap()
}

/// The pid a host's PID namespace hands out next (the probe's own shell).
fn next_pid(h: &testbed::TestHost) -> u64 {
    h.exec_ok("echo $$").trim().parse().unwrap()
}

fn counters(tb: &Testbed) -> Counters {
    Counters {
        pids: tb.hosts().iter().map(next_pid).collect(),
        remote_ticks: tb
            .hosts()
            .iter()
            .map(|h| children_ticks(&h.sshd_pid().unwrap().to_string()))
            .sum(),
        client_ticks: children_ticks("self"),
    }
}

impl Counters {
    /// What the phase since `self` cost per host.
    fn cost(&self, tb: &Testbed) -> Cost {
        let client = children_ticks("self");
        let remote: u64 = tb
            .hosts()
            .iter()
            .map(|h| children_ticks(&h.sshd_pid().unwrap().to_string()))
            .sum();
        let after: Vec<u64> = tb.hosts().iter().map(next_pid).collect();
        let n = tb.hosts().len() as f64;
        // One pid per probe: the probe's shell.
        let forks: u64 = after.iter().zip(&self.pids).map(|(a, b)| a - b - 1).sum();
        let tick_ms = 1000.0 / 100.0;
        Cost {
            forks: forks as f64 / n,
            remote_ms: (remote - self.remote_ticks) as f64 * tick_ms / n,
            client_ms: (client - self.client_ticks) as f64 * tick_ms / n,
        }
    }
}

/// One timed apply.
struct Timed {
    cost: Cost,
    seconds: f64,
    rss_mb: f64,
    /// Mean SSH channels per host.
    channels: f64,
    report: serde_json::Value,
}

fn timed_apply(tb: &Testbed, bin: &str, site: &Path, kh: &Path) -> Timed {
    let time = testbed::require_tool("time").expect("/usr/bin/time (scripts/test-deps.sh)");
    // `ip netns exec LAB AERIE args...`, with `bin` for AERIE, under `time -v`.
    let inner = aerie_command(tb, "apply", site, kh, &["--parallel", "50"])
        .env("AERIE_DEBUG_SSH", "1")
        .command();
    let mut cmd = Command::new(time);
    cmd.arg("-v").arg(inner.get_program());
    for (i, a) in inner.get_args().enumerate() {
        cmd.arg(if i == 3 { bin.as_ref() } else { a });
    }
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let before = counters(tb);
    let start = Instant::now();
    let out = cmd.output().unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let cost = before.cost(tb);
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
    // "debug: HOST: N ssh channel(s)" (a build without the counter prints none).
    let counts: Vec<f64> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("debug: ")?.split(": ").nth(1))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect();
    let channels = if counts.is_empty() {
        f64::NAN
    } else {
        counts.iter().sum::<f64>() / counts.len() as f64
    };
    Timed {
        cost,
        seconds,
        rss_mb: rss_kb / 1024.0,
        channels,
        report: report(&out),
    }
}

/// The floor: one session per host, three 2 kB files, 50 sessions at a time.
fn floor(tb: &Testbed) -> (f64, Cost) {
    let kh = tb.known_hosts_file();
    let dir = tb.dir().join("floor");
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("three-files");
    let bytes: Vec<u8> = (0..3 * 2048).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(&data, bytes).unwrap();
    let hosts: String = tb.hosts().iter().map(|h| format!("{}\n", h.addr)).collect();
    let hosts_file = dir.join("hosts");
    std::fs::write(&hosts_file, hosts).unwrap();
    let ssh = format!(
        "ssh -F /dev/null -T -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile={} \
         -o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o KexAlgorithms=curve25519-sha256 -i {}",
        kh.display(),
        tb.client_key().display()
    );
    let remote = "head -c 2048 > /root/f1; head -c 2048 > /root/f2; head -c 2048 > /root/f3";
    let script = format!(
        "xargs -P50 -I{{}} sh -c '{ssh} root@{{}} \"{remote}\" < {}' < {}",
        data.display(),
        hosts_file.display()
    );
    let before = counters(tb);
    let start = Instant::now();
    let out = tb
        .run_in_lab(Command::new("sh").args(["-c", &script]))
        .unwrap();
    let secs = start.elapsed().as_secs_f64();
    let cost = before.cost(tb);
    assert!(out.status.success(), "{}", explain(&out));
    for h in tb.hosts() {
        for f in ["/root/f1", "/root/f2", "/root/f3"] {
            let len = std::fs::metadata(h.path(f)).map(|m| m.len()).unwrap_or(0);
            assert_eq!(len, 2048, "{} {f}", h.name);
        }
    }
    (secs, cost)
}

/// One binary on N fresh hosts: (floor, its cost, first run, re-run).
fn measure(n: usize, bin: &str) -> (f64, Cost, Timed, Timed) {
    let tb = testbed(n);
    let site = write_site(&tb, &site_yaml(&tb));
    let kh = known_hosts_copy(&tb);
    let floor_before = floor(&tb);
    let first = timed_apply(&tb, bin, &site, &kh);
    assert_eq!(first.report["summary"]["changed"], n, "{:#}", first.report);
    let again = timed_apply(&tb, bin, &site, &kh);
    assert_eq!(again.report["summary"]["ok"], n, "{:#}", again.report);
    let floor_after = floor(&tb);
    let cost = floor_before.1;
    ((floor_before.0 + floor_after.0) / 2.0, cost, first, again)
}

fn main() {
    let sizes = std::env::var("AERIE_BENCH_HOSTS").unwrap_or_else(|_| "10 50 200".into());
    let bin = std::env::var("AERIE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_aerie").into());
    let mut builds = vec![("aerie", bin)];
    if let Ok(b) = std::env::var("AERIE_BASELINE_BIN") {
        builds.push(("baseline", b));
    }
    let mut rows = Vec::new();
    let mut costs = Vec::new();
    for n in sizes
        .split_whitespace()
        .map(|s| s.parse::<usize>().unwrap())
    {
        for (name, bin) in &builds {
            let (fl, fc, first, again) = measure(n, bin);
            for (phase, c) in [("floor", fc), ("first", first.cost), ("re-run", again.cost)] {
                let row = format!(
                    "| {name} | {n} | {phase} | {:.1} | {:.1} | {:.1} |",
                    c.forks, c.remote_ms, c.client_ms
                );
                println!("BENCH {row}");
                costs.push(row);
            }
            let row = format!(
                "| {name} | {n} | {fl:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} |",
                first.seconds,
                first.seconds / fl,
                again.seconds,
                again.seconds / fl,
                first.channels,
                again.channels,
                first.rss_mb,
                again.rss_mb,
                first.seconds * 1000.0 / n as f64,
            );
            println!("BENCH {row}");
            rows.push(row);
        }
    }
    println!("BENCH");
    println!(
        "BENCH | build | hosts | floor s | first s | first/floor | re-run s | re-run/floor | channels/host first | re-run | peak RSS MB first | re-run | first ms/host |"
    );
    println!("BENCH |---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!("BENCH {r}");
    }
    println!("BENCH");
    println!("BENCH | build | hosts | phase | forks/host on the host | host CPU ms/host | client CPU ms/host |");
    println!("BENCH |---|---|---|---|---|---|");
    for r in costs {
        println!("BENCH {r}");
    }
}
