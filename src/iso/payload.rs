//! What aerie puts on its media, as a list of files (pure), and staging it
//! into a private temp directory for xorriso (0700 directory, 0600 files:
//! kickstarts carry the root password hash).

use crate::render::{OutFile, Rendered};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// One file on the media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// Written into the staging directory first.
    Bytes { iso_path: String, content: Vec<u8> },
    /// Mapped straight from a local file (the aerie binary: no copy).
    File { iso_path: String, from: PathBuf },
}

impl Item {
    pub fn iso_path(&self) -> &str {
        match self {
            Item::Bytes { iso_path, .. } | Item::File { iso_path, .. } => iso_path,
        }
    }
    fn bytes(iso_path: impl Into<String>, content: impl Into<Vec<u8>>) -> Item {
        Item::Bytes {
            iso_path: iso_path.into(),
            content: content.into(),
        }
    }
}

/// The parts of a rendered tree the media carry per node: its kickstart,
/// bundle and actions (not the `root/` preview).
fn node_files(rendered: &Rendered) -> impl Iterator<Item = &OutFile> {
    rendered.files.iter().filter(|f| {
        f.path.ends_with("/ks.cfg")
            || f.path.ends_with("/bundle.json")
            || f.path.ends_with("/actions.txt")
    })
}

/// Everything that goes into the remastered installer ISO:
/// `/ks/{frontend,compute,minimal}.cfg` (the menu entries' kickstarts) and
/// `/aerie/`: the site file, the dispatcher `ks.cfg`, per node `HOST/ks.cfg`,
/// `bundle.json`, `actions.txt`, `minimal/HOST/ks.cfg`, and the binary.
pub fn installer(
    site_yaml: &str,
    rendered: &Rendered,
    minimal: &Rendered,
    role_kickstarts: &[OutFile],
    binary: Option<&Path>,
) -> Vec<Item> {
    let mut items: Vec<Item> = role_kickstarts
        .iter()
        .map(|f| Item::bytes(format!("/{}", f.path), f.content.clone()))
        .collect();
    items.push(Item::bytes("/aerie/site.yaml", site_yaml));
    items.push(Item::bytes(STAMP, stamp(site_yaml)));
    items.push(Item::bytes("/aerie/README.txt", README));
    for f in node_files(rendered) {
        items.push(Item::bytes(format!("/aerie/{}", f.path), f.content.clone()));
    }
    if let Some(d) = rendered.files.iter().find(|f| f.path == "ks.cfg") {
        items.push(Item::bytes("/aerie/ks.cfg", d.content.clone()));
    }
    for f in minimal.files.iter().filter(|f| f.path.ends_with("/ks.cfg")) {
        items.push(Item::bytes(
            format!("/aerie/minimal/{}", f.path),
            f.content.clone(),
        ));
    }
    if let Some(b) = binary {
        items.push(Item::File {
            iso_path: "/aerie/aerie".into(),
            from: b.to_path_buf(),
        });
    }
    items
}

/// [`installer`] for a site, as `aerie iso --base` makes it: renders the
/// minimal tree and the role kickstarts next to `rendered` (the full tree).
pub fn installer_for_site(
    site: &crate::site::Site,
    site_yaml: &str,
    rendered: &Rendered,
    templates: &crate::templates::Templates,
    binary: Option<&Path>,
) -> anyhow::Result<Vec<Item>> {
    let profile = crate::profile::Profile::built_in(site.site.profile);
    let minimal = crate::render::render_site(
        site,
        &profile,
        templates,
        crate::render::Options { minimal: true },
    )?;
    let roles = crate::render::role_kickstarts(site, templates)?;
    Ok(installer(site_yaml, rendered, &minimal, &roles, binary))
}

/// aerie's mark on the media it makes: what `aerie lab up --iso` (and
/// anyone) recognises aerie's media by; never a path a base could carry for
/// its own reasons, like `/ks/`.
pub const STAMP: &str = "/aerie/stamp.json";

