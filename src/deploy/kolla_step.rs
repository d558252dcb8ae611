//! The deploy's kolla step: Kolla's inputs into the config dir
//! (`inputs.rs`), kolla-ansible's subcommands on them in order (`run.rs`),
//! then Kolla's admin credentials delivered to where the frontend's tools
//! source them (`openrc.rs`), the step's last sub-step. With `check`:
//! what would be written, run and delivered; nothing is.

use super::openrc::{self, Frontend, Outcome};
use super::run::{self, Observer, SshEnv, SUBCOMMANDS};
use super::venv::KollaVenv;
use std::path::PathBuf;

/// Everything the step needs, decided by the command line.
pub struct KollaStep<'a> {
    pub site: &'a crate::site::Site,
    pub profile: &'a crate::profile::Profile,
    pub spec: &'a crate::profile::KollaSpec,
    pub venv_dir: PathBuf,
    /// Kolla's `--configdir`.
    pub config_dir: PathBuf,
    /// The site's secrets file, which keeps Kolla's passwords.
    pub secrets_path: PathBuf,
    pub virt: crate::kolla::VirtType,
    pub ssh: SshEnv,
    /// Where the networks and register steps source the credentials.
    pub frontend: Frontend<'a>,
    pub check: bool,
}

/// Run the step, telling `obs` what happens; the first failure ends it.
pub fn run(step: &KollaStep, obs: &dyn Observer) -> anyhow::Result<()> {
    let venv = if step.check {
        KollaVenv::open(&step.venv_dir, step.spec)?
    } else {
        KollaVenv::ensure(&step.venv_dir, step.spec)?
    };
    let dir = &step.config_dir;
    let input = if step.check {
        // Read the passwords, never make them: a check writes nothing.
        match crate::site::secrets::read(&step.secrets_path)?.kolla_passwords {
            Some(p) => Some(venv.source(p.expose().to_string())?),
            None => {
                obs.note(&format!(
                    "kolla inputs: {} would be written; Kolla's passwords would be made (kolla-genpwd) into {}",
                    dir.display(),
                    step.secrets_path.display()
                ));
                None
            }
        }
    } else {
        Some(venv.source_kept(&step.secrets_path)?)
    };
    if let Some(input) = input {
        let rendered = super::inputs::rendered(step.site, step.profile, &input, step.virt)?;
        super::inputs::bring(dir, &rendered, step.check, &|l| obs.note(l), &|l| {
            obs.would(l)
        })?;
    }
    let targets = openrc::targets(step.profile);
    let total = SUBCOMMANDS.len() + usize::from(!targets.is_empty());
    if step.check {
        for sub in SUBCOMMANDS {
            let cmd = run::command(&venv, dir, sub, &step.ssh);
            obs.would(&format!("would run: {}", crate::exec::command_line(&cmd)?));
        }
        return deliver(step, &targets, total, obs);
    }
    for (i, sub) in SUBCOMMANDS.iter().enumerate() {
        let cmd = run::command(&venv, dir, sub, &step.ssh);
        obs.substep(
            i,
            total,
            "kolla-ansible",
            sub,
            &crate::exec::command_line(&cmd)?,
        );
        if let Err(e) = run::run(&venv, dir, sub, &step.ssh, obs) {
            obs.finished();
            return Err((*e).into());
        }
    }
    let delivered = deliver(step, &targets, total, obs);
    obs.finished();
    delivered
}

/// The last sub-step: `admin-openrc.sh` to the credentials path(s).
fn deliver(
    step: &KollaStep,
    targets: &[String],
    total: usize,
    obs: &dyn Observer,
) -> anyhow::Result<()> {
    if targets.is_empty() {
        return Ok(());
    }
    let source = step.config_dir.join(openrc::FILE);
    let shown: Vec<String> = targets.iter().map(|t| step.frontend.show(t)).collect();
    if !step.check {
        obs.substep(total - 1, total, "deliver", openrc::FILE, &shown.join(", "));
    }
    let outcomes = openrc::deliver(&source, targets, &step.frontend, step.check)?;
    for (target, outcome) in outcomes {
        let at = step.frontend.show(&target);
        match outcome {
            Outcome::Unchanged => obs.note(&format!("{}: {at} unchanged", openrc::FILE)),
            Outcome::Written => obs.note(&format!(
                "{}: delivered {} to {at} (0600)",
                openrc::FILE,
                source.display()
            )),
            Outcome::WouldWrite => obs.would(&format!(
                "would deliver {} to {at} (0600)",
                source.display()
            )),
            Outcome::IsTheSource => obs.note(&format!(
                "{}: {at} is Kolla's own (the config dir)",
                openrc::FILE
            )),
        }
    }
    Ok(())
}
