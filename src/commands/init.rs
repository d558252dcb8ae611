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
use crate::site::{self, load, secrets, InvalidSite, Report, Source};
use crate::wizard;
use std::collections::BTreeMap;
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
    let mut bmc_passwords = BTreeMap::new();
    let text = if let Some(name) = &args.example {
        let source = Source::Example(name.clone());
        let text = source.text()?;
        site::load_valid(&source, &Default::default())?;
        text
    } else {
        let site = match &args.answers {
            Some(path) => {
                let text = Source::File(path.clone()).text()?;
                let (text, passwords) = wizard::answers::take_bmc_passwords(&text);
                bmc_passwords = passwords;
                wizard::answers::from_text(&text, &path.display().to_string())?
            }
            None => match ask(args, &output)? {
                Some((site, passwords)) => {
                    bmc_passwords = passwords;
                    site
                }
                None => {
                    eprintln!("nothing written");
                    return Err(crate::exit::Reported(crate::exit::FAILURE).into());
                }
            },
        };
        check(&site, &output)?;
        check_passwords(&site, &bmc_passwords)?;
        format!("{HEADER}{}", load::to_yaml(&site))
    };
    write_atomic(&output, text.as_bytes(), 0o600, overwrite)?;
    println!("wrote {}", output.display());
    if !bmc_passwords.is_empty() {
        let site = load::from_str(&text, &output.display().to_string())?;
        let path = secrets::default_path(Some(&output), site.site.name.as_str(), &output);
        let mut kept = secrets::read(&path)?;
        kept.bmc_passwords.extend(bmc_passwords);
        secrets::write(&path, &kept)?;
        println!("wrote {} (BMC passwords; keep it private)", path.display());
    }
    Ok(())
}

/// A password given for a node that has no BMC (or no such node) is a
/// mistake worth naming, not something to keep.
fn check_passwords(
    site: &site::Site,
    passwords: &BTreeMap<String, secrets::BmcPassword>,
) -> anyhow::Result<()> {
    for host in passwords.keys() {
        if site.node(host).is_none_or(|n| n.bmc.is_none()) {
            return Err(UsageError(format!(
                "the answers give a BMC password for {host}, which has no `bmc:`; \
                 add the node's bmc (type, address, user) or remove the password"
            ))
            .into());
        }
    }
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

type Passwords = BTreeMap<String, secrets::BmcPassword>;

/// The wizard (with the BMC passwords it asked); `None` when the operator
/// declines to write the result.
fn ask(args: &InitArgs, output: &Path) -> anyhow::Result<Option<(site::Site, Passwords)>> {
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
    let path = secrets::default_path(Some(output), site.site.name.as_str(), output);
    let passwords = wizard::bmc::passwords(&site, &secrets::read(&path)?)?;
    Ok(wizard::confirm(&site, output)?.then_some((site, passwords)))
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
