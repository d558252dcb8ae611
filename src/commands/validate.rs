//! `aerie validate`: check a site file and print every finding.

use crate::cli::{OutputFormat, ValidateArgs};
use crate::exit::{Reported, DATA_ERROR};
use crate::site::{self, validate::Context};

pub fn run(args: &ValidateArgs) -> anyhow::Result<()> {
    // A profile file given is checked too: a command that uses it would fail.
    if let Some(path) = &args.site.profile {
        super::load::profile_file(path)?;
    }
    let source = args.site.source();
    let text = source.text()?;
    let context = Context {
        local_networks: crate::local_networks::list(),
    };
    let (_, report) = site::check_text(&text, &source.origin(), &context);
    match args.output {
        OutputFormat::Json => {
            println!("{}", serde_json::to_string_pretty(&report.to_json())?);
            if !report.is_valid() {
                return Err(Reported(DATA_ERROR).into());
            }
        }
        OutputFormat::Text => {
            if !report.is_valid() {
                return Err(site::InvalidSite(report).into());
            }
            println!("{report}");
        }
    }
    Ok(())
}
