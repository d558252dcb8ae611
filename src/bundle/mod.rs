//! The HostBundle: everything one host must hold, as data. A pure function of
//! the site, the node and the profile builds it (`concerns::bundle_for`); every road
//! (kickstart %post, SSH, lab) delivers this one value, so a host ends in the
//! same state whichever road it took.

pub mod converge;
mod edit;
pub mod grub;
mod ini;
mod shellvars;

pub use crate::profile::Concern;
pub use edit::Edit;

use serde::{Deserialize, Serialize};

/// What one host must hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct HostBundle {
    pub hostname: String,
    pub role: crate::site::Role,
    /// Whole files aerie owns.
    pub files: Vec<BundleFile>,
    /// Changes to files aerie shares with the distribution, applied in order.
    pub edits: Vec<FileEdit>,
    /// Commands, each with what makes it run.
    pub actions: Vec<Action>,
    /// systemd units the bundle carries and enables.
    pub units: Vec<String>,
    /// Why the host needs a reboot after the first delivery.
    pub reboot_required: Vec<RebootReason>,
}

/// A whole file aerie owns. `content` is empty or ends with a newline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BundleFile {
    pub path: String,
    #[serde(with = "octal")]
    pub mode: u32,
    pub owner: String,
    pub group: String,
    pub content: String,
    pub concern: Concern,
}

/// One change to a shared file; `mode`/`owner`/`group` apply only when aerie
/// has to create the file (an existing file keeps its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FileEdit {
    pub path: String,
    pub edit: Edit,
    #[serde(with = "octal")]
    pub mode: u32,
    pub owner: String,
    pub group: String,
    pub concern: Concern,
}

/// A command and what makes it run. `argv` is never a shell string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Action {
    pub argv: Vec<String>,
    pub trigger: Trigger,
    pub stage: Stage,
    pub concern: Concern,
}

/// When an action runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Trigger {
    /// After one of these files changed in this delivery.
    Changed { paths: Vec<String> },
    /// Every delivery, unless `check` exits 0 (the wanted state is already there).
    Unless { check: Vec<String> },
}

/// Where an action can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Also in the installer's chroot (`%post`): enabling units, regenerating GRUB.
    Install,
    /// Only on the booted host: restarts, firewall rules, cloud API calls.
    Running,
}

/// Why a reboot is needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RebootReason {
    pub concern: Concern,
    pub reason: String,
}

impl Action {
    pub fn new(argv: &[&str], trigger: Trigger, stage: Stage, concern: Concern) -> Action {
        Action {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            trigger,
            stage,
            concern,
        }
    }

    /// The command line, shell-quoted, for reading.
    pub fn command_line(&self) -> Result<String, crate::shell::Unquotable> {
        crate::shell::join(&self.argv)
    }
}

impl Trigger {
    pub fn changed(paths: &[&str]) -> Trigger {
        Trigger::Changed {
            paths: paths.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn unless(check: &[&str]) -> Trigger {
        Trigger::Unless {
            check: check.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl HostBundle {
    /// Every path the bundle writes or edits, once, in bundle order.
    pub fn paths(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for p in self
            .files
            .iter()
            .map(|f| f.path.as_str())
            .chain(self.edits.iter().map(|e| e.path.as_str()))
        {
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }

    /// The bundle as JSON, as the roads carry it.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a bundle serializes");
        text.push('\n');
        text
    }
}

/// File modes as octal text (`"0644"`) in JSON, as people read them.
mod octal {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(mode: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{mode:04o}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let text = String::deserialize(d)?;
        u32::from_str_radix(&text, 8)
            .ok()
            .filter(|m| *m <= 0o7777)
            .ok_or_else(|| D::Error::custom(format!("{text:?} is not an octal file mode")))
    }
}
