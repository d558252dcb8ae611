//! The lab's state file (`DIR/lab.json`): the lab's VMs and, in order, every
//! thing `lab up` made. It is saved after each thing is made, so a failed or
//! interrupted `up` can be rolled back and `lab down` removes exactly these
//! things, in reverse order, and nothing else.

use super::model::Driver;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The state file's name inside the lab folder.
pub const FILE: &str = "lab.json";

/// One thing `lab up` made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Made {
    /// A directory aerie created (removed only when empty at the end).
    Dir {
        path: PathBuf,
    },
    /// A directory tree entirely aerie's (removed recursively).
    Tree {
        path: PathBuf,
    },
    File {
        path: PathBuf,
    },
    /// A bridge (its addresses go with it).
    Bridge {
        name: String,
    },
    Tap {
        name: String,
    },
    /// An nftables table holding the lab's NAT rules.
    NftTable {
        family: String,
        name: String,
    },
    /// A sysctl aerie changed, with the value to restore.
    Sysctl {
        key: String,
        before: String,
    },
    /// A process aerie started; `start_time` (from /proc/PID/stat) guards
    /// against killing a later process that reuses the PID.
    Process {
        pid: u32,
        start_time: u64,
        what: String,
    },
    /// Machines made by `vagrant up` in this folder (`vagrant destroy -f`).
    VagrantMachines {
        dir: PathBuf,
    },
}

/// A VM of the lab, for `status` and `ssh`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmRecord {
    pub name: String,
    pub role: String,
    pub address: Option<IpAddr>,
    pub ssh_user: String,
    pub ssh_port: u16,
    pub serial_log: Option<PathBuf>,
}

/// The lab's boot server (`lab up --boot pxe`), for `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetbootRecord {
    /// Where the VMs fetch their installer (`http://ADDRESS:PORT`).
    pub url: String,
    /// The server's state folder (installed markers, status.json).
    pub state_dir: PathBuf,
    pub log: PathBuf,
}

/// The whole state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub site: String,
    pub driver: Driver,
    pub vms: Vec<VmRecord>,
    /// The disk image the VMs' overlays are over (`lab up --image`): their
    /// first boot converges them, which `lab status` reads off the console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<PathBuf>,
    pub made: Vec<Made>,
    /// Only a lab booted from the network has one (absent from the file otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netboot: Option<NetbootRecord>,
}

/// The state file of one lab folder, saved after every change.
pub struct Ledger {
    pub path: PathBuf,
    pub state: State,
}

impl Ledger {
    pub fn new(dir: &Path, state: State) -> Ledger {
        Ledger {
            path: dir.join(FILE),
            state,
        }
    }

