//! The one template loader: the minijinja templates of `kickstart/`,
//! `vagrant/` and `iso/`, built into the binary, each overridable by a file
//! of the same name under `--templates DIR`, either in the set's folder
//! (`DIR/kickstart/base.ks.j2`, `DIR/vagrant/Vagrantfile.j2`,
//! `DIR/iso/grub-efi.cfg.j2`) or directly in DIR (`DIR/base.ks.j2`, as
//! kickstart overrides always were); both at once is refused. Other files
//! in DIR are templates too (partials an override includes). Strict
//! undefined; errors name the template and line. A road adds its own filters
//! and functions with [`Templates::extended`].

use std::path::{Path, PathBuf};

/// A built-in template: its set (the folder it lives in), name and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltIn {
    pub set: &'static str,
    pub name: &'static str,
    pub text: &'static str,
}

macro_rules! built_in {
    ($($set:literal / $name:literal),* $(,)?) => {
        &[$(BuiltIn {
            set: $set,
            name: $name,
            text: include_str!(concat!("../", $set, "/", $name)),
        }),*]
    };
}

/// Every built-in template. Names are unique across the sets.
pub const BUILT_IN: &[BuiltIn] = built_in![
    "kickstart" / "base.ks.j2",
    "kickstart" / "frontend.ks.j2",
    "kickstart" / "compute.ks.j2",
    "kickstart" / "minimal.ks.j2",
    "kickstart" / "network.ks.j2",
    "kickstart" / "post-bundle.ks.j2",
    "kickstart" / "dispatch.ks.j2",
    "kickstart" / "firstboot-register.ks.j2",
    "kickstart" / "firstboot-deploy.ks.j2",
    "kickstart" / "trust.ks.j2",
    "vagrant" / "Vagrantfile.j2",
    "iso" / "isolinux.cfg.j2",
    "iso" / "grub-menu.cfg.j2",
    "iso" / "grub-bios.cfg.j2",
    "iso" / "grub-efi.cfg.j2",
    "iso" / "efi-image-grub.cfg.j2",
];

/// The built-in template called `name`.
pub fn built_in(name: &str) -> Option<&'static BuiltIn> {
    BUILT_IN.iter().find(|b| b.name == name)
}

/// A template failed to load or render.
#[derive(Debug, thiserror::Error)]
#[error("template {template}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct TemplateError {
    pub template: String,
    pub line: Option<usize>,
    pub message: String,
}

impl TemplateError {
    /// Where the error is: the innermost template of an include or extends
    /// chain, with the templates that led there named after the message.
    fn from_minijinja(err: &minijinja::Error, fallback: &str) -> TemplateError {
        let mut chain = vec![err];
        let mut others = Vec::new();
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            match s.downcast_ref::<minijinja::Error>() {
                Some(inner) => chain.push(inner),
                None => others.push(s.to_string()),
            }
            source = s.source();
        }
        let at = chain.iter().rposition(|e| e.name().is_some()).unwrap_or(0);
        let inner = chain[at];
        let mut message = inner.detail().map_or_else(
            || inner.kind().to_string(),
            |d| format!("{}: {d}", inner.kind()),
        );
        for s in &others {
            message.push_str(&format!(": {s}"));
        }
        for outer in chain[..at].iter().rev() {
            if let Some(name) = outer.name() {
                let line = outer
                    .line()
                    .map(|l| format!(" line {l}"))
                    .unwrap_or_default();
                message.push_str(&format!(" (from {name}{line})"));
            }
        }
        TemplateError {
            template: inner.name().unwrap_or(fallback).to_string(),
            line: inner.line(),
            message,
        }
    }
}

