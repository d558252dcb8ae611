//! Every exit code the README documents, from the real binary on a real
//! trigger: 0, 2, 64, 65, 66, 69 (host not ready, and a missing program found
//! through a PATH without it: xorriso, vagrant), 73. Each row checks the code
//! and the message that comes with it.

use crate::harness;
use harness::{aerie, HostRoot, OutputText};

use std::net::TcpListener;

const LAB: &str = include_str!("../../examples/lab.yaml");

/// One documented exit code and a way to get it.
struct Row {
    what: &'static str,
    args: Vec<String>,
    /// PATH for the run (None: the test's own).
    path: Option<String>,
    code: i32,
    /// Text that must be in stdout + stderr.
    says: Vec<&'static str>,
}

fn row(what: &'static str, args: &[&str], code: i32, says: &[&'static str]) -> Row {
    Row {
        what,
        args: args.iter().map(|a| a.to_string()).collect(),
        path: None,
        code,
        says: says.to_vec(),
    }
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn every_documented_exit_code_comes_with_its_message() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // The lab example with fe1 reached on a closed loopback port.
    let port = closed_port();
    std::fs::write(
        w.join("unreachable.yaml"),
        LAB.replacen(
            "ssh: { host: 10.20.0.10, user: root, port: 22 }",
            &format!("ssh: {{ host: 127.0.0.1, user: root, port: {port} }}"),
            1,
        ),
    )
    .unwrap();
    std::fs::write(
        w.join("invalid.yaml"),
        LAB.replacen("cidr: 10.20.0.0/24", "cidr: 10.20.0.0/33", 1),
    )
    .unwrap();
    std::fs::create_dir(w.join("full")).unwrap();
    std::fs::write(w.join("full/mine"), "not aerie's").unwrap();
    std::fs::write(w.join("taken.iso"), "mine").unwrap();
    // Lab hosts as files: VT-x, nested on, plenty of memory; with and without /dev/kvm.
    HostRoot::new().write(&w.join("ready"));
    HostRoot::new().kvm(false).write(&w.join("no-kvm"));
    // A PATH with none of the programs aerie drives.
    let empty = w.join("empty-bin");
    std::fs::create_dir(&empty).unwrap();
    let empty = empty.display().to_string();
    let ready = format!("--host-root={}", w.join("ready").display());
    let no_kvm = format!("--host-root={}", w.join("no-kvm").display());
    let lab_up = |root: &str, dir: &str| -> Vec<String> {
        [
            "lab",
            "up",
            "--example",
            "lab",
            "--dir",
            dir,
            "--disk-gb",
            "1",
            root,
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    };

    let rows = vec![
        row(
            "a valid site",
            &["validate", "--example", "lab"],
            0,
            &["example:lab: valid (0 errors, 0 warnings)"],
        ),
        row(
            "a host that cannot be reached",
            &[
                "status",
                "unreachable.yaml",
                "--nodes",
                "fe1",
                "--known-hosts",
                "kh",
                "--connect-timeout",
                "2",
            ],
            2,
            &["cannot connect to [127.0.0.1]:", "Connection refused"],
        ),
        row(
            "an unknown flag",
            &["validate", "--no-such-flag"],
            64,
            &["unexpected argument '--no-such-flag'"],
        ),
        row(
            "an unknown example",
            &["validate", "--example", "nope"],
            64,
            &["nope", "lab"],
        ),
        row(
            "an invalid site",
            &["validate", "invalid.yaml"],
            65,
            &["networks[0].cidr"],
        ),
        row(
            "a site file that does not exist",
            &["validate", "missing.yaml"],
            66,
            &["missing.yaml"],
        ),
        Row {
            args: lab_up(&no_kvm, "lab-nokvm"),
            ..row(
                "a host that cannot run the lab",
                &[],
                69,
                &["this host cannot run the lab", "fix:"],
            )
        },
        Row {
            path: Some(empty.clone()),
            ..row(
                "xorriso missing",
                &["iso", "--example", "lab", "--config-only", "-o", "ks.iso"],
                69,
                &["`xorriso` was not found", "apt-get install xorriso"],
            )
        },
        Row {
            args: lab_up(&ready, "lab-vagrant"),
            path: Some(empty.clone()),
            ..row(
                "vagrant missing",
                &[],
                69,
                &["`vagrant` was not found", "apt-get install vagrant"],
            )
        },
        row(
            "an output directory that is not empty",
            &["render", "--example", "lab", "-o", "full"],
            73,
            &["full", "--force"],
        ),
        row(
            "an ISO that exists",
            &[
                "iso",
                "--example",
                "lab",
                "--config-only",
                "-o",
                "taken.iso",
            ],
            73,
            &["taken.iso already exists; give --force to replace it"],
        ),
    ];

    let covered: std::collections::BTreeSet<i32> = rows.iter().map(|r| r.code).collect();
    assert_eq!(covered, readme_codes(), "the table and the README disagree");

    let mut failures = Vec::new();
    for r in &rows {
        let mut run = aerie().args(&r.args).cwd(w).env_remove("AERIE_HOST_ROOT");
        if let Some(path) = &r.path {
            run = run.env("PATH", path);
        }
        let out = run.output();
        let text = out.text();
        let missing: Vec<&&str> = r.says.iter().filter(|s| !text.contains(**s)).collect();
        if out.status.code() != Some(r.code) || !missing.is_empty() {
            failures.push(format!(
                "{} (aerie {}): want {}, got {:?}; missing {missing:?}\n{text}",
                r.what,
                r.args.join(" "),
                r.code,
                out.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
    // Nothing was left by the refused runs.
    assert_eq!(
        std::fs::read_to_string(w.join("taken.iso")).unwrap(),
        "mine"
    );
    assert!(!w.join("ks.iso").exists());
    assert!(!w.join("lab-nokvm").exists());
    assert!(!w.join("lab-vagrant").exists());
}

/// The codes the README's `Exit codes:` paragraph lists.
fn readme_codes() -> std::collections::BTreeSet<i32> {
    let readme = include_str!("../../README.md");
    let para = readme
        .split("\n\n")
        .find(|p| p.starts_with("Exit codes:"))
        .expect("README has an `Exit codes:` paragraph");
    para.split(';')
        .filter_map(|part| {
            part.trim_start_matches("Exit codes:")
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect()
}
