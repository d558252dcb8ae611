//! A poor man's fuzzer for the site loader (stable Rust has no cargo-fuzz here):
//! thousands of deterministic mutations of the example site — lines dropped,
//! duplicated, swapped, bytes flipped, values replaced by odd ones. Loading and
//! validating must never panic, and every failure must name a key.

const LAB: &str = include_str!("../../examples/lab.yaml");

/// xorshift64*: deterministic, so a failure reproduces by its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const ODD_VALUES: &[&str] = &[
    "",
    "~",
    "null",
    "[]",
    "{}",
    "-1",
    "4294967296",
    "1e9",
    "\"\\u0000\"",
    "\"a\\nb\"",
    "'$(reboot)'",
    "10.0.0.0/0",
    "::/0",
    "ff02::1",
    "0.0.0.0",
    "255.255.255.255",
    "&a",
    "*a",
    "!!binary aGk=",
    "|\n  x",
    "\"ünïcödé\"",
    "[[[[",
    "yes",
    "0x1f",
];

fn mutate(rng: &mut Rng) -> String {
    let mut lines: Vec<String> = LAB.lines().map(str::to_string).collect();
    for _ in 0..=rng.below(3) {
        let i = rng.below(lines.len());
        match rng.below(6) {
            0 => {
                lines.remove(i);
            }
            1 => {
                let line = lines[i].clone();
                lines.insert(i, line);
            }
            2 => {
                let j = rng.below(lines.len());
                lines.swap(i, j);
            }
            3 => {
                let mut bytes = lines[i].clone().into_bytes();
                if !bytes.is_empty() {
                    let k = rng.below(bytes.len());
                    bytes[k] = (rng.next() & 0x7f) as u8;
                }
                lines[i] = String::from_utf8_lossy(&bytes).into_owned();
            }
            4 => {
                if let Some((key, _)) = lines[i].split_once(": ") {
                    lines[i] = format!("{key}: {}", ODD_VALUES[rng.below(ODD_VALUES.len())]);
                }
            }
            _ => {
                let cut = rng.below(lines[i].len() + 1);
                let cut = lines[i].floor_char_boundary(cut);
                lines[i].truncate(cut);
            }
        }
    }
    lines.join("\n")
}

#[test]
fn mutated_sites_never_panic_and_every_error_names_a_key() {
    let mut rng = Rng(0x5eed_a1e1_e000_0001);
    let mut rejected = 0;
    for round in 0..5000 {
        let text = mutate(&mut rng);
        let result = std::panic::catch_unwind(|| {
            aerie::site::check_text(&text, "mutant", &Default::default())
        });
        let (_, report) = result.unwrap_or_else(|_| panic!("round {round} panicked on:\n{text}"));
        for finding in &report.findings {
            assert!(
                !finding.problem.what.is_empty(),
                "round {round}: finding without key: {finding:?}"
            );
            assert!(
                !finding.problem.message.is_empty(),
                "round {round}: {finding:?}"
            );
        }
        if !report.is_valid() {
            rejected += 1;
        }
    }
    // The mutations must actually exercise the error paths.
    assert!(
        rejected > 2500,
        "only {rejected} of 5000 mutants were rejected"
    );
}

const EUCALYPTUS: &str = include_str!("../../examples/eucalyptus.yaml");

/// Every string value of `v` with its key path as findings name it
/// (`nodes[0].ssh.host`, `site.ntp[0]`).
fn string_leaves(v: &serde_norway::Value, path: String, out: &mut Vec<String>) {
    use serde_norway::Value;
    match v {
        Value::String(_) => out.push(path),
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                string_leaves(item, format!("{path}[{i}]"), out);
            }
        }
        Value::Mapping(map) => {
            for (k, item) in map {
                let k = k.as_str().expect("string keys");
                let p = if path.is_empty() {
                    k.to_string()
                } else {
                    format!("{path}.{k}")
                };
                string_leaves(item, p, out);
            }
        }
        _ => {}
    }
}

/// Replaces the value at `path` (as [`string_leaves`] names it).
fn replace_at(v: &mut serde_norway::Value, path: &str, with: &str) {
    use serde_norway::Value;
    let mut cur = v;
    for part in path.split('.') {
        let (key, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        cur = cur.get_mut(key).expect("the path exists");
        for ix in indexes.split(['[', ']']).filter(|s| !s.is_empty()) {
            let Value::Sequence(items) = cur else {
                panic!("{path}: not a list")
            };
            cur = &mut items[ix.parse::<usize>().unwrap()];
        }
    }
    *cur = Value::String(with.to_string());
}

/// A value that starts with '-' ends up read as an option by the command it
/// becomes an argument of (kickstart's `timezone`, `openstack flavor create`,
/// `grubby`, ssh, ...): every string value of both examples, replaced by
/// `--help` (and by `-x`), is refused, by a finding at that key with a fix.
#[test]
fn a_leading_hyphen_is_refused_in_every_string_value() {
    let mut checked = 0;
    for (name, text) in [("lab", LAB), ("eucalyptus", EUCALYPTUS)] {
        let doc: serde_norway::Value = serde_norway::from_str(text).unwrap();
        let mut paths = Vec::new();
        string_leaves(&doc, String::new(), &mut paths);
        assert!(paths.len() > 20, "{name}: {paths:?}");
        for path in &paths {
            for hostile in ["--help", "-x"] {
                let mut mutant = doc.clone();
                replace_at(&mut mutant, path, hostile);
                let yaml = serde_norway::to_string(&mutant).unwrap();
                let (_, report) = aerie::site::check_text(&yaml, "hostile", &Default::default());
                let finding = report
                    .findings
                    .iter()
                    .find(|f| f.problem.what == *path)
                    .unwrap_or_else(|| {
                        panic!(
                            "{name}: {path} = {hostile:?} accepted or reported elsewhere: {:?}",
                            report.findings
                        )
                    });
                assert!(!report.is_valid(), "{name}: {path} = {hostile:?}");
                assert!(
                    !finding.problem.fix.is_empty(),
                    "{name}: {path}: {finding:?}"
                );
                checked += 1;
            }
        }
    }
    eprintln!("{checked} hostile values refused");
}

/// Time zones are names of the tz database (compiled into aerie, not read
/// from this machine); a typo is refused at `site.timezone` with the fix.
#[test]
fn time_zones_outside_the_tz_database_are_refused() {
    for bad in ["Europe/Berln", "Mars/Olympus", "utc", "EST5EDT-x"] {
        let text = LAB.replacen("timezone: UTC", &format!("timezone: {bad}"), 1);
        let (_, report) = aerie::site::check_text(&text, "tz", &Default::default());
        let f = report
            .findings
            .iter()
            .find(|f| f.problem.what == "site.timezone")
            .unwrap_or_else(|| panic!("{bad} accepted: {:?}", report.findings));
        assert!(f.problem.message.contains("tz database"), "{bad}: {f:?}");
        assert!(f.problem.fix.contains("Europe/Berlin"), "{bad}: {f:?}");
    }
    for good in [
        "Europe/Berlin",
        "America/New_York",
        "Etc/UTC",
        "Asia/Kolkata",
    ] {
        let text = LAB.replacen("timezone: UTC", &format!("timezone: {good}"), 1);
        let (_, report) = aerie::site::check_text(&text, "tz", &Default::default());
        assert!(report.is_valid(), "{good}: {:?}", report.findings);
    }
}
