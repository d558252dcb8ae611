//! Kolla's admin credentials where the frontend's tools source them. Kolla's
//! post-deploy writes `admin-openrc.sh` into the config dir on the machine
//! kolla-ansible runs on; the networks and register steps source the
//! profile's credentials file on the frontend (`/etc/kolla/admin-openrc.sh`
//! for the kolla profile). This delivers the one to the other: over SSH by
//! the read and write scripts `aerie apply` uses (one read round trip; a
//! second, the write, only when the file differs: staged beside the target,
//! then renamed), or here through `fsutil::write_atomic` when this machine is
//! the frontend (`--local`). Always 0600 root:root; the bytes travel on the
//! write script's stdin, never on a command line or in a message.

use crate::ssh::read::{self, FileState, ReadRequest};
use crate::ssh::write::{self, FileWrite, Owner, WriteFailure};
use crate::ssh::{Connection, Options, Pins, Target};
use std::path::{Path, PathBuf};

/// The file Kolla's post-deploy writes into its config dir.
pub const FILE: &str = "admin-openrc.sh";

/// What Kolla's post-deploy writes into the config dir (its
/// `post-deploy.yml`): Kolla's files there, not aerie's inputs.
pub const POST_DEPLOY_WRITES: &[&str] = &[
    "clouds.yaml",
    FILE,
    "admin-openrc-system.sh",
    "public-openrc.sh",
    "public-openrc-system.sh",
    "octavia-openrc.sh",
];

/// The delivered file's permission bits.
const MODE: u32 = 0o600;

/// Where the frontend's tools look for the credentials: the profile's
/// `registration.credentials` and `provider-networks.credentials`, each once.
pub fn targets(profile: &crate::profile::Profile) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let paths = [
        profile
            .registration
            .as_ref()
            .and_then(|r| r.credentials.clone()),
        profile
            .provider_networks
            .as_ref()
            .and_then(|p| p.credentials.clone()),
    ];
    for p in paths.into_iter().flatten() {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// The frontend, as the delivery reaches it.
pub enum Frontend<'a> {
    /// This machine (`--local`).
    Local,
    /// Over SSH; `label` names it in messages (`host1 (10.44.1.1)`).
    Remote {
        label: String,
        target: &'a Target,
        options: &'a Options,
        pins: &'a Pins,
        /// Names the write's temporary files and backup directory on the host.
        run_id: &'a str,
    },
}

impl Frontend<'_> {
    /// `path` on this frontend, as messages show it.
    pub fn show(&self, path: &str) -> String {
        match self {
            Frontend::Local => path.to_string(),
            Frontend::Remote { label, .. } => format!("{label}:{path}"),
        }
    }
}

/// What happened to one target path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Already the same bytes, 0600 root:root: nothing written.
    Unchanged,
    Written,
    /// `--check`: it would be written.
    WouldWrite,
    /// The config dir's own file (`--local` with the config dir at the target).
    IsTheSource,
}

/// Why the delivery failed; every message names the file and where.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(
        "{source_path} is missing: Kolla's post-deploy did not write the admin credentials; \
         rerun the kolla step (--step kolla)"
    )]
    Missing { source_path: PathBuf },
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("cannot deliver the admin credentials to {path}: {reason}")]
    Write { path: String, reason: String },
}

/// Deliver `source` (the config dir's `admin-openrc.sh`) to `targets` on the
/// frontend; with `check`, say what would happen and write nothing. A
/// missing source in a check: every target would be written.
pub fn deliver(
    source: &Path,
    targets: &[String],
    to: &Frontend,
    check: bool,
) -> Result<Vec<(String, Outcome)>, DeliveryError> {
    let bytes = match std::fs::read(source) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if check {
                return Ok(targets
                    .iter()
                    .map(|t| (t.clone(), Outcome::WouldWrite))
                    .collect());
            }
            return Err(DeliveryError::Missing {
                source_path: source.to_path_buf(),
            });
        }
        Err(e) => {
            return Err(DeliveryError::Unreadable {
                path: source.display().to_string(),
                reason: e.to_string(),
            })
        }
    };
    match to {
        Frontend::Local => targets
            .iter()
            .map(|t| Ok((t.clone(), local(source, &bytes, Path::new(t), check)?)))
            .collect(),
        Frontend::Remote {
            target,
            options,
            pins,
            run_id,
            ..
        } => {
            let conn =
                Connection::open(target, options, pins).map_err(|e| DeliveryError::Write {
                    path: to.show(&targets.join(", ")),
                    reason: e.to_string(),
                })?;
            remote(&conn, &bytes, targets, to, run_id, check)
        }
    }
}

/// Already in place: the same bytes, 0600, root's.
fn in_place(content: &[u8], bytes: &[u8], mode: u32, uid: u32, gid: u32) -> bool {
    content == bytes && mode & 0o7777 == MODE && uid == 0 && gid == 0
}

