//! One SSH connection to a host: TCP with a connect timeout, fast key exchange,
//! the host key checked against the pins, authentication, and (for a user other
//! than root) a `sudo -n` probe. Then [`Connection::run`] executes argv lists,
//! shell-quoted, over channels of that one connection.

use super::auth::{self, Identities};
use super::known_hosts::host_pattern;
use super::pins::Pins;
use super::SshError;
use ssh2::{MethodType, Session};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Where and as whom to connect.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct Options {
    pub connect_timeout: Duration,
    /// Longest wait for any one reply once connected (a command's whole run included).
    /// No libssh2 keepalive: in blocking mode libssh2 waits on the socket only until the
    /// next keepalive is due and then fails with "Timed out waiting on socket", so a
    /// remote command silent for longer than the interval (a real `openstack` call on a
    /// busy frontend) failed; this timeout is the only one.
    pub io_timeout: Duration,
    pub identities: Identities,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connect_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(300),
            identities: Identities {
                agent: true,
                files: Vec::new(),
                defaults: true,
            },
        }
    }
}

/// What a remote command did.
#[derive(Debug, Clone)]
pub struct RemoteOutput {
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl RemoteOutput {
    pub fn success(&self) -> bool {
        self.status == 0
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_string()
    }
}

/// An authenticated session; commands run as root (directly or through `sudo -n`).
pub struct Connection {
    session: Session,
    sudo: bool,
    /// Channels opened so far (one per remote command): the round trips a road costs.
    channels: AtomicUsize,
}

/// What a remote command sent back before it ended, or before the connection
/// broke: the output so far is kept either way (a script's progress lines say
/// how far it got).
#[derive(Debug)]
pub struct Partial {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The exit status, or why there is none.
    pub status: Result<i32, SshError>,
}

/// Key exchange: curve25519 first (about half the time of the hybrid default).
const KEX: &str = "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group16-sha512,diffie-hellman-group14-sha256,diffie-hellman-group-exchange-sha256";
const HOST_KEYS: &[&str] = &[
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
];

/// Host key algorithms with the pinned types first, so a host with several
/// keys shows the one aerie knows.
fn host_key_prefs(pinned: &[String]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for t in pinned {
        let algs: &[&str] = match t.as_str() {
            "ssh-rsa" => &["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
            other => HOST_KEYS
                .iter()
                .find(|a| **a == other)
                .map_or(&[][..], std::slice::from_ref),
        };
        out.extend(algs.iter().filter(|a| !out.contains(a)).collect::<Vec<_>>());
    }
    for a in HOST_KEYS {
        if !out.contains(a) {
            out.push(a);
        }
    }
    out.join(",")
}

/// The key type named inside an SSH public key blob.
fn blob_key_type(blob: &[u8]) -> String {
    let len = blob
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
    len.and_then(|n| blob.get(4..4 + n))
        .map(|t| String::from_utf8_lossy(t).into_owned())
        .unwrap_or_else(|| "unknown".into())
}

impl Connection {
    /// Connect, verify the host key, authenticate, and check sudo for non-root users.
    pub fn open(target: &Target, opts: &Options, pins: &Pins) -> Result<Connection, SshError> {
        let addr_text = host_pattern(&target.host, target.port);
        let unreachable = |reason: String| SshError::Unreachable {
            addr: addr_text.clone(),
            reason,
        };
        let addrs: Vec<_> = (target.host.as_str(), target.port)
            .to_socket_addrs()
            .map_err(|e| unreachable(format!("cannot resolve {}: {e}", target.host)))?
            .collect();
        let mut last = None;
        let mut tcp = None;
        for a in &addrs {
            match TcpStream::connect_timeout(a, opts.connect_timeout) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let tcp = tcp.ok_or_else(|| {
            unreachable(last.map_or_else(|| "no address".into(), |e| e.to_string()))
        })?;
        let _ = tcp.set_nodelay(true);

        let mut session = Session::new().map_err(SshError::protocol("cannot start a session"))?;
        session.set_tcp_stream(tcp);
        session.set_timeout(millis(opts.connect_timeout));
        session
            .method_pref(MethodType::Kex, KEX)
            .map_err(SshError::protocol("key exchange preferences"))?;
        let pattern = host_pattern(&target.host, target.port);
        session
            .method_pref(
                MethodType::HostKey,
                &host_key_prefs(&pins.key_types(&pattern)),
            )
            .map_err(SshError::protocol("host key preferences"))?;
        session.handshake().map_err(|e| {
            // A peer that accepts TCP and then says nothing (or closes) is not an SSH server we can use.
            unreachable(format!("SSH handshake failed: {}", e.message()))
        })?;
        let (blob, _) = session.host_key().ok_or_else(|| SshError::Protocol {
            context: "the server sent no host key".into(),
            source: ssh2::Error::unknown(),
        })?;
        pins.verify(&pattern, &blob_key_type(blob), blob)?;
        auth::authenticate(&session, &target.user, &opts.identities)?;
        session.set_timeout(millis(opts.io_timeout));
        let conn = Connection {
            session,
            sudo: target.user != "root",
            channels: AtomicUsize::new(0),
        };
        if conn.sudo {
            conn.check_sudo(&target.user)?;
        }
        Ok(conn)
    }

    fn check_sudo(&self, user: &str) -> Result<(), SshError> {
        let out = self.run(&["true"], None)?;
        if out.success() {
            return Ok(());
        }
        let stderr = out.stderr_text();
        if stderr.contains("password is required") || stderr.contains("a terminal is required") {
            Err(SshError::SudoNeedsPassword {
                user: user.to_string(),
            })
        } else {
            Err(SshError::SudoFailed {
                user: user.to_string(),
                stderr,
            })
        }
    }

    /// The command line for argv as root (see [`remote_command`]).
    pub fn command_line(&self, argv: &[&str]) -> Result<String, SshError> {
        remote_command(self.sudo, argv)
    }

    /// How many channels (remote commands) this connection has opened.
    pub fn channels_opened(&self) -> usize {
        self.channels.load(Ordering::Relaxed)
    }

    /// Run argv on the host (never through an unquoted shell string), feeding `stdin`.
    pub fn run(&self, argv: &[&str], stdin: Option<&[u8]>) -> Result<RemoteOutput, SshError> {
        let p = self.run_partial(argv, stdin)?;
        Ok(RemoteOutput {
            status: p.status?,
            stdout: p.stdout,
            stderr: p.stderr,
        })
    }

    /// [`Connection::run`], keeping what the command printed when the connection
    /// breaks before it ends. Input the command stopped reading (it failed
    /// early) is no error of its own: its status and messages say why.
    pub fn run_partial(&self, argv: &[&str], stdin: Option<&[u8]>) -> Result<Partial, SshError> {
        let line = self.command_line(argv)?;
        let what = argv.first().copied().unwrap_or("");
        self.channels.fetch_add(1, Ordering::Relaxed);
        let mut ch = self
            .session
            .channel_session()
            .map_err(SshError::protocol(format!(
                "cannot open a channel for {what}"
            )))?;
        ch.exec(&line)
            .map_err(SshError::protocol(format!("cannot start {what}")))?;
        let mut input_lost = None;
        if let Some(bytes) = stdin {
            if let Err(e) = ch.write_all(bytes) {
                input_lost = Some(SshError::io(format!("sending input to {what}"))(e));
            }
        }
        if input_lost.is_none() {
            if let Err(e) = ch.send_eof() {
                input_lost = Some(SshError::protocol(format!("closing the input of {what}"))(
                    e,
                ));
            }
        }
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let status = (|| {
            ch.read_to_end(&mut stdout)
                .map_err(SshError::io(format!("reading the output of {what}")))?;
            ch.stderr()
                .read_to_end(&mut stderr)
                .map_err(SshError::io(format!("reading the errors of {what}")))?;
            ch.wait_close()
                .map_err(SshError::protocol(format!("waiting for {what}")))?;
            let status = ch
                .exit_status()
                .map_err(SshError::protocol(format!("exit status of {what}")))?;
            // Killed by a signal: libssh2 reports status 0, so look at the signal.
            let signal = ch.exit_signal().ok().and_then(|s| s.exit_signal);
            Ok(match signal {
                Some(sig) if status == 0 => {
                    stderr.extend_from_slice(format!("\nkilled by signal {sig}").as_bytes());
                    128
                }
                _ => status,
            })
        })();
        // Input that did not all arrive matters only when the command says nothing else.
        let status = match (status, input_lost) {
            (Ok(0), Some(lost)) => Err(lost),
            (s, _) => s,
        };
        Ok(Partial {
            stdout,
            stderr,
            status,
        })
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let _ = self.session.disconnect(None, "aerie done", None);
    }
}

/// argv as one remote command line: every word quoted (`shlex`), `sudo -n --` first
/// when the user is not root. The remote shell splits it back into exactly argv.
pub fn remote_command(sudo: bool, argv: &[&str]) -> Result<String, SshError> {
    let mut words: Vec<&str> = Vec::new();
    if sudo {
        words.extend(["sudo", "-n", "--"]);
    }
    words.extend(argv);
    crate::shell::join(words).map_err(|e| SshError::Io {
        context: "cannot quote a remote command".into(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()),
    })
}

fn millis(d: Duration) -> u32 {
    d.as_millis().min(u32::MAX as u128) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_key_types_come_first() {
        assert!(host_key_prefs(&[]).starts_with("ssh-ed25519,"));
        assert!(host_key_prefs(&["ssh-rsa".into()])
            .starts_with("rsa-sha2-512,rsa-sha2-256,ssh-rsa,ssh-ed25519"));
        assert!(host_key_prefs(&["ecdsa-sha2-nistp256".into()])
            .starts_with("ecdsa-sha2-nistp256,ssh-ed25519"));
    }

    #[test]
    fn remote_commands_split_back_into_exactly_argv() {
        let nasty = [
            "sh",
            "-c",
            "echo \"$1\"",
            "a b'c;$(touch /tmp/pwned)`id`",
            "\nnew line",
            "",
        ];
        for sudo in [false, true] {
            let line = remote_command(sudo, &nasty).unwrap();
            let back = shlex::split(&line).unwrap();
            let expect: Vec<&str> = if sudo {
                ["sudo", "-n", "--"].iter().chain(&nasty).copied().collect()
            } else {
                nasty.to_vec()
            };
            assert_eq!(back, expect, "{line}");
        }
        // A NUL cannot be passed through a shell at all: refused, not truncated.
        assert!(remote_command(false, &["a\0b"]).is_err());
    }

    #[test]
    fn key_type_comes_from_the_blob() {
        let mut blob = vec![0, 0, 0, 11];
        blob.extend_from_slice(b"ssh-ed25519");
        blob.extend_from_slice(&[0, 0, 0, 32]);
        assert_eq!(blob_key_type(&blob), "ssh-ed25519");
        assert_eq!(blob_key_type(&[0, 0]), "unknown");
    }
}
