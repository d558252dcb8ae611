//! Benchmark (`cargo bench --bench firstboot`, via `scripts/bench-firstboot.sh`):
//! the kolla frontend's first-boot unit on test hosts (tests/support/
//! kolla_firstboot_support.rs: the rendered kickstarts' keys and files, kolla-ansible
//! and the cloud's tools as STAND-INS, named: fake_cloud.py, not the real cloud of
//! tests/cloud/deploy_firstboot.rs, so the figures are aerie's and SSH's share; no
//! container started). For each N
//! in $AERIE_BENCH_HOSTS (default "3 10"), side by side in one run:
//!   - the wait alone: every node answers on SSH (aerie's "every node answers
//!     (after X s)" line),
//!   - the whole first boot: wait + hosts + kolla (stand-in) + networks +
//!     register, marker written,
//!   - a second start: the marker says deployed, nothing runs.
//!
//! Asserts only that the runs did what they should.

#[path = "../tests/support/apply_support.rs"]
mod apply_support;
#[path = "../tests/support/firstboot_support.rs"]
mod firstboot_support;
#[path = "../tests/support/harness.rs"]
mod harness;
#[path = "../tests/support/kolla_firstboot_support.rs"]
mod kolla_firstboot_support;
#[path = "../tests/support/register_support.rs"]
mod register_support;
#[path = "../tests/support/render_support.rs"]
mod render_support;
#[path = "../tests/support/testbed.rs"]
mod testbed;

use kolla_firstboot_support::*;
use std::time::Instant;

fn main() {
    let sizes: Vec<usize> = std::env::var("AERIE_BENCH_HOSTS")
        .unwrap_or_else(|_| "3 10".into())
        .split_whitespace()
        .map(|s| s.parse().expect("AERIE_BENCH_HOSTS: numbers"))
        .collect();
    println!("BENCH hosts  wait(s)  first-boot(s)  second-start(s)");
    for n in sizes {
        let tb = apply_support::testbed(n);
        let out_dir = render(&tb);
        let unit = heredoc(
            &ks(&out_dir, tb.host(1)),
            "/etc/systemd/system/aerie-deploy.service",
        );
        let exec_start = unit_line(&unit, "ExecStart=").to_string();
        prepare_hosts(&tb, &out_dir);
        let fe = tb.host(1);
        fake_cloud(&tb);
        let cmd = command(&exec_start, 60, 0);

        let started = Instant::now();
        let run = run_as_unit(fe, &cmd);
        let whole = started.elapsed().as_secs_f64();
        let said = apply_support::explain(&run);
        assert!(run.status.success(), "{said}");
        let wait: f64 = said
            .lines()
            .find_map(|l| l.split("every node answers (after ").nth(1))
            .and_then(|r| r.split(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no wait line in {said}"));
        assert!(fe.path("/var/lib/aerie/deployed").exists(), "{said}");
        assert_eq!(calls(fe).len(), 5, "{said}");

        let started = Instant::now();
        let run = run_as_unit(fe, &cmd);
        let again = started.elapsed().as_secs_f64();
        assert!(run.status.success());
        assert_eq!(calls(fe).len(), 5, "the second start ran kolla-ansible");
        println!("BENCH {n:>5}  {wait:>7.2}  {whole:>13.2}  {again:>15.2}");
        tb.teardown().unwrap();
    }
}

/// The cloud's tools on the frontend as STAND-INS (fake_cloud.py, with
/// `docker exec nova_api`), every compute service up, named by host name as
/// Kolla names them; the credentials the kolla-ansible stand-in hands on.
fn fake_cloud(tb: &testbed::Testbed) {
    let fe = tb.host(1);
    register_support::install_cloud_standins(fe);
    let mut state = register_support::cloud_state(tb, &[]);
    for (name, n) in state["nodes"].as_object_mut().unwrap() {
        n["fqdn"] = serde_json::Value::String(name.clone());
    }
    register_support::write_state(fe, &state);
    write_mode(
        &fe.path(OPENRC_STAGED),
        "export OS_AUTH_URL=http://10.44.1.1:5000/v3\nexport OS_USERNAME=admin\n",
        0o600,
    );
}
