//! The Python venv that holds the profile's kolla-ansible: found (by
//! `--kolla-venv`, `$AERIE_KOLLA_VENV`, or aerie's own per-version one under
//! `$XDG_DATA_HOME/aerie/`), made there with exactly the profile's
//! requirements when asked, and refused when it holds another kolla-ansible.
//! Render reads kolla-ansible's own `multinode` inventory and makes
//! passwords.yml with its `kolla-genpwd` from here.

use crate::profile::KollaSpec;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// The venv is missing or holds another kolla-ansible (exit 69).
#[derive(Debug, thiserror::Error)]
#[error("{message}; {fix}")]
pub struct VenvError {
    pub message: String,
    pub fix: String,
}

/// A venv holding the profile's kolla-ansible.
#[derive(Debug, Clone)]
pub struct KollaVenv {
    pub dir: PathBuf,
    pub version: String,
}

/// Where aerie keeps its own venv for this kolla-ansible version.
pub fn default_dir(spec: &KollaSpec) -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("/var/lib"));
    data.join("aerie")
        .join(format!("kolla-ansible-{}", spec.version))
}

/// The venv directory asked for: the option, else `$AERIE_KOLLA_VENV`, else aerie's own.
pub fn chosen_dir(option: Option<&Path>, spec: &KollaSpec) -> PathBuf {
    option
        .map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os("AERIE_KOLLA_VENV")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| default_dir(spec))
}

/// The kolla-ansible version installed in `dir` (its dist-info), if any.
pub fn installed_version(dir: &Path) -> Option<String> {
    let lib = dir.join("lib");
    for py in std::fs::read_dir(&lib).ok()?.flatten() {
        let site = py.path().join("site-packages");
        let Ok(entries) = std::fs::read_dir(&site) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(v) = name
                .strip_prefix("kolla_ansible-")
                .and_then(|r| r.strip_suffix(".dist-info"))
            {
                return Some(v.to_string());
            }
        }
    }
    None
}

/// The install command aerie would run (for messages).
pub fn install_hint(dir: &Path, spec: &KollaSpec) -> String {
    let reqs: Vec<String> = spec
        .requirements
        .iter()
        .map(|r| {
            crate::shell::quote(r)
                .map(|q| q.into_owned())
                .unwrap_or_else(|_| r.clone())
        })
        .collect();
    format!(
        "make it with `aerie deploy --step kolla --kolla-venv {0}` (creates the venv), or by hand: `python3 -m venv {0} && {0}/bin/pip install {1}`",
        dir.display(),
        reqs.join(" ")
    )
}

impl KollaVenv {
    /// The venv at `dir`, checked to hold exactly the profile's kolla-ansible.
    pub fn open(dir: &Path, spec: &KollaSpec) -> Result<KollaVenv, VenvError> {
        let found = installed_version(dir);
        let bin = dir.join("bin/kolla-ansible");
        match found {
            Some(v) if v == spec.version && bin.is_file() => Ok(KollaVenv {
                dir: dir.to_path_buf(),
                version: v,
            }),
            Some(v) => Err(VenvError {
                message: format!(
                    "{} holds kolla-ansible {v}, but the kolla profile drives kolla-ansible {} (ansible-core {})",
                    dir.display(),
                    spec.version,
                    spec.ansible_core
                ),
                fix: format!(
                    "point --kolla-venv (or AERIE_KOLLA_VENV) at a venv with kolla-ansible {}, or remove {} and {}",
                    spec.version,
                    dir.display(),
                    install_hint(dir, spec)
                ),
            }),
            None => Err(VenvError {
                message: format!(
                    "kolla-ansible {} is not installed in {}",
                    spec.version,
                    dir.display()
                ),
                fix: install_hint(dir, spec),
            }),
        }
    }

    /// Make the venv with the profile's requirements (pip from PyPI), unless
    /// it already holds the right version.
    pub fn ensure(dir: &Path, spec: &KollaSpec) -> anyhow::Result<KollaVenv> {
        if let Ok(v) = KollaVenv::open(dir, spec) {
            return Ok(v);
        }
        if installed_version(dir).is_some() {
            // Another version: never replaced behind the user's back.
            return Err(KollaVenv::open(dir, spec).unwrap_err().into());
        }
        eprintln!(
            "making the kolla-ansible {} venv in {}",
            spec.version,
            dir.display()
        );
        let mut venv = crate::exec::command("python3", ["-m", "venv"]);
        venv.arg(dir);
        crate::exec::run(&mut venv)?;
        let mut pip = crate::exec::command(
            &dir.join("bin/pip").to_string_lossy(),
            ["install", "--quiet"],
        );
        pip.args(&spec.requirements);
        crate::exec::run(&mut pip)
            .with_context(|| format!("cannot install kolla-ansible into {}", dir.display()))?;
        Ok(KollaVenv::open(dir, spec)?)
    }

    pub fn bin(&self, program: &str) -> PathBuf {
        self.dir.join("bin").join(program)
    }

    /// kolla-ansible's shared data (`share/kolla-ansible`).
    pub fn share(&self) -> PathBuf {
        self.dir.join("share/kolla-ansible")
    }

    /// kolla-ansible's own multinode inventory, as installed.
    pub fn multinode(&self) -> anyhow::Result<String> {
        let path = self.share().join("ansible/inventory/multinode");
        std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read kolla-ansible's multinode inventory {}",
                path.display()
            )
        })
    }

    /// A new passwords.yml: kolla-ansible's template filled by kolla-genpwd,
    /// in a private temporary directory (nothing of it is printed).
    pub fn genpwd(&self) -> anyhow::Result<String> {
        let template = self.share().join("etc_examples/kolla/passwords.yml");
        let dir = tempfile::Builder::new()
            .prefix(".aerie-genpwd-")
            .tempdir()
            .context("cannot create a temporary directory for kolla-genpwd")?;
        let file = dir.path().join("passwords.yml");
        std::fs::copy(&template, &file)
            .with_context(|| format!("cannot copy {}", template.display()))?;
        let mut cmd = crate::exec::command(&self.bin("kolla-genpwd").to_string_lossy(), ["-p"]);
        cmd.arg(&file);
        crate::exec::run(&mut cmd)?;
        std::fs::read_to_string(&file).context("cannot read kolla-genpwd's passwords.yml")
    }

    /// What render needs from kolla-ansible: its inventory and (when the
    /// secrets hold none yet) new passwords.
    pub fn source(&self, passwords: String) -> anyhow::Result<crate::kolla::Source> {
        Ok(crate::kolla::Source {
            version: self.version.clone(),
            multinode: self.multinode()?,
            passwords,
        })
    }

    /// [`KollaVenv::source`] with the passwords kept in the site's secrets
    /// file: read there, or made once by `kolla-genpwd` into it.
    pub fn source_kept(&self, secrets_path: &Path) -> anyhow::Result<crate::kolla::Source> {
        let secrets =
            crate::render::secrets::load_or_make_kolla(secrets_path, &mut || self.genpwd())?;
        let passwords = secrets
            .kolla_passwords
            .map(|p| p.expose().to_string())
            .expect("load_or_make_kolla makes the passwords");
        self.source(passwords)
    }
}
