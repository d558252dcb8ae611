//! The kolla frontend deploys its cloud at first boot (the ISO road): its
//! kickstart carries the site, Kolla's passwords, the render-time keys and a
//! unit that waits for the nodes, runs `aerie deploy --local` (retried,
//! resumed from the failed step) and leaves the deployed marker. The unit is
//! checked by the real `systemd-analyze verify`; its command runs for real on
//! a frontend test host, reaching the other test hosts over SSH with the keys
//! the kickstarts install, and its networks and register steps reach the test
//! bed's real OpenStack (support/cloud.rs): neutron makes the provider network
//! and its subnet with the site's gateway (neutron's own dnsmasq offers it to a
//! DHCP client on the VLAN), nova maps the compute nodes and lists their
//! hypervisors. STAND-INS, named (kolla_firstboot_support.rs): kolla-ansible (a
//! recording script: Kolla's deploy needs container images that cannot be
//! fetched here, so no container is started and no Kolla playbook runs; its
//! post-deploy hands on the real cloud's admin credentials as Kolla's
//! admin-openrc.sh) and `docker` (`docker exec nova_api nova-manage ...` runs
//! the real nova-manage on the frontend).

use crate::apply_support::{explain, testbed, TestHost};
use crate::cloud::{Cloud, ADMIN_PASSWORD, PHYSNET};
use crate::harness::tool;
use crate::kolla_firstboot_support::*;
use crate::render_support::ksvalidator;
use crate::testbed::Testbed;
use std::os::unix::fs::PermissionsExt;

/// The site's instances network (kolla_firstboot_support's `kolla_site`).
const NETWORK: &str = "demo-net";
const VLAN: u16 = 101;
const GATEWAY: &str = "10.44.8.1";

#[test]
fn kolla_frontend_deploys_at_first_boot_onto_the_real_cloud_resumes_and_marks_the_site() {
    let tb = testbed(3);
    let (fe, n2, n3) = (tb.host(1), tb.host(2), tb.host(3));
    let out_dir = render(&tb);
    let ks = |h: &TestHost| ks(&out_dir, h);
    let fe_ks = ks(fe);

    // The unit, as the kickstart writes it: real systemd-analyze finds nothing to say.
    let unit = heredoc(&fe_ks, "/etc/systemd/system/aerie-deploy.service");
    let units = tb.dir().join("units");
    write_mode(&units.join("aerie-deploy.service"), &unit, 0o644);
    let (ok, said) = tool("systemd-analyze")
        .arg("verify")
        .arg(units.join("aerie-deploy.service"))
        .outcome();
    assert!(
        ok && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );
    assert_eq!(
        unit_line(&unit, "ConditionPathExists=!"),
        "/var/lib/aerie/deployed"
    );
    assert_eq!(unit_line(&unit, "Restart="), "on-failure");
    assert!(fe_ks.contains("systemctl enable aerie-deploy.service"));
    assert!(
        !fe_ks.contains("aerie-register.service"),
        "deploy registers"
    );
    for h in [n2, n3] {
        assert!(!ks(h).contains("aerie-deploy"), "{}", h.name);
    }
    // pykickstart accepts every kickstart of the site as a whole.
    for h in tb.hosts() {
        let (ok, out) = tool(ksvalidator())
            .args(["-v", "RHEL9"])
            .arg(out_dir.join(&h.name).join("ks.cfg"))
            .outcome();
        assert!(ok, "{}: ksvalidator: {out}", h.name);
    }
    let exec_start = unit_line(&unit, "ExecStart=");
    assert!(
        exec_start.contains(" --wait-nodes 3600 ") && exec_start.contains(" --retry-delay 60 ")
    );
    // The same command with a short wait and retry delay (the test's only change).
    let command = |wait: u64, retries: u32| command(exec_start, wait, retries);
    // Host keys installed (each sshd restarted): before the cloud starts, whose
    // processes live in the hosts' namespaces.
    prepare_hosts(&tb, &out_dir);
    let passwords = heredoc(&fe_ks, "/etc/aerie/site.secrets.yaml");
    let admin = passwords
        .lines()
        .find_map(|l| l.trim().strip_prefix("keystone_admin_password: "))
        .expect("Kolla's passwords on the frontend")
        .to_string();

    // 1. A node does not answer: the unit waits, names it, fails; no marker,
    //    nothing ran. (Before the cloud starts: a host taken down loses the
    //    cloud's processes in it.)
    let marker = fe.path("/var/lib/aerie/deployed");
    n3.kill_sshd();
    let started = std::time::Instant::now();
    let run = run_as_unit(fe, &command(3, 5));
    let said = explain(&run);
    assert_eq!(run.status.code(), Some(69), "{said}");
    assert!(started.elapsed().as_secs() >= 3, "{said}");
    assert!(
        said.contains("waiting for host3: not answering yet"),
        "{said}"
    );
    assert!(
        said.contains("did not answer within 3 s: host3 ("),
        "{said}"
    );
    assert!(!said.contains("waiting for host2"), "{said}");
    assert!(!marker.exists());
    assert!(calls(fe).is_empty(), "{:?}", calls(fe));
    n3.start_sshd();

    // The test bed's real cloud on the hosts: host1 its controller, host2 and
    // host3 nova-compute (fake driver) reporting as their host names, as Kolla
    // names them.
    let mut cloud = Cloud::start(&tb).unwrap();
    eprintln!("cloud start-up: {:?}", cloud.startup);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        deploy(&tb, &mut cloud, &command, &admin)
    }));
    if r.is_err() {
        eprintln!("{}", cloud.log_tails());
    }
    cloud.stop().unwrap();
    if let Err(e) = r {
        std::panic::resume_unwind(e);
    }
    tb.teardown().unwrap();
}

