//! Shell completions and manual pages, generated from the clap definition.

use crate::cli::Cli;
use anyhow::Context;
use clap::CommandFactory;
use std::path::Path;

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "aerie", &mut std::io::stdout());
    Ok(())
}

pub fn man(output: Option<&Path>) -> anyhow::Result<()> {
    let cmd = Cli::command();
    match output {
        None => clap_mangen::Man::new(cmd)
            .render(&mut std::io::stdout())
            .context("cannot write the manual page"),
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir)
                .with_context(|| format!("cannot write manual pages into {}", dir.display()))?;
            println!("wrote manual pages into {}", dir.display());
            Ok(())
        }
    }
}
