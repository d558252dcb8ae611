//! The site model: types, loading, validation and the built-in examples.

pub mod bmc;
pub mod deployed;
pub mod examples;
pub mod fields;
pub mod findings;
pub mod load;
mod model;
mod netboot_rules;
mod physnet;
pub mod secrets;
pub mod sriov_driver;
pub mod synthetic;
pub mod validate;

pub use bmc::{Bmc, BmcKind};
pub use findings::{Finding, InvalidSite, Report, Severity};
pub use model::*;

use std::path::Path;

/// Where a site comes from: a file, or a built-in example.
#[derive(Debug, Clone)]
pub enum Source {
    File(std::path::PathBuf),
    Example(String),
}

impl Source {
    /// How the source is named in messages.
    pub fn origin(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Example(name) => format!("example:{name}"),
        }
    }

    /// The site's YAML text.
    pub fn text(&self) -> anyhow::Result<String> {
        match self {
            Source::File(path) => std::fs::read_to_string(path).map_err(|source| {
                load::ReadError {
                    path: path.display().to_string(),
                    source,
                }
                .into()
            }),
            Source::Example(name) => examples::get(name).map(str::to_string).ok_or_else(|| {
                crate::exit::UsageError(format!(
                    "there is no example named {name:?}; examples: {}",
                    examples::names()
                ))
                .into()
            }),
        }
    }
}

/// Parse and validate a site; every finding (warnings too) is in the report.
/// Parse errors come back as a report with one finding.
pub fn check_text(text: &str, origin: &str, context: &validate::Context) -> (Option<Site>, Report) {
    match load::from_str(text, origin) {
        Err(InvalidSite(report)) => (None, report),
        Ok(site) => {
            let findings = validate::check(&site, context);
            (
                Some(site),
                Report {
                    file: origin.to_string(),
                    findings,
                },
            )
        }
    }
}

/// A site that passed validation, with its warnings.
pub fn load_valid(source: &Source, context: &validate::Context) -> anyhow::Result<(Site, Report)> {
    let text = source.text()?;
    match check_text(&text, &source.origin(), context) {
        (Some(site), report) if report.is_valid() => Ok((site, report)),
        (_, report) => Err(InvalidSite(report).into()),
    }
}

/// Load a site file and validate it, without facts about this machine.
pub fn load_file(path: &Path) -> anyhow::Result<Site> {
    let (site, _) = load_valid(&Source::File(path.to_path_buf()), &Default::default())?;
    Ok(site)
}
