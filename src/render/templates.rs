//! The minijinja templates: built into the binary, each overridable by a file
//! of the same name in `--templates DIR`. Errors name the template and line.

use std::path::{Path, PathBuf};

/// The built-in templates (name, text).
pub const BUILT_IN: &[(&str, &str)] = &[
    ("base.ks.j2", include_str!("../../kickstart/base.ks.j2")),
    (
        "frontend.ks.j2",
        include_str!("../../kickstart/frontend.ks.j2"),
    ),
    (
        "compute.ks.j2",
        include_str!("../../kickstart/compute.ks.j2"),
    ),
    (
        "minimal.ks.j2",
        include_str!("../../kickstart/minimal.ks.j2"),
    ),
    (
        "network.ks.j2",
        include_str!("../../kickstart/network.ks.j2"),
    ),
    (
        "post-bundle.ks.j2",
        include_str!("../../kickstart/post-bundle.ks.j2"),
    ),
    (
        "dispatch.ks.j2",
        include_str!("../../kickstart/dispatch.ks.j2"),
    ),
    (
        "firstboot-register.ks.j2",
        include_str!("../../kickstart/firstboot-register.ks.j2"),
    ),
    ("trust.ks.j2", include_str!("../../kickstart/trust.ks.j2")),
];

/// A template failed to load or render.
#[derive(Debug, thiserror::Error)]
#[error("template {template}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct TemplateError {
    pub template: String,
    pub line: Option<usize>,
    pub message: String,
}

impl TemplateError {
    fn from_minijinja(err: &minijinja::Error, fallback: &str) -> TemplateError {
        let mut message = err.detail().map_or_else(
            || err.kind().to_string(),
            |d| format!("{}: {d}", err.kind()),
        );
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            message.push_str(&format!(": {s}"));
            source = s.source();
        }
        TemplateError {
            template: err.name().unwrap_or(fallback).to_string(),
            line: err.line(),
            message,
        }
    }
}

/// The template set: built-ins, optionally overridden from a directory.
pub struct Templates {
    env: minijinja::Environment<'static>,
}

impl Templates {
    /// The built-in templates, with files in `dir` (if given) taking precedence.
    pub fn new(dir: Option<&Path>) -> Result<Templates, TemplateError> {
        let mut env = minijinja::Environment::new();
        env.set_keep_trailing_newline(true);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        let dir: Option<PathBuf> = dir.map(Path::to_path_buf);
        if let Some(d) = &dir {
            if !d.is_dir() {
                return Err(TemplateError {
                    template: d.display().to_string(),
                    line: None,
                    message: "--templates must name a directory".into(),
                });
            }
        }
        env.set_loader(move |name| {
            if let Some(d) = &dir {
                let path = d.join(name);
                match std::fs::read_to_string(&path) {
                    Ok(text) => return Ok(Some(text)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(minijinja::Error::new(
                            minijinja::ErrorKind::InvalidOperation,
                            format!("cannot read {}", path.display()),
                        )
                        .with_source(e))
                    }
                }
            }
            Ok(BUILT_IN
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t.to_string()))
        });
        Ok(Templates { env })
    }

    /// Render template `name` with `context`.
    pub fn render<S: serde::Serialize>(
        &self,
        name: &str,
        context: &S,
    ) -> Result<String, TemplateError> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| TemplateError::from_minijinja(&e, name))?;
        template
            .render(minijinja::Value::from_serialize(context))
            .map_err(|e| TemplateError::from_minijinja(&e, name))
    }
}
