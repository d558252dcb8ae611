//! One remote command reads what a delivery needs to know about a host: every
//! file it touches (existence, content, mode, owner), whether the users and
//! groups that would own new files exist, and the exit status of the
//! check-first actions' checks. A fixed script does it; every value (path,
//! name, check word) reaches it as a quoted positional argument.
//!
//! The script prints a framed stream: a state line per path (`M` missing, `D`
//! a directory, `O` not a regular file, `F` a file), then for the files one
//! `stat` line each (size first), their bytes back to back, and the `stat`
//! lines again: a file that changed while it was read shows as a difference,
//! never as a torn read. Then a line per user and group (`1` known, `0` not),
//! and per check its exit status (`-` when the checks were skipped because a
//! path cannot be read).

use super::session::Connection;
use super::SshError;
use crate::bundle::converge::HostFiles;
use std::collections::BTreeSet;
use std::io;

/// Runs the first N of the remaining arguments as a command (shared by both
/// scripts): the arguments are rotated in place, never pasted into shell text.
macro_rules! run_first_fn {
    () => {
        r#"run_first() {
  _n=$1; shift; _r=$(($# - _n))
  while [ "$_n" -gt 0 ]; do set -- "$@" "$1"; shift; _n=$((_n - 1)); done
  shift "$_r"
  exec "$@"
}
"#
    };
}
pub(crate) use run_first_fn;

/// Args: N paths..., N users..., N groups..., N (K words...)... checks.
const READ: &str = concat!(
    run_first_fn!(),
    r#"set -u
files() {
  _n=$1; shift; _r=$(($# - _n))
  while [ "$_n" -gt 0 ]; do
    if [ -d "$1" ]; then echo D; bad=1
    elif [ -f "$1" ]; then echo F; set -- "$@" "$1"
    elif [ -e "$1" ]; then echo O; bad=1
    else echo M; fi
    shift; _n=$((_n - 1))
  done
  shift "$_r"
  [ $# -gt 0 ] || return 0
  stat -L -c '%s %a %u %g %i %y %z' -- "$@" || exit 5
  cat -- "$@" || exit 6
  stat -L -c '%s %a %u %g %i %y %z' -- "$@" || exit 5
}
bad=0
files "$@"
shift "$(($1 + 1))"
for db in passwd group; do
  n=$1; shift
  while [ "$n" -gt 0 ]; do
    if getent -- "$db" "$1" >/dev/null; then echo 1; else echo 0; fi
    shift; n=$((n - 1))
  done
done
n=$1; shift
while [ "$n" -gt 0 ]; do
  k=$1; shift
  if [ "$bad" = 1 ]; then echo -
  else (run_first "$k" "$@") </dev/null >/dev/null 2>&1; echo $?
  fi
  shift "$k"; n=$((n - 1))
done
echo end
"#
);

/// What to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadRequest<'a> {
    pub paths: &'a [&'a str],
    /// Users and groups whose existence matters (owners of files to create).
    pub users: &'a [&'a str],
    pub groups: &'a [&'a str],
    /// Commands whose exit status is wanted (read-only checks).
    pub checks: &'a [&'a [String]],
}

/// A path on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    Missing,
    Directory,
    /// Exists, but is neither a regular file nor a directory.
    Special,
    File(RemoteFile),
}

/// A regular file on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    pub content: Vec<u8>,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// What one read found.
#[derive(Debug, Clone, Default)]
pub struct HostState {
    pub files: Vec<(String, FileState)>,
    /// The requested users and groups the host knows.
    pub users: BTreeSet<String>,
    pub groups: BTreeSet<String>,
    /// Per requested check: its exit status, or `None` when it was not run.
    pub checks: Vec<Option<i32>>,
}

impl HostState {
    pub fn file(&self, path: &str) -> Option<&FileState> {
        self.files.iter().find(|(p, _)| p == path).map(|(_, s)| s)
    }
}

impl HostFiles for HostState {
    fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        match self.file(path) {
            Some(FileState::Missing) => Ok(None),
            Some(FileState::File(f)) => Ok(Some(f.content.clone())),
            Some(FileState::Directory) => Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "it is a directory, not a file",
            )),
            Some(FileState::Special) => Err(io::Error::other("it is not a regular file")),
            None => Err(io::Error::other("aerie did not read it")),
        }
    }
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error("cannot read the host's files: {0}")]
    Failed(String),
}

