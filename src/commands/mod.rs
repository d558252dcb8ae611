//! One module per command; `run` dispatches the parsed command line.

mod build;
mod converge;
mod docs;
mod examples;
mod init;
mod iso;
mod render;
mod validate;

use crate::cli::{Cli, Command};

/// Run a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Init(args) => init::run(&args),
        Command::Examples => examples::run(),
        Command::Render(args) => render::run(&args),
        Command::Build(args) => build::run(&args),
        Command::Iso(args) => iso::run(&args),
        Command::Converge(args) => converge::run(&args),
        Command::Completions { shell } => docs::completions(shell),
        Command::Man { output } => docs::man(output.as_deref()),
    }
}
