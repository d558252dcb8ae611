//! One remote command writes every changed file of a host and runs the actions
//! that fire, in order, stopping at the first that fails. A fixed script does
//! it: every value (path, size, mode, owner, run id, action word) reaches it as
//! a quoted positional argument, and the files' bytes come on stdin, back to
//! back, each as long as its size argument says.
//!
//! No file is ever left half-written: first every file is staged (a temporary
//! file in the target's directory, created with its final permission bits, or
//! 0600 and then chmod when they include execute or special bits; owner set),
//! then the end mark that follows the files' bytes is read (a stream cut short
//! lacks it; only then is each size checked, to name the short file) and the
//! temporary files are fsynced, then
//! one by one the previous version is copied to the run's backup directory and
//! the temporary file renamed over the target, then the directories are
//! fsynced. A failure while staging (a full disk, a lost connection) leaves
//! every target as it was. Then the actions: a check-first action runs its
//! check just before, and runs only when the check fails.
//!
//! The script reports its progress on stdout (`s I` staging file I, `c I`
//! committing it, `w I` renamed, `a J` action J ran, `k J` its check passed,
//! `x J STATUS` it failed, its message on stderr; `done` at the end), so a
//! report says exactly what was done even when the connection breaks.

use super::read::run_first_fn;
use super::session::Connection;
use super::SshError;

