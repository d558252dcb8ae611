//! One module per command; `run` dispatches the parsed command line.

mod apply;
mod apply_progress;
mod bmc;
mod bmc_progress;
mod build;
mod converge;
mod count_bar;
mod deploy;
mod deploy_progress;
mod docs;
mod examples;
mod exit_code;
mod host_bars;
mod hosts;
mod init;
mod iso;
mod lab;
mod load;
mod networks;
mod networks_progress;
mod pin_rendered;
mod preflight;
mod pxe;
mod pxe_progress;
mod reach;
mod register;
mod register_progress;
mod render;
mod status;
mod validate;

use crate::cli::{Cli, Command};

pub use exit_code::code_for as exit_code;
pub use load::load;

/// Run a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Apply(args) => apply::run(&args),
        Command::Register(args) => register::run(&args),
        Command::Networks(args) => networks::run(&args),
        Command::Bmc { command } => bmc::run(&command),
        Command::Deploy(args) => deploy::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Preflight(args) => preflight::run(&args),
        Command::Hosts { command } => hosts::run(&command),
        Command::Init(args) => init::run(&args),
        Command::Examples => examples::run(),
        Command::Render(args) => render::run(&args),
        Command::Build(args) => build::run(&args),
        Command::Iso(args) => iso::run(&args),
        Command::Converge(args) => converge::run(&args),
        Command::Lab { command } => lab::run(command),
        Command::Pxe { command } => pxe::run(command),
        Command::Completions { shell } => docs::completions(shell),
        Command::Man { output } => docs::man(output.as_deref()),
    }
}
