//! Render speed: bundles and kickstarts for generated 100-, 1300- and
//! 5000-node sites, in memory (no disk). Goal: 1300 nodes in at most 0.5 s,
//! growing linearly. Run: `cargo bench --bench render`.

use aerie::profile::Profile;
use aerie::render::{self, Templates};
use aerie::site::{self, Site, Source};
use std::time::Instant;

/// The lab example with `n` nodes: one frontend, the rest compute nodes
/// spread over the instances networks, addresses in a /16 management network.
fn site_with(n: usize) -> Site {
    let (mut site, _) =
        site::load_valid(&Source::Example("lab".into()), &Default::default()).unwrap();
    site.networks[0].cidr = "10.20.0.0/16".parse().unwrap();
    let template = site.nodes[1].clone();
    let frontend = site.nodes[0].clone();
    site.nodes = vec![frontend];
    for i in 1..n {
        let mut node = template.clone();
        node.hostname = format!("node{i}").parse().unwrap();
        node.interfaces[0].address = Some(
            format!("10.20.{}.{}", 1 + i / 250, 1 + i % 250)
                .parse()
                .unwrap(),
        );
        node.interfaces[0].mac = Some(
            format!("52:54:00:01:{:02x}:{:02x}", i / 256, i % 256)
                .parse()
                .unwrap(),
        );
        node.interfaces[1].network = if i % 2 == 0 { "demo-net" } else { "demo2-net" }
            .parse()
            .unwrap();
        site.nodes.push(node);
    }
    assert!(site::validate::check(&site, &Default::default())
        .iter()
        .all(|f| f.severity != site::Severity::Error));
    site
}

fn main() {
    let templates = Templates::new(None).unwrap();
    println!(
        "{:>6}  {:>10}  {:>12}  {:>10}  {:>9}",
        "nodes", "best (s)", "per node (µs)", "files", "MB"
    );
    for n in [100usize, 1300, 5000] {
        let site = site_with(n);
        let profile = Profile::built_in(site.site.profile);
        let mut best = f64::MAX;
        let mut files = 0;
        let mut bytes = 0;
        for _ in 0..5 {
            let start = Instant::now();
            let rendered =
                render::render_site(&site, &profile, &templates, Default::default()).unwrap();
            best = best.min(start.elapsed().as_secs_f64());
            files = rendered.files.len();
            bytes = rendered
                .files
                .iter()
                .map(|f| f.content.len())
                .sum::<usize>();
        }
        println!(
            "{n:>6}  {best:>10.3}  {:>12.1}  {files:>10}  {:>9.1}",
            best * 1e6 / n as f64,
            bytes as f64 / 1e6
        );
    }
}
