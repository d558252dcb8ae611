//! A poor man's fuzzer for the site loader (stable Rust has no cargo-fuzz here):
//! thousands of deterministic mutations of the example site — lines dropped,
//! duplicated, swapped, bytes flipped, values replaced by odd ones. Loading and
//! validating must never panic, and every failure must name a key.

const LAB: &str = include_str!("../examples/lab.yaml");

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
                !finding.key.is_empty(),
                "round {round}: finding without key: {finding:?}"
            );
            assert!(!finding.message.is_empty(), "round {round}: {finding:?}");
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
