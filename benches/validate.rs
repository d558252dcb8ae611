//! `aerie validate` on generated sites: the library path (parse + rules) and
//! the real binary end to end. Run with `cargo bench --bench validate`.
//! Goal (issue 2): a 1300-node site validates in at most 100 ms.

use std::time::{Duration, Instant};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<F: FnMut()>(runs: usize, mut f: F) -> Duration {
    f(); // warm up
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "{:>6}  {:>14}  {:>14}",
        "nodes", "library (ms)", "binary (ms)"
    );
    for nodes in [100, 1300, 5000] {
        let text = aerie::site::synthetic::yaml(nodes);
        let library = time(20, || {
            let (site, report) = aerie::site::check_text(&text, "bench", &Default::default());
            assert!(site.is_some() && report.is_valid());
        });
        let path = dir.path().join(format!("site-{nodes}.yaml"));
        std::fs::write(&path, &text).expect("write site");
        let binary = time(10, || {
            let status = std::process::Command::new(env!("CARGO_BIN_EXE_aerie"))
                .arg("validate")
                .arg(&path)
                .stdout(std::process::Stdio::null())
                .status()
                .expect("run aerie");
            assert!(status.success());
        });
        println!(
            "{nodes:>6}  {:>14.1}  {:>14.1}",
            library.as_secs_f64() * 1e3,
            binary.as_secs_f64() * 1e3
        );
    }
}
