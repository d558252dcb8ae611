//! `aerie render`: a validated site becomes a directory of kickstarts,
//! bundles and files.

use crate::bundle::Profile;
use crate::cli::RenderArgs;
use crate::render::{self, output, Options, Templates};
use crate::site::{self, Source};
use anyhow::Context;
use std::path::Path;

/// Validate, render and write; the rendered tree and how the directory went.
pub fn render_to(
    source: &Source,
    dir: &Path,
    templates: Option<&Path>,
    options: Options,
    replace: output::Replace,
) -> anyhow::Result<(render::Rendered, output::Outcome)> {
    let (site, report) = site::load_valid(source, &Default::default())?;
    for warning in report.findings.iter() {
        eprintln!("{warning}");
    }
    let profile = Profile::built_in(site.site.profile);
    let templates = Templates::new(templates)?;
    let rendered = render::render_site(&site, &profile, &templates, options)
        .with_context(|| format!("cannot render {}", source.origin()))?;
    let outcome = output::write(dir, &rendered, replace)?;
    Ok((rendered, outcome))
}

pub fn run(args: &RenderArgs) -> anyhow::Result<()> {
    let replace = if args.force {
        output::Replace::Always
    } else {
        output::Replace::Never
    };
    let options = Options {
        minimal: args.minimal,
    };
    let (rendered, _) = render_to(
        &args.site.source(),
        &args.output,
        args.templates.as_deref(),
        options,
        replace,
    )?;
    println!(
        "wrote {} ({} node(s), {} files); see {}",
        args.output.display(),
        rendered.bundles.len(),
        rendered.files.len(),
        args.output.join("plan.txt").display()
    );
    Ok(())
}
