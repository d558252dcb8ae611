//! `aerie status` against the test bed's real OpenStack (tests/support/cloud.rs): rows
//! for an in-sync node, a drifted one, one whose host key changed, one with no pinned
//! key, an unreachable one; reboot required from the running kernel's state;
//! `registered` and the cloud column from nova itself (its hypervisor list and its
//! compute services, two calls on the frontend for every node); the frontend's cell
//! from the deployed marker. The kernel state is read from FIXTURES
//! (/srv/facts/proc/cmdline, /srv/facts/sys/module/...: these machines cannot provide
//! a node's real ones); the hosts' grub2-mkconfig/systemctl are the testbed's
//! STAND-INS (apply_support).
//!
//! Hosts: 1 frontend; 2 in sync, up; 3 drifted, old kernel, up; 4 no pinned key, its
//! nova-compute stopped (nova lists it down); 5 reinstalled (a new host key), never
//! registered (nova lists nothing of it); 6 unreachable, registered.

use crate::apply_support::{self, aerie, apply, known_hosts_copy, lab_aerie, report, write_site};
use crate::cloud::{self, Cloud, HYPERVISOR_LIST};
use crate::harness::{json, node};
use crate::testbed::{TestHost, Testbed};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ROOT: &str = "/srv/facts";
const MARKER: &str = "/run/aerie/reboot-required";
const BOOTED: &str = "BOOT_IMAGE=/vmlinuz ro intel_iommu=on iommu=pt";
const SERVICE_LIST: &str = "compute service list --service nova-compute -f json";

/// The host "booted" with this kernel: its facts (FIXTURES), /run cleared of aerie's mark.
fn kernel(h: &TestHost, cmdline: &str, nested: &str) {
    h.exec_ok(&format!(
        "mkdir -p {ROOT}/proc {ROOT}/sys/module/kvm_intel/parameters && \
         echo '{cmdline}' > {ROOT}/proc/cmdline && \
         echo {nested} > {ROOT}/sys/module/kvm_intel/parameters/nested && rm -f {MARKER}"
    ));
}

/// What nova says, per compute host: (its nova-compute's state, listed as hypervisor).
fn nova_says(cloud: &Cloud, host: &str) -> (Option<String>, bool) {
    let services = json(&cloud.admin_ok(&format!("openstack {SERVICE_LIST}")));
    let state = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Host"] == host)
        .map(|s| s["State"].as_str().unwrap().to_string());
    (state, cloud.hypervisors().iter().any(|h| h == host))
}

#[test]
fn status_rows_and_the_cloud_column_from_the_real_cloud() {
    let tb = apply_support::testbed(6);
    let mut cloud = Cloud::start_with(&tb, &[2, 3, 4, 6]).unwrap();
    eprintln!("cloud start-up: {:?}", cloud.startup);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rows(&tb, &mut cloud)));
    if r.is_err() {
        eprintln!("{}", cloud.log_tails());
    }
    cloud.stop().unwrap();
    if let Err(e) = r {
        std::panic::resume_unwind(e);
    }
}

