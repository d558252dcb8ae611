//! `aerie build`: the main job. Validate, render into ./aerie-out (replacing
//! an earlier aerie output, nothing else), and say what to do next.

use super::render::render_to;
use crate::cli::BuildArgs;
use crate::iso::{binary, config_iso, payload, IsoError};
use crate::render::{output, Options, Rendered};
use crate::site::Distro;
use std::path::Path;

/// Writes DIR/oemdrv.iso (OEMDRV: the dispatcher ks.cfg, per-node folders and
/// the binary). Without xorriso the main job still succeeds: the kickstarts
/// are the product, the config ISO a convenience; the skip is said on stdout.
/// The aerie binary goes on it when it can run on the site's distribution
/// (else the ISO is written without it, and the reason said).
fn config_iso(
    rendered: &Rendered,
    dir: &Path,
    distro: Distro,
    secrets_line: &str,
) -> anyhow::Result<bool> {
    let out = dir.join("oemdrv.iso");
    if let Err(e) = crate::iso::xorriso::check_version() {
        return skipped(e);
    }
    let binary = match binary::running().and_then(|b| binary::for_media(&b, distro)) {
        Ok(b) => Some(b),
        Err(e) => {
            println!("  NOTE: oemdrv.iso goes without the aerie binary: {e:#}");
            None
        }
    };
    let items = payload::oemdrv(rendered, None, binary.as_ref().map(|b| b.path.as_path()));
    match config_iso::write(&out, config_iso::OEMDRV, &items, true, &mut |_| {}) {
        Ok(()) => {
            println!(
                "  {}/oemdrv.iso      config ISO (label OEMDRV) for a stock installer{}",
                dir.display(),
                binary
                    .as_ref()
                    .map(|b| format!(", with {}", b.describe()))
                    .unwrap_or_default()
            );
            println!("  {}", secrets_line.trim_start());
            Ok(true)
        }
        Err(e) => skipped(e).map_err(|e| {
            e.context(format!(
                "{} was written, but its config ISO failed",
                dir.display()
            ))
        }),
    }
}

/// A missing tool skips the config ISO (said on stdout); other errors stay.
fn skipped(e: anyhow::Error) -> anyhow::Result<bool> {
    if matches!(e.downcast_ref(), Some(IsoError::ToolMissing { .. })) {
        println!("  NOTE: oemdrv.iso skipped: {e}");
        Ok(false)
    } else {
        Err(e)
    }
}

pub fn run(args: &BuildArgs) -> anyhow::Result<()> {
    let replace = if args.force {
        output::Replace::Always
    } else {
        output::Replace::IfMarked
    };
    let source = args.site.source();
    let distro = crate::site::load_valid(&source, &Default::default())?
        .0
        .site
        .distro;
    if !distro.installs_by_kickstart() {
        let (site, _) = crate::site::load_valid(&source, &Default::default())?;
        super::load::kickstart_road(&site, "aerie build")?;
    }
    let (rendered, outcome) = render_to(
        &args.site,
        &args.output,
        args.templates.as_deref(),
        Options::default(),
        replace,
        args.secrets.path.as_deref(),
        &args.kolla,
    )?;
    let dir = args.output.display();
    let verb = match outcome {
        output::Outcome::Created => "wrote",
        output::Outcome::Replaced => "replaced",
    };
    println!("aerie build: {} is valid; {verb} {dir}/", source.origin());
    println!("  {dir}/ks.cfg          one kickstart for every node (finds the node by MAC)");
    for b in &rendered.bundles {
        let reboot = if b.reboot_required.is_empty() {
            ""
        } else {
            ", reboot after delivery"
        };
        println!(
            "  {dir}/{}/  {}: ks.cfg, bundle.json, actions.txt, {} file(s), {} edit(s), {} command(s){reboot}",
            b.hostname,
            b.role.as_str(),
            b.files.len(),
            b.edits.len(),
            b.actions.len()
        );
    }
    println!("  {dir}/plan.txt        the summary");
    let site = crate::site::load_valid(&source, &Default::default())?.0;
    let keys =
        crate::render::secrets::needed(&crate::profile::Profile::built_in(site.site.profile));
    let note = super::iso::secrets_note(&args.output.join("oemdrv.iso"), &site, keys);
    let oemdrv = config_iso(&rendered, &args.output, distro, &note)?;
    println!();
    println!("Next:");
    println!("  1. Read {dir}/plan.txt and {dir}/<host>/actions.txt.");
    if oemdrv {
        println!("  2. Install: boot each node from the distribution's installer ISO with {dir}/oemdrv.iso");
        println!("     attached as a second CD (or `aerie iso --base` for one installer ISO with a menu).");
    } else {
        println!(
            "  2. Install: boot each node from the distribution's installer with ks.cfg and the"
        );
        println!("     per-node folders on a volume labelled OEMDRV (install xorriso and run");
        println!("     `aerie build` again), or point inst.ks= at {dir}/<host>/ks.cfg.");
    }
    println!("  3. Already-running nodes: `aerie preflight SITE`, then `aerie apply SITE --check --diff`");
    println!("     and `aerie apply SITE` (over SSH), or `aerie converge {dir}/<host>/bundle.json` on the host.");
    println!("  4. Then `aerie register SITE` and `aerie status SITE`.");
    Ok(())
}
