//! Before a first-boot deploy: wait, bounded, until every node answers. Each
//! round says which nodes do not answer yet and why; after the time is up the
//! error names them all.

use std::time::{Duration, Instant};

/// The nodes that never answered, each with its last reason.
#[derive(Debug, thiserror::Error)]
#[error("{} node(s) did not answer within {secs} s: {}; check that they are installed, up and reachable, then run again (or raise --wait-nodes)", .late.len(), .late.iter().map(|(h, why)| format!("{h} ({why})")).collect::<Vec<_>>().join(", "))]
pub struct NodesLate {
    pub secs: u64,
    pub late: Vec<(String, String)>,
}

/// Ask `probe` about every node in `nodes` until all answered or `limit`
/// passed, `interval` apart; `log` hears one line per node not answering yet,
/// each round. Returns how long the wait took.
pub fn until_up(
    nodes: &[String],
    limit: Duration,
    interval: Duration,
    probe: &(dyn Fn(&str) -> Result<(), String> + Sync),
    log: &mut dyn FnMut(&str),
) -> Result<Duration, NodesLate> {
    let start = Instant::now();
    let mut pending: Vec<String> = nodes.to_vec();
    loop {
        let results: Vec<(String, Result<(), String>)> = std::thread::scope(|s| {
            let handles: Vec<_> = pending
                .iter()
                .map(|h| s.spawn(move || (h.clone(), probe(h))))
                .collect();
            handles
                .into_iter()
                .map(|t| t.join().expect("a probe thread panicked"))
                .collect()
        });
        let late: Vec<(String, String)> = results
            .into_iter()
            .filter_map(|(h, r)| r.err().map(|why| (h, why)))
            .collect();
        let waited = start.elapsed();
        if late.is_empty() {
            return Ok(waited);
        }
        if waited >= limit {
            return Err(NodesLate {
                secs: limit.as_secs(),
                late,
            });
        }
        for (h, why) in &late {
            log(&format!(
                "waiting for {h}: not answering yet ({why}); {} s of {} s",
                waited.as_secs(),
                limit.as_secs()
            ));
        }
        pending = late.into_iter().map(|(h, _)| h).collect();
        std::thread::sleep(interval.min(limit.saturating_sub(waited)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn waits_for_the_late_node_and_names_it_each_round() {
        let looks = AtomicUsize::new(0);
        let probe = |h: &str| {
            if h == "b" && looks.fetch_add(1, Ordering::SeqCst) < 2 {
                Err("connection refused".to_string())
            } else {
                Ok(())
            }
        };
        let mut lines = Vec::new();
        until_up(
            &names(&["a", "b"]),
            Duration::from_secs(5),
            Duration::from_millis(10),
            &probe,
            &mut |l| lines.push(l.to_string()),
        )
        .unwrap();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines
            .iter()
            .all(|l| l.starts_with("waiting for b: not answering yet (connection refused)")));
    }

    #[test]
    fn gives_up_naming_every_late_node() {
        let probe = |h: &str| {
            if h == "a" {
                Ok(())
            } else {
                Err(format!("{h} refused"))
            }
        };
        let e = until_up(
            &names(&["a", "b", "c"]),
            Duration::from_millis(50),
            Duration::from_millis(10),
            &probe,
            &mut |_| {},
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("2 node(s) did not answer within 0 s: b (b refused), c (c refused)"),
            "{text}"
        );
    }
}
