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
