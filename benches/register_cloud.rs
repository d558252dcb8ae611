//! Benchmark (`cargo bench --bench register_cloud`, via `scripts/bench-register.sh`):
//! `aerie register` against the test bed's real OpenStack (tests/support/cloud.rs).
//! Prints figures; asserts only that the runs did what they should.
//!
//! One cloud; its start-up time is the first figure. Then for each N in
//! $AERIE_BENCH_NODES (default "1 10 50"): N fake-driver nova-compute processes on
//! one compute host of the testbed, each reporting as its own host name
//! (`bN-01`, ...: several nova-computes sharing one host's namespaces, with their own
//! `host =`, state and lock paths; named, not N test hosts), a site with those N
//! compute nodes, and
//!   1. `aerie register` (every node new: wait, one discovery, verify, flavor),
//!   2. `aerie register` again (nothing to do),
//!   3. `aerie status` (each node over SSH, the cloud column from two listings).
//!
//! For each run: wall time, the `openstack` and `nova-manage` invocations aerie made
//! on the frontend (counted by the harness's wrappers), and the HTTP requests the
//! APIs served meanwhile to the OpenStack CLI (keystone, nova-api, placement; their
//! access logs, by user agent: not the services' own requests).

#[path = "../tests/support/apply_support.rs"]
mod apply_support;
#[path = "../tests/support/cloud.rs"]
mod cloud;
#[path = "../tests/support/harness.rs"]
mod harness;
#[path = "../tests/support/testbed.rs"]
mod testbed;

use apply_support::{aerie, known_hosts_copy};
use cloud::Cloud;
use std::time::Instant;
use testbed::Testbed;

const APIS: [&str; 3] = ["keystone", "nova-api", "placement"];

fn main() {
    let sizes: Vec<usize> = std::env::var("AERIE_BENCH_NODES")
        .unwrap_or_else(|_| "1 10 50".into())
        .split_whitespace()
        .map(|s| s.parse().expect("AERIE_BENCH_NODES: numbers"))
        .collect();
    // The frontend, and one compute host per size.
    let tb = Testbed::new(1 + sizes.len()).expect("testbed");
    let mut cloud = Cloud::start_with(&tb, &[]).expect("cloud");
    println!("BENCH cloud start-up {:.1} s", cloud.startup.as_secs_f64());
    let kh = known_hosts_copy(&tb);
    for (i, &n) in sizes.iter().enumerate() {
        let host = i + 2;
        let names: Vec<String> = (1..=n).map(|k| format!("b{n}-{k:02}")).collect();
        let t = Instant::now();
        for name in &names {
            cloud.start_compute_as(host, name).expect("nova-compute");
        }
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let deadline = Instant::now() + std::time::Duration::from_secs(1800);
        while cloud.wait_computes_up(&refs, 60).is_err() {
            assert!(Instant::now() < deadline, "computes not up in 30 min");
            for again in cloud.restart_exited_computes().expect("restart") {
                println!("BENCH nodes={n}: {again} exited at start-up, started again");
            }
        }
        println!(
            "BENCH nodes={n}: {n} nova-compute up in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        let site = tb.dir().join(format!("site-{n}.yaml"));
        std::fs::write(&site, site_yaml(&tb, &names, tb.host(host).addr)).unwrap();
        for (run, want) in [("first", "registered"), ("rerun", "already-registered")] {
            let os = cloud.calls("openstack").len();
            let nm = cloud.calls("nova-manage").len();
            let api: Vec<usize> = APIS.iter().map(|a| cloud.api_requests(a)).collect();
            let t = Instant::now();
            let out = aerie(&tb, "register", &site, &kh, &["--poll-interval", "1"]);
            let wall = t.elapsed();
            assert!(out.status.success(), "{}", cloud::explain(&out));
            let r = apply_support::report(&out);
            let done = r["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| x["status"] == want)
                .count();
            assert_eq!(done, n, "{r:#}");
            let calls: Vec<String> = cloud.calls("openstack")[os..].to_vec();
            let api_now: Vec<String> = APIS
                .iter()
                .zip(&api)
                .map(|(a, before)| format!("{a} {}", cloud.api_requests(a) - before))
                .collect();
            println!(
                "BENCH nodes={n} {run}: {:.1} s, openstack {} + nova-manage {} invocations, \
                 API requests: {}",
                wall.as_secs_f64(),
                calls.len(),
                cloud.calls("nova-manage").len() - nm,
                api_now.join(", ")
            );
            println!("BENCH   openstack calls: {calls:?}");
        }
        // `aerie status` on the registered nodes: per node its SSH checks (every
        // node reached at the compute host's sshd), and the cloud column from two
        // listings on the frontend for all of them.
        let os = cloud.calls("openstack").len();
        let t = Instant::now();
        let out = aerie(&tb, "status", &site, &kh, &["--connect-timeout", "10"]);
        let wall = t.elapsed();
        let r = apply_support::report(&out);
        let up = r["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| {
                x["reachable"] == true
                    && x["cloud"] == serde_json::json!({"service": "up", "hypervisor_listed": true})
            })
            .count();
        assert_eq!(up, n, "{r:#}");
        println!(
            "BENCH nodes={n} status: {:.1} s, openstack {} invocations",
            wall.as_secs_f64(),
            cloud.calls("openstack").len() - os
        );
        cloud.stop_compute(host).expect("stop computes");
    }
    cloud.stop().expect("cloud stop");
}

/// The site: the testbed's frontend and `names` as compute nodes (addresses in the
/// management network that nothing answers on: register reaches only the frontend;
/// status reaches each over SSH at `ssh`, the compute host running their nova-computes).
fn site_yaml(tb: &Testbed, names: &[String], ssh: std::net::Ipv4Addr) -> String {
    let fe = tb.host(1);
    let mut s = format!(
        "site:\n  name: benchlab\n  domain: test.example.org\n  profile: openstack\n  distro: rocky9\n\
         networks:\n\
         \x20 - name: mgmt\n    purpose: management\n    cidr: 10.44.0.0/22\n    gateway: 10.44.0.1\n\
         features:\n  iommu: intel\n  sriov:\n    driver: mlx4_core\n    num-vfs: 4\n    probe-vf: 0\n\
         \x20   passthrough:\n      - alias: ib-vf\n        vendor-id: \"15b3\"\n        product-id: \"1004\"\n\
         \x20   flavor: {{ name: m1.ib, vcpus: 2, ram-mb: 2048, disk-gb: 10, devices: 1 }}\n\
         nodes:\n\
         \x20 - hostname: {}\n    role: frontend\n    interfaces:\n      - network: mgmt\n        device: eth0\n        address: {}\n",
        fe.name, fe.addr
    );
    for (i, name) in names.iter().enumerate() {
        s.push_str(&format!(
            "  - hostname: {name}\n    role: compute\n    ssh: {{ host: {ssh}, user: root, port: 22 }}\n    interfaces:\n      - network: mgmt\n        device: eth0\n        address: 10.44.2.{}\n",
            i + 10
        ));
    }
    s
}
