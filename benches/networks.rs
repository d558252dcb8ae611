//! Benchmark (`cargo bench --bench networks`, via `scripts/bench-networks.sh`).
//! Prints figures; asserts only that the runs did what they should.
//!
//! On the test bed's real OpenStack (tests/support/cloud.rs: keystone, neutron with
//! its DHCP agent, on real-sshd test hosts), for the example site's two instances
//! networks and for generated sites of N networks ($AERIE_BENCH_NETWORKS, default
//! "10 50"; each a VLAN of the physnet with gateway, pool and DNS, names of their
//! own so each size starts from nothing):
//!   1. `aerie networks` creating them all (first run);
//!   2. `aerie networks` again (nothing to do).
//!
//! Each row: wall time, the openstack commands aerie ran on the frontend (its
//! report's `calls`), and the HTTP requests those commands made, counted by running
//! each kind of command once with `openstack --debug` (`REQ:` lines).

#[path = "../tests/support/apply_support.rs"]
mod apply_support;
#[path = "../tests/support/cloud.rs"]
mod cloud;
#[path = "../tests/support/harness.rs"]
mod harness;
#[path = "../tests/support/testbed.rs"]
mod testbed;
use apply_support::*;
use std::fmt::Write;
use std::time::Instant;

/// A site of `n` instances networks named `{prefix}-{i}`, VLANs from `vlan0`, its
/// frontend the test bed's.
fn synthetic(tb: &Testbed, prefix: &str, n: usize, vlan0: u16) -> String {
    let mut s = String::from(
        "site:\n  name: bench\n  domain: bench.example.org\n  profile: openstack\n  distro: rocky9\n  \
         dns: [192.0.2.53]\nnetworks:\n  - name: mgmt\n    purpose: management\n    cidr: 10.44.0.0/22\n    \
         gateway: 10.44.0.1\n",
    );
    for i in 0..n {
        let _ = write!(
            s,
            "  - name: {prefix}-{i}\n    purpose: instances\n    cidr: 10.{}.{}.0/24\n    vlan: {}\n    \
             gateway: 10.{0}.{1}.1\n    dhcp-range: [10.{0}.{1}.10, 10.{0}.{1}.200]\n",
            100 + i / 200,
            i % 200,
            vlan0 + i as u16
        );
    }
    let _ = write!(
        s,
        "nodes:\n  - hostname: fe1\n    role: frontend\n    ssh: {{ host: {}, user: root, port: 22 }}\n    \
         interfaces:\n      - network: mgmt\n        device: eth0\n        address: {0}\n      \
         - network: {prefix}-0\n        device: eth1\n",
        tb.host(1).addr
    );
    s
}

/// The example site with fe1 at the test bed's frontend.
fn example(tb: &Testbed) -> String {
    include_str!("../examples/lab.yaml").replacen(
        "ssh: { host: 10.20.0.10, user: root, port: 22 }",
        &format!("ssh: {{ host: {}, user: root, port: 22 }}", tb.host(1).addr),
        1,
    )
}

struct Timed {
    seconds: f64,
    calls: u64,
    statuses: Vec<String>,
}

