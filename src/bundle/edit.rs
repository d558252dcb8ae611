//! Changes to files aerie shares with the distribution. Each edit is a pure,
//! idempotent function of the file's current text: `apply(apply(x)) == apply(x)`.

use serde::{Deserialize, Serialize};

/// One change to a shared file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Edit {
    /// Each argument exactly once in `GRUB_CMDLINE_LINUX` (`/etc/default/grub`).
    KernelArgs { args: Vec<String> },
    /// `[section] key = value` in an INI file.
    IniSet {
        section: String,
        key: String,
        value: String,
    },
    /// `item` once in the comma list `[section] key`; `default` is the list
    /// the service uses when the key is absent.
    IniAddToList {
        section: String,
        key: String,
        item: String,
        default: Vec<String>,
    },
    /// `KEY="value"` in a shell-variable file.
    ShellVar { key: String, value: String },
}

impl Edit {
    /// The file's new text.
    pub fn apply(&self, current: &str) -> String {
        match self {
            Edit::KernelArgs { args } => super::grub::ensure_kernel_args(current, args),
            Edit::IniSet {
                section,
                key,
                value,
            } => super::ini::set(current, section, key, value),
            Edit::IniAddToList {
                section,
                key,
                item,
                default,
            } => super::ini::add_to_list(current, section, key, item, default),
            Edit::ShellVar { key, value } => super::shellvars::set(current, key, value),
        }
    }

    /// One line for plans and actions.txt.
    pub fn describe(&self) -> String {
        match self {
            Edit::KernelArgs { args } => {
                format!("{} gains {} (once)", super::grub::VARIABLE, args.join(" "))
            }
            Edit::IniSet {
                section,
                key,
                value,
            } => format!("[{section}] {key} = {value}"),
            Edit::IniAddToList {
                section, key, item, ..
            } => format!("[{section}] {key} += {item} (once)"),
            Edit::ShellVar { key, value } => format!("{key}=\"{value}\""),
        }
    }
}
