//! Reading a site file: YAML syntax and types, with the key path and the line
//! and column of the first problem.

use super::findings::{Finding, InvalidSite, Report};
use super::model::Site;
use std::path::Path;

/// The site file could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot read site file {path}")]
pub struct ReadError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

/// Parse a site from YAML text. `origin` names the text in messages.
pub fn from_str(text: &str, origin: &str) -> Result<Site, InvalidSite> {
    let deserializer = serde_norway::Deserializer::from_str(text);
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let key = match err.path().to_string() {
            path if path == "." || path.is_empty() => "(file)".to_string(),
            path => path,
        };
        let inner = err.into_inner();
        let location = inner.location();
        let value = location
            .as_ref()
            .and_then(|l| scalar_at(text, l.line(), l.column()));
        let (message, fix) = explain(&strip_position(&inner.to_string()), &key, value);
        let mut finding = Finding::error(key, message, fix);
        if let Some(location) = location {
            finding.line = Some(location.line());
            finding.column = Some(location.column());
        }
        InvalidSite(Report {
            file: origin.to_string(),
            findings: vec![finding],
        })
    })
}

/// Read and parse a site file.
pub fn from_path(path: &Path) -> anyhow::Result<Site> {
    let text = std::fs::read_to_string(path).map_err(|source| ReadError {
        path: path.display().to_string(),
        source,
    })?;
    Ok(from_str(&text, &path.display().to_string())?)
}

/// serde_norway appends " at line L column C" and may prefix the path; the
/// finding carries both separately.
fn strip_position(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(at) => &message[..at],
        None => message,
    };
    message.to_string()
}

/// The scalar that starts at a 1-based line and column, for messages.
fn scalar_at(text: &str, line: usize, column: usize) -> Option<String> {
    let line = text.lines().nth(line.checked_sub(1)?)?;
    let rest = line.get(column.checked_sub(1)?..)?;
    let end = rest.find([',', ']', '}', '#']).unwrap_or(rest.len());
    let value = rest[..end].trim().trim_matches(['"', '\'']);
    (!value.is_empty() && !value.ends_with(':')).then(|| value.to_string())
}

/// serde_norway may start a message with the path of the enclosing value.
fn strip_path_prefix(message: &str) -> &str {
    match message.split_once(": ") {
        Some((prefix, rest))
            if !prefix.is_empty()
                && prefix.chars().all(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, '[' | ']' | '.' | '-' | '_')
                }) =>
        {
            rest
        }
        _ => message,
    }
}

/// Split a serde message into what is wrong and how to fix it.
fn explain(message: &str, key: &str, value: Option<String>) -> (String, String) {
    // Messages from aerie's own field types read "<problem>; <fix>".
    let message = strip_path_prefix(message).to_string();
    let quoted = value.map(|v| format!("{v:?} ")).unwrap_or_default();
    if key.ends_with("cidr") && message.starts_with("invalid IP") {
        return (
            format!("{quoted}is not a network in CIDR notation"),
            "write the network address and prefix length, such as 10.44.1.0/24".to_string(),
        );
    }
    if message.starts_with("invalid IP address syntax") {
        return (
            format!("{quoted}is not an IP address"),
            "write an IPv4 or IPv6 address such as 10.20.0.1".to_string(),
        );
    }
    if message.starts_with("unknown field `password`") && message.contains("`tls-fingerprint`") {
        return (
            "a BMC password has no place in the site file".to_string(),
            "remove it; `aerie bmc password NODE` keeps it in the site's secrets file (mode 0600)"
                .to_string(),
        );
    }
    if message.starts_with("unknown field") {
        let suggestion = closest_expected(&message);
        let fix = match suggestion {
            Some(name) => format!("did you mean `{name}`? Remove or rename the key"),
            None => "remove the key or rename it to one the site format defines".to_string(),
        };
        return (message, fix);
    }
    if message.starts_with("unknown variant") {
        return (message, "use one of the listed values".to_string());
    }
    if message.starts_with("missing field") {
        return (message, "add the key (see examples/lab.yaml)".to_string());
    }
    match message.split_once("; ") {
        Some((problem, fix)) => (problem.to_string(), fix.to_string()),
        None if message.starts_with("invalid type") || message.starts_with("invalid value") => (
            message,
            "write the value as the site format shows (see examples/lab.yaml)".to_string(),
        ),
        None => (message, "see the site format in the README".to_string()),
    }
}

/// For "unknown field `gatway`, expected one of `name`, `gateway`": `gateway`.
fn closest_expected(message: &str) -> Option<String> {
    let mut ticks = message.split('`').skip(1).step_by(2);
    let unknown = ticks.next()?;
    ticks
        .map(|candidate| (strsim::damerau_levenshtein(unknown, candidate), candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, candidate)| candidate.to_string())
}

/// Serialise a site back to YAML.
pub fn to_yaml(site: &Site) -> String {
    serde_norway::to_string(site).expect("a site model always serialises")
}