fn timed(tb: &Testbed, site: &std::path::Path, kh: &std::path::Path) -> Timed {
    let start = Instant::now();
    let out = aerie(tb, "networks", site, kh, &[]);
    let seconds = start.elapsed().as_secs_f64();
    assert!(out.status.success(), "{}", cloud::explain(&out));
    let r = report(&out);
    Timed {
        seconds,
        calls: r["calls"].as_u64().unwrap(),
        statuses: r["networks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["status"].as_str().unwrap().to_string())
            .collect(),
    }
}

/// HTTP requests one openstack command makes (its `--debug` REQ lines).
fn requests(c: &cloud::Cloud, command: &str) -> usize {
    let out = c.admin(&format!("openstack --debug {command} 2>&1 >/dev/null"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("REQ: curl"))
        .count()
}

fn main() {
    let sizes = std::env::var("AERIE_BENCH_NETWORKS").unwrap_or_else(|_| "10 50".into());
    let tb = Testbed::new(2).unwrap();
    let c = cloud::Cloud::start(&tb).unwrap();
    println!("BENCH cloud start-up: {:.1} s", c.startup.as_secs_f64());
    let kh = known_hosts_copy(&tb);
    let mut sites = vec![("example lab".to_string(), 2, example(&tb))];
    let mut vlan0 = 110;
    for n in sizes
        .split_whitespace()
        .map(|s| s.parse::<usize>().unwrap())
    {
        sites.push((
            format!("synthetic {n}"),
            n,
            synthetic(&tb, &format!("b{n}"), n, vlan0),
        ));
        vlan0 += n as u16;
    }
    assert!(
        vlan0 <= 200,
        "the test cloud's VLAN range is 100..199: fewer networks"
    );
    let mut rows = Vec::new();
    for (what, n, text) in &sites {
        let site = tb.dir().join("bench-site.yaml");
        std::fs::write(&site, text).unwrap();
        let first = timed(&tb, &site, &kh);
        assert!(
            first.statuses.iter().all(|s| s == "created"),
            "{:?}",
            first.statuses
        );
        let again = timed(&tb, &site, &kh);
        assert!(
            again.statuses.iter().all(|s| s == "present"),
            "{:?}",
            again.statuses
        );
        let row = format!(
            "| {what} | {n} | {:.1} | {} | {:.2} | {:.1} | {} | {:.2} |",
            first.seconds,
            first.calls,
            first.seconds / *n as f64,
            again.seconds,
            again.calls,
            again.seconds / *n as f64
        );
        println!("BENCH {row}");
        rows.push(row);
    }
    let per = [
        ("network list -f json", requests(&c, "network list -f json")),
        (
            "subnet list --long -f json",
            requests(&c, "subnet list --long -f json"),
        ),
        (
            "network show -f json demo-net",
            requests(&c, "network show -f json demo-net"),
        ),
    ];
    let create_net = requests(
        &c,
        "network create --provider-network-type vlan --provider-physical-network physnet1 \
         --provider-segment 199 --share -f json bench-req",
    );
    let create_sub = requests(
        &c,
        "subnet create --network bench-req --subnet-range 10.99.0.0/24 --gateway 10.99.0.1 -f json bench-req-subnet",
    );
    c.admin_ok("openstack subnet delete bench-req-subnet && openstack network delete bench-req");
    let rerun_ways = rerun_alternatives(&c);
    println!("BENCH");
    println!("BENCH | site | networks | first run s | openstack commands | s/network | re-run s | openstack commands | s/network |");
    println!("BENCH |---|---|---|---|---|---|---|---|");
    for r in rows {
        println!("BENCH {r}");
    }
    println!("BENCH");
    println!("BENCH HTTP requests per openstack command (openstack --debug):");
    for (cmd, n) in per {
        println!("BENCH   {cmd}: {n}");
    }
    println!("BENCH   network create: {create_net}");
    println!("BENCH   subnet create: {create_sub}");
    println!("BENCH");
    println!(
        "BENCH What a re-run needs per found network (its provider attributes), side by side:"
    );
    for line in rerun_ways {
        println!("BENCH   {line}");
    }
    c.stop().unwrap();
}

/// A re-run shows each network it finds (`network show`: its provider type,
/// physnet and segment, which no listing gives). Side by side on every network
/// the cloud holds now: one `openstack network show` process per network (what
/// aerie runs), the same shows as one `openstack` process reading them on stdin
/// (cliff's interactive mode), and `network list --long` (one process; its
/// columns: type and shared, not physnet or segment).
fn rerun_alternatives(c: &cloud::Cloud) -> Vec<String> {
    let ids = c.admin_ok("openstack network list -f value -c ID");
    let ids: Vec<&str> = ids.split_whitespace().collect();
    let n = ids.len();
    let list = ids.join(" ");
    let time = |what: &str, cmd: &str| {
        let t = Instant::now();
        let out = c.admin(cmd);
        let s = t.elapsed().as_secs_f64();
        let failed = if out.status.success() {
            String::new()
        } else {
            format!(
                " (FAILED: {})",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            )
        };
        (
            format!("{what}: {s:.1} s{failed}"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (each, out) = time(
        &format!("{n} `openstack network show` processes"),
        &format!("for id in {list}; do openstack network show -f json $id; done"),
    );
    let each_found = out.matches("\"provider:segmentation_id\"").count();
    let (batch, out) = time(
        &format!("1 `openstack` process, {n} `network show` lines on stdin"),
        &format!("for id in {list}; do echo network show -f json $id; done | openstack"),
    );
    let batch_found = out.matches("\"provider:segmentation_id\"").count();
    let (long, out) = time(
        "1 `openstack network list --long`",
        "openstack network list --long -f json",
    );
    let columns: Vec<String> = serde_json::from_str::<serde_json::Value>(&out)
        .ok()
        .and_then(|v| {
            v.as_array()?
                .first()?
                .as_object()
                .map(|o| o.keys().cloned().collect())
        })
        .unwrap_or_default();
    vec![
        format!("{each} ({each_found} of {n} shown)"),
        format!("{batch} ({batch_found} of {n} shown)"),
        format!("{long} (columns: {})", columns.join(", ")),
    ]
}
