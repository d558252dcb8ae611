//! `aerie render`: a validated site becomes a directory of kickstarts,
//! bundles and files.

use crate::cli::{KollaArgs, RenderArgs, SiteArg};
use crate::profile::Profile;
use crate::render::{self, output, secrets, Options, Templates};
use crate::site::{self, Source};
use anyhow::Context;
use std::path::Path;

/// Validate, render and write; the rendered tree and how the directory went.
pub fn render_to(
    site_arg: &SiteArg,
    dir: &Path,
    templates: Option<&Path>,
    options: Options,
    replace: output::Replace,
    secrets: Option<&Path>,
    kolla: &KollaArgs,
) -> anyhow::Result<(render::Rendered, output::Outcome)> {
    let source = &site_arg.source();
    let (site, profile) = super::load(site_arg)?;
    let templates = Templates::new(templates)?;
    // Kolla's passwords first: the frontend's kickstart carries them.
    let kolla_input = match &profile.kolla {
        Some(spec) if !options.minimal => {
            let secrets_path = secrets_path(source, &site, secrets, dir);
            Some(kolla_source(spec, kolla, &secrets_path)?)
        }
        _ => None,
    };
    let site_secrets = site_secrets(source, &site, &profile, secrets, dir, options)?;
    let mut rendered =
        render::render_site_with(&site, &profile, &templates, options, site_secrets.as_ref())
            .with_context(|| format!("cannot render {}", source.origin()))?;
    if let Some(input) = &kolla_input {
        let files = render::kolla_files(&site, &profile, input, kolla.virt_type.into())
            .with_context(|| format!("cannot render Kolla's inputs for {}", source.origin()))?;
        rendered.files.extend(files);
    }
    let outcome = output::write(dir, &rendered, replace)?;
    Ok((rendered, outcome))
}

/// Where the site's secrets file is: `--secrets`, else beside the site file.
pub fn secrets_path(
    source: &Source,
    site: &site::Site,
    path: Option<&Path>,
    output: &Path,
) -> std::path::PathBuf {
    let site_file = match source {
        Source::File(p) => Some(p.as_path()),
        Source::Example(_) => None,
    };
    path.map_or_else(
        || secrets::default_path(site_file, site.site.name.as_str(), output),
        Path::to_path_buf,
    )
}

/// What Kolla's inputs take from kolla-ansible: its multinode inventory
/// (from the profile's venv, version checked) and passwords.yml, made by its
/// kolla-genpwd once and kept in the site's secrets file.
pub fn kolla_source(
    spec: &crate::profile::KollaSpec,
    args: &KollaArgs,
    secrets_path: &Path,
) -> anyhow::Result<crate::kolla::Source> {
    let dir = crate::deploy::venv::chosen_dir(args.kolla_venv.as_deref(), spec);
    crate::deploy::KollaVenv::open(&dir, spec)?.source_kept(secrets_path)
}

/// The site's render-time secrets, read or made (None when the profile needs none).
pub fn site_secrets(
    source: &Source,
    site: &site::Site,
    profile: &Profile,
    path: Option<&Path>,
    output: &Path,
    options: Options,
) -> anyhow::Result<Option<secrets::Secrets>> {
    if options.minimal || !secrets::wanted(site, profile) {
        return Ok(None);
    }
    let site_file = match source {
        Source::File(p) => Some(p.as_path()),
        Source::Example(_) => None,
    };
    let path = path.map_or_else(
        || secrets::default_path(site_file, site.site.name.as_str(), output),
        Path::to_path_buf,
    );
    secrets::load_or_make(&path, site, profile, &mut secrets::ssh_keygen).map(Some)
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
        &args.site,
        &args.output,
        args.templates.as_deref(),
        options,
        replace,
        args.secrets.path.as_deref(),
        &args.kolla,
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
