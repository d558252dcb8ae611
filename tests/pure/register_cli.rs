//! Bad usage of register / status / preflight is refused before any host is
//! contacted, with exit status 64 and the reason.

use crate::harness;
use harness::{aerie, OutputText};

#[test]
fn unknown_or_frontend_nodes_are_usage_errors() {
    let home = tempfile::tempdir().unwrap();
    let err = aerie()
        .args(["register", "--example", "lab", "--nodes", "node9"])
        .env("HOME", home.path())
        .code(64)
        .run()
        .stderr_text();
    assert!(
        err.contains("--nodes names node9 not in the site") && err.contains("node1"),
        "{err}"
    );
    let err = aerie()
        .args(["register", "--example", "lab", "--nodes", "fe1"])
        .env("HOME", home.path())
        .code(64)
        .run()
        .stderr_text();
    assert!(err.contains("fe1, which is not a compute node"), "{err}");
    aerie()
        .args(["register", "--example", "lab", "--reinstalled", "fe1"])
        .env("HOME", home.path())
        .code(64)
        .run();
    aerie()
        .args(["status", "--example", "lab", "--nodes", "x"])
        .env("HOME", home.path())
        .code(64)
        .run();
    aerie()
        .args(["preflight", "--example", "lab", "--nodes", "x"])
        .env("HOME", home.path())
        .code(64)
        .run();
    let err = aerie()
        .args([
            "register",
            "--example",
            "lab",
            "--profile",
            "/nonexistent.yaml",
        ])
        .env("HOME", home.path())
        .code(1)
        .run()
        .stderr_text();
    assert!(
        err.contains("cannot read the profile /nonexistent.yaml"),
        "{err}"
    );
}

#[test]
fn networks_refuses_a_profile_without_provider_networks_and_reports_an_unreachable_frontend() {
    let home = tempfile::tempdir().unwrap();
    let err = aerie()
        .args(["networks", "--example", "eucalyptus"])
        .env("HOME", home.path())
        .code(64)
        .run()
        .stderr_text();
    assert!(
        err.contains("profile eucalyptus has no provider networks"),
        "{err}"
    );
    // fe1 on a closed loopback port: exit 2, the report says why, nothing was checked.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let site = home.path().join("site.yaml");
    std::fs::write(
        &site,
        include_str!("../../examples/lab.yaml").replacen(
            "ssh: { host: 10.20.0.10, user: root, port: 22 }",
            &format!("ssh: {{ host: 127.0.0.1, user: root, port: {port} }}"),
            1,
        ),
    )
    .unwrap();
    let out = aerie()
        .arg("networks")
        .arg(&site)
        .args([
            "--known-hosts",
            "kh",
            "--connect-timeout",
            "2",
            "--output",
            "json",
        ])
        .cwd(home.path())
        .env("HOME", home.path())
        .code(2)
        .run();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["physnet"], "physnet1", "{report:#}");
    assert_eq!(report["calls"], 0, "{report:#}");
    let error = report["error"].as_str().unwrap();
    assert!(
        error.contains("Connection refused") && error.contains("nothing was checked or created"),
        "{report:#}"
    );
}
