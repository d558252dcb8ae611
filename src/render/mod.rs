//! Rendering: a validated site becomes, in memory, the tree `aerie render`
//! writes: per node its kickstart, bundle, root files and actions, plus the
//! dispatcher kickstart and a plan. Pure: no file is touched here. A site
//! whose distribution is not installed by kickstart (Debian) gets no
//! kickstarts: its nodes take their bundles by cloud-init or SSH.

pub mod first_boot;
mod heredoc;
mod kickstart;
pub mod output;
mod report;
pub mod secrets;
pub mod trust;

use crate::bundle::converge::{self, HostFiles};
use crate::bundle::HostBundle;
use crate::profile::Profile;
use crate::site::Site;
pub use crate::templates::{TemplateError, Templates};

/// One file of the rendered tree, relative to the output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutFile {
    pub path: String,
    pub mode: u32,
    pub content: Vec<u8>,
}

/// Everything `aerie render` writes.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub files: Vec<OutFile>,
    pub bundles: Vec<HostBundle>,
}

impl Rendered {
    /// Each node's own kickstart (`<host>/ks.cfg`), by host name: what a
    /// boot server hands out as `/ks/<host>.cfg`.
    pub fn node_kickstarts(&self) -> std::collections::HashMap<String, String> {
        self.files
            .iter()
            .filter_map(|file| {
                let host = file.path.strip_suffix("/ks.cfg")?;
                Some((
                    host.to_string(),
                    String::from_utf8_lossy(&file.content).into_owned(),
                ))
            })
            .collect()
    }
}

/// Rendering choices.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Kickstarts install the operating system only: no cloud concerns.
    pub minimal: bool,
}

/// A host with no files: the rendered tree shows what aerie sets, so edits
/// are applied to empty files.
pub struct EmptyHost;

impl HostFiles for EmptyHost {
    fn read(&self, _: &str) -> std::io::Result<Option<Vec<u8>>> {
        Ok(None)
    }
}

/// The node's bundle under the render options.
pub fn bundle_for(
    site: &Site,
    node: &crate::site::Node,
    profile: &Profile,
    options: Options,
) -> HostBundle {
    if options.minimal {
        let mut empty = profile.clone();
        empty.frontend.concerns.clear();
        empty.compute.concerns.clear();
        empty.frontend.restart.clear();
        empty.compute.restart.clear();
        for role in [&mut empty.frontend, &mut empty.compute] {
            if let Some(debian) = &mut role.debian {
                debian.restart.clear();
            }
        }
        crate::concerns::bundle_for(site, node, &empty)
    } else {
        crate::concerns::bundle_for(site, node, profile)
    }
}

/// Render every node of a (validated) site, without render-time keys.
pub fn render_site(
    site: &Site,
    profile: &Profile,
    templates: &Templates,
    options: Options,
) -> Result<Rendered, TemplateError> {
    render_site_with(site, profile, templates, options, None)
}

/// Render every node of a (validated) site; `secrets` (see `secrets.rs`) go
/// into the kickstarts when the profile needs them.
pub fn render_site_with(
    site: &Site,
    profile: &Profile,
    templates: &Templates,
    options: Options,
    secrets: Option<&secrets::Secrets>,
) -> Result<Rendered, TemplateError> {
    let mut out = Rendered::default();
    let kickstarts = site.site.distro.installs_by_kickstart();
    for node in &site.nodes {
        let bundle = bundle_for(site, node, profile, options);
        let host = node.hostname.as_str();
        let template = if options.minimal {
            "minimal.ks.j2"
        } else {
            profile.role(node.role).kickstart.as_str()
        };
        // Debian nodes are installed outside aerie: no kickstart for them.
        if kickstarts {
            let context =
                kickstart::context(site, node, profile, &bundle, options.minimal, secrets);
            let ks = templates.render(template, &context)?;
            out.files.push(OutFile {
                path: format!("{host}/ks.cfg"),
                mode: 0o600,
                content: ks.into_bytes(),
            });
        }
        out.files.push(OutFile {
            path: format!("{host}/bundle.json"),
            mode: 0o600,
            content: bundle.to_json().into_bytes(),
        });
        let plan = converge::plan(&bundle, &EmptyHost).expect("an empty host cannot fail to read");
        for f in &plan.files {
            out.files.push(OutFile {
                path: format!("{host}/root{}", f.path),
                mode: f.mode,
                content: f.content.clone(),
            });
        }
        out.files.push(OutFile {
            path: format!("{host}/actions.txt"),
            mode: 0o644,
            content: report::actions_text(&bundle)
                .map_err(|e| TemplateError {
                    template: format!("{host}/actions.txt"),
                    line: None,
                    message: e.to_string(),
                })?
                .into_bytes(),
        });
        out.bundles.push(bundle);
    }
    if kickstarts {
        let dispatch = templates.render("dispatch.ks.j2", &report::dispatch_context(site))?;
        out.files.push(OutFile {
            path: "ks.cfg".into(),
            mode: 0o600,
            content: dispatch.into_bytes(),
        });
    }
    out.files.push(OutFile {
        path: "plan.txt".into(),
        mode: 0o644,
        content: report::plan_text(site, profile, &out.bundles, options).into_bytes(),
    });
    Ok(out)
}

/// Kolla-Ansible's inputs for a kolla-profile site, under `kolla/` (see
/// `crate::kolla`); passwords.yml is 0600 like the secrets it comes from.
pub fn kolla_files(
    site: &Site,
    profile: &Profile,
    source: &crate::kolla::Source,
    virt: crate::kolla::VirtType,
) -> Result<Vec<OutFile>, crate::kolla::InputError> {
    Ok(crate::kolla::inputs(site, profile, source, virt)?
        .into_iter()
        .map(|f| OutFile {
            path: format!("kolla/{}", f.path),
            mode: f.mode,
            content: f.content.into_bytes(),
        })
        .collect())
}

/// The kickstarts behind an installer ISO's menu entries: `ks/frontend.cfg`
/// and `ks/compute.cfg` are the dispatcher restricted to that role (the
/// frontend, being one node, is installed on any machine no MAC names), and
/// `ks/minimal.cfg` is the dispatcher over every node's operating-system-only
/// kickstart in `minimal/HOST/ks.cfg`.
pub fn role_kickstarts(site: &Site, templates: &Templates) -> Result<Vec<OutFile>, TemplateError> {
    use crate::site::Role;
    use report::DispatchScope;
    let scopes = [
        ("frontend", Some(Role::Frontend), ""),
        ("compute", Some(Role::Compute), ""),
        ("minimal", None, "minimal/"),
    ];
    scopes
        .into_iter()
        .map(|(name, role, media_dir)| {
            let ctx = report::dispatch_context_for(site, DispatchScope { role, media_dir });
            Ok(OutFile {
                path: format!("ks/{name}.cfg"),
                mode: 0o600,
                content: templates.render("dispatch.ks.j2", &ctx)?.into_bytes(),
            })
        })
        .collect()
}