/// Args: run backup N END (path size cmask mode owner group)... M (K check... L argv...)...
/// A file is created under umask `cmask`; `mode` is `-` when that gives its mode.
/// Stdin: the files' bytes, then the line END.
const WRITE: &str = concat!(
    run_first_fn!(),
    r#"set -euC
run=$1 backup=$2 n=$3 end=$4
shift 4
nl='
'
temps= todo= dirs=
cleanup() {
  if [ -n "$temps" ]; then (IFS=$nl && set -f && exec rm -f -- $temps); fi
}
trap cleanup EXIT
i=0
while [ "$i" -lt "$n" ]; do
  p=$1 size=$2 cmask=$3 mode=$4 owner=$5 group=$6
  shift 6
  echo "s $i"
  if [ -d "$p" ]; then echo "$p is a directory, not a file" >&2; exit 3; fi
  d=${p%/*}
  d=${d:-/}
  if [ ! -d "$d" ]; then mkdir -p -m 755 -- "$d"; fi
  for f in "$d"/.aerie-*.??????; do
    case $f in "$d/.aerie-$run".*) ;; *) if [ -f "$f" ]; then rm -f -- "$f"; fi ;; esac
  done
  t=$d/.aerie-$run.$((100000 + i))
  temps=$temps$t$nl
  (umask "$cmask" && exec head -c "$size" > "$t")
  chown -- "$owner:$group" "$t"
  if [ "$mode" != - ]; then chmod -- "$mode" "$t"; fi
  todo=$todo$t$nl$p$nl$size$nl
  dirs=$dirs$d$nl
  i=$((i + 1))
done
if [ "$n" -gt 0 ]; then
  mark=
  IFS= read -r mark || :
  if [ "$mark" != "$end" ]; then
    i=0
    while IFS= read -r t && IFS= read -r p && IFS= read -r size; do
      echo "s $i"
      got=$(wc -c < "$t")
      if [ "$got" -ne "$size" ]; then echo "received $got of $size bytes; $p left as it was" >&2; exit 4; fi
      i=$((i + 1))
    done <<EOF
$todo
EOF
    echo "the end of the files' bytes did not arrive; every file left as it was" >&2; exit 4
  fi
  (IFS=$nl && set -f && exec sync -- $temps)
fi
i=0
while IFS= read -r t && IFS= read -r p && IFS= read -r size; do
  echo "c $i"
  if [ -e "$p" ]; then
    b=$backup$p
    if [ ! -d "${b%/*}" ]; then (umask 077 && mkdir -p -- "${b%/*}"); fi
    cp -p -- "$p" "$b"
  fi
  mv -f -- "$t" "$p"
  echo "w $i"
  i=$((i + 1))
done <<EOF
$todo
EOF
temps=
if [ "$n" -gt 0 ]; then (IFS=$nl && set -f && exec sync -- $dirs); fi
n=$1; shift
i=0
while [ "$i" -lt "$n" ]; do
  k=$1; shift
  go=1
  if [ "$k" -gt 0 ]; then
    if (run_first "$k" "$@") </dev/null >/dev/null 2>&1; then go=0; fi
    shift "$k"
  fi
  k=$1; shift
  if [ "$go" = 1 ]; then
    rc=0
    msg=$(run_first "$k" "$@" 2>&1 >/dev/null </dev/null) || rc=$?
    if [ "$rc" != 0 ]; then echo "x $i $rc"; printf '%s\n' "$msg" >&2; exit 1; fi
    echo "a $i"
  else
    echo "k $i"
  fi
  shift "$k"
  i=$((i + 1))
done
echo done
"#
);

/// Where the previous versions of a run's files go on the host.
pub fn backup_dir(run_id: &str) -> String {
    format!("/var/lib/aerie/backup/{run_id}")
}

/// Who owns a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a> {
    /// By name (a new file: the bundle's owner).
    Named { user: &'a str, group: &'a str },
    /// By number (an existing file keeps the owner it has).
    Ids { uid: u32, gid: u32 },
}

/// One file to write.
#[derive(Debug, Clone, Copy)]
pub struct FileWrite<'a> {
    pub path: &'a str,
    pub content: &'a [u8],
    pub mode: u32,
    pub owner: Owner<'a>,
}

/// One action: its argv, and the check that makes it unnecessary when it passes.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    pub argv: &'a [String],
    pub unless: Option<&'a [String]>,
}

/// What one write did. Files are renamed in order: the first `written` are in
/// place, the others untouched.
#[derive(Debug, Default)]
pub struct Outcome {
    pub written: usize,
    /// The actions that ran (by index); a skipped one passed its check.
    pub ran: Vec<usize>,
    pub failure: Option<WriteFailure>,
}

/// Why a write stopped.
#[derive(Debug, thiserror::Error)]
pub enum WriteFailure {
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error("cannot write {path}: {reason}")]
    File { path: String, reason: String },
    /// Action `index` exited non-zero; `stderr` is its own message.
    #[error("action {index} failed (exit status {status}): {stderr}")]
    Action {
        index: usize,
        status: i32,
        stderr: String,
    },
}

/// The line that follows the files' bytes on stdin: the script reads it after
/// staging, so a stream cut short (a lost connection) is told from a whole one
/// without looking at each file's size.
fn end_mark(run_id: &str) -> String {
    format!("aerie-end {run_id}")
}

/// The script's arguments and stdin for a batch.
fn arguments(
    run_id: &str,
    backup: &str,
    files: &[FileWrite],
    steps: &[Step],
) -> Result<(Vec<String>, Vec<u8>), WriteFailure> {
    let mut args: Vec<String> = vec!["sh", "-c", WRITE, "aerie-write", run_id]
        .into_iter()
        .map(String::from)
        .collect();
    args.push(backup.to_string());
    args.push(files.len().to_string());
    let end = end_mark(run_id);
    args.push(end.clone());
    let mut stdin = Vec::new();
    for f in files {
        if f.path.contains('\n') || !f.path.starts_with('/') {
            return Err(WriteFailure::File {
                path: f.path.to_string(),
                reason: "aerie writes only absolute paths without line breaks".into(),
            });
        }
        let (user, group) = match f.owner {
            Owner::Named { user, group } => (user.to_string(), group.to_string()),
            Owner::Ids { uid, gid } => (format!("+{uid}"), format!("+{gid}")),
        };
        // Created with its final permission bits when a umask can give them
        // (no execute or special bits), else 0600 and then chmod.
        let (cmask, mode) = if f.mode & 0o7111 == 0 {
            (format!("{:04o}", !f.mode & 0o777), "-".to_string())
        } else {
            ("0077".to_string(), format!("{:04o}", f.mode))
        };
        args.extend([
            f.path.to_string(),
            f.content.len().to_string(),
            cmask,
            mode,
            user,
            group,
        ]);
        stdin.extend_from_slice(f.content);
    }
    if !files.is_empty() {
        stdin.extend_from_slice(end.as_bytes());
        stdin.push(b'\n');
    }
    args.push(steps.len().to_string());
    for s in steps {
        let check = s.unless.unwrap_or_default();
        for words in [check, s.argv] {
            args.push(words.len().to_string());
            args.extend(words.iter().cloned());
        }
        if s.argv.is_empty() || s.unless.is_some_and(<[String]>::is_empty) {
            return Err(WriteFailure::File {
                path: "(actions)".into(),
                reason: "an action or check with no command".into(),
            });
        }
    }
    Ok((args, stdin))
}

/// Write `files` and run `steps` in one remote command.
pub fn write(conn: &Connection, run_id: &str, files: &[FileWrite], steps: &[Step]) -> Outcome {
    let (args, stdin) = match arguments(run_id, &backup_dir(run_id), files, steps) {
        Ok(a) => a,
        Err(e) => {
            return Outcome {
                failure: Some(e),
                ..Outcome::default()
            }
        }
    };
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    match conn.run_partial(&argv, Some(&stdin)) {
        Ok(p) => outcome(files, &p.stdout, &p.stderr, p.status),
        Err(e) => Outcome {
            failure: Some(e.into()),
            ..Outcome::default()
        },
    }
}

/// Read the script's progress lines and status into an outcome.
fn outcome(
    files: &[FileWrite],
    stdout: &[u8],
    stderr: &[u8],
    status: Result<i32, SshError>,
) -> Outcome {
    let mut out = Outcome::default();
    let mut current = None;
    let mut failed = None;
    let mut done = false;
    for line in String::from_utf8_lossy(stdout).lines() {
        let words: Vec<&str> = line.split(' ').collect();
        let num = |i: usize| words.get(i).and_then(|w| w.parse::<usize>().ok());
        match (words[0], num(1)) {
            ("s" | "c", Some(i)) => current = Some(i),
            ("w", Some(i)) => out.written = i + 1,
            ("a", Some(i)) => out.ran.push(i),
            ("x", Some(i)) => failed = Some((i, num(2).map_or(-1, |s| s as i32))),
            ("done", None) => done = true,
            _ => {}
        }
    }
    let message = String::from_utf8_lossy(stderr).trim().to_string();
    out.failure = match (status, failed) {
        (_, Some((index, status))) => Some(WriteFailure::Action {
            index,
            status,
            stderr: message,
        }),
        (Ok(0), None) if done => None,
        (Err(e), None) => Some(WriteFailure::Ssh(e)),
        (Ok(status), None) => Some(WriteFailure::File {
            path: current
                .and_then(|i| files.get(i))
                .map_or_else(|| "the host's files".to_string(), |f| f.path.to_string()),
            reason: if message.is_empty() {
                format!("the write script ended with status {status}")
            } else {
                message
            },
        }),
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// Run the script locally with `sh` (as the host would), backups into
    /// `backup`, sending all the files' bytes but the last `short` ones (and
    /// then, as a lost connection, nothing more).
    fn local(backup: &str, files: &[FileWrite], steps: &[Step], short: usize) -> Outcome {
        let (_, stdin) = arguments("r1", backup, files, steps).unwrap();
        let sent = match short {
            0 => stdin.len(),
            _ => stdin.len() - end_mark("r1").len() - 1 - short,
        };
        local_sending(backup, files, steps, sent)
    }

    /// [`local`], sending the first `sent` bytes of stdin.
    fn local_sending(backup: &str, files: &[FileWrite], steps: &[Step], sent: usize) -> Outcome {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let (args, stdin) = arguments("r1", backup, files, steps).unwrap();
        let mut child = Command::new(&args[0])
            .args(&args[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let sent = &stdin[..sent];
        let _ = child.stdin.take().unwrap().write_all(sent);
        let out = child.wait_with_output().unwrap();
        let status = Ok(out.status.code().unwrap());
        outcome(files, &out.stdout, &out.stderr, status)
    }

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    fn me() -> Owner<'static> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata("/proc/self").unwrap();
        Owner::Ids {
            uid: m.uid(),
            gid: m.gid(),
        }
    }

    #[test]
    fn writes_every_file_then_runs_actions_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let a = format!("{d}/new/a 'b$(touch x)");
        let b = format!("{d}/b");
        std::fs::write(&b, "old\n").unwrap();
        let log = format!("{d}/log");
        let files = [
            FileWrite {
                path: &a,
                content: b"first\n",
                mode: 0o750,
                owner: me(),
            },
            FileWrite {
                path: &b,
                content: &[0u8, 1, 2],
                mode: 0o600,
                owner: me(),
            },
        ];
        let record = words(&["sh", "-c", "echo \"$1\" >> \"$0\"", &log, "one $(x)"]);
        let pass = words(&["true"]);
        let record2 = words(&["sh", "-c", "echo two >> \"$0\"", &log]);
        let fail = words(&["false"]);
        let never = words(&["sh", "-c", "echo never >> \"$0\"", &log]);
        let steps = [
            Step {
                argv: &record,
                unless: None,
            },
            Step {
                argv: &never,
                unless: Some(&pass),
            },
            Step {
                argv: &record2,
                unless: Some(&fail),
            },
        ];
        let backup = format!("{d}/backup");
        let out = local(&backup, &files, &steps, 0);
        assert!(out.failure.is_none(), "{:?}", out.failure);
        assert_eq!((out.written, out.ran.as_slice()), (2, &[0, 2][..]));
        assert_eq!(std::fs::read(&a).unwrap(), b"first\n");
        assert_eq!(std::fs::read(&b).unwrap(), [0u8, 1, 2]);
        let mode = |p: &str| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!((mode(&a), mode(&b)), (0o750, 0o600));
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "one $(x)\ntwo\n");
        assert!(!dir.path().join("x").exists());
        assert_eq!(
            std::fs::read_to_string(format!("{backup}{b}")).unwrap(),
            "old\n"
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("new"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }

    #[test]
    fn a_failing_action_stops_the_run_with_its_own_message() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log").display().to_string();
        let fail = words(&["sh", "-c", "echo noise; echo 'it broke' >&2; exit 7"]);
        let after = words(&["sh", "-c", "echo after >> \"$0\"", &log]);
        let steps = [
            Step {
                argv: &fail,
                unless: None,
            },
            Step {
                argv: &after,
                unless: None,
            },
        ];
        let out = local("/nonexistent", &[], &steps, 0);
        match out.failure {
            Some(WriteFailure::Action {
                index: 0,
                status: 7,
                ref stderr,
            }) if stderr == "it broke" => {}
            ref other => panic!("{other:?}"),
        }
        assert!(out.ran.is_empty());
        assert!(!std::path::Path::new(&log).exists());
    }

    #[test]
    fn a_short_file_leaves_every_target_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let a = format!("{d}/a");
        let b = format!("{d}/b");
        std::fs::write(&a, "keep\n").unwrap();
        let files = [
            FileWrite {
                path: &a,
                content: b"new\n",
                mode: 0o644,
                owner: me(),
            },
            FileWrite {
                path: &b,
                content: b"whole\n",
                mode: 0o644,
                owner: me(),
            },
        ];
        // Send less than the sizes promise: the second file comes up short.
        let o = local("/nonexistent", &files, &[], 2);
        match o.failure {
            Some(WriteFailure::File {
                ref path,
                ref reason,
            }) => {
                assert_eq!(path, &b);
                assert!(reason.contains("received 4 of 6 bytes"), "{reason}");
            }
            ref other => panic!("{other:?}"),
        }
        assert_eq!(o.written, 0);
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "keep\n");
        assert!(!std::path::Path::new(&b).exists());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["a"], "temporary files left behind");
    }

    #[test]
    fn a_stream_cut_after_whole_files_leaves_every_target_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let a = format!("{d}/a");
        std::fs::write(&a, "keep\n").unwrap();
        let files = [FileWrite {
            path: &a,
            content: b"new\n",
            mode: 0o644,
            owner: me(),
        }];
        let log = format!("{d}/log");
        let never = words(&["sh", "-c", "echo never >> \"$0\"", &log]);
        let steps = [Step {
            argv: &never,
            unless: None,
        }];
        // Every byte of the file, but not the end mark: the connection broke.
        let o = local_sending("/nonexistent", &files, &steps, 4);
        match o.failure {
            Some(WriteFailure::File { ref reason, .. }) => {
                assert!(reason.contains("did not arrive"), "{reason}")
            }
            ref other => panic!("{other:?}"),
        }
        assert_eq!((o.written, o.ran.len()), (0, 0));
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "keep\n");
        assert!(!std::path::Path::new(&log).exists());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["a"], "temporary files left behind");
    }
}
