//! The project's site-file reference (docs/site-format.md) stays true: its
//! example site is one `aerie validate` accepts, its key table lists exactly
//! the keys that example uses, and every key of every built-in example is in
//! the table. A key added to the model and shown in an example without a row
//! here fails; so does a row for a key the loader would refuse.

use crate::harness::aerie;

use serde_norway::Value;
use std::collections::BTreeSet;
use std::path::Path;

const REFERENCE: &str = include_str!("../../docs/site-format.md");

/// The built-in examples, as `aerie examples` lists them.
fn examples() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(out.len() >= 4, "examples/ holds the built-in examples");
    out
}

/// The reference's first ```yaml block: its site with every key.
fn reference_site() -> &'static str {
    let start = REFERENCE.find("```yaml\n").expect("a ```yaml block") + "```yaml\n".len();
    let len = REFERENCE[start..].find("```").expect("the block ends");
    &REFERENCE[start..start + len]
}

/// The rows of the reference's key tables (section "Every key"): the
/// backticked first cell.
fn table_keys() -> BTreeSet<String> {
    let start = REFERENCE
        .find("\n## Every key\n")
        .expect("an \"Every key\" section");
    let len = REFERENCE[start + 1..]
        .find("\n## ")
        .expect("a section after it");
    REFERENCE[start..start + 1 + len]
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once("` |").map(|(k, _)| k.to_string()))
        .collect()
}

/// Every mapping key's path: `site.name`, `nodes[].interfaces[].mac`.
fn key_paths(text: &str) -> BTreeSet<String> {
    fn walk(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
        match v {
            Value::Mapping(m) => {
                for (k, v) in m {
                    let k = k.as_str().expect("string keys");
                    let path = if prefix.is_empty() {
                        k.to_string()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    out.insert(path.clone());
                    walk(v, &path, out);
                }
            }
            Value::Sequence(items) => {
                for item in items {
                    walk(item, &format!("{prefix}[]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(&serde_norway::from_str(text).unwrap(), "", &mut out);
    out
}

#[test]
fn the_reference_example_is_a_valid_site() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.yaml");
    std::fs::write(&file, reference_site()).unwrap();
    aerie().arg("validate").arg(&file).run();
}

#[test]
fn the_key_tables_list_exactly_the_reference_example_s_keys() {
    let used = key_paths(reference_site());
    let listed = table_keys();
    let unlisted: Vec<_> = used.difference(&listed).collect();
    let unused: Vec<_> = listed.difference(&used).collect();
    assert!(
        unlisted.is_empty() && unused.is_empty(),
        "docs/site-format.md: keys of its example without a table row: {unlisted:?}; \
         table rows its example does not show: {unused:?}"
    );
}

#[test]
fn every_built_in_example_key_is_in_the_reference() {
    let listed = table_keys();
    let mut missing = Vec::new();
    for (name, text) in examples() {
        for key in key_paths(&text).difference(&listed) {
            missing.push(format!("{name}: {key}"));
        }
    }
    assert!(
        missing.is_empty(),
        "keys of built-in examples missing from docs/site-format.md: {missing:?}"
    );
}

#[test]
fn a_key_the_loader_refuses_fails_validation() {
    // The check above is only worth something if the loader refuses keys the
    // reference does not list: a misspelt key in the reference's own example.
    let bad = reference_site().replacen("http-port:", "http-prot:", 1);
    assert_ne!(bad, reference_site());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.yaml");
    std::fs::write(&file, bad).unwrap();
    let (ok, text) = aerie().arg("validate").arg(&file).outcome();
    assert!(!ok && text.contains("http-prot"), "{text}");
}
