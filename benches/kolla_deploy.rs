//! Benchmark (`cargo bench --bench kolla_deploy`, via `scripts/bench-kolla.sh`):
//! `aerie deploy` from the operator's machine on two real sshd test hosts
//! (kolla-ansible the recording STAND-IN of tests/support/kolla_standin.rs,
//! the frontend's cloud tools fake_cloud.py). What the delivery of Kolla's
//! admin-openrc.sh to the frontend costs, side by side in one run with the
//! rest of the kolla step and the networks step (which opens its own SSH
//! connection to the frontend too): each time is read off aerie's own
//! progress lines as they arrive on stderr. Per round: a deploy from the
//! kolla step with new credentials (the delivery writes: connect, read
//! round trip, write round trip), then the same again (unchanged: connect,
//! read round trip). $AERIE_BENCH_ROUNDS rounds (default 5), medians.
//!
//! Asserts only that the runs did what they should.

#[path = "../tests/support/apply_support.rs"]
mod apply_support;
#[path = "../tests/support/firstboot_support.rs"]
mod firstboot_support;
#[path = "../tests/support/harness.rs"]
mod harness;
// Its re-exports of the first-boot helpers are for the first-boot tests.
#[allow(unused_imports)]
#[path = "../tests/support/kolla_firstboot_support.rs"]
mod kolla_firstboot_support;
#[path = "../tests/support/kolla_standin.rs"]
mod kolla_standin;
#[path = "../tests/support/register_support.rs"]
mod register_support;
#[path = "../tests/support/render_support.rs"]
mod render_support;
#[path = "../tests/support/testbed.rs"]
mod testbed;

use std::io::BufRead;
use std::path::Path;
use std::time::Instant;

/// When each of aerie's stderr lines arrived, from the start, and the lines.
fn timed_deploy(
    tb: &testbed::Testbed,
    site: &Path,
    kh: &Path,
    venv: &Path,
    secret: &str,
) -> Vec<(f64, String)> {
    let mut cmd = apply_support::lab_aerie(tb, "deploy", site, kh)
        .arg("--kolla-venv")
        .arg(venv)
        .args(["--step", "kolla"])
        .env("STANDIN_LOG", tb.dir().join("kolla-ansible-calls"))
        .env("STANDIN_FAIL", "")
        .env("STANDIN_SECRET", secret)
        .command();
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("aerie deploy");
    let lines: Vec<(f64, String)> = std::io::BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map(|l| (start.elapsed().as_secs_f64(), l.unwrap()))
        .collect();
    let status = child.wait().unwrap();
    let text: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
    assert!(status.success(), "{}", text.join("\n"));
    lines
}

/// The time of the first line containing `words`.
fn at(lines: &[(f64, String)], words: &str) -> f64 {
    lines
        .iter()
        .find(|(_, l)| l.contains(words))
        .unwrap_or_else(|| panic!("no {words:?} in {lines:?}"))
        .0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("AERIE_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let tb = testbed::Testbed::new(2).expect("testbed");
    let fe = tb.host(1);
    register_support::install_cloud_standins(fe);
    register_support::write_state(fe, &register_support::cloud_state(&tb, &[]));
    let site = apply_support::write_site(&tb, &kolla_firstboot_support::kolla_site(&tb));
    let kh = apply_support::known_hosts_copy(&tb);
    let venv = kolla_standin::standin_venv(tb.dir());
    // (kolla-ansible's five stand-in subcommands, the delivery, networks)
    let mut written: Vec<[f64; 3]> = Vec::new();
    let mut unchanged: Vec<[f64; 3]> = Vec::new();
    for r in 0..rounds {
        let secret = format!("bench-secret-{r}");
        for (into, said) in [
            (&mut written, "admin-openrc.sh: delivered "),
            (&mut unchanged, ":/etc/kolla/admin-openrc.sh unchanged"),
        ] {
            let l = timed_deploy(&tb, &site, &kh, &venv, &secret);
            at(&l, said);
            let (sub1, deliver) = (at(&l, "kolla-ansible 1/6 "), at(&l, "deliver 6/6 "));
            let (networks, register) = (at(&l, "step 3/4 networks"), at(&l, "step 4/4 register"));
            into.push([deliver - sub1, networks - deliver, register - networks]);
        }
    }
    let col = |v: &[[f64; 3]], i: usize| median(v.iter().map(|x| x[i]).collect());
    println!("BENCH {rounds} rounds, medians in seconds");
    println!("BENCH delivery     kolla-ansible x5 (stand-in)  admin-openrc.sh  networks step");
    for (name, v) in [("written", &written), ("unchanged", &unchanged)] {
        println!(
            "BENCH {name:<12} {:>27.3}  {:>15.3}  {:>13.3}",
            col(v, 0),
            col(v, 1),
            col(v, 2)
        );
    }
    tb.teardown().unwrap();
}
