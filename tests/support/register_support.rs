//! Shared by tests/testbed/register_*.rs, kolla_deploy.rs and benches/firstboot.rs:
//! the frontend's cloud tools as STAND-INS (fake_cloud.py's header says which tests
//! use which part: the Eucalyptus tools cannot run here; the kolla deploy's check
//! and the first-boot bench run beside a Kolla stand-in where no cloud runs;
//! everything else OpenStack runs against the test bed's real OpenStack,
//! tests/cloud/), and running aerie's SSH commands in the lab.
#![allow(dead_code)]

use crate::apply_support::*;
use serde_json::{json, Value};

/// The stand-in program for every cloud tool (see the file's header).
pub const FAKE_CLOUD: &str = include_str!("fake_cloud.py");
pub const STATE: &str = "/var/lib/aerie-standin/cloud.json";

/// Install the cloud tools' stand-ins in the frontend, with admin credentials files.
pub fn install_cloud_standins(fe: &TestHost) {
    for (name, path) in [
        ("openstack", "/usr/bin/openstack"),
        ("nova-manage", "/usr/bin/nova-manage"),
        // Kolla's containers: `docker exec nova_api nova-manage ...`.
        ("docker", "/usr/bin/docker"),
        ("euca_conf", "/usr/sbin/euca_conf"),
        (
            "euserv-register-service",
            "/usr/bin/euserv-register-service",
        ),
        (
            "euserv-deregister-service",
            "/usr/bin/euserv-deregister-service",
        ),
        (
            "euserv-describe-node-controllers",
            "/usr/bin/euserv-describe-node-controllers",
        ),
        (
            "euserv-describe-services",
            "/usr/bin/euserv-describe-services",
        ),
        (
            "clcadmin-initialize-cloud",
            "/usr/sbin/clcadmin-initialize-cloud",
        ),
        (
            "clcadmin-assume-system-credentials",
            "/usr/sbin/clcadmin-assume-system-credentials",
        ),
    ] {
        fe.install_standin(name, path);
        std::fs::write(fe.path(path), FAKE_CLOUD).unwrap();
    }
    fe.exec_ok(
        "mkdir -p /var/lib/aerie-standin && \
         printf 'export OS_AUTH_URL=http://fe:5000/v3\\nexport OS_USERNAME=admin\\n' > /root/keystonerc_admin && \
         printf 'export EUCA_KEY_DIR=/root\\n' > /root/eucarc",
    );
}

/// The stand-in cloud's state: every compute node of the testbed with its
/// `up_after` (-1: never up; None: never listed).
pub fn cloud_state(tb: &Testbed, up_after: &[(usize, Option<i64>)]) -> Value {
    let mut nodes = serde_json::Map::new();
    for h in tb.hosts().iter().filter(|h| h.index != 1) {
        let ua = up_after
            .iter()
            .find(|(i, _)| *i == h.index)
            .map_or(Some(0), |(_, u)| *u);
        nodes.insert(
            h.name.clone(),
            json!({
                "fqdn": format!("{}.test.example.org", h.name),
                "address": h.addr.to_string(),
                "service_id": h.index,
                "up_after": ua.unwrap_or(0),
                "absent": ua.is_none(),
            }),
        );
    }
    json!({ "nodes": nodes })
}

/// A Eucalyptus cloud already initialised on the frontend (host1): its
/// database directory, walrus, the cluster and the storage controller
/// registered (for both releases' tools), so tests about the nodes start there.
pub fn eucalyptus_initialised(fe: &TestHost, tb: &Testbed) -> Value {
    fe.exec_ok("mkdir -p /var/lib/eucalyptus/db/data && echo zip > /root/admin.zip");
    let a = tb.host(1).addr.to_string();
    let c = |p: &str, comp: &str| json!({"partition": p, "host": a, "component": comp});
    let s = |t: &str, z: Option<&str>| json!({"type": t, "host": a, "zone": z});
    json!({
        "components": {
            "walrus": [c("walrus", "walrus")],
            "cluster": [c("cluster01", "cc_01")],
            "sc": [c("cluster01", "sc_01")],
        },
        "services": {
            "walrus-host1": s("walrusbackend", None),
            "cc-host1": s("cluster", Some("one")),
            "sc-host1": s("storage", Some("one")),
        },
    })
}

pub fn write_state(fe: &TestHost, state: &Value) {
    std::fs::write(fe.path(STATE), serde_json::to_vec_pretty(state).unwrap()).unwrap();
}

pub fn read_state(fe: &TestHost) -> Value {
    serde_json::from_slice(&std::fs::read(fe.path(STATE)).unwrap()).unwrap()
}

/// The calls a stand-in recorded, as command lines with spaces.
pub fn calls(h: &TestHost, name: &str) -> Vec<String> {
    h.standin_calls(name)
        .into_iter()
        .map(|c| c.join(" "))
        .collect()
}