/// A value the script cannot carry: a line break would break the framing.
fn refuse_newline(what: &str, value: &str) -> Result<(), ReadError> {
    if value.contains('\n') {
        return Err(ReadError::Failed(format!(
            "{what} {value:?} contains a line break"
        )));
    }
    Ok(())
}

/// The script's arguments for `req`.
fn arguments(req: &ReadRequest) -> Result<Vec<String>, ReadError> {
    let mut args = vec!["sh".into(), "-c".into(), READ.into(), "aerie-read".into()];
    for p in req.paths {
        refuse_newline("the path", p)?;
    }
    for list in [req.paths, req.users, req.groups] {
        args.push(list.len().to_string());
        args.extend(list.iter().map(|s| s.to_string()));
    }
    args.push(req.checks.len().to_string());
    for c in req.checks {
        if c.is_empty() {
            return Err(ReadError::Failed("a check with no command".into()));
        }
        args.push(c.len().to_string());
        args.extend(c.iter().cloned());
    }
    Ok(args)
}

/// Read everything `req` asks for in one remote command.
pub fn read(conn: &Connection, req: &ReadRequest) -> Result<HostState, ReadError> {
    let args = arguments(req)?;
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = conn.run(&argv, None)?;
    if !out.success() {
        let mut why = out.stderr_text();
        if why.is_empty() {
            why = format!("the read script ended with status {}", out.status);
        }
        return Err(ReadError::Failed(why));
    }
    parse(req, &out.stdout).map_err(ReadError::Failed)
}

/// The script's output, checked against what was asked.
fn parse(req: &ReadRequest, out: &[u8]) -> Result<HostState, String> {
    let mut cur = Cursor { out, at: 0 };
    let mut state = HostState::default();
    let mut kinds = Vec::new();
    for p in req.paths {
        let kind = cur.line()?;
        kinds.push((p, kind));
    }
    let files: Vec<&str> = kinds
        .iter()
        .filter(|(_, k)| *k == "F")
        .map(|(p, _)| **p)
        .collect();
    let mut stats = Vec::new();
    for _ in &files {
        stats.push(cur.line()?);
    }
    let mut contents = Vec::new();
    for (path, stat) in files.iter().zip(&stats) {
        let size: usize = field(stat, 0, path)?;
        contents.push(cur.bytes(size)?);
    }
    for (path, stat) in files.iter().zip(&stats) {
        if cur.line()? != *stat {
            return Err(format!(
                "{path} changed while aerie read it; run aerie again"
            ));
        }
    }
    let mut read = files.iter().zip(stats.iter().zip(contents));
    for (path, kind) in kinds {
        let s = match kind {
            "M" => FileState::Missing,
            "D" => FileState::Directory,
            "O" => FileState::Special,
            "F" => {
                let (_, (stat, content)) = read.next().expect("one stat per file");
                let mode = u32::from_str_radix(stat.split(' ').nth(1).unwrap_or(""), 8)
                    .map_err(|_| format!("unexpected mode in {stat:?} for {path}"))?;
                FileState::File(RemoteFile {
                    content: content.to_vec(),
                    mode,
                    uid: field(stat, 2, path)?,
                    gid: field(stat, 3, path)?,
                })
            }
            other => return Err(format!("unexpected state {other:?} for {path}")),
        };
        state.files.push((path.to_string(), s));
    }
    for (names, known) in [
        (req.users, &mut state.users),
        (req.groups, &mut state.groups),
    ] {
        for name in names {
            match cur.line()? {
                "1" => {
                    known.insert(name.to_string());
                }
                "0" => {}
                other => return Err(format!("unexpected answer {other:?} for {name}")),
            }
        }
    }
    for _ in req.checks {
        let line = cur.line()?;
        state.checks.push(match line {
            "-" => None,
            n => Some(
                n.parse()
                    .map_err(|_| format!("unexpected check status {n:?}"))?,
            ),
        });
    }
    if cur.line()? != "end" || cur.at != out.len() {
        return Err("the read script's output did not end where expected".into());
    }
    Ok(state)
}

fn field<T: std::str::FromStr>(stat: &str, i: usize, path: &str) -> Result<T, String> {
    stat.split(' ')
        .nth(i)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("unexpected stat line {stat:?} for {path}"))
}

