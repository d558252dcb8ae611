//! The whole command line of aerie, in one place. Doc comments are the help text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// aerie: install and configure a bare-metal cloud from one site file.
///
/// Describe the cloud once in site.yaml (`aerie init` asks for it), check it
/// with `aerie validate`, then deliver it by installer ISO, over SSH, or to a
/// laptop lab.
#[derive(Debug, Parser)]
#[command(
    name = "aerie",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a site file: every error names its key and the fix.
    ///
    /// Exit status: 0 valid (warnings allowed), 65 invalid, 66 unreadable, 64 bad usage.
    Validate(ValidateArgs),
    /// Write a site file by answering questions (or from an answers file or an example).
    Init(InitArgs),
    /// List the example sites built into aerie.
    Examples,
    /// Write every node's kickstart, bundle and files into a directory.
    ///
    /// DIR/HOST/ks.cfg, DIR/HOST/bundle.json, DIR/HOST/actions.txt and
    /// DIR/HOST/root/PATH for every file the node gets (shared files edited
    /// by aerie are shown applied to an empty file), DIR/ks.cfg (one kickstart
    /// for every node, finding it by MAC) and DIR/plan.txt.
    /// Exit status: 0 written, 65 invalid site, 73 DIR not empty without --force.
    Render(RenderArgs),
    /// Validate and render a site into ./aerie-out, then say what to do next.
    ///
    /// The main job: `aerie build --example lab` or `aerie build site.yaml`.
    /// An earlier aerie output directory is replaced; anything else needs --force.
    Build(BuildArgs),
    /// Make aerie's installer ISO from a distribution's, or a small config ISO.
    ///
    /// `aerie iso SITE --base Rocky-9.iso -o aerie.iso` remasters the base
    /// (Rocky/Alma/CentOS Stream 9 or 10 layouts): its boot records, label and
    /// UUID are kept; the kickstarts go to /ks/, the site, per-node bundles and
    /// the aerie binary to /aerie/, and aerie's menu (Install Front-End,
    /// Install Compute Node, Install minimal OS, Rescue, Boot from local disk)
    /// into every boot menu the base has, including the one in its EFI image.
    ///
    /// `aerie iso SITE --config-only -o ks.iso` writes a small volume labelled
    /// OEMDRV with ks.cfg at its root, which a stock installer ISO picks up by
    /// itself; with --cidata a cloud-init NoCloud volume for one node.
    /// Needs xorriso (and mtools for --base). Exit status: 0 written, 65 invalid
    /// site or unusable base, 66 base missing, 69 xorriso missing, 73 output
    /// exists without --force.
    Iso(IsoArgs),
    /// Bring this host (or a root directory) in line with its bundle.
    ///
    /// Writes changed files atomically, applies the edits of shared files, and
    /// runs the commands whose trigger fires. Kickstart %post runs it with
    /// --install; the SSH road runs the same plan remotely.
    Converge(ConvergeArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write manual pages (one per command) into a directory, or print aerie(1).
    Man {
        /// Directory to write aerie.1 and aerie-COMMAND.1 into; without it, aerie.1 goes to stdout.
        #[arg(short, long, value_name = "DIR")]
        output: Option<PathBuf>,
    },
}

