//! The frontend's first boot as the ISO road sets it up (shared by
//! tests/testbed/register_firstboot.rs and tests/cloud/register_firstboot.rs):
//! what the frontend's kickstart writes (its here-documents), the first-boot
//! unit's lines, and running the unit's command on a test host as systemd would.
#![allow(dead_code)]

use crate::testbed::TestHost;

#[path = "heredoc.rs"]
mod heredoc_doc;
pub use heredoc_doc::heredoc;

/// The key a node's kickstart adds to root's authorized_keys in %post.
pub fn authorized_in_post(ks: &str) -> String {
    let line = ks
        .lines()
        .find(|l| l.starts_with("grep -qxF -- '") && l.contains("/root/.ssh/authorized_keys"))
        .expect("the kickstart authorizes a key");
    line.split('\'').nth(1).unwrap().to_string()
}

/// The value of the unit's line `key` (e.g. `ExecStart=`).
pub fn unit_line<'a>(unit: &'a str, key: &str) -> &'a str {
    unit.lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {unit}"))
}

/// Runs `command` on `fe` with a systemd unit's environment (PATH
/// /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin, HOME /root, nothing else).
pub fn run_as_unit(fe: &TestHost, command: &str) -> std::process::Output {
    fe.exec(&format!(
        "exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin HOME=/root LANG=C.UTF-8 {command}"
    ))
}

/// Runs the first-boot unit's ExecStart on the frontend (polling fast, JSON
/// out) and returns its report; fails the test when it fails.
pub fn run_unit_command(fe: &TestHost, exec_start: &str) -> serde_json::Value {
    let run = run_as_unit(
        fe,
        &format!("{exec_start} --poll-interval 0.1 --output json"),
    );
    assert!(
        run.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).unwrap()
}
