//! `aerie init`: write a site file from a built-in example, an answers file,
//! or the interactive wizard (`--edit` starts from an existing file).
//!
//! Whatever the source, the site is validated as `aerie validate` would before
//! anything is written, the file is written atomically with mode 0600 (it may
//! hold a password hash), and an existing file is replaced only with `--force`
//! or when it is the file being edited.

use crate::cli::InitArgs;
use crate::exit::{AlreadyExists, UsageError};
use crate::fsutil::{write_atomic, Overwrite};
use crate::site::validate::{self, Context};
use crate::site::{self, load, InvalidSite, Report, Source};
use crate::wizard;
use std::path::{Path, PathBuf};

const HEADER: &str =
    "# aerie site file, written by `aerie init`. Check it with `aerie validate`.\n";

pub fn run(args: &InitArgs) -> anyhow::Result<()> {
    let output = output_path(args);
    let in_place = args
        .edit
        .as_deref()
        .is_some_and(|edited| same_file(edited, &output));
    let overwrite = if args.force || in_place {
        Overwrite::Allow
    } else {
        Overwrite::Refuse
    };
    if overwrite == Overwrite::Refuse && output.exists() {
        return Err(AlreadyExists {
            path: output.display().to_string(),
            remedy: "give --force to replace it, or `aerie init --edit` it".to_string(),
        }
        .into());
    }
    let text = if let Some(name) = &args.example {
        let source = Source::Example(name.clone());
        let text = source.text()?;
        site::load_valid(&source, &Default::default())?;
        text
    } else {
        let site = match &args.answers {
            Some(path) => {
                let text = Source::File(path.clone()).text()?;
                wizard::answers::from_text(&text, &path.display().to_string())?
            }
            None => match ask(args, &output)? {
                Some(site) => site,
                None => {
                    eprintln!("nothing written");
                    return Err(crate::exit::Reported(crate::exit::FAILURE).into());
                }
            },
        };
        check(&site, &output)?;
        format!("{HEADER}{}", load::to_yaml(&site))
    };
    write_atomic(&output, text.as_bytes(), 0o600, overwrite)?;
    println!("wrote {}", output.display());
    Ok(())
}

/// `-o`, else the file being edited, else site.yaml.
fn output_path(args: &InitArgs) -> PathBuf {
    args.output
        .clone()
        .or_else(|| args.edit.clone())
        .unwrap_or_else(|| PathBuf::from("site.yaml"))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The wizard; `None` when the operator declines to write the result.
fn ask(args: &InitArgs, output: &Path) -> anyhow::Result<Option<site::Site>> {
    if !wizard::can_ask() {
        return Err(UsageError(
            "there is no terminal to ask questions on; give --answers FILE (a partial site file: \
             missing values are listed) or --example lab (see `aerie examples`)"
                .to_string(),
        )
        .into());
    }
    let base = match &args.edit {
        Some(path) => Some(load::from_path(path)?),
        None => None,
    };
    let site = wizard::ask_site(base.as_ref())?;
    Ok(wizard::confirm(&site, output)?.then_some(site))
}

/// Validate the whole site as `aerie validate` does: errors refuse it,
/// warnings are shown.
fn check(site: &site::Site, output: &Path) -> anyhow::Result<()> {
    let context = Context {
        local_networks: crate::local_networks::list(),
    };
    let report = Report {
        file: output.display().to_string(),
        findings: validate::check(site, &context),
    };
    if !report.is_valid() {
        return Err(InvalidSite(report).into());
    }
    for warning in report.warnings() {
        eprintln!("{warning}");
    }
    Ok(())
}
