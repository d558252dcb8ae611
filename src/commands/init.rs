//! `aerie init`: write a site file from a built-in example, an answers file,
//! or the interactive wizard.

use crate::cli::InitArgs;
use crate::exit::UsageError;
use crate::fsutil::{write_atomic, Overwrite};
use crate::site::{self, Source};

pub fn run(args: &InitArgs) -> anyhow::Result<()> {
    let overwrite = if args.force {
        Overwrite::Allow
    } else {
        Overwrite::Refuse
    };
    if !args.force && args.output.exists() {
        return Err(crate::exit::AlreadyExists {
            path: args.output.display().to_string(),
            remedy: "give --force to replace it, or --edit it".to_string(),
        }
        .into());
    }
    let text = if let Some(name) = &args.example {
        let source = Source::Example(name.clone());
        let text = source.text()?;
        site::load_valid(&source, &Default::default())?;
        text
    } else {
        return Err(UsageError("no terminal to ask on and no --example given".to_string()).into());
    };
    write_atomic(&args.output, text.as_bytes(), 0o600, overwrite)?;
    println!("wrote {}", args.output.display());
    Ok(())
}