/// What neutron and nova hold that a deploy's networks and register steps may
/// change.
fn cloud_rows(cloud: &Cloud) -> String {
    format!("{}{}", cloud.neutron_snapshot(), cloud.nova_snapshot())
}

fn deploy(tb: &Testbed, cloud: &mut Cloud, command: &dyn Fn(u64, u32) -> String, admin: &str) {
    let fe = tb.host(1);
    let marker = fe.path("/var/lib/aerie/deployed");
    let openrc = std::fs::read_to_string(cloud.admin_openrc()).unwrap();
    kolla_cloud(fe, &openrc);
    assert_eq!(cloud.sql("SELECT COUNT(*) FROM neutron.networks"), "0\n");
    assert!(cloud.mapped_hosts().is_empty());

    // 2. Nodes up; Kolla's deploy fails once and no retry is left: the failed
    //    step is recorded, no marker, the cloud untouched.
    std::fs::write(fe.path("/var/lib/aerie-standin/fail-deploy"), "").unwrap();
    let run = run_as_unit(fe, &command(30, 0));
    let said = explain(&run);
    assert_eq!(run.status.code(), Some(2), "{said}");
    assert!(
        said.contains("task:  nova : Running Nova bootstrap container"),
        "{said}"
    );
    assert_eq!(
        calls(fe),
        ["install-deps", "bootstrap-servers", "prechecks", "deploy"]
    );
    let resume = std::fs::read_to_string(fe.path("/var/lib/aerie/deploy-resume")).unwrap();
    assert!(resume.contains("\"step\":\"kolla\""), "{resume}");
    assert!(!marker.exists());
    assert!(
        cloud.calls("openstack").is_empty(),
        "{:?}",
        cloud.calls("openstack")
    );

    // 3. The unit starts again (systemd's Restart=on-failure): it resumes at the
    //    kolla step; deploy fails once more and is retried after the delay,
    //    from that step; then networks and register, on the real cloud; the
    //    marker is written.
    std::fs::write(fe.path("/var/log/aerie-standin/kolla-ansible.calls"), "").unwrap();
    std::fs::write(fe.path("/var/lib/aerie-standin/fail-deploy"), "").unwrap();
    let run = run_as_unit(fe, &command(30, 5));
    let said = explain(&run);
    assert!(run.status.success(), "{said}");
    assert!(said.contains("resuming at step kolla"), "{said}");
    assert!(!said.contains("step 1/4 hosts"), "{said}");
    assert!(
        said.contains("retry 1 of 5 in 1 s, from step kolla"),
        "{said}"
    );
    assert_eq!(
        calls(fe),
        [
            "install-deps",
            "bootstrap-servers",
            "prechecks",
            "deploy",
            "install-deps",
            "bootstrap-servers",
            "prechecks",
            "deploy",
            "post-deploy"
        ]
    );
    // Kolla's admin credentials, written by post-deploy into the config dir,
    // are where the profile's steps source them on the frontend: 0600, the
    // same bytes (the real cloud's: the steps below reached it with them).
    let rc = fe.path("/etc/kolla/admin-openrc.sh");
    assert_eq!(
        std::fs::read(&rc).unwrap(),
        std::fs::read(fe.path("/etc/aerie/kdeploy-kolla/admin-openrc.sh")).unwrap()
    );
    assert_eq!(std::fs::read_to_string(&rc).unwrap(), openrc);
    assert_eq!(
        std::fs::metadata(&rc).unwrap().permissions().mode() & 0o7777,
        0o600
    );
    assert!(
        said.contains("admin-openrc.sh: delivered /etc/aerie/kdeploy-kolla/admin-openrc.sh to /etc/kolla/admin-openrc.sh (0600)"),
        "{said}"
    );
    // What the two steps said: the network made (two listings, two creates),
    // both nodes registered.
    assert!(
        said.contains(
            "1 network(s) on physnet physnet1: 1 created, 0 present, 0 missing, 0 differ, 0 failed (4 openstack commands)"
        ),
        "{said}"
    );
    assert!(
        said.contains("2 node(s): 2 registered, 0 already registered, 0 failed, 0 unreachable"),
        "{said}"
    );

    // Neutron holds the site's provider network and its subnet, with the site's
    // gateway: in its database, and shared as its API says.
    assert_eq!(
        cloud.sql(&format!(
            "SELECT g.network_type, g.physical_network, g.segmentation_id \
               FROM neutron.networks n JOIN neutron.networksegments g ON g.network_id = n.id \
              WHERE n.name = '{NETWORK}'"
        )),
        format!("vlan\t{PHYSNET}\t{VLAN}\n")
    );
    let net: serde_json::Value =
        serde_json::from_str(&cloud.admin_ok(&format!("openstack network show {NETWORK} -f json")))
            .unwrap();
    assert_eq!(net["shared"], true, "{net:#}");
    assert_eq!(
        cloud.sql(&format!(
            "SELECT s.name, s.cidr, s.gateway_ip, s.enable_dhcp, p.first_ip, p.last_ip \
               FROM neutron.subnets s JOIN neutron.networks n ON n.id = s.network_id \
               JOIN neutron.ipallocationpools p ON p.subnet_id = s.id WHERE n.name = '{NETWORK}'"
        )),
        format!("{NETWORK}-subnet\t10.44.8.0/24\t{GATEWAY}\t1\t10.44.8.10\t10.44.8.200\n")
    );
    // An instance's port on the network, and a DHCP client with its MAC on the
    // VLAN: neutron's own dnsmasq offers it the site's gateway as its router.
    let port: serde_json::Value = serde_json::from_str(&cloud.admin_ok(&format!(
        "openstack port create --network {NETWORK} {NETWORK}-client -f json"
    )))
    .unwrap();
    let mac = port["mac_address"].as_str().unwrap();
    cloud.wire_dhcp_ports(NETWORK).unwrap();
    let offer = cloud
        .dhcp_offer(VLAN, mac)
        .unwrap()
        .unwrap_or_else(|| panic!("no DHCP offer on VLAN {VLAN}"));
    assert_eq!(offer.router, GATEWAY, "{offer:?}");
    assert_eq!(
        offer.ip,
        port["fixed_ips"][0]["ip_address"].as_str().unwrap(),
        "{offer:?}"
    );

    // Nova maps both compute nodes into its cell and lists their hypervisors;
    // discover_hosts ran once, in Kolla's nova_api container (the stand-in ran
    // the real nova-manage).
    assert_eq!(cloud.mapped_hosts(), ["host2", "host3"]);
    assert_eq!(cloud.hypervisors(), ["host2", "host3"]);
    assert_eq!(
        fe.standin_calls("docker"),
        [[
            "exec",
            "nova_api",
            "nova-manage",
            "cell_v2",
            "discover_hosts",
            "--verbose"
        ]]
    );
    assert_eq!(
        cloud.calls("nova-manage"),
        ["cell_v2 discover_hosts --verbose"]
    );

    // The marker: this site file, this aerie; the resume record is gone.
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&marker).unwrap()).unwrap();
    let site_file = std::fs::read(fe.path("/etc/aerie/site.yaml")).unwrap();
    assert_eq!(m["site"], "kdeploy");
    assert_eq!(
        m["site_sha256"],
        aerie::site::deployed::sha256_hex(&site_file)
    );
    assert_eq!(m["aerie_version"], env!("CARGO_PKG_VERSION"));
    assert!(m["time"].as_str().unwrap().ends_with('Z'), "{m}");
    assert!(!fe.path("/var/lib/aerie/deploy-resume").exists());
    // The log: only root reads it, and it holds no secret.
    let log = fe.path("/var/log/aerie/deploy.log");
    let meta = std::fs::metadata(&log).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("aerie deploy: marked kdeploy deployed"),
        "{text}"
    );
    assert!(
        text.contains("waiting for host3"),
        "the log keeps every run"
    );
    assert!(!text.contains(admin), "a Kolla password is in the log");
    assert!(
        !text.contains(ADMIN_PASSWORD),
        "the cloud's admin password is in the log"
    );
    assert!(!text.contains("PRIVATE KEY"), "a private key is in the log");

    // 4. A second start does nothing: systemd's condition holds it back, and
    //    the command itself finds the marker; nothing reaches the cloud.
    let rows = cloud_rows(cloud);
    let openstack_calls = cloud.calls("openstack").len();
    assert!(
        marker.exists(),
        "ConditionPathExists=!/var/lib/aerie/deployed"
    );
    let before = std::fs::read(&marker).unwrap();
    let run = run_as_unit(fe, &command(30, 5));
    let said = explain(&run);
    assert!(run.status.success(), "{said}");
    assert!(said.contains("is already deployed"), "{said}");
    assert_eq!(calls(fe).len(), 9);
    assert_eq!(std::fs::read(&marker).unwrap(), before);
    assert_eq!(cloud.calls("openstack").len(), openstack_calls);
    assert_eq!(cloud_rows(cloud), rows);

    // 5. The marker gone (a deploy forced again): every step runs once more and
    //    finds the cloud as the site says: the network and subnet present, the
    //    nodes registered; neutron's and nova's rows (subnet revisions
    //    included) are as they were, no discovery ran.
    std::fs::remove_file(&marker).unwrap();
    let run = run_as_unit(fe, &command(30, 0));
    let said = explain(&run);
    assert!(run.status.success(), "{said}");
    assert!(
        said.contains(
            "1 network(s) on physnet physnet1: 0 created, 1 present, 0 missing, 0 differ, 0 failed (3 openstack commands)"
        ),
        "{said}"
    );
    assert!(
        said.contains("2 node(s): 0 registered, 2 already registered, 0 failed, 0 unreachable"),
        "{said}"
    );
    assert_eq!(calls(fe).len(), 14);
    assert_eq!(cloud_rows(cloud), rows);
    assert_eq!(cloud.calls("nova-manage").len(), 1);
    assert!(marker.exists());
}
