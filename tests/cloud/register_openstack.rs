//! `aerie register` with the openstack profile against the test bed's real OpenStack
//! (tests/support/cloud.rs): nova-compute with nova's fake driver on each compute
//! host, `openstack` and `nova-manage` the real ones on the frontend.
//!
//! One cloud for the file (its start-up is the expensive part). Each scenario has
//! compute hosts of its own and selects them with `--nodes`, so one scenario's state
//! is not another's input; all scenarios run even when one fails, and the test fails
//! naming every scenario that did.
//!
//! Hosts: 1 frontend; 2 up, 3 late, 4 never (waiting); 5 reinstalled; 6 a 500 from
//! nova's API; 7 a revoked token; 8 a nova-compute reporting under another name (the
//! cloud never lists host8); 9 late and 10 up while rabbitmq stops half-way.

use crate::apply_support::{aerie, aerie_command, known_hosts_copy, report, site_yaml, write_site};
use crate::cloud::{self, Cloud, HYPERVISOR_LIST, OPENRC};
use crate::harness::{json, node};
use crate::testbed::Testbed;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

const DISCOVER: &str = "cell_v2 discover_hosts --verbose";
const SERVICE_LIST: &str = "compute service list --service nova-compute -f json";

struct Ctx<'a> {
    tb: &'a Testbed,
    site: PathBuf,
    kh: PathBuf,
}

#[test]
fn register_against_the_real_cloud() {
    let tb = Testbed::new(10).unwrap();
    // Only host2's nova-compute starts with the cloud: `nova-manage cell_v2
    // discover_hosts` maps every unmapped compute node it finds, so each scenario
    // starts its own nodes' nova-compute when it begins.
    let mut cloud = Cloud::start_with(&tb, &[2]).unwrap();
    eprintln!("cloud start-up: {:?}", cloud.startup);
    let ctx = Ctx {
        tb: &tb,
        site: write_site(&tb, &site_yaml(&tb)),
        kh: known_hosts_copy(&tb),
    };
    type Scenario = fn(&Ctx, &mut Cloud);
    let scenarios: [(&str, Scenario); 6] = [
        (
            "late node registered, never-up node reported, rerun changes nothing",
            waits_registers_and_reruns,
        ),
        (
            "reinstalled node registered again with a new service record",
            reinstalled_node,
        ),
        ("nova's API answers 500", api_answers_500),
        ("the credentials hold a revoked token", revoked_token),
        ("a node the cloud never lists", node_never_listed),
        ("rabbitmq stopped half-way", rabbitmq_stops_half_way),
    ];
    let mut failed = Vec::new();
    for (name, f) in scenarios {
        let t = Instant::now();
        eprintln!("--- scenario: {name}");
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&ctx, &mut cloud)));
        eprintln!("--- scenario: {name}: {:?}", t.elapsed());
        if r.is_err() {
            failed.push(name);
        }
    }
    if !failed.is_empty() {
        eprintln!("{}", cloud.log_tails());
    }
    cloud.stop().unwrap();
    assert!(failed.is_empty(), "scenarios failed: {failed:?}");
}

// -------------------------------------------------------------------------------------

fn register(ctx: &Ctx, args: &[&str]) -> Output {
    aerie(ctx.tb, "register", &ctx.site, &ctx.kh, args)
}

/// The service's id as nova's API names it (a UUID from microversion 2.53 on).
fn service_id(cloud: &Cloud, host: &str) -> String {
    cloud
        .sql(&format!(
            "SELECT uuid FROM nova.services WHERE host = '{host}' AND `binary` = 'nova-compute' \
             AND deleted = 0"
        ))
        .trim()
        .to_string()
}