/// Reads lines and byte runs from the output, never past its end.
struct Cursor<'a> {
    out: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn line(&mut self) -> Result<&'a str, String> {
        let rest = &self.out[self.at..];
        let end = rest
            .iter()
            .position(|b| *b == b'\n')
            .ok_or("the read script's output ended early")?;
        self.at += end + 1;
        std::str::from_utf8(&rest[..end]).map_err(|_| "unexpected bytes in the output".into())
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], String> {
        let rest = &self.out[self.at..];
        if rest.len() < n {
            return Err("the read script's output ended early".into());
        }
        self.at += n;
        Ok(&rest[..n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run the script locally with `sh` (as the host would), in `cwd`.
    fn local(req: &ReadRequest, cwd: &std::path::Path) -> Result<HostState, String> {
        let args = arguments(req).map_err(|e| e.to_string())?;
        let out = std::process::Command::new(&args[0])
            .args(&args[1..])
            .current_dir(cwd)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        parse(req, &out.stdout)
    }

    #[test]
    fn reads_files_owners_and_checks_in_one_go() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let a = format!("{d}/a b'$(touch x)");
        std::fs::write(&a, b"one\ntwo\n").unwrap();
        let empty = format!("{d}/empty");
        std::fs::write(&empty, b"").unwrap();
        let bin = format!("{d}/bin");
        std::fs::write(&bin, [0u8, 10, 255, 10]).unwrap();
        let missing = format!("{d}/missing");
        let paths = [a.as_str(), missing.as_str(), &d, &empty, &bin];
        let ok: Vec<String> = vec!["true".into()];
        let no: Vec<String> = vec!["sh".into(), "-c".into(), "exit 3".into()];
        let checks = [ok.as_slice(), no.as_slice()];
        let req = ReadRequest {
            paths: &paths,
            users: &["root", "no-such-user-aerie"],
            groups: &["no-such-group-aerie", "root"],
            checks: &checks,
        };
        let s = local(&req, dir.path()).unwrap();
        let FileState::File(f) = s.file(&a).unwrap() else {
            panic!("{:?}", s.file(&a))
        };
        assert_eq!(f.content, b"one\ntwo\n");
        assert_eq!(f.uid, nix_uid());
        assert_eq!(s.file(&missing), Some(&FileState::Missing));
        assert_eq!(s.file(&d), Some(&FileState::Directory));
        assert_eq!(s.read(&empty).unwrap(), Some(Vec::new()));
        assert_eq!(s.read(&bin).unwrap(), Some(vec![0u8, 10, 255, 10]));
        assert_eq!(s.users.iter().collect::<Vec<_>>(), ["root"]);
        assert_eq!(s.groups.iter().collect::<Vec<_>>(), ["root"]);
        // A directory among the paths: the checks are not run.
        assert_eq!(s.checks, [None, None]);
        assert!(!dir.path().join("x").exists());

        let paths = [a.as_str(), missing.as_str()];
        let s = local(
            &ReadRequest {
                paths: &paths,
                checks: &checks,
                ..Default::default()
            },
            dir.path(),
        )
        .unwrap();
        assert_eq!(s.checks, [Some(0), Some(3)]);
        assert!(s.read("/not/asked").is_err());
    }

    #[test]
    fn a_file_that_changed_while_read_is_refused() {
        let req = ReadRequest {
            paths: &["/x"],
            ..Default::default()
        };
        let out = b"F\n3 644 0 0 1 t1 t1\nabc3 644 0 0 1 t2 t2\nend\n";
        let e = parse(&req, out).unwrap_err();
        assert!(e.contains("/x changed while aerie read it"), "{e}");
        let out = b"F\n3 644 0 0 1 t1 t1\nabc3 644 0 0 1 t1 t1\nend\n";
        assert!(parse(&req, out).is_ok());
        assert!(parse(&req, b"F\n3 644 0 0 1 t1 t1\nab").is_err());
    }

    #[test]
    fn line_breaks_in_paths_are_refused() {
        let req = ReadRequest {
            paths: &["/etc/a\nb"],
            ..Default::default()
        };
        assert!(arguments(&req).is_err());
    }

    fn nix_uid() -> u32 {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").unwrap().uid()
    }
}
