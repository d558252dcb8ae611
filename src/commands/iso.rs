//! `aerie iso`: remaster an installer ISO, or write a config ISO (OEMDRV,
//! cidata). Loads and renders the site, then calls `crate::iso`.

use crate::cli::IsoArgs;
use crate::exit::UsageError;
use crate::iso::{binary, cidata, config_iso, payload, remaster};
use crate::profile::Profile;
use crate::render::{self, Options, Rendered, Templates};
use crate::site::{self, Site};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress_bar(what: &str) -> ProgressBar {
    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {percent:>3}% {elapsed}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// Split `--kargs` into words; control characters are refused.
pub fn kernel_args(kargs: Option<&str>) -> anyhow::Result<Vec<String>> {
    let Some(k) = kargs else {
        return Ok(Vec::new());
    };
    if k.chars().any(char::is_control) {
        return Err(UsageError(
            "--kargs: control characters (newlines, tabs) cannot go on a kernel command line"
                .into(),
        )
        .into());
    }
    Ok(k.split_whitespace().map(str::to_string).collect())
}

fn render(
    site: &Site,
    profile: &Profile,
    templates: &Templates,
    minimal: bool,
    secrets: Option<&render::secrets::Secrets>,
) -> anyhow::Result<Rendered> {
    Ok(render::render_site_with(
        site,
        profile,
        templates,
        Options { minimal },
        secrets,
    )?)
}

fn find_node<'a>(site: &'a Site, host: &str) -> anyhow::Result<&'a site::Node> {
    site.nodes
        .iter()
        .find(|n| n.hostname.as_str() == host)
        .ok_or_else(|| {
            let hosts: Vec<&str> = site.nodes.iter().map(|n| n.hostname.as_str()).collect();
            UsageError(format!(
                "--node {host}: no such node in the site (nodes: {})",
                hosts.join(", ")
            ))
            .into()
        })
}

/// What is said of every ISO aerie writes: it is 0600, and why.
pub fn secrets_note(out: &std::path::Path, site: &Site, keys: bool) -> String {
    let what = match (site.site.root_password_hash.is_some(), keys) {
        (true, true) => "the root password hash and SSH private keys",
        (true, false) => "the root password hash",
        (false, true) => "SSH private keys",
        (false, false) => "the nodes' kickstarts and bundles",
    };
    format!(
        "  {} is mode 0600: the media carry secrets ({what}); keep them private",
        out.display()
    )
}

pub fn run(args: &IsoArgs) -> anyhow::Result<()> {
    let source = args.site.source();
    let (site, profile) = super::load(&args.site)?;
    if !(args.config_only && args.cidata) {
        super::load::kickstart_road(&site, "aerie iso")?;
    }
    let templates = Templates::new(args.templates.as_deref())?;
    let secrets = super::render::site_secrets(
        &source,
        &site,
        &profile,
        args.secrets.path.as_deref(),
        &args.output,
        Options::default(),
    )?;
    let rendered = render(&site, &profile, &templates, false, secrets.as_ref())
        .with_context(|| format!("cannot render {}", source.origin()))?;
    // The tools first (their absence is the first thing to say), then the
    // binary: checked (glibc of the site's distribution) and stripped
    // before anything is written.
    crate::iso::xorriso::check_version()?;
    if !args.config_only {
        crate::iso::efi_image::check_tools()?;
    }
    let binary = if args.no_binary {
        None
    } else {
        let from = match &args.binary {
            Some(b) => b.clone(),
            None => binary::running()?,
        };
        Some(binary::for_media(&from, site.site.distro)?)
    };
    let prepared = Prepared {
        site: &site,
        profile: &profile,
        rendered: &rendered,
        secrets: secrets.as_ref(),
        on_media: binary.as_ref().map(|b| b.path.as_path()),
        secret_note: secrets_note(&args.output, &site, secrets.is_some()),
        binary_note: binary
            .as_ref()
            .map(|b| format!(", {}", b.describe()))
            .unwrap_or_default(),
    };
    let bar = progress_bar("writing");
    if args.config_only {
        if let Some(host) = &args.node {
            find_node(&site, host)?;
        }
        return if args.cidata {
            write_cidata(args, &prepared, &bar)
        } else {
            write_oemdrv(args, &prepared, &bar)
        };
    }
    write_installer(args, &prepared, &source.text()?, &templates, &bar)
}