/// `aerie register ARGS` started in the background; `during` runs once aerie has
/// looked at nova's service list the first time (register has begun).
fn register_while(
    ctx: &Ctx,
    cloud: &mut Cloud,
    args: &[&str],
    during: impl FnOnce(&mut Cloud),
) -> Output {
    let lists = |c: &Cloud| {
        c.calls("openstack")
            .iter()
            .filter(|l| *l == SERVICE_LIST)
            .count()
    };
    let before = lists(cloud);
    let child = aerie_command(ctx.tb, "register", &ctx.site, &ctx.kh, args)
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while lists(cloud) == before {
        assert!(
            Instant::now() < deadline,
            "aerie register never listed the services"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    during(cloud);
    child.wait_with_output().unwrap()
}

/// Start host `index`'s nova-compute and wait until nova lists it up.
fn up(cloud: &mut Cloud, index: usize) {
    cloud.start_compute(index).unwrap();
    let name = format!("host{index}");
    cloud.wait_computes_up(&[&name], 300).unwrap();
}

fn assert_registered(cloud: &Cloud, hosts: &[&str]) {
    let m = cloud.mapped_hosts();
    let hv = cloud.hypervisors();
    for h in hosts {
        assert!(m.iter().any(|x| x == h), "{h} not in host_mappings: {m:?}");
        assert!(
            hv.iter().any(|x| x == h),
            "{h} not in hypervisor list: {hv:?}"
        );
    }
}

// -------------------------------------------------------------------------------------
// Priority 1: what register does on a healthy cloud.

/// host2 up from the start, host3's nova-compute started after register began, host4
/// never: 2 and 3 registered by one discovery, 4 reported after the timeout; the PCI
/// flavor exists once; a second run changes nothing in nova's databases.
fn waits_registers_and_reruns(ctx: &Ctx, cloud: &mut Cloud) {
    let nm_before = cloud.calls("nova-manage").len();
    let os_before = cloud.calls("openstack").len();
    assert!(!cloud.mapped_hosts().iter().any(|h| h == "host2"));
    let t = Instant::now();
    let out = register_while(
        ctx,
        cloud,
        &[
            "--nodes",
            "host2,host3,host4",
            "--poll-interval",
            "1",
            "--timeout",
            "60",
        ],
        |cloud| cloud.start_compute(3).unwrap(),
    );
    eprintln!("register (one late, one never up): {:?}", t.elapsed());
    assert_eq!(out.status.code(), Some(2), "{}", cloud::explain(&out));
    let r = report(&out);
    assert_eq!(node(&r, "host2")["status"], "registered", "{r:#}");
    assert_eq!(node(&r, "host3")["status"], "registered", "{r:#}");
    let h4 = node(&r, "host4");
    assert_eq!(h4["status"], "failed", "{r:#}");
    assert_eq!(h4["error_kind"], "not-up", "{r:#}");
    let msg = h4["error"].as_str().unwrap();
    assert!(
        msg.contains("not up after 60 s")
            && msg.contains(&format!("openstack {SERVICE_LIST}"))
            && msg.ends_with("not listed"),
        "{msg}"
    );
    // The wait looked more than once (host3 came up late), one listing per look.
    let calls = cloud.calls("openstack")[os_before..].to_vec();
    let looks = calls.iter().filter(|c| *c == SERVICE_LIST).count();
    assert!(looks >= 2, "{calls:#?}");
    // One discovery, after the wait, for the nodes that came up.
    assert_eq!(cloud.calls("nova-manage")[nm_before..], [DISCOVER]);
    let m = cloud.mapped_hosts();
    assert!(!m.iter().any(|h| h == "host4"), "{m:?}");
    assert_registered(cloud, &["host2", "host3"]);
    // The PCI flavor, once, with the site's alias.
    assert!(
        ["created", "present"].contains(&r["flavor"]["status"].as_str().unwrap()),
        "{r:#}"
    );
    assert_eq!(
        cloud.sql("SELECT COUNT(*) FROM nova_api.flavors WHERE name = 'm1.ib'"),
        "1\n"
    );
    let flavor = json(&cloud.admin_ok("openstack flavor show m1.ib -f json"));
    assert_eq!(flavor["vcpus"], 2, "{flavor:#}");
    assert!(
        flavor["properties"].to_string().contains("ib-vf:1"),
        "{flavor:#}"
    );

    // Second run over the registered nodes: nothing changes in nova, and aerie asks
    // the cloud two things (the hypervisor list, the flavor), whatever the node count.
    let before = cloud.nova_snapshot();
    let os_before = cloud.calls("openstack").len();
    let nm_before = cloud.calls("nova-manage").len();
    let out = register(ctx, &["--nodes", "host2,host3"]);
    assert!(out.status.success(), "{}", cloud::explain(&out));
    let r = report(&out);
    for h in ["host2", "host3"] {
        assert_eq!(node(&r, h)["status"], "already-registered", "{r:#}");
        assert_eq!(node(&r, h)["commands"], serde_json::json!([]), "{r:#}");
    }
    assert_eq!(r["flavor"]["status"], "present", "{r:#}");
    assert_eq!(cloud.nova_snapshot(), before);
    assert_eq!(
        cloud.calls("openstack")[os_before..],
        [HYPERVISOR_LIST, "flavor show m1.ib"]
    );
    assert_eq!(cloud.calls("nova-manage").len(), nm_before);
}

/// host5 registered, then reinstalled: a new host key, a fresh /var/lib/nova. Without
/// --accept-new-host-keys nothing is deregistered; with it, its service record goes,
/// its nova-compute restarts (systemctl stand-in) with a new one, and discovery maps it.
fn reinstalled_node(ctx: &Ctx, cloud: &mut Cloud) {
    up(cloud, 5);
    let out = register(ctx, &["--nodes", "host5", "--poll-interval", "1"]);
    assert!(out.status.success(), "{}", cloud::explain(&out));
    assert_registered(cloud, &["host5"]);
    let old_id = service_id(cloud, "host5");
    assert!(!old_id.is_empty());

    // The reinstall: a new host key (sshd restarted, every process of the host
    // gone, nova-compute too), and a fresh disk without the old compute id.
    let h5 = ctx.tb.host(5);
    h5.regenerate_host_key();
    cloud.host_restarted(5).unwrap();
    h5.exec_ok("rm -f /var/lib/nova/compute_id");
    let args = [
        "--nodes",
        "host5",
        "--reinstalled",
        "host5",
        "--poll-interval",
        "1",
        "--timeout",
        "120",
    ];
    let out = register(ctx, &args);
    assert_eq!(out.status.code(), Some(2), "{}", cloud::explain(&out));
    let r = report(&out);
    let n = node(&r, "host5");
    assert_eq!(n["error_kind"], "changed-host-key", "{n:#}");
    assert_eq!(n["deregistered"], false, "{n:#}");
    assert_eq!(
        service_id(cloud, "host5"),
        old_id,
        "deregistered without a trusted key"
    );

    let mut with_flag = args.to_vec();
    with_flag.push("--accept-new-host-keys");
    let out = register(ctx, &with_flag);
    assert!(out.status.success(), "{}", cloud::explain(&out));
    let r = report(&out);
    let n = node(&r, "host5");
    assert_eq!(n["status"], "registered", "{n:#}");
    assert_eq!(n["deregistered"], true, "{n:#}");
    assert_eq!(
        n["commands"],
        serde_json::json!([
            format!("openstack compute service delete {old_id}"),
            "on host5: systemctl restart openstack-nova-compute",
            format!("nova-manage {DISCOVER}")
        ]),
        "{n:#}"
    );
    let new_id = service_id(cloud, "host5");
    assert!(
        !new_id.is_empty() && new_id != old_id,
        "{old_id} -> {new_id}"
    );
    assert_registered(cloud, &["host5"]);
    let pinned = std::fs::read_to_string(&ctx.kh).unwrap();
    assert!(pinned.contains(&h5.known_hosts_line()), "{pinned}");
}

// -------------------------------------------------------------------------------------
// Priority 2: bad input, each a per-node message, exit 2, nothing half-registered, and
// a rerun that converges once the cause is gone.

/// The compute endpoints in keystone's catalog, pointed at `url`.
fn set_compute_url(cloud: &Cloud, url: &str) {
    cloud.admin_ok(&format!(
        "for id in $(openstack endpoint list --service compute -f value -c ID); do \
           openstack endpoint set --url {url} $id; done"
    ));
}

/// STAND-IN, named: tests/cloud/fault_proxy.py in front of nova's API answers 500 to
/// the hypervisor list (a broken API worker or database behind it).
fn api_answers_500(ctx: &Ctx, cloud: &mut Cloud) {
    up(cloud, 6);
    let fe = cloud.frontend().addr;
    cloud
        .start_fault_proxy(8775, 8774, "/os-hypervisors")
        .unwrap();
    set_compute_url(cloud, &format!("http://{fe}:8775/v2.1"));
    assert!(!cloud.mapped_hosts().iter().any(|h| h == "host6"));
    let before = cloud.nova_snapshot();
    let nm = cloud.calls("nova-manage").len();
    let out = register(ctx, &["--nodes", "host6", "--poll-interval", "1"]);
    set_compute_url(cloud, &format!("http://{fe}:8774/v2.1"));
    cloud.stop_fault_proxy();
    assert_eq!(out.status.code(), Some(2), "{}", cloud::explain(&out));
    let r = report(&out);
    let n = node(&r, "host6");
    assert_eq!(n["status"], "failed", "{n:#}");
    assert_eq!(n["error_kind"], "listing-failed", "{n:#}");
    let msg = n["error"].as_str().unwrap();
    assert!(
        msg.starts_with(&format!(
            "`openstack {HYPERVISOR_LIST}` failed (exit status 1)"
        )) && msg.contains("500")
            && msg.ends_with("; nothing was registered"),
        "{msg}"
    );
    assert_eq!(cloud.nova_snapshot(), before, "changed on a failing cloud");
    assert_eq!(cloud.calls("nova-manage").len(), nm);

    let out = register(ctx, &["--nodes", "host6", "--poll-interval", "1"]);
    assert!(out.status.success(), "{}", cloud::explain(&out));
    assert_eq!(node(&report(&out), "host6")["status"], "registered");
    assert_registered(cloud, &["host6"]);
}

/// The credentials file holds a keystone token that was revoked (an operator's
/// token-based openrc gone stale).
fn revoked_token(ctx: &Ctx, cloud: &mut Cloud) {
    up(cloud, 7);
    let token = cloud
        .admin_ok("openstack token issue -f value -c id")
        .trim()
        .to_string();
    cloud.admin_ok(&format!("openstack token revoke {token}"));
    let fe = cloud.frontend();
    let rc = fe.path(OPENRC);
    let good = std::fs::read_to_string(&rc).unwrap();
    std::fs::write(
        &rc,
        format!(
            "export OS_AUTH_TYPE=v3token\nexport OS_TOKEN={token}\n\
             export OS_AUTH_URL=http://{}:5000/v3\nexport OS_PROJECT_NAME=admin\n\
             export OS_PROJECT_DOMAIN_NAME=Default\nexport OS_IDENTITY_API_VERSION=3\n",
            fe.addr
        ),
    )
    .unwrap();
    assert!(!cloud.mapped_hosts().iter().any(|h| h == "host7"));
    let before = cloud.nova_snapshot();
    let nm = cloud.calls("nova-manage").len();
    let out = register(ctx, &["--nodes", "host7", "--poll-interval", "1"]);
    std::fs::write(&rc, good).unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", cloud::explain(&out));
    let r = report(&out);
    let n = node(&r, "host7");
    assert_eq!(n["error_kind"], "listing-failed", "{n:#}");
    let msg = n["error"].as_str().unwrap();
    // keystone: "Failed to validate token (HTTP 404)"; the message says where the
    // credentials came from.
    assert!(
        msg.starts_with(&format!(
            "`openstack {HYPERVISOR_LIST}` failed (exit status 1)"
        )) && msg.contains("token")
            && msg.ends_with(
                "(credentials from /root/keystonerc_admin on the frontend); nothing was registered"
            ),
        "{msg}"
    );
    assert_eq!(
        cloud.nova_snapshot(),
        before,
        "changed with a revoked token"
    );
    assert_eq!(cloud.calls("nova-manage").len(), nm);

    let out = register(ctx, &["--nodes", "host7", "--poll-interval", "1"]);
    assert!(out.status.success(), "{}", cloud::explain(&out));
    assert_eq!(node(&report(&out), "host7")["status"], "registered");
    assert_registered(cloud, &["host7"]);
}

/// host8's nova-compute reports as `host8-renamed` (its nova.conf names it so): the
/// cloud never lists host8. Once it reports as host8, the rerun registers it.
fn node_never_listed(ctx: &Ctx, cloud: &mut Cloud) {
    cloud.start_compute_as(8, "host8-renamed").unwrap();
    cloud.wait_computes_up(&["host8-renamed"], 300).unwrap();
    let nm = cloud.calls("nova-manage").len();
    let before = cloud.mapped_hosts();
    let out = register(
        ctx,
        &["--nodes", "host8", "--poll-interval", "1", "--timeout", "5"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", cloud::explain(&out));
    let r = report(&out);
    let n = node(&r, "host8");
    assert_eq!(n["error_kind"], "not-up", "{n:#}");
    let msg = n["error"].as_str().unwrap();
    assert!(
        msg.contains("not up after 5 s") && msg.ends_with("not listed"),
        "{msg}"
    );
    // Nothing ran: no discovery for a run with no node up.
    assert_eq!(cloud.calls("nova-manage").len(), nm);
    assert_eq!(cloud.mapped_hosts(), before);

    cloud.stop_compute(8).unwrap();
    cloud.start_compute(8).unwrap();
    let out = register(
        ctx,
        &[
            "--nodes",
            "host8",
            "--poll-interval",
            "1",
            "--timeout",
            "180",
        ],
    );
    assert!(out.status.success(), "{}", cloud::explain(&out));
    assert_eq!(node(&report(&out), "host8")["status"], "registered");
    assert_registered(cloud, &["host8"]);
}

/// rabbitmq stops while register waits for host9 (its nova-compute starts after the
/// stop and cannot reach the conductor); host10, up before, is registered; host9 is
/// reported and not mapped. With rabbitmq back, the rerun registers host9 only.
fn rabbitmq_stops_half_way(ctx: &Ctx, cloud: &mut Cloud) {
    up(cloud, 10);
    let t = Instant::now();
    let out = register_while(
        ctx,
        cloud,
        &[
            "--nodes",
            "host9,host10",
            "--poll-interval",
            "1",
            "--timeout",
            "25",
        ],
        |cloud| {
            cloud.stop_rabbitmq().unwrap();
            cloud.start_compute(9).unwrap();
        },
    );
    eprintln!("register with rabbitmq stopped: {:?}", t.elapsed());
    let restarted = cloud.restart_rabbitmq();
    assert_eq!(out.status.code(), Some(2), "{}", cloud::explain(&out));
    let r = report(&out);
    assert_eq!(node(&r, "host10")["status"], "registered", "{r:#}");
    let n = node(&r, "host9");
    assert_eq!(n["error_kind"], "not-up", "{n:#}");
    assert!(
        n["error"].as_str().unwrap().contains("not up after 25 s"),
        "{n:#}"
    );
    assert!(!cloud.mapped_hosts().iter().any(|h| h == "host9"));
    restarted.unwrap();

    cloud.wait_computes_up(&["host9", "host10"], 300).unwrap();
    let out = register(ctx, &["--nodes", "host9,host10", "--poll-interval", "1"]);
    assert!(out.status.success(), "{}", cloud::explain(&out));
    let r = report(&out);
    assert_eq!(node(&r, "host9")["status"], "registered", "{r:#}");
    assert_eq!(node(&r, "host10")["status"], "already-registered", "{r:#}");
    assert_registered(cloud, &["host9", "host10"]);
}