/// The template set: built-ins, optionally overridden from a directory.
#[derive(Clone)]
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
            let built_in = built_in(name);
            if let Some(d) = &dir {
                if let Some(text) = read_override(d, built_in.map(|b| b.set), name)? {
                    return Ok(Some(text));
                }
            }
            Ok(built_in.map(|b| b.text.to_string()))
        });
        Ok(Templates { env })
    }

    /// The same templates with a road's filters and functions added.
    pub fn extended(&self, add: impl FnOnce(&mut minijinja::Environment<'static>)) -> Templates {
        let mut env = self.env.clone();
        add(&mut env);
        Templates { env }
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

/// `DIR/<set>/NAME` or `DIR/NAME`, if one exists; both is an error.
fn read_override(
    dir: &Path,
    set: Option<&str>,
    name: &str,
) -> Result<Option<String>, minijinja::Error> {
    let mut found: Vec<(PathBuf, String)> = Vec::new();
    let candidates = set.map(|s| dir.join(s).join(name)).into_iter();
    for path in candidates.chain([dir.join(name)]) {
        match std::fs::read_to_string(&path) {
            Ok(text) => found.push((path, text)),
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
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop().map(|(_, text)| text)),
        _ => Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!(
                "both {} and {} override it: remove one",
                found[0].0.display(),
                found[1].0.display()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    #[test]
    fn every_built_in_is_found_by_its_name_once() {
        for b in BUILT_IN {
            assert_eq!(built_in(b.name), Some(b), "{} is not unique", b.name);
            assert!(["kickstart", "vagrant", "iso"].contains(&b.set));
        }
    }

    #[test]
    fn overrides_come_from_the_set_folder_or_the_dir_itself() {
        let d = dir_with(&[
            ("iso/grub-efi.cfg.j2", "efi {{ x }}\n"),
            ("Vagrantfile.j2", "vagrant {{ x }}\n"),
            ("kickstart/trust.ks.j2", "trust {{ x }}\n"),
        ]);
        let t = Templates::new(Some(d.path())).unwrap();
        let ctx = serde_json::json!({ "x": 1 });
        assert_eq!(t.render("grub-efi.cfg.j2", &ctx).unwrap(), "efi 1\n");
        assert_eq!(t.render("Vagrantfile.j2", &ctx).unwrap(), "vagrant 1\n");
        assert_eq!(t.render("trust.ks.j2", &ctx).unwrap(), "trust 1\n");
        // Not overridden: the built-in.
        let isolinux = Templates::new(None)
            .unwrap()
            .env
            .get_template("isolinux.cfg.j2")
            .unwrap()
            .source()
            .to_string();
        assert_eq!(
            t.env.get_template("isolinux.cfg.j2").unwrap().source(),
            isolinux
        );
    }

    #[test]
    fn an_override_in_both_places_is_refused() {
        let d = dir_with(&[("iso/grub-efi.cfg.j2", "a"), ("grub-efi.cfg.j2", "b")]);
        let e = Templates::new(Some(d.path()))
            .unwrap()
            .render("grub-efi.cfg.j2", &())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("template grub-efi.cfg.j2: "), "{e}");
        assert!(e.contains("remove one"), "{e}");
    }

    #[test]
    fn errors_name_the_template_and_line() {
        let d = dir_with(&[("iso/grub-menu.cfg.j2", "a\nb\n{{ nope }}\n")]);
        let e = Templates::new(Some(d.path()))
            .unwrap()
            .render("grub-bios.cfg.j2", &serde_json::json!({}))
            .unwrap_err();
        assert_eq!(e.template, "grub-menu.cfg.j2");
        assert_eq!(e.line, Some(3));
        assert!(
            e.to_string()
                .starts_with("template grub-menu.cfg.j2 line 3: "),
            "{e}"
        );
        assert!(
            e.message.ends_with(" (from grub-bios.cfg.j2 line 3)"),
            "{e}"
        );
        let d = dir_with(&[("iso/isolinux.cfg.j2", "a\n{% if %}\n")]);
        let e = Templates::new(Some(d.path()))
            .unwrap()
            .render("isolinux.cfg.j2", &())
            .unwrap_err();
        assert_eq!((e.template.as_str(), e.line), ("isolinux.cfg.j2", Some(2)));
    }

    #[test]
    fn the_dir_must_be_a_directory() {
        let d = dir_with(&[("f", "")]);
        let e = Templates::new(Some(&d.path().join("f"))).err().unwrap();
        assert!(e.to_string().contains("--templates must name a directory"));
    }

    #[test]
    fn extended_templates_add_filters_and_leave_the_original() {
        let d = dir_with(&[("t.j2", "{{ 'a' | twice }}")]);
        let t = Templates::new(Some(d.path())).unwrap();
        let more = t.extended(|env| env.add_filter("twice", |s: String| s.repeat(2)));
        // A template of DIR's own (a partial an override includes).
        assert!(built_in("t.j2").is_none());
        assert_eq!(more.render("t.j2", &()).unwrap(), "aa");
        assert!(t.render("t.j2", &()).is_err(), "no filter in the original");
        let more = more.extended(|env| {
            env.add_template("u", "{{ 'a' | twice }}").unwrap();
        });
        assert_eq!(more.render("u", &()).unwrap(), "aa");
        assert!(t.render("u", &()).is_err());
    }
}