/// The stamp: who made the media (aerie and its version) and from which
/// site file (SHA-256 of its text).
pub fn stamp(site_yaml: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(site_yaml.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let doc = serde_json::json!({
        "made-by": "aerie",
        "aerie-version": env!("CARGO_PKG_VERSION"),
        "site-sha256": hex,
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&doc).expect("JSON serializes")
    )
}

const README: &str = "aerie installer media

/ks/frontend.cfg  boot menu \"Install Front-End\": the site's frontend (any machine)
/ks/compute.cfg   boot menu \"Install Compute Node\": finds the node by MAC or aerie.node=HOST
/ks/minimal.cfg   boot menu \"Install minimal OS\": the node's OS without cloud concerns
/aerie/site.yaml  the site file the media was made from
/aerie/stamp.json aerie's mark: the aerie version and the site file's SHA-256
/aerie/ks.cfg     the dispatcher for every node (as `aerie render` writes it)
/aerie/HOST/      per node: ks.cfg, bundle.json, actions.txt
/aerie/minimal/HOST/ks.cfg  per node: the operating system only
/aerie/aerie      the aerie binary that made the media, stripped
                  (kickstart %post runs `aerie converge --install`); checked
                  to need no newer glibc than the site's distribution ships
";

/// The OEMDRV volume: `ks.cfg` at the root (the dispatcher, or with `node`
/// that node's own kickstart), the per-node folders as `aerie render` lays
/// them out, and the binary as `/aerie` (where %post looks for it).
pub fn oemdrv(rendered: &Rendered, node: Option<&str>, binary: Option<&Path>) -> Vec<Item> {
    let mut items = Vec::new();
    let root_ks = match node {
        Some(host) => format!("{host}/ks.cfg"),
        None => "ks.cfg".to_string(),
    };
    if let Some(f) = rendered.files.iter().find(|f| f.path == root_ks) {
        items.push(Item::bytes("/ks.cfg", f.content.clone()));
    }
    for f in node_files(rendered) {
        let host = f.path.split('/').next().unwrap_or("");
        if node.is_none_or(|n| n == host) {
            items.push(Item::bytes(format!("/{}", f.path), f.content.clone()));
        }
    }
    if let Some(b) = binary {
        items.push(Item::File {
            iso_path: "/aerie".into(),
            from: b.to_path_buf(),
        });
    }
    items
}

/// Writes the `Bytes` items under `dir` (created 0700, files 0600) and
/// returns the `-map` pairs (local path, ISO path), one per top-level
/// directory or file of the media, then one per `File` item.
pub fn stage(items: &[Item], dir: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let mut tops: Vec<String> = Vec::new();
    let mut maps = Vec::new();
    for item in items {
        match item {
            Item::Bytes { iso_path, content } => {
                let rel = iso_path.trim_start_matches('/');
                let local = dir.join(rel);
                if let Some(parent) = local.parent() {
                    std::fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o700)
                        .create(parent)
                        .with_context(|| format!("cannot create {}", parent.display()))?;
                }
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&local)
                    .with_context(|| format!("cannot create {}", local.display()))?;
                f.write_all(content)
                    .with_context(|| format!("cannot write {}", local.display()))?;
                let top = rel.split('/').next().unwrap_or(rel).to_string();
                if !tops.contains(&top) {
                    tops.push(top);
                }
            }
            Item::File { .. } => {}
        }
    }
    for top in tops {
        maps.push((dir.join(&top), format!("/{top}")));
    }
    for item in items {
        if let Item::File { iso_path, from } = item {
            maps.push((from.clone(), iso_path.clone()));
        }
    }
    Ok(maps)
}

/// Total size of the items (for the room check).
pub fn size(items: &[Item]) -> u64 {
    items
        .iter()
        .map(|i| match i {
            Item::Bytes { content, .. } => content.len() as u64,
            Item::File { from, .. } => std::fs::metadata(from).map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered() -> Rendered {
        let f = |p: &str| OutFile {
            path: p.into(),
            mode: 0o600,
            content: p.as_bytes().to_vec(),
        };
        Rendered {
            files: vec![
                f("fe1/ks.cfg"),
                f("fe1/bundle.json"),
                f("fe1/root/etc/x"),
                f("fe1/actions.txt"),
                f("node1/ks.cfg"),
                f("ks.cfg"),
                f("plan.txt"),
            ],
            bundles: vec![],
        }
    }

    fn paths(items: &[Item]) -> Vec<&str> {
        items.iter().map(Item::iso_path).collect()
    }

    #[test]
    fn oemdrv_for_all_nodes_and_for_one() {
        // Only the path is recorded; nothing reads it.
        let all = oemdrv(&rendered(), None, Some(Path::new("/nonexistent/aerie")));
        assert_eq!(
            paths(&all),
            [
                "/ks.cfg",
                "/fe1/ks.cfg",
                "/fe1/bundle.json",
                "/fe1/actions.txt",
                "/node1/ks.cfg",
                "/aerie"
            ]
        );
        let one = oemdrv(&rendered(), Some("node1"), None);
        assert_eq!(paths(&one), ["/ks.cfg", "/node1/ks.cfg"]);
        assert!(matches!(&one[0], Item::Bytes { content, .. } if content == b"node1/ks.cfg"));
    }

    #[test]
    fn installer_media_layout() {
        let roles = [OutFile {
            path: "ks/frontend.cfg".into(),
            mode: 0o600,
            content: b"x".to_vec(),
        }];
        let items = installer("site: {}\n", &rendered(), &rendered(), &roles, None);
        let p = paths(&items);
        for want in [
            "/ks/frontend.cfg",
            "/aerie/site.yaml",
            STAMP,
            "/aerie/fe1/ks.cfg",
            "/aerie/ks.cfg",
            "/aerie/minimal/fe1/ks.cfg",
        ] {
            assert!(p.contains(&want), "{want}: {p:?}");
        }
        assert!(!p.iter().any(|p| p.contains("/root/")), "{p:?}");
    }

    #[test]
    fn staging_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        // The binary is mapped by path, never read or copied by stage().
        let items = oemdrv(&rendered(), None, Some(Path::new("/nonexistent/aerie")));
        let maps = stage(&items, dir.path()).unwrap();
        assert!(maps.contains(&(dir.path().join("ks.cfg"), "/ks.cfg".into())));
        assert!(maps.contains(&(dir.path().join("fe1"), "/fe1".into())));
        assert!(maps.contains(&(PathBuf::from("/nonexistent/aerie"), "/aerie".into())));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("fe1/ks.cfg")), 0o600);
        assert_eq!(mode(&dir.path().join("fe1")), 0o700);
    }
}
