//! The layer check: every file of `src/` belongs to a layer, and imports only
//! from its own layer or the ones below it. Run it with
//! `cargo test --lib layers`; a failure names the file, the line and the import.
//!
//! It reads the source text: `crate::x` paths (in `use` lines or inline, and
//! `use crate::{x, y}` groups) name the top-level module `x` they import from.
//! Comments and string literals are skipped. `super::` paths stay inside a
//! top-level module, which the check asserts too.

mod scan;

use scan::{code_only, imports, Import};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers, lowest first, each with its top-level modules (`src/x.rs` or
/// `src/x/`). `lib.rs` declares the modules in this order.
const LAYERS: &[(&str, &[&str])] = &[
    // Leaf helpers, one per kind of side effect: they import only each other.
    (
        "foundation",
        &[
            "exit",
            "exec",
            "facts",
            "fsutil",
            "httpd",
            "interrupt",
            "shell",
            "pool",
            "problem",
            "local_networks",
            "templates",
            "utc",
        ],
    ),
    ("site", &["site"]),
    ("profile", &["profile"]),
    ("bundle", &["bundle"]),
    ("concerns", &["concerns", "kolla"]),
    // The SSH transport the roads share, and the frontend's command runner on it.
    ("transport", &["ssh", "frontend"]),
    // One room per road: a road imports another road only by an exception below.
    (
        "roads",
        &[
            "wizard",
            "render",
            "iso",
            "apply",
            "deploy",
            "bmc",
            "register",
            "networks",
            "preflight",
            "status",
            "lab",
            "netboot",
        ],
    ),
    ("cli", &["cli"]),
    ("commands", &["commands"]),
    ("main", &["lib", "main", "layers"]),
];

/// The layer whose modules are rooms: they may not import each other.
const ROOMS: &str = "roads";

/// Imports allowed against the rules above: (importing module or file,
/// imported module, why).
const EXCEPTIONS: &[(&str, &str, &str)] = &[
    (
        "iso",
        "render",
        "aerie's installer media carry the rendered site (payload.rs)",
    ),
    (
        "deploy",
        "render",
        "the kolla step writes Kolla's inputs into the config dir as render writes its kolla/ tree, and keeps Kolla's passwords in the site's secrets file as render does (inputs.rs, venv.rs)",
    ),
    (
        "lab",
        "render",
        "lab up renders the site it boots (up.rs, qemu.rs)",
    ),
    (
        "lab",
        "iso",
        "the qemu driver remasters aerie's installer ISO as `aerie iso --base` does (qemu.rs)",
    ),
    (
        "lab",
        "apply",
        "the vagrant driver delivers the bundles by the SSH road (deliver.rs)",
    ),
    (
        "lab",
        "netboot",
        "`lab up --boot pxe` runs aerie's boot server on the lab's bridge: its plan checks the lab's derived site, its checks refuse a base without a kernel before anything is made, its serve options and state folder (netboot.rs, status.rs)",
    ),
    (
        "netboot",
        "iso",
        "the boot server finds the base ISO's files through the xorriso binding (iso_tree.rs) and says a missing base as `aerie iso` does",
    ),
    (
        "status",
        "preflight",
        "reboot-required reads the kernel facts by preflight's facts script over SSH (preflight::facts::read)",
    ),
];

/// Where a module sits: (layer index, layer name).
fn layer_of(module: &str) -> Option<(usize, &'static str)> {
    LAYERS
        .iter()
        .enumerate()
        .find(|(_, (_, modules))| modules.contains(&module))
        .map(|(i, (name, _))| (i, *name))
}

/// The top-level module of a file under `src/` (`src/a/b.rs` → `a`).
fn module_of(rel: &Path) -> String {
    let first = rel.components().next().expect("a path under src");
    let first = first.as_os_str().to_string_lossy();
    first.strip_suffix(".rs").unwrap_or(&first).to_string()
}

/// How deep a file's module is (`src/a.rs`, `src/a/mod.rs`: 1; `src/a/b.rs`: 2).
fn depth_of(rel: &Path) -> usize {
    let n = rel.components().count();
    if rel.file_name().is_some_and(|f| f == "mod.rs") {
        n - 1
    } else {
        n
    }
}

/// Whether `from` (module, or file as `src/…`) may import `to`.
fn exception(from_module: &str, from_file: &str, to: &str) -> bool {
    EXCEPTIONS
        .iter()
        .any(|(from, target, _)| (*from == from_module || *from == from_file) && *target == to)
}

/// The findings for one file (`rel` is its path under `src/`).
fn check_file(rel: &Path, text: &str) -> Vec<String> {
    let file = format!("src/{}", rel.display());
    let module = module_of(rel);
    let Some((layer, layer_name)) = layer_of(&module) else {
        return vec![format!(
            "{file}: module `{module}` is in no layer: add it to LAYERS in src/layers/mod.rs"
        )];
    };
    let (found, supers) = imports(text);
    let mut out = Vec::new();
    if supers > depth_of(rel) {
        out.push(format!(
            "{file}: a `super::` chain of {supers} leaves the module `{module}`: write `crate::…` so the layer check sees it"
        ));
    }
    for Import {
        line,
        module: to,
        path,
    } in found
    {
        if to == module {
            continue;
        }
        let Some((to_layer, to_name)) = layer_of(&to) else {
            out.push(format!(
                "{file}:{line}: imports `{path}`: module `{to}` is in no layer"
            ));
            continue;
        };
        if exception(&module, &file, &to) {
            continue;
        }
        if to_layer > layer {
            out.push(format!(
                "{file}:{line}: imports `{path}` from layer {to_name}, above its own layer {layer_name}"
            ));
        } else if to_layer == layer && layer_name == ROOMS {
            out.push(format!(
                "{file}:{line}: imports `{path}`: the road `{module}` imports the road `{to}` (list it in EXCEPTIONS with a reason, or move the shared part down a layer)"
            ));
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(files.len() > 100, "found only {} files", files.len());
    let mut findings = Vec::new();
    let mut seen = BTreeMap::new();
    let mut imports_seen = 0;
    let mut used_exceptions = std::collections::BTreeSet::new();
    for path in &files {
        let rel = path.strip_prefix(&src).expect("under src");
        let text = std::fs::read_to_string(path).expect("a readable source file");
        seen.insert(module_of(rel), ());
        let (found, _) = imports(&text);
        imports_seen += found.len();
        let (module, file) = (module_of(rel), format!("src/{}", rel.display()));
        for (i, (from, to, _)) in EXCEPTIONS.iter().enumerate() {
            if (*from == module || *from == file) && found.iter().any(|imp| imp.module == *to) {
                used_exceptions.insert(i);
            }
        }
        findings.extend(check_file(rel, &text));
    }
    // The scan reads real imports (hundreds of them), not an empty tree.
    assert!(
        imports_seen > 300,
        "found only {imports_seen} crate:: paths"
    );
    assert!(
        findings.is_empty(),
        "imports against the layers (src/layers/mod.rs):\n{}",
        findings.join("\n")
    );
    // Every exception is still needed, so the table stays true.
    for (i, (from, to, why)) in EXCEPTIONS.iter().enumerate() {
        assert!(
            used_exceptions.contains(&i),
            "EXCEPTIONS lets {from} import {to} ({why}), but it no longer does: remove the exception"
        );
    }
    // Every module of the table exists, so the table stays true.
    for (_, modules) in LAYERS {
        for m in *modules {
            assert!(
                seen.contains_key(*m),
                "LAYERS names `{m}`, which src/ does not have"
            );
        }
    }
}

#[test]
fn lib_declares_the_modules_layer_by_layer() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("src/lib.rs");
    let declared: Vec<String> = code_only(&lib)
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l.strip_prefix("mod ")
                .map(|m| m.trim_end_matches(';').trim().to_string())
        })
        .collect();
    let layers: Vec<usize> = declared
        .iter()
        .map(|m| {
            layer_of(m)
                .unwrap_or_else(|| panic!("lib.rs declares `{m}`, in no layer"))
                .0
        })
        .collect();
    assert!(
        layers.windows(2).all(|w| w[0] <= w[1]),
        "lib.rs should declare its modules lowest layer first: {declared:?}"
    );
}

#[test]
fn the_check_sees_an_upward_import() {
    let text = "//! crate::commands in a comment\nuse crate::site::Site;\nuse crate::{bundle, commands::run};\nfn f() { let s = \"crate::cli\"; crate::lab::up(); }\n";
    let found = check_file(Path::new("bundle/x.rs"), text);
    assert_eq!(
        found,
        [
            "src/bundle/x.rs:3: imports `crate::{commands…}` from layer commands, above its own layer bundle",
            "src/bundle/x.rs:4: imports `crate::lab::up` from layer roads, above its own layer bundle",
        ]
    );
}

#[test]
fn the_check_sees_a_road_importing_a_road() {
    let found = check_file(Path::new("apply/x.rs"), "use crate::status::Row;\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("the road `apply` imports the road `status`"));
    // A documented exception passes.
    assert!(check_file(Path::new("lab/qemu.rs"), "use crate::iso::probe;\n").is_empty());
}

#[test]
fn the_check_sees_super_leaving_a_module() {
    let found = check_file(Path::new("bundle/x.rs"), "use super::super::super::cli;\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(check_file(Path::new("bundle/x.rs"), "use super::super::Edit;\n").is_empty());
}
