//! `aerie build`: the main job. Validate, render into ./aerie-out (replacing
//! an earlier aerie output, nothing else), and say what to do next.

use super::render::render_to;
use crate::cli::BuildArgs;
use crate::render::{output, Options};

pub fn run(args: &BuildArgs) -> anyhow::Result<()> {
    let replace = if args.force {
        output::Replace::Always
    } else {
        output::Replace::IfMarked
    };
    let source = args.site.source();
    let (rendered, outcome) = render_to(
        &source,
        &args.output,
        args.templates.as_deref(),
        Options::default(),
        replace,
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
    println!();
    println!("Next:");
    println!("  1. Read {dir}/plan.txt and {dir}/<host>/actions.txt.");
    println!("  2. Install: boot each node from the distribution's installer with ks.cfg and the");
    println!(
        "     per-node folders on a volume labelled OEMDRV (the config ISO comes with the ISO"
    );
    println!("     command), or point inst.ks= at {dir}/<host>/ks.cfg.");
    println!(
        "  3. Already-installed nodes: deliver {dir}/<host>/bundle.json with `aerie converge`."
    );
    Ok(())
}