fn local(
    source: &Path,
    bytes: &[u8],
    target: &Path,
    check: bool,
) -> Result<Outcome, DeliveryError> {
    use std::os::unix::fs::MetadataExt;
    if let (Ok(a), Ok(b)) = (source.canonicalize(), target.canonicalize()) {
        if a == b {
            return Ok(Outcome::IsTheSource);
        }
    }
    let fail = |reason: String| DeliveryError::Write {
        path: target.display().to_string(),
        reason,
    };
    match std::fs::symlink_metadata(target) {
        Ok(m) if m.is_file() => {
            let content = std::fs::read(target).map_err(|e| fail(e.to_string()))?;
            // Here the owner is whoever runs aerie (root at the first boot).
            let me = std::fs::metadata("/proc/self").map_err(|e| fail(e.to_string()))?;
            let mine = (m.uid(), m.gid()) == (me.uid(), me.gid());
            if content == bytes && m.mode() & 0o7777 == MODE && mine {
                return Ok(Outcome::Unchanged);
            }
        }
        Ok(_) => return Err(fail("it is not a regular file".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e.to_string())),
    }
    if check {
        return Ok(Outcome::WouldWrite);
    }
    let dir = crate::fsutil::parent_or_dot(target);
    std::fs::create_dir_all(dir)
        .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    crate::fsutil::write_atomic(target, bytes, MODE, crate::fsutil::Overwrite::Allow)
        .map_err(|e| fail(format!("{e:#}")))?;
    Ok(Outcome::Written)
}

fn remote(
    conn: &Connection,
    bytes: &[u8],
    targets: &[String],
    to: &Frontend,
    run_id: &str,
    check: bool,
) -> Result<Vec<(String, Outcome)>, DeliveryError> {
    let paths: Vec<&str> = targets.iter().map(String::as_str).collect();
    let state = read::read(
        conn,
        &ReadRequest {
            paths: &paths,
            ..ReadRequest::default()
        },
    )
    .map_err(|e| DeliveryError::Unreadable {
        path: to.show(&targets.join(", ")),
        reason: e.to_string(),
    })?;
    let mut out = Vec::new();
    let mut files = Vec::new();
    for t in targets {
        let outcome = match state.file(t) {
            Some(FileState::File(f)) if in_place(&f.content, bytes, f.mode, f.uid, f.gid) => {
                Outcome::Unchanged
            }
            Some(FileState::File(_) | FileState::Missing) => {
                files.push(FileWrite {
                    path: t,
                    content: bytes,
                    mode: MODE,
                    owner: Owner::Named {
                        user: "root",
                        group: "root",
                    },
                });
                if check {
                    Outcome::WouldWrite
                } else {
                    Outcome::Written
                }
            }
            _ => {
                return Err(DeliveryError::Write {
                    path: to.show(t),
                    reason: "it is not a regular file".into(),
                })
            }
        };
        out.push((t.clone(), outcome));
    }
    if check || files.is_empty() {
        return Ok(out);
    }
    let done = write::write(conn, run_id, &files, &[]);
    match done.failure {
        None => Ok(out),
        Some(WriteFailure::File { path, reason }) => Err(DeliveryError::Write {
            path: to.show(&path),
            reason: format!("{reason}; it was left as it was"),
        }),
        Some(other) => Err(DeliveryError::Write {
            path: to.show(files[done.written.min(files.len() - 1)].path),
            reason: other.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    fn local_delivery_writes_once_then_finds_it_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("config/admin-openrc.sh");
        std::fs::create_dir_all(source.parent().unwrap()).unwrap();
        std::fs::write(&source, "export OS_PASSWORD=s3cr3t\n").unwrap();
        let target = dir.path().join("etc/kolla/admin-openrc.sh");
        let t = vec![target.display().to_string()];

        let checked = deliver(&source, &t, &Frontend::Local, true).unwrap();
        assert_eq!(checked[0].1, Outcome::WouldWrite);
        assert!(!target.exists(), "a check wrote");

        let done = deliver(&source, &t, &Frontend::Local, false).unwrap();
        assert_eq!(done[0].1, Outcome::Written);
        assert_eq!(
            std::fs::read(&target).unwrap(),
            std::fs::read(&source).unwrap()
        );
        let m = std::fs::metadata(&target).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, 0o600);

        let again = deliver(&source, &t, &Frontend::Local, false).unwrap();
        assert_eq!(again[0].1, Outcome::Unchanged);
        assert_eq!(std::fs::metadata(&target).unwrap().ino(), m.ino());

        // World-readable by hand: made 0600 again.
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let fixed = deliver(&source, &t, &Frontend::Local, false).unwrap();
        assert_eq!(fixed[0].1, Outcome::Written);
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o600);

        // The config dir at the target: nothing to do.
        let same = vec![source.display().to_string()];
        let own = deliver(&source, &same, &Frontend::Local, false).unwrap();
        assert_eq!(own[0].1, Outcome::IsTheSource);
    }

    #[test]
    fn a_missing_source_names_the_file_and_the_step() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("admin-openrc.sh");
        let t = vec![dir.path().join("t").display().to_string()];
        let err = deliver(&source, &t, &Frontend::Local, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&source.display().to_string()), "{err}");
        assert!(err.contains("--step kolla"), "{err}");
        assert!(!dir.path().join("t").exists());
    }

    #[test]
    fn targets_are_the_profiles_credentials_each_once() {
        use crate::profile::Profile;
        use crate::site::ProfileName;
        let kolla = Profile::built_in(ProfileName::Kolla);
        assert_eq!(targets(&kolla), ["/etc/kolla/admin-openrc.sh"]);
        let mut two = kolla.clone();
        if let Some(r) = two.registration.as_mut() {
            r.credentials = Some("/root/other-rc".into());
        }
        assert_eq!(
            targets(&two),
            ["/root/other-rc", "/etc/kolla/admin-openrc.sh"]
        );
    }
}