/// The rendered site and what every kind of ISO says of itself.
struct Prepared<'a> {
    site: &'a Site,
    profile: &'a Profile,
    rendered: &'a Rendered,
    secrets: Option<&'a render::secrets::Secrets>,
    /// The aerie binary the media carry, if any.
    on_media: Option<&'a std::path::Path>,
    /// How the ISO is kept (0600) and why, printed last.
    secret_note: String,
    /// `, ` and the binary on the media, or nothing.
    binary_note: String,
}

/// `--config-only --cidata --node HOST`: one machine's NoCloud volume, its
/// render-time host key pinned.
fn write_cidata(args: &IsoArgs, p: &Prepared, bar: &ProgressBar) -> anyhow::Result<()> {
    let (site, out, binary_note) = (p.site, &args.output, &p.binary_note);
    let Some(host) = &args.node else {
        let hosts: Vec<&str> = site.nodes.iter().map(|n| n.hostname.as_str()).collect();
        return Err(UsageError(format!(
            "--cidata describes one machine: add --node HOST (nodes: {})",
            hosts.join(", ")
        ))
        .into());
    };
    let node = find_node(site, host)?;
    let items = cidata::for_node(site, p.profile, p.rendered, p.secrets, node, p.on_media)?;
    let mut tick = |f: f64| bar.set_position((f * 10.0) as u64);
    config_iso::write(out, config_iso::CIDATA, &items, args.force, &mut tick)?;
    bar.finish_and_clear();
    println!(
        "wrote {} (label {}: user-data, meta-data, network-config for {host}{binary_note})",
        out.display(),
        config_iso::CIDATA,
    );
    println!("{}", p.secret_note);
    if let Some(kp) = cidata::host_key(site, p.secrets, host) {
        let file = args.known_hosts.known_hosts.clone();
        let line = super::pin_rendered::pin(site, node, kp, file)
            .with_context(|| format!("wrote {}, but its host key is not pinned", out.display()))?;
        println!("{line}");
    }
    Ok(())
}

/// `--config-only`: an OEMDRV volume beside a stock installer ISO.
fn write_oemdrv(args: &IsoArgs, p: &Prepared, bar: &ProgressBar) -> anyhow::Result<()> {
    let (out, binary_note) = (&args.output, &p.binary_note);
    let items = payload::oemdrv(p.rendered, args.node.as_deref(), p.on_media);
    let mut tick = |f: f64| bar.set_position((f * 10.0) as u64);
    config_iso::write(out, config_iso::OEMDRV, &items, args.force, &mut tick)?;
    bar.finish_and_clear();
    let what = match &args.node {
        Some(h) => format!("ks.cfg = {h}'s kickstart"),
        None => format!(
            "ks.cfg finds each of {} node(s) by MAC or aerie.node=HOST",
            p.site.nodes.len()
        ),
    };
    println!(
        "wrote {} (label {}: {what}{binary_note}); attach it next to a stock installer ISO",
        out.display(),
        config_iso::OEMDRV
    );
    println!("{}", p.secret_note);
    Ok(())
}

/// `--base BASE.iso`: aerie's installer, the base remastered.
fn write_installer(
    args: &IsoArgs,
    p: &Prepared,
    site_text: &str,
    templates: &Templates,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let (site, out, binary_note) = (p.site, &args.output, &p.binary_note);
    let base = args.base.as_ref().expect("clap requires --base");
    let items = payload::installer_for_site(site, site_text, p.rendered, templates, p.on_media)?;
    let opts = remaster::Options {
        base: base.clone(),
        out: out.clone(),
        force: args.force,
        title: site.site.name.to_string(),
        console: args.console.clone(),
        kargs: kernel_args(args.kargs.as_deref())?,
        timeout_s: args.timeout,
        mode: if args.rewrite {
            remaster::WriteMode::Rewrite
        } else {
            remaster::WriteMode::Grow
        },
    };
    let mut tick = |f: f64| bar.set_position((f * 10.0) as u64);
    let report = remaster::remaster(&opts, templates, &items, &mut tick)?;
    bar.finish_and_clear();
    for w in &report.warnings {
        eprintln!("aerie: warning: {w}");
    }
    println!(
        "wrote {} from {} ({}), label {:?}, UUID {}",
        out.display(),
        base.display(),
        report.layout.as_str(),
        report.label,
        crate::iso::media_ref::udev_uuid(&report.uuid)
    );
    println!("  menus: {}", report.menus.join(", "));
    println!(
        "  the installer finds the media by {}",
        report.media.device()
    );
    for c in &report.changes {
        println!("  changed: {c}");
    }
    println!(
        "  /ks/{{frontend,compute,minimal}}.cfg, /aerie/ (site.yaml, {} node folder(s){binary_note})",
        site.nodes.len(),
    );
    println!("{}", p.secret_note);
    Ok(())
}