fn rows(tb: &Testbed, cloud: &mut Cloud) {
    let site = write_site(tb, &apply_support::site_yaml(tb));
    let kh = known_hosts_copy(tb);
    // Every bundle applied, the frontend's too: its PCI flavor action sources the
    // profile's credentials, and the real cloud makes the flavor.
    let out = apply(tb, &site, &kh, &[]);
    assert!(out.status.success(), "{}", cloud::explain(&out));
    assert_eq!(
        cloud.sql("SELECT COUNT(*) FROM nova_api.flavors WHERE name = 'm1.ib'"),
        "1\n",
        "apply made the site's PCI flavor in nova"
    );
    // Registered for real: nova maps the hosts whose nova-compute runs.
    let out = aerie(
        tb,
        "register",
        &site,
        &kh,
        &[
            "--nodes",
            "host2,host3,host4,host6",
            "--poll-interval",
            "0.5",
        ],
    );
    assert!(out.status.success(), "{}", cloud::explain(&out));
    assert_eq!(cloud.mapped_hosts(), ["host2", "host3", "host4", "host6"]);
    // host4's nova-compute stops: nova lists it down once its reports are late
    // (service_down_time, 60 s by default).
    cloud.stop_compute(4).unwrap();
    let stopped = Instant::now();
    for h in tb.hosts() {
        kernel(h, BOOTED, "Y");
    }
    // host3: drifted (a local edit), and still running the old kernel command line.
    tb.host(3)
        .exec_ok("echo 'options kvm_intel nested=0' > /etc/modprobe.d/kvm-nested.conf");
    kernel(tb.host(3), "BOOT_IMAGE=/vmlinuz ro", "N");
    // host5: reinstalled (a new host key); its nova-compute never ran.
    tb.host(5).regenerate_host_key();
    // host4: its key is not pinned in this known-hosts file.
    let text = std::fs::read_to_string(&kh).unwrap();
    let kh4 = tb.dir().join("kh-without-host4");
    let host4 = format!("{} ", tb.host(4).addr);
    std::fs::write(
        &kh4,
        text.lines()
            .filter(|l| !l.starts_with(&host4))
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    )
    .unwrap();
    while nova_says(cloud, "host4").0.as_deref() != Some("down") {
        assert!(
            stopped.elapsed() < Duration::from_secs(180),
            "nova still lists host4's stopped nova-compute up"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    // host6: down (sshd and everything of the host gone). Nova still lists its
    // service up for service_down_time after its last report: status runs now.
    tb.host(6).kill_sshd();

    // The frontend first without the deployed marker.
    let status = |kh: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["--facts-root", ROOT, "--connect-timeout", "2"];
        args.extend_from_slice(extra);
        aerie(tb, "status", &site, kh, &args)
    };
    let calls_before = cloud.calls("openstack").len();
    let out = status(&kh4, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", cloud::explain(&out));
    let r = report(&out);
    // Two listings on the frontend for all nodes, with the profile's credentials.
    assert_eq!(
        cloud.calls("openstack")[calls_before..],
        [HYPERVISOR_LIST, SERVICE_LIST]
    );
    assert_eq!(r["registered_error"], Value::Null, "{r:#}");
    assert_eq!(r["cloud_error"], Value::Null, "{r:#}");
    let fields = |h: &str| {
        let x = node(&r, h);
        (
            x["reachable"].clone(),
            x["host_key"].as_str().unwrap().to_string(),
            x["in_sync"].clone(),
            x["reboot_required"].clone(),
            x["registered"].clone(),
        )
    };
    let t = json!(true);
    let f = json!(false);
    let n = Value::Null;
    assert_eq!(
        fields("host1"),
        (t.clone(), "pinned".into(), t.clone(), f.clone(), n.clone())
    );
    assert_eq!(node(&r, "host1")["drift"], json!([]));
    assert_eq!(
        fields("host2"),
        (t.clone(), "pinned".into(), t.clone(), f.clone(), t.clone())
    );
    assert_eq!(
        fields("host3"),
        (t.clone(), "pinned".into(), f.clone(), t.clone(), t.clone())
    );
    assert_eq!(
        fields("host4"),
        (t.clone(), "unknown".into(), n.clone(), n.clone(), t.clone())
    );
    assert_eq!(
        fields("host5"),
        (t.clone(), "changed".into(), n.clone(), n.clone(), f.clone())
    );
    assert_eq!(
        fields("host6"),
        (
            f.clone(),
            "unchecked".into(),
            n.clone(),
            n.clone(),
            t.clone()
        )
    );
    assert_eq!(
        node(&r, "host3")["drift"],
        json!(["/etc/modprobe.d/kvm-nested.conf"])
    );
    assert_eq!(
        node(&r, "host3")["reboot_reasons"],
        json!([
            "the running kernel's command line lacks intel_iommu=on iommu=pt",
            "kvm_intel runs with nested=N"
        ])
    );
    assert!(node(&r, "host5")["error"]
        .as_str()
        .unwrap()
        .contains("CHANGED"));

    // The cloud column says what nova says (asked again, after aerie).
    let cloud_cell = |h: &str| node(&r, h)["cloud"].clone();
    assert_eq!(cloud_cell("host1"), json!({"deployed": false}));
    for h in ["host2", "host3", "host6"] {
        assert_eq!(nova_says(cloud, h), (Some("up".into()), true), "{h}");
        assert_eq!(
            cloud_cell(h),
            json!({"service": "up", "hypervisor_listed": true}),
            "{h}"
        );
    }
    assert_eq!(nova_says(cloud, "host4"), (Some("down".into()), true));
    assert_eq!(
        cloud_cell("host4"),
        json!({"service": "down", "service_state": "State=down", "hypervisor_listed": true})
    );
    assert_eq!(nova_says(cloud, "host5"), (None, false));
    assert_eq!(
        cloud_cell("host5"),
        json!({"service": "absent", "hypervisor_listed": false})
    );

    // The frontend deployed (the marker as `aerie deploy --local` leaves it).
    let site_bytes = std::fs::read(&site).unwrap();
    let marker = aerie::site::deployed::Deployed::now("testlab", &site_bytes);
    let fe = tb.host(1);
    std::fs::create_dir_all(fe.path("/var/lib/aerie")).unwrap();
    aerie::site::deployed::write(&fe.path(aerie::site::deployed::PATH), &marker).unwrap();

    // The table for people.
    let out = lab_aerie(tb, "status", &site, &kh)
        .args(["--facts-root", ROOT, "--connect-timeout", "2"])
        .args(["--nodes", "host1,host2,host3,host4"])
        .output();
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "HOST         ADDRESS          REACHABLE HOST KEY  IN SYNC REBOOT  REGISTERED CLOUD",
        "host1        10.44.1.1        yes       pinned    yes     no      -          deployed",
        "host2        10.44.1.2        yes       pinned    yes     no      yes        up, listed",
        "host3        10.44.1.3        yes       pinned    NO      YES     yes        up, listed",
        "host4        10.44.1.4        yes       pinned    yes     no      yes        DOWN, listed",
        "    cloud: its compute service is listed, not up (State=down)",
        "    differs from its bundle: /etc/modprobe.d/kvm-nested.conf",
        "4 node(s): 2 as they should be",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line {line:?} in:\n{text}"
        );
    }
    let deployed_line = format!(
        "    cloud: site testlab deployed by aerie {} at {} (site file sha256 {})",
        marker.aerie_version,
        marker.time,
        &marker.site_sha256[..12]
    );
    assert!(text.lines().any(|l| l == deployed_line), "{text}");

    // Only healthy nodes: exit 0 (host2 up and listed).
    let out = status(&kh, &["--nodes", "host2"]);
    assert!(out.status.success(), "{}", cloud::explain(&out));
    let r = report(&status(&kh, &["--nodes", "host1"]));
    assert_eq!(node(&r, "host1")["cloud"]["deployed"], true);
    assert_eq!(node(&r, "host1")["cloud"]["marker"]["site"], "testlab");

    // The cloud unreachable (keystone's credentials point nowhere): the column says
    // so and why; every other column stays.
    let rc = fe.path(cloud::OPENRC);
    let good = std::fs::read_to_string(&rc).unwrap();
    std::fs::write(&rc, good.replace(":5000/v3", ":5999/v3")).unwrap();
    let out = status(&kh, &["--nodes", "host1,host2"]);
    std::fs::write(&rc, &good).unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", cloud::explain(&out));
    let r = report(&out);
    let why = r["cloud_error"].as_str().unwrap_or_else(|| panic!("{r:#}"));
    assert!(why.contains("hypervisor list"), "{why}");
    assert!(why.contains("5999"), "{why}");
    assert_eq!(
        node(&r, "host2")["cloud"],
        json!({"service": null, "hypervisor_listed": null})
    );
    assert_eq!(node(&r, "host2")["in_sync"], true);
    assert_eq!(node(&r, "host1")["cloud"]["deployed"], true);
}