    /// Read the lab of `dir`; a clear error when there is none.
    pub fn load(dir: &Path) -> anyhow::Result<Ledger> {
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow::Error::new(crate::exit::UsageError(format!(
                    "there is no lab in {} (no {FILE}); start one with `aerie lab up`, or give --dir",
                    dir.display()
                )))
            } else {
                anyhow::Error::new(e).context(format!("cannot read {}", path.display()))
            }
        })?;
        let state = serde_json::from_str(&text)
            .with_context(|| format!("{} is not an aerie lab state file", path.display()))?;
        Ok(Ledger { path, state })
    }

    pub fn save(&self) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(&self.state)? + "\n";
        crate::fsutil::write_atomic(
            &self.path,
            text.as_bytes(),
            0o644,
            crate::fsutil::Overwrite::Allow,
        )
    }

    /// Note a made thing and save at once.
    pub fn record(&mut self, made: Made) -> anyhow::Result<()> {
        self.state.made.push(made);
        self.save()
    }

    /// Undo everything with `undo` (one made thing each; `None`: it was gone
    /// already), newest first; the folders go last, after the state file
    /// that lives in one. Every undo is tried; the errors are returned
    /// together. The state file then keeps the folders and what could not
    /// be undone, for `lab down` to finish.
    pub fn roll_back(
        &mut self,
        undo: &mut dyn FnMut(&Made) -> anyhow::Result<Option<String>>,
        say: &mut dyn FnMut(&str),
    ) -> Vec<anyhow::Error> {
        let mut errors = Vec::new();
        let mut kept = Vec::new();
        let mut dirs = Vec::new();
        while let Some(made) = self.state.made.pop() {
            if let Made::Dir { path } = &made {
                // Folders go after the state file, which lives in one.
                dirs.push(path.clone());
                continue;
            }
            match undo(&made) {
                Ok(Some(what)) => say(&what),
                Ok(None) => {}
                Err(e) => {
                    errors.push(e);
                    kept.push(made);
                }
            }
        }
        if errors.is_empty() {
            if let Err(e) = std::fs::remove_file(&self.path) {
                errors.push(
                    anyhow::Error::new(e).context(format!("cannot remove {}", self.path.display())),
                );
            }
            for dir in dirs {
                if let Err(e) = std::fs::remove_dir(&dir) {
                    errors.push(anyhow::Error::new(e).context(format!(
                        "cannot remove {} (files not made by aerie are left in it)",
                        dir.display()
                    )));
                }
            }
        } else {
            kept.extend(dirs.into_iter().map(|path| Made::Dir { path }));
            kept.reverse();
            self.state.made = kept;
            if let Err(e) = self.save() {
                errors.push(e);
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips() {
        let state = State {
            site: "lab".into(),
            driver: Driver::Qemu,
            vms: vec![],
            image: None,
            made: vec![
                Made::Bridge {
                    name: "ae-lab-b0".into(),
                },
                Made::Sysctl {
                    key: "net.ipv4.ip_forward".into(),
                    before: "0".into(),
                },
            ],
            netboot: None,
        };
        let text = serde_json::to_string(&state).unwrap();
        assert!(text.contains(r#""kind":"bridge""#), "{text}");
        // A lab booted from its ISO has the state file it always had.
        assert!(!text.contains("netboot"), "{text}");
        assert_eq!(serde_json::from_str::<State>(&text).unwrap(), state);
    }

    /// A ledger in `dir` that made, in this order: the folder, a file, a
    /// bridge, a sub-folder, a tap.
    fn made_in(dir: &Path) -> Ledger {
        let sub = dir.join("disks");
        std::fs::create_dir(&sub).unwrap();
        let ledger = Ledger::new(
            dir,
            State {
                site: "lab".into(),
                driver: Driver::Qemu,
                vms: vec![],
                image: None,
                made: vec![
                    Made::Dir { path: dir.into() },
                    Made::File {
                        path: dir.join("installer.iso"),
                    },
                    Made::Bridge { name: "b0".into() },
                    Made::Dir { path: sub },
                    Made::Tap { name: "t0".into() },
                ],
                netboot: None,
            },
        );
        ledger.save().unwrap();
        ledger
    }

    fn name(made: &Made) -> String {
        match made {
            Made::Dir { path } | Made::File { path } => {
                path.file_name().unwrap().to_string_lossy().into()
            }
            Made::Bridge { name } | Made::Tap { name } => name.clone(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn roll_back_undoes_newest_first_and_the_folders_last() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("lab");
        std::fs::create_dir(&dir).unwrap();
        let mut ledger = made_in(&dir);
        let mut undone = Vec::new();
        let mut said = Vec::new();
        let errors = ledger.roll_back(
            &mut |made| {
                undone.push(name(made));
                Ok(Some(format!("undid {}", name(made))))
            },
            &mut |what| said.push(what.to_string()),
        );
        assert!(errors.is_empty(), "{errors:?}");
        // The folders are never handed to `undo`: they go after the state file.
        assert_eq!(undone, ["t0", "b0", "installer.iso"]);
        assert_eq!(said, ["undid t0", "undid b0", "undid installer.iso"]);
        assert!(
            !dir.exists(),
            "the state file, then disks/, then the folder are removed"
        );
    }

    #[test]
    fn what_could_not_be_undone_stays_in_the_state_file_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("lab");
        std::fs::create_dir(&dir).unwrap();
        let mut ledger = made_in(&dir);
        let mut undone = Vec::new();
        let errors = ledger.roll_back(
            &mut |made| {
                undone.push(name(made));
                match made {
                    Made::Bridge { .. } => anyhow::bail!("bridge busy"),
                    _ => Ok(None),
                }
            },
            &mut |_| {},
        );
        // Every undo is tried, even after one failed.
        assert_eq!(undone, ["t0", "b0", "installer.iso"]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].to_string(), "bridge busy");
        let kept = Ledger::load(&dir).unwrap().state.made;
        let kept: Vec<String> = kept.iter().map(name).collect();
        // The folders, outermost first, then what failed, in made order.
        assert_eq!(kept, ["lab", "disks", "b0"]);
        assert!(dir.join("disks").is_dir());
        // Once the cause is fixed, `lab down` removes the rest.
        let mut ledger = Ledger::load(&dir).unwrap();
        let mut undone = Vec::new();
        let errors = ledger.roll_back(
            &mut |made| {
                undone.push(name(made));
                Ok(None)
            },
            &mut |_| {},
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(undone, ["b0"]);
        assert!(!dir.exists());
    }
}
