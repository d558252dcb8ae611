//! Reading and writing a host's files over one connection. Two fixed shell
//! scripts do the work on the host; every value (path, mode, owner, run id)
//! reaches them as a quoted positional argument, never pasted into the script.
//!
//! A write never leaves a half-written file: the content goes to a temporary
//! file in the target's directory, its size is checked, mode and owner are set,
//! it is fsynced and renamed over the target; the previous version is copied to
//! the run's backup directory first.

use super::session::Connection;
use super::SshError;
use crate::bundle::converge::HostFiles;
use std::io;

/// Reads a file: exit 0 + content, 4 missing, 3 a directory.
const READ: &str = r#"if [ -d "$1" ]; then echo "$1 is a directory, not a file" >&2; exit 3; fi
if [ -e "$1" ]; then exec cat -- "$1"; fi
exit 4"#;

/// Writes stdin to $1 atomically. Args: path size mode owner group keep run backup-dir.
/// keep=1: take mode and owner from the existing file (edits of shared files).
const WRITE: &str = r#"set -eu
p=$1 size=$2 mode=$3 owner=$4 group=$5 keep=$6 run=$7 backup=$8
if [ -d "$p" ]; then echo "$p is a directory, not a file" >&2; exit 3; fi
d=$(dirname -- "$p")
[ -d "$d" ] || mkdir -p -m 755 -- "$d"
for f in "$d"/.aerie-*.??????; do
  case $f in "$d/.aerie-$run".*) ;; *) if [ -f "$f" ]; then rm -f -- "$f"; fi ;; esac
done
t=$(mktemp -- "$d/.aerie-$run.XXXXXX")
trap 'rm -f -- "$t"' EXIT
cat > "$t"
n=$(wc -c < "$t")
if [ "$n" -ne "$size" ]; then echo "received $n of $size bytes; $p left as it was" >&2; exit 4; fi
if [ "$keep" = 1 ] && [ -e "$p" ]; then
  chown --reference="$p" -- "$t"
  chmod --reference="$p" -- "$t"
else
  chown -- "$owner:$group" "$t"
  chmod -- "$mode" "$t"
fi
sync -- "$t"
if [ -e "$p" ]; then
  b=$backup$p
  (umask 077 && mkdir -p -- "$(dirname -- "$b")")
  cp -p -- "$p" "$b"
fi
mv -f -- "$t" "$p"
trap - EXIT
sync -- "$d"
echo written"#;

/// Where the previous versions of a run's files go on the host.
pub fn backup_dir(run_id: &str) -> String {
    format!("/var/lib/aerie/backup/{run_id}")
}

/// One file to write.
#[derive(Debug, Clone)]
pub struct WriteRequest<'a> {
    pub path: &'a str,
    pub content: &'a [u8],
    pub mode: u32,
    pub owner: &'a str,
    pub group: &'a str,
    /// Keep the mode and owner of the file if it exists.
    pub keep_existing_mode: bool,
}

/// Why a write failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error("cannot write {path}: {reason}")]
    Refused { path: String, reason: String },
}

/// A host's files, seen through a connection.
pub struct RemoteFiles<'a> {
    pub conn: &'a Connection,
    pub run_id: &'a str,
}

impl RemoteFiles<'_> {
    /// Replace `req.path` atomically, backing up the previous version.
    pub fn write(&self, req: &WriteRequest) -> Result<(), WriteError> {
        let size = req.content.len().to_string();
        let mode = format!("{:04o}", req.mode);
        let keep = if req.keep_existing_mode { "1" } else { "0" };
        let backup = backup_dir(self.run_id);
        let argv = [
            "sh",
            "-c",
            WRITE,
            "aerie-write",
            req.path,
            &size,
            &mode,
            req.owner,
            req.group,
            keep,
            self.run_id,
            &backup,
        ];
        let out = self.conn.run(&argv, Some(req.content))?;
        if out.success() && out.stdout.ends_with(b"written\n") {
            return Ok(());
        }
        let mut reason = out.stderr_text();
        if reason.is_empty() {
            reason = format!("the write script ended with status {}", out.status);
        }
        Err(WriteError::Refused {
            path: req.path.to_string(),
            reason,
        })
    }
}

impl HostFiles for RemoteFiles<'_> {
    fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        let out = self
            .conn
            .run(&["sh", "-c", READ, "aerie-read", path], None)
            .map_err(io::Error::other)?;
        match out.status {
            0 => Ok(Some(out.stdout)),
            4 => Ok(None),
            3 => Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "it is a directory, not a file",
            )),
            _ => Err(io::Error::other(out.stderr_text())),
        }
    }
}
