//! Bad usage of register / status / preflight is refused before any host is
//! contacted, with exit status 64 and the reason.

use std::process::Command;

fn aerie(args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_aerie"))
        .args(args)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unknown_or_frontend_nodes_are_usage_errors() {
    let (code, err) = aerie(&["register", "--example", "lab", "--nodes", "node9"]);
    assert_eq!(code, Some(64), "{err}");
    assert!(
        err.contains("--nodes names node9 not in the site") && err.contains("node1"),
        "{err}"
    );
    let (code, err) = aerie(&["register", "--example", "lab", "--nodes", "fe1"]);
    assert_eq!(code, Some(64), "{err}");
    assert!(err.contains("fe1, which is not a compute node"), "{err}");
    let (code, err) = aerie(&["register", "--example", "lab", "--reinstalled", "fe1"]);
    assert_eq!(code, Some(64), "{err}");
    let (code, err) = aerie(&["status", "--example", "lab", "--nodes", "x"]);
    assert_eq!(code, Some(64), "{err}");
    let (code, err) = aerie(&["preflight", "--example", "lab", "--nodes", "x"]);
    assert_eq!(code, Some(64), "{err}");
    let (code, err) = aerie(&[
        "register",
        "--example",
        "lab",
        "--profile",
        "/nonexistent.yaml",
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("cannot read the profile /nonexistent.yaml"),
        "{err}"
    );
}