/// Where the site comes from: a file, or a built-in example.
#[derive(Debug, Clone, Args)]
pub struct SiteArg {
    /// The site file.
    #[arg(
        value_name = "SITE",
        default_value = "site.yaml",
        conflicts_with = "example"
    )]
    pub site: PathBuf,
    /// Use a built-in example site instead of a file (see `aerie examples`).
    #[arg(long, value_name = "NAME")]
    pub example: Option<String>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub site: SiteArg,
    /// How to print the findings.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the site file [default: site.yaml, or with --edit the edited file].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Start from an existing site file: its values become the defaults.
    #[arg(long, value_name = "SITE", conflicts_with_all = ["answers", "example"])]
    pub edit: Option<PathBuf>,
    /// Take every answer from this (partial) site file instead of asking; all missing values are listed in one error.
    #[arg(long, value_name = "FILE", conflicts_with = "example")]
    pub answers: Option<PathBuf>,
    /// Write a built-in example site (see `aerie examples`) without asking.
    #[arg(long, value_name = "NAME")]
    pub example: Option<String>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub site: SiteArg,
    /// The directory to write; it must be empty or absent unless --force.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Replace DIR even if it is not empty.
    #[arg(long)]
    pub force: bool,
    /// Read templates from DIR first (same names as the built-in ones:
    /// base.ks.j2, frontend.ks.j2, compute.ks.j2, minimal.ks.j2, network.ks.j2,
    /// post-bundle.ks.j2, dispatch.ks.j2).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Kickstarts for the operating system only: no cloud concerns.
    #[arg(long)]
    pub minimal: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub site: SiteArg,
    /// The output directory.
    #[arg(short, long, value_name = "DIR", default_value = "aerie-out")]
    pub output: PathBuf,
    /// Replace DIR even if it is not an earlier aerie output.
    #[arg(long)]
    pub force: bool,
    /// Read templates from DIR first (see `aerie render --help`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct IsoArgs {
    #[command(flatten)]
    pub site: SiteArg,
    /// The distribution's installer ISO to remaster.
    #[arg(long, value_name = "BASE.iso", required_unless_present = "config_only")]
    pub base: Option<PathBuf>,
    /// The ISO to write; never replaced without --force.
    #[arg(short, long, value_name = "OUT.iso")]
    pub output: PathBuf,
    /// Write a small config volume (OEMDRV: ks.cfg and per-node folders) instead of remastering.
    #[arg(long, conflicts_with = "base")]
    pub config_only: bool,
    /// With --config-only: only this node; its own kickstart becomes the volume's ks.cfg.
    #[arg(long, value_name = "HOST", requires = "config_only")]
    pub node: Option<String>,
    /// With --config-only --node HOST: a cloud-init NoCloud volume (label cidata:
    /// user-data, meta-data, network-config) for Debian/Ubuntu and cloud images.
    #[arg(long, requires = "config_only")]
    pub cidata: bool,
    /// Serial console for the boot menus and the installer, e.g. ttyS0,115200
    /// (the menus then draw on the serial line; the kernel gets console=tty0 console=ttyS0,115200).
    #[arg(long, value_name = "ttySN[,SPEED]", conflicts_with = "config_only")]
    pub console: Option<crate::iso::bootmenu::Console>,
    /// Extra kernel arguments for every install and rescue entry, e.g. "ip=dhcp inst.text".
    #[arg(
        long,
        value_name = "ARGS",
        allow_hyphen_values = true,
        conflicts_with = "config_only"
    )]
    pub kargs: Option<String>,
    /// Seconds before the default entry (Install Front-End) boots.
    #[arg(
        long,
        value_name = "S",
        default_value_t = 30,
        conflicts_with = "config_only"
    )]
    pub timeout: u32,
    /// Have xorriso write a whole new image instead of growing a copy of the
    /// base: about 3x slower, but no data of the replaced menus is left inside.
    #[arg(long, conflicts_with = "config_only")]
    pub rewrite: bool,
    /// Replace the output ISO if it exists.
    #[arg(long)]
    pub force: bool,
    /// Leave the aerie binary off the media (%post then leaves edits of shared files to the SSH road).
    #[arg(long)]
    pub no_binary: bool,
    /// Read templates from DIR first (see `aerie render --help`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ConvergeArgs {
    /// The bundle (HOST/bundle.json from `aerie render`).
    #[arg(value_name = "BUNDLE")]
    pub bundle: PathBuf,
    /// Apply to this directory as the host's root; commands run only when it is /.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Install time (kickstart %post): run only commands that work in the
    /// installer's chroot (enabling units, regenerating GRUB).
    #[arg(long)]
    pub install: bool,
    /// Print the plan; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// How a command prints its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

impl SiteArg {
    pub fn source(&self) -> crate::site::Source {
        match &self.example {
            Some(name) => crate::site::Source::Example(name.clone()),
            None => crate::site::Source::File(self.site.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
