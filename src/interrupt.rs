//! What aerie does when it is interrupted (SIGINT, SIGTERM): the one
//! interrupt state, what it acts on, and the signal thread that acts.
//!
//! Interrupted, aerie first stops the programs it runs (a child listed by
//! [`spawn`]: xorriso may still open its output), then removes what it was
//! writing (a path listed by [`remove_on_interrupt`]: staged files, work
//! directories with secrets in them), then exits 130 / 143. A command that
//! stops cleanly by itself (a server) says so with [`caller_handles`]; the
//! signal thread then leaves the process alone.

use std::os::fd::OwnedFd;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The signal thread acts on SIGINT/SIGTERM.
const ACTIVE: u8 = 0;
/// The command shuts down by itself; the signal thread does nothing.
const CALLER_HANDLES: u8 = 1;
/// The signal thread is stopping aerie: no child starts any more, and a
/// thread whose child was stopped must not report that as its failure.
const STOPPING: u8 = 2;

/// The interrupt state: one of the three above.
static STATE: AtomicU8 = AtomicU8::new(ACTIVE);

/// This process shuts down by itself on SIGINT/SIGTERM (and removes what it
/// was writing on the way): the signal thread no longer acts on them.
pub fn caller_handles() {
    // Once stopping, it stays so: the process is exiting.
    let _ = STATE.compare_exchange(ACTIVE, CALLER_HANDLES, Ordering::SeqCst, Ordering::SeqCst);
}

fn stopping() -> bool {
    STATE.load(Ordering::SeqCst) == STOPPING
}

/// Wait for the interrupt's exit (its status, its message), never returning.
fn wait_for_exit() -> ! {
    loop {
        std::thread::park();
    }
}

/// A registry entry's id, unique for the process's life.
fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A registry's lock; a thread that panicked holding it left it usable.
fn lock<T>(registry: &Mutex<T>) -> MutexGuard<'_, T> {
    registry.lock().unwrap_or_else(|e| e.into_inner())
}

/// Children of [`spawn`] not yet done with, each by a pidfd: it names that
/// one process, so a signal sent through it after the child was reaped fails
/// (ESRCH) where a PID could by then name another process.
static CHILDREN: Mutex<Vec<(u64, OwnedFd)>> = Mutex::new(Vec::new());

/// Paths to remove if the process is interrupted.
static PATHS: Mutex<Vec<(u64, std::path::PathBuf)>> = Mutex::new(Vec::new());

/// While alive, its child is stopped if aerie is interrupted.
#[derive(Debug)]
pub struct ChildGuard(u64);

impl ChildGuard {
    /// After the child ended (it was waited for): if aerie is being
    /// interrupted, the child may have been stopped by it, so this thread
    /// waits for the interrupt's exit instead of going on.
    pub fn ended(self) {
        if stopping() {
            wait_for_exit();
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        lock(&CHILDREN).retain(|(id, _)| *id != self.0);
    }
}

/// Spawn `cmd`, listed as a child to stop if aerie is interrupted while the
/// returned guard lives. The list's lock is held from the spawn until the
/// child is listed, so the signal thread sees every child that started;
/// once aerie is being interrupted nothing starts and this thread waits for
/// the exit. A kernel without pidfds (before Linux 5.3) runs the child
/// unlisted.
pub fn spawn(cmd: &mut Command) -> std::io::Result<(Child, ChildGuard)> {
    let mut children = lock(&CHILDREN);
    if stopping() {
        drop(children);
        wait_for_exit();
    }
    let child = cmd.spawn()?;
    let id = next_id();
    // The child is not reaped before it is waited for, so its PID still
    // names it here.
    let pid = rustix::process::Pid::from_child(&child);
    if let Ok(pidfd) = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) {
        children.push((id, pidfd));
    }
    Ok((child, ChildGuard(id)))
}

/// SIGKILL every listed child, then wait (at most 5 s) until none runs any
/// more (a zombie or gone): from then on none of them writes a file. Only
/// once [`STOPPING`]: no child starts after the list was read.
fn stop_children() {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let children = lock(&CHILDREN);
    for (_, pidfd) in children.iter() {
        // A child that already ended (even reaped) is no error to stop.
        let _ = rustix::process::pidfd_send_signal(pidfd, rustix::process::Signal::KILL);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    for (_, pidfd) in children.iter() {
        // Until it ended (its pidfd is readable then) or the deadline passed.
        let mut fd = [PollFd::new(pidfd, PollFlags::IN)];
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let left = Timespec::try_from(left).unwrap_or_default();
            if poll(&mut fd, Some(&left)) != Err(rustix::io::Errno::INTR) {
                break;
            }
        }
    }
}

/// Remove every listed path (a file, or a directory with everything in it).
fn remove_paths() {
    for (_, p) in lock(&PATHS).iter() {
        if p.is_dir() {
            let _ = std::fs::remove_dir_all(p);
        } else {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// While alive, its path is removed if aerie is interrupted.
#[derive(Debug)]
pub struct Registration(u64);

impl Drop for Registration {
    fn drop(&mut self) {
        lock(&PATHS).retain(|(id, _)| *id != self.0);
    }
}

/// Remove `path` (a file, or a directory with everything in it) if aerie is
/// interrupted while the returned guard lives. The first call starts the
/// signal thread (before it, aerie dies of the signal).
pub fn remove_on_interrupt(path: &std::path::Path) -> Registration {
    static HANDLER: std::sync::Once = std::sync::Once::new();
    HANDLER.call_once(start_signal_thread);
    let id = next_id();
    lock(&PATHS).push((id, path.to_path_buf()));
    Registration(id)
}

fn start_signal_thread() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    // Without the handler aerie still dies of the signal, as before.
    if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
        std::thread::spawn(move || {
            for sig in signals.forever() {
                if STATE
                    .compare_exchange(ACTIVE, STOPPING, Ordering::SeqCst, Ordering::SeqCst)
                    .is_err()
                {
                    continue;
                }
                // First the programs aerie runs (xorriso may still open its
                // output), then what was being written.
                stop_children();
                remove_paths();
                eprintln!("aerie: interrupted; removed what was being written");
                std::process::exit(128 + sig);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_listed_while_its_guard_lives() {
        let listed = |id: u64| lock(&CHILDREN).iter().any(|(i, _)| *i == id);
        let (mut child, guard) = spawn(&mut Command::new("true")).unwrap();
        let id = guard.0;
        assert!(listed(id));
        child.wait().unwrap();
        // Reaped, it is still listed by a pidfd, which no other process can
        // reuse; the guard unlists it.
        assert!(listed(id));
        guard.ended();
        assert!(!listed(id));
    }
}
