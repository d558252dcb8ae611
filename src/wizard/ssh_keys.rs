//! The public keys put in root's authorized_keys: the operator's own
//! `~/.ssh/*.pub` are offered, and more can be pasted.

use super::ask;
use super::parse::field;
use crate::site::fields::SshPublicKey;
use std::path::Path;

/// The public keys in `dir` (`*.pub`), sorted by file name; unreadable or
/// malformed files are skipped.
pub fn found_in(dir: &Path) -> Vec<(String, SshPublicKey)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut keys: Vec<(String, SshPublicKey)> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "pub"))
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path()).ok()?;
            let key = text.lines().next()?.parse().ok()?;
            Some((e.file_name().to_string_lossy().into_owned(), key))
        })
        .collect();
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    keys
}

/// How a key is shown in the list: its type, comment and where it comes from.
fn label(key: &SshPublicKey, origin: &str) -> String {
    let words: Vec<&str> = key.as_str().split_whitespace().collect();
    let kind = words.first().copied().unwrap_or_default();
    let comment = words.get(2..).map(|c| c.join(" ")).unwrap_or_default();
    let tail = words.get(1).map_or("", |b| &b[b.len().saturating_sub(8)..]);
    format!("{kind} …{tail} {comment} ({origin})")
}

pub fn ask(existing: Option<&[SshPublicKey]>) -> anyhow::Result<Vec<SshPublicKey>> {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let found = home.map_or(Vec::new(), |h| found_in(&h.join(".ssh")));
    // Offered: the site's keys (kept by default), then the operator's keys
    // (picked by default for a new site only).
    let mut offered: Vec<(SshPublicKey, String, bool)> = existing
        .unwrap_or_default()
        .iter()
        .map(|k| (k.clone(), "in the site file".to_string(), true))
        .collect();
    for (file, key) in found {
        if !offered.iter().any(|(k, _, _)| *k == key) {
            offered.push((key, format!("~/.ssh/{file}"), existing.is_none()));
        }
    }
    let mut keys = Vec::new();
    if !offered.is_empty() {
        let items: Vec<(String, bool)> = offered
            .iter()
            .map(|(k, origin, on)| (label(k, origin), *on))
            .collect();
        for i in ask::pick(
            "SSH public keys for root (space toggles, enter accepts)",
            &items,
        )? {
            keys.push(offered[i].0.clone());
        }
    }
    loop {
        // "another" only once there is one.
        let prompt = if keys.is_empty() {
            "Paste an SSH public key for root, or press enter to go on"
        } else {
            "Paste another SSH public key, or press enter to go on"
        };
        let pasted: Option<SshPublicKey> = ask::optional(prompt, None, &|s: &str| {
            let key: SshPublicKey = field(s)?;
            if keys.contains(&key) {
                return Err(
                    "that key is already in the list; paste a different key or press enter"
                        .to_string(),
                );
            }
            Ok(key)
        })?;
        match pasted {
            Some(key) => keys.push(key),
            None => return Ok(keys),
        }
    }
}
