//! Test hosts for aerie's integration tests: real OpenSSH `sshd` servers, each in its
//! own network namespace (plus UTS, PID and mount namespaces) with its own overlay root
//! filesystem on a cached Debian bookworm rootfs (`scripts/make-test-rootfs.sh`).
//!
//! Layout of one testbed (`ID` = `<pid>x<counter>`, unique per process and testbed):
//! - netns `aetIDl` ("lab"): bridge `br0` with the client address 10.44.0.1/22; every
//!   command that must reach the hosts (the `aerie` binary, `ssh`) runs there via
//!   `ip netns exec aetIDl ...` ([`Testbed::lab_command`], [`Testbed::in_lab`]).
//! - netns `aetIDhN` per host N (1-based): `eth0` (veth, peer `vN` on the lab bridge)
//!   with 10.44.1.N/22 (host 255 and up continue into 10.44.2.x, ...).
//! - `/tmp/aerie-testbed/ID/` (or `$AERIE_TESTBED_DIR/ID`), a tmpfs: client key, known_hosts, per
//!   host an overlay `root` = `layer` (host key, hostname) : `common` (sshd config,
//!   authorized_keys, stand-ins) : the cached rootfs, with `upper` holding what changed.
//!
//! Nothing is created in the root network namespace: no interfaces, no routes.
//! A module of the `testbed` test crate (tests/testbed/main.rs); tests there
//! `use crate::testbed`.
#![allow(dead_code)]

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::net::Ipv4Addr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

/// The command that installs everything the harness needs; named in every
/// "missing tool" failure.
pub const SETUP_COMMAND: &str = "scripts/test-deps.sh";
/// Address of the client side (the lab namespace) on every testbed's bridge.
pub const LAB_ADDR: Ipv4Addr = Ipv4Addr::new(10, 44, 0, 1);
/// Prefix length of the testbed network 10.44.0.0/22.
pub const PREFIX_LEN: u8 = 22;
/// Most hosts one testbed can hold (10.44.1.1 ..= 10.44.3.254).
pub const MAX_HOSTS: usize = 766;
/// Where stand-in scripts record their calls, inside a host.
pub const STANDIN_LOG_DIR: &str = "/var/log/aerie-standin";

const NS_PREFIX: &str = "aet";
const SSHD_CONFIG: &str = "/etc/aerie-test/sshd_config";
const HOST_KEY: &str = "/etc/ssh/ssh_host_ed25519_key";
const DROP_CAPS: &str = "-sys_boot,-sys_module,-sys_time";
const PATH_ENV: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

static COUNTER: AtomicUsize = AtomicUsize::new(0);
static STALE_CLEANUP: Once = Once::new();
static ROOTFS: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();

fn timing() -> bool {
    std::env::var_os("AERIE_TESTBED_TIMING").is_some()
}

fn base_dir() -> PathBuf {
    std::env::var_os("AERIE_TESTBED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/aerie-testbed"))
}

/// Builder for a [`Testbed`] when more than a host count is needed.
#[derive(Default, Clone)]
pub struct TestbedBuilder {
    hosts: usize,
    standins: Vec<(String, String)>,
}

impl TestbedBuilder {
    pub fn hosts(mut self, n: usize) -> Self {
        self.hosts = n;
        self
    }

    /// Put stand-in `name` at `path` (e.g. "update-grub", "/usr/sbin/update-grub") in
    /// every host before start-up. It lives in a lower layer, so it does not show up in
    /// `upper`; only its call log (under [`STANDIN_LOG_DIR`]) does.
    pub fn standin(mut self, name: &str, path: &str) -> Self {
        self.standins.push((name.to_string(), path.to_string()));
        self
    }

    pub fn build(self) -> Result<Testbed> {
        Testbed::start(self)
    }
}

/// A set of running test hosts; dropping it tears down everything it made.
pub struct Testbed {
    id: String,
    dir: PathBuf,
    lab: String,
    hosts: Vec<TestHost>,
    client_key: PathBuf,
    known_hosts_file: PathBuf,
    torn_down: bool,
}

/// One test host: a real sshd in its own namespaces and overlay root.
pub struct TestHost {
    /// Host name (`host1`, `host2`, ...), set with its own UTS namespace.
    pub name: String,
    /// 1-based index.
    pub index: usize,
    pub addr: Ipv4Addr,
    /// The host's network namespace (`ip netns exec <netns> ...`).
    pub netns: String,
    /// The merged overlay: the host's whole filesystem, as seen from the test.
    pub root: PathBuf,
    /// The overlay's upper directory: exactly the files the host changed.
    pub upper: PathBuf,
    /// Scratch directory of this host (layer, work dir, `sshd.log`).
    pub dir: PathBuf,
    /// sshd's output (`-D -e`), appended across restarts.
    pub sshd_log: PathBuf,
    sshd: Mutex<Option<Child>>,
}

fn ns_id() -> String {
    format!(
        "{}x{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

fn host_addr(index: usize) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 44, 1, 0)) + index as u32)
}

impl Testbed {
    /// Bring up `hosts` test hosts; returns when every sshd accepts TCP connections
    /// from the lab namespace.
    pub fn new(hosts: usize) -> Result<Testbed> {
        Testbed::builder().hosts(hosts).build()
    }

    pub fn builder() -> TestbedBuilder {
        TestbedBuilder::default()
    }

    pub fn hosts(&self) -> &[TestHost] {
        &self.hosts
    }

    /// Host by 1-based index.
    pub fn host(&self, index: usize) -> &TestHost {
        &self.hosts[index - 1]
    }

    pub fn host_by_name(&self, name: &str) -> Option<&TestHost> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// ed25519 private key authorized for root on every host.
    pub fn client_key(&self) -> &Path {
        &self.client_key
    }

    /// known_hosts lines (`ADDR ssh-ed25519 KEY`) for every host, from the host keys as
    /// they are now (after any [`TestHost::regenerate_host_key`]).
    pub fn known_hosts(&self) -> String {
        self.hosts
            .iter()
            .map(|h| h.known_hosts_line() + "\n")
            .collect()
    }

    /// Writes [`Testbed::known_hosts`] to a file in the testbed dir and returns its path.
    pub fn known_hosts_file(&self) -> PathBuf {
        fs::write(&self.known_hosts_file, self.known_hosts()).expect("write known_hosts");
        self.known_hosts_file.clone()
    }

    /// Name of the lab network namespace (bridge + client address [`LAB_ADDR`]).
    pub fn lab_netns(&self) -> &str {
        &self.lab
    }

    pub fn lab_addr(&self) -> Ipv4Addr {
        LAB_ADDR
    }

    /// Scratch directory of this testbed (removed on drop).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `ip netns exec <lab> <program>`: add args, env, and run it; it can reach every host.
    pub fn lab_command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.lab]).arg(program);
        c
    }

    /// The same command, prefixed to run in the lab namespace (args, env and current
    /// directory are carried over).
    pub fn in_lab(&self, cmd: &Command) -> Command {
        let mut c = self.lab_command(cmd.get_program());
        c.args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        if let Some(d) = cmd.get_current_dir() {
            c.current_dir(d);
        }
        c
    }

    /// Run `cmd` in the lab namespace and collect its output.
    pub fn run_in_lab(&self, cmd: &Command) -> std::io::Result<Output> {
        self.in_lab(cmd).output()
    }

    /// OpenSSH client command to `root@host` in the lab with strict host key checking
    /// against [`Testbed::known_hosts_file`] and the client key; append the remote command.
    pub fn ssh(&self, host: &TestHost) -> Command {
        let known = self.known_hosts_file();
        let mut c = self.lab_command("ssh");
        c.args(["-F", "/dev/null", "-T", "-o", "BatchMode=yes"])
            .args(["-o", "StrictHostKeyChecking=yes"])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", known.display()))
            .args(["-o", "GlobalKnownHostsFile=/dev/null"])
            .args(["-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10"])
            .args(["-o", "KexAlgorithms=curve25519-sha256"])
            .arg("-i")
            .arg(&self.client_key)
            .arg(format!("root@{}", host.addr))
            .stdin(Stdio::null());
        c
    }

    /// Tear down now and report errors (drop does the same, printing errors).
    pub fn teardown(mut self) -> Result<()> {
        self.torn_down = true;
        let children = self.take_children();
        teardown_id(&self.id, &self.dir, children)
    }

    fn take_children(&mut self) -> Vec<Child> {
        self.hosts
            .iter()
            .filter_map(|h| h.sshd.lock().unwrap_or_else(|e| e.into_inner()).take())
            .collect()
    }

    fn start(b: TestbedBuilder) -> Result<Testbed> {
        if b.hosts > MAX_HOSTS {
            bail!(
                "a testbed holds at most {MAX_HOSTS} hosts, {} asked",
                b.hosts
            );
        }
        let t0 = Instant::now();
        require_root()?;
        for tool in [
            "ip",
            "unshare",
            "nsenter",
            "setpriv",
            "ssh-keygen",
            "mount",
            "umount",
            "bash",
            "chroot",
        ] {
            require_tool(tool)?;
        }
        let rootfs = rootfs()?;
        initial_cleanup();

        let id = ns_id();
        let dir = base_dir().join(&id);
        let lab = format!("{NS_PREFIX}{id}l");
        // From here on, dropping `tb` cleans up whatever part was made.
        let mut tb = Testbed {
            client_key: dir.join("client/id_ed25519"),
            known_hosts_file: dir.join("known_hosts"),
            id: id.clone(),
            dir: dir.clone(),
            lab: lab.clone(),
            hosts: Vec::new(),
            torn_down: false,
        };
        if dir.exists() {
            // A previous process with the same pid left it behind.
            teardown_id(&id, &dir, Vec::new())?;
        }
        // Everything of a testbed on one tmpfs: fast to fill, and gone with one umount
        // (deleting thousands of small files from the disk took seconds).
        fs::create_dir_all(&dir)?;
        run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", "mode=0755", "aerie-testbed"])
            .arg(&dir))?;
        fs::create_dir_all(dir.join("client"))?;
        fs::write(dir.join("owner"), owner_stamp(std::process::id())?)?;

        // Client key and the layer shared by all hosts of this testbed.
        run(Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "aerie-testbed-client",
                "-f",
            ])
            .arg(&tb.client_key))?;
        let client_pub = fs::read_to_string(dir.join("client/id_ed25519.pub"))?;
        let common = dir.join("common");
        mkdir_mode(&common.join("etc/aerie-test"), 0o755)?;
        fs::write(common.join(&SSHD_CONFIG[1..]), sshd_config())?;
        mkdir_mode(&common.join("root"), 0o700)?;
        mkdir_mode(&common.join("root/.ssh"), 0o700)?;
        write_mode(
            &common.join("root/.ssh/authorized_keys"),
            &client_pub,
            0o600,
        )?;
        for (name, path) in &b.standins {
            // Parents resolved as in the rootfs, so a stand-in under a symlinked
            // directory (/sbin -> usr/sbin) does not shadow the link with a directory.
            let rel = resolve_in_root(&rootfs, path, false)?;
            let p = common.join(rel.strip_prefix(&rootfs)?);
            fs::create_dir_all(p.parent().unwrap())?;
            write_mode(&p, &standin_script(name), 0o755)?;
        }

        // The lab: bridge and client address, inside its own namespace.
        run(Command::new("ip").args(["netns", "add", &lab]))?;
        let lab_cmds = format!(
            "link set lo up\n\
             link add br0 type bridge forward_delay 0 stp_state 0 mcast_snooping 0\n\
             addr add {LAB_ADDR}/{PREFIX_LEN} dev br0\n\
             link set br0 up\n"
        );
        run_stdin(
            Command::new("ip").args(["-n", &lab, "-batch", "-"]),
            &lab_cmds,
        )?;
        run(Command::new("ip").args(["netns", "exec", &lab, "sh", "-c", DISABLE_IPV6]))?;
        let t_lab = t0.elapsed();

        // Per host: layer, key, overlay mount, netns, veth; several in parallel.
        let mut prepare = Vec::new();
        for index in 1..=b.hosts {
            let name = format!("host{index}");
            let hdir = dir.join("hosts").join(&name);
            let layer = hdir.join("layer");
            for d in ["upper", "work", "root", "layer/etc/ssh"] {
                fs::create_dir_all(hdir.join(d))?;
            }
            fs::write(layer.join("etc/hostname"), format!("{name}\n"))?;
            fs::write(
                layer.join("etc/hosts"),
                format!("127.0.0.1\tlocalhost\n127.0.1.1\t{name}\n::1\tlocalhost ip6-localhost ip6-loopback\n"),
            )?;
            let host = TestHost {
                addr: host_addr(index),
                netns: format!("{NS_PREFIX}{id}h{index}"),
                root: hdir.join("root"),
                upper: hdir.join("upper"),
                sshd_log: hdir.join("sshd.log"),
                dir: hdir.clone(),
                name,
                index,
                sshd: Mutex::new(None),
            };
            let mut keygen = Command::new("ssh-keygen");
            keygen
                .args(["-q", "-t", "ed25519", "-N", "", "-C", &host.name, "-f"])
                .arg(layer.join(&HOST_KEY[1..]));
            let mut mount = Command::new("mount");
            mount.args(["-t", "overlay", "overlay", "-o"]).arg(format!(
                "lowerdir={}:{}:{},upperdir={},workdir={}",
                layer.display(),
                common.display(),
                rootfs.display(),
                host.upper.display(),
                hdir.join("work").display()
            ));
            mount.arg(&host.root);
            prepare.push((format!("{}: host key", host.name), keygen));
            prepare.push((format!("{}: overlay", host.name), mount));
            tb.hosts.push(host);
        }
        let mut netns_batch = String::new();
        let mut veth_batch = String::new();
        for h in &tb.hosts {
            let (i, ns) = (h.index, &h.netns);
            let _ = writeln!(netns_batch, "netns add {ns}");
            let _ = writeln!(
                veth_batch,
                "link add v{i} type veth peer name eth0 netns {ns}"
            );
            let _ = writeln!(veth_batch, "link set v{i} master br0 up");
        }
        if !tb.hosts.is_empty() {
            run_stdin(Command::new("ip").args(["-batch", "-"]), &netns_batch)?;
            run_stdin(
                Command::new("ip").args(["-n", &lab, "-batch", "-"]),
                &veth_batch,
            )?;
        }
        run_parallel(prepare, 8)?;
        let t_prep = t0.elapsed();

        let mut slowest = Duration::ZERO;
        for h in &tb.hosts {
            let t = Instant::now();
            h.spawn_sshd()?;
            slowest = slowest.max(t.elapsed());
        }
        if timing() {
            eprintln!("testbed {id}: slowest spawn {slowest:?}");
        }
        if timing() {
            eprintln!("testbed {id}: sshd spawned at {:?}", t0.elapsed());
        }
        tb.wait_ready(Duration::from_secs(30) + Duration::from_millis(200) * b.hosts as u32)?;
        tb.known_hosts_file();
        if timing() {
            eprintln!(
                "testbed {id}: {} hosts; lab {:?}, prepared {:?}, ready {:?}",
                b.hosts,
                t_lab,
                t_prep,
                t0.elapsed()
            );
        }
        Ok(tb)
    }

    /// Wait until every sshd listens, then until each accepts a TCP connection from the lab.
    fn wait_ready(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        for h in &self.hosts {
            h.wait_listening(deadline)?;
        }
        if timing() {
            eprintln!("testbed {}: all sshd listening", self.id);
        }
        if self.hosts.is_empty() {
            return Ok(());
        }
        // One bash in the lab connects to every host, in parallel.
        let probe = "for a in \"$@\"; do ( for i in $(seq 100); do \
                     (exec 3<>/dev/tcp/$a/22) 2>/dev/null && exit 0; sleep 0.1; done; \
                     echo \"$a\" ) & done; wait";
        let out = self
            .lab_command("bash")
            .args(["-c", probe, "probe"])
            .args(self.hosts.iter().map(|h| h.addr.to_string()))
            .output()?;
        let failed = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !failed.is_empty() {
            bail!(
                "sshd listens but no TCP connection from the lab namespace to: {}",
                failed.replace('\n', " ")
            );
        }
        Ok(())
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        if self.torn_down {
            return;
        }
        let children = self.take_children();
        let t0 = Instant::now();
        if let Err(e) = teardown_id(&self.id, &self.dir, children) {
            eprintln!("testbed {}: teardown failed: {e:#}", self.id);
        } else if timing() {
            eprintln!("testbed {}: torn down in {:?}", self.id, t0.elapsed());
        }
    }
}

const DISABLE_IPV6: &str = "for f in /proc/sys/net/ipv6/conf/*/disable_ipv6; do \
                            [ -e \"$f\" ] && echo 1 > \"$f\"; done; true";

fn sshd_config() -> String {
    "# aerie test host: root by key only\n\
     Port 22\n\
     HostKey /etc/ssh/ssh_host_ed25519_key\n\
     PermitRootLogin prohibit-password\n\
     PubkeyAuthentication yes\n\
     AuthorizedKeysFile .ssh/authorized_keys\n\
     PasswordAuthentication no\n\
     KbdInteractiveAuthentication no\n\
     UsePAM no\n\
     PidFile none\n\
     UseDNS no\n\
     PrintMotd no\n\
     PrintLastLog no\n\
     MaxStartups 200:30:400\n\
     MaxSessions 100\n\
     LogLevel INFO\n\
     AcceptEnv LANG LC_*\n\
     Subsystem sftp /usr/lib/openssh/sftp-server\n"
        .to_string()
}

/// The stand-in program `name`: appends its arguments (one call per line, arguments
/// separated by the byte 0x1f) to `STANDIN_LOG_DIR/<name>.log` and exits 0. Shell
/// builtins only (but the first `mkdir`): a call costs one process, as the real
/// program would at least, so benchmarks count aerie's work, not the stand-in's.
pub fn standin_script(name: &str) -> String {
    format!(
        "#!/bin/sh\n\
         # aerie test STAND-IN for '{name}': records its arguments, changes nothing.\n\
         [ -d {STANDIN_LOG_DIR} ] || mkdir -p {STANDIN_LOG_DIR}\n\
         {{ sep=; for a in \"$@\"; do if [ \"$sep\" ]; then printf '\\037'; fi; printf '%s' \"$a\"; sep=1; done; printf '\\n'; }} >> {STANDIN_LOG_DIR}/{name}.log\n\
         exit 0\n"
    )
}

impl TestHost {
    /// `ADDR ssh-ed25519 KEY`.
    pub fn known_hosts_line(&self) -> String {
        format!("{} {}", self.addr, self.host_public_key())
    }

    /// The host's public key, `ssh-ed25519 BASE64` (no comment).
    pub fn host_public_key(&self) -> String {
        let p = self.path(&format!("{HOST_KEY}.pub"));
        let s = fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        s.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
    }

    /// Run `shell_cmd` with /bin/sh inside the host: its network, UTS (hostname), PID and
    /// mount namespaces and its root, with the same reduced capability bounding set as
    /// sshd. When sshd is down, in fresh namespaces of the same kind.
    pub fn exec(&self, shell_cmd: &str) -> Output {
        let mut c = match self.sshd_pid() {
            Some(pid) => {
                let mut c = Command::new("setpriv");
                c.args(["--bounding-set", DROP_CAPS, "--inh-caps", "-all", "--"])
                    .args(["nsenter", "-t", &pid.to_string()])
                    .args(["-m", "-u", "-n", "-p", "-r", "-w", "--"])
                    .args(["/bin/sh", "-c", shell_cmd]);
                c
            }
            None => {
                let mut c = self.enter_command();
                c.args([
                    "/bin/sh",
                    "-c",
                    "echo \"$1\" > /proc/sys/kernel/hostname && exec /bin/sh -c \"$2\"",
                    "sh",
                    &self.name,
                    shell_cmd,
                ]);
                c
            }
        };
        c.env_clear()
            .env("PATH", PATH_ENV)
            .env("HOME", "/root")
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{}: exec {shell_cmd:?}: {e}", self.name))
    }

    /// [`TestHost::exec`], panicking unless it exits 0; returns stdout.
    pub fn exec_ok(&self, shell_cmd: &str) -> String {
        let out = self.exec(shell_cmd);
        assert!(
            out.status.success(),
            "{}: {shell_cmd:?} failed ({}): {}",
            self.name,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Take the host down: kill sshd and every process in the host's namespaces.
    pub fn kill_sshd(&self) {
        let child = self.sshd.lock().unwrap_or_else(|e| e.into_inner()).take();
        let mut children: Vec<Child> = child.into_iter().collect();
        kill_netns_processes(std::slice::from_ref(&self.netns), &mut children);
    }

    /// Start sshd again (no-op if it runs) and wait until it accepts connections.
    pub fn start_sshd(&self) {
        if self.sshd_pid().is_some() {
            return;
        }
        self.spawn_sshd().expect("spawn sshd");
        self.wait_listening(Instant::now() + Duration::from_secs(30))
            .expect("sshd listening");
    }

    /// Replace the host key (sshd restarted) and return the new known_hosts line.
    pub fn regenerate_host_key(&self) -> String {
        self.kill_sshd();
        let tmp = self.dir.join("newkey");
        let _ = fs::remove_file(&tmp);
        let _ = fs::remove_file(tmp.with_extension("pub"));
        run(Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", &self.name, "-f"])
            .arg(&tmp))
        .expect("ssh-keygen");
        let private = fs::read_to_string(&tmp).expect("read new host key");
        let public = fs::read_to_string(tmp.with_extension("pub")).expect("read new pub");
        self.install_host_key(&private, &public)
    }

    /// Give the host the given ed25519 host key pair (private key text, public
    /// key line), as a kickstart that carries one would; sshd is restarted.
    /// Returns the new known_hosts line.
    pub fn install_host_key(&self, private: &str, public: &str) -> String {
        self.kill_sshd();
        let key = self.path(HOST_KEY);
        write_mode(&key, private, 0o600).expect("install host key");
        write_mode(&key.with_extension("pub"), public, 0o644).expect("install pub");
        self.start_sshd();
        self.known_hosts_line()
    }

    /// Where the host's `path` is, seen from the test: symlinks are resolved the way the
    /// host sees them, inside [`TestHost::root`]. Use this rather than `root.join(..)`:
    /// an absolute symlink in the host (e.g. /usr/sbin/modprobe -> /bin/kmod) followed
    /// from outside would land on the machine's own file.
    pub fn path(&self, path: &str) -> PathBuf {
        resolve_in_root(&self.root, path, true).expect("resolve path in host")
    }

    /// Put stand-in `name` at `path` in this (running) host, replacing what is there
    /// (a symlink is replaced, not followed); it lands in `upper`.
    pub fn install_standin(&self, name: &str, path: &str) {
        let p = resolve_in_root(&self.root, path, false).expect("resolve stand-in path");
        fs::create_dir_all(p.parent().unwrap()).expect("stand-in dir");
        if p.symlink_metadata().is_ok() {
            fs::remove_file(&p).expect("remove what the stand-in replaces");
        }
        write_mode(&p, &standin_script(name), 0o755).expect("write stand-in");
    }

    /// The calls stand-in `name` recorded so far, each as its argument list.
    pub fn standin_calls(&self, name: &str) -> Vec<Vec<String>> {
        let p = self.path(&format!("{STANDIN_LOG_DIR}/{name}.log"));
        let Ok(text) = fs::read_to_string(p) else {
            return Vec::new();
        };
        text.lines()
            .map(|l| {
                if l.is_empty() {
                    Vec::new()
                } else {
                    l.split('\x1f').map(str::to_string).collect()
                }
            })
            .collect()
    }

    /// Files (not directories) in `upper`, relative, sorted: what the host changed.
    pub fn changed_files(&self) -> Vec<PathBuf> {
        fn walk(base: &Path, d: &Path, out: &mut Vec<PathBuf>) {
            for e in fs::read_dir(d).into_iter().flatten().flatten() {
                let p = e.path();
                if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    walk(base, &p, out);
                } else {
                    out.push(p.strip_prefix(base).unwrap().to_path_buf());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.upper, &self.upper, &mut out);
        out.sort();
        out
    }

    /// Pid (in our PID namespace) of the host's sshd, if it runs.
    pub fn sshd_pid(&self) -> Option<u32> {
        let mut g = self.sshd.lock().unwrap_or_else(|e| e.into_inner());
        let child = g.as_mut()?;
        if child.try_wait().ok().flatten().is_some() {
            *g = None;
            return None;
        }
        children_of(child.id()).into_iter().next()
    }

    /// Enter the host: its network namespace (`nsenter --net`), fresh UTS, PID and mount
    /// namespaces with the host's own /proc, root directory = [`TestHost::root`], and the
    /// capability bounding set reduced (the host's own `setpriv`). Append the program,
    /// which runs chrooted.
    fn enter_command(&self) -> Command {
        let mut c = Command::new("nsenter");
        c.arg(format!("--net=/run/netns/{}", self.netns))
            .args(["--", "unshare", "--uts", "--pid", "--fork", "--kill-child"])
            // unshare changes root first: the /proc mount point is the host's.
            .args(["--mount-proc=/proc", "--propagation", "slave"])
            .arg(format!("--root={}", self.root.display()))
            .args(["--wd=/", "--"])
            .args(["/usr/bin/setpriv", "--bounding-set", DROP_CAPS])
            .args(["--inh-caps", "-all", "--"]);
        c
    }

    fn spawn_sshd(&self) -> Result<()> {
        // Runs chrooted, with the host's own tools; only builtins besides `ip` and sshd.
        // sshd -r: no re-exec per connection (the same protocol, much cheaper per
        // connection, which readiness probes and big fan-outs notice).
        let script = format!(
            "set -e\n{DISABLE_IPV6}\n\
             printf '%s\\n' 'link set lo up' 'addr replace {addr}/{PREFIX_LEN} dev eth0' \
             'link set eth0 up' | ip -batch -\n\
             echo {name} > /proc/sys/kernel/hostname\n\
             exec /usr/sbin/sshd -D -e -r -f {SSHD_CONFIG} -o ListenAddress={addr}\n",
            addr = self.addr,
            name = self.name,
        );
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.sshd_log)?;
        let child = self
            .enter_command()
            .args(["/bin/sh", "-c", &script])
            .env_clear()
            .env("PATH", PATH_ENV)
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("{}: spawn sshd", self.name))?;
        *self.sshd.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
        Ok(())
    }

    /// Poll until sshd listens on ADDR:22 in the host's netns (read from /proc/PID/net/tcp).
    fn wait_listening(&self, deadline: Instant) -> Result<()> {
        let want = format!("{:08X}:0016", u32::from(self.addr).swap_bytes());
        loop {
            {
                let mut g = self.sshd.lock().unwrap_or_else(|e| e.into_inner());
                let Some(child) = g.as_mut() else {
                    bail!("{}: sshd not started", self.name);
                };
                if let Some(st) = child.try_wait()? {
                    *g = None;
                    bail!(
                        "{}: sshd exited ({st}) before listening; log {}:\n{}",
                        self.name,
                        self.sshd_log.display(),
                        fs::read_to_string(&self.sshd_log).unwrap_or_default()
                    );
                }
                let listening = children_of(child.id()).into_iter().any(|pid| {
                    let tcp =
                        fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap_or_default();
                    let exe = fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
                    exe.ends_with("usr/sbin/sshd")
                        && tcp.lines().any(|l| {
                            let f: Vec<&str> = l.split_whitespace().collect();
                            f.len() > 3 && f[1] == want && f[3] == "0A"
                        })
                });
                if listening {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "{}: sshd not listening on {}:22 in time; log {}:\n{}",
                    self.name,
                    self.addr,
                    self.sshd_log.display(),
                    fs::read_to_string(&self.sshd_log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

// ---------------------------------------------------------------------------------
// Checks: root, tools, rootfs.

fn require_root() -> Result<()> {
    let status = fs::read_to_string("/proc/self/status")?;
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("");
    if euid != "0" {
        bail!("the test-host harness needs root (namespaces, mounts); run the tests as root after {SETUP_COMMAND}");
    }
    Ok(())
}

/// Fails (naming [`SETUP_COMMAND`]) unless `tool` is on PATH or in /usr/sbin, /sbin.
pub fn require_tool(tool: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain(["/usr/sbin".into(), "/sbin".into()]);
    for d in dirs {
        let p = d.join(tool);
        if p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
        {
            return Ok(p);
        }
    }
    bail!("`{tool}` is missing: the test-host harness needs it; install the test dependencies with {SETUP_COMMAND}")
}

/// Fails (naming [`SETUP_COMMAND`]) unless `root` is a usable test rootfs.
pub fn check_rootfs(root: &Path) -> Result<()> {
    for f in [
        "usr/sbin/sshd",
        "usr/lib/openssh/sftp-server",
        "bin/sh",
        "run/sshd",
    ] {
        if !root.join(f).exists() {
            bail!(
                "test rootfs {} lacks /{f} (sshd missing?); rebuild it with scripts/make-test-rootfs.sh after installing the test dependencies with {SETUP_COMMAND}",
                root.display()
            );
        }
    }
    Ok(())
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The test rootfs: `$AERIE_TEST_ROOTFS`, or what `scripts/make-test-rootfs.sh` builds
/// (once, cached under /var/cache/aerie-test).
pub fn rootfs() -> Result<PathBuf> {
    ROOTFS
        .get_or_init(|| {
            let root = match std::env::var_os("AERIE_TEST_ROOTFS") {
                Some(p) => PathBuf::from(p),
                None => {
                    let script = manifest_dir().join("scripts/make-test-rootfs.sh");
                    let out = Command::new("sh")
                        .arg(&script)
                        .stdin(Stdio::null())
                        .output()
                        .map_err(|e| format!("{}: {e}", script.display()))?;
                    if !out.status.success() {
                        return Err(format!(
                            "could not build the test rootfs with scripts/make-test-rootfs.sh ({}): {}\ninstall the test dependencies with {SETUP_COMMAND}",
                            out.status,
                            String::from_utf8_lossy(&out.stderr).trim()
                        ));
                    }
                    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
                }
            };
            check_rootfs(&root).map_err(|e| e.to_string())?;
            Ok(root)
        })
        .clone()
        .map_err(|e| anyhow!(e))
}

// ---------------------------------------------------------------------------------
// Processes and helpers.

fn run(cmd: &mut Command) -> Result<Output> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("spawn {cmd:?}"))?;
    succeeded(cmd, out)
}

fn run_stdin(cmd: &mut Command, input: &str) -> Result<Output> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("spawn {cmd:?}"))?;
    child.stdin.take().unwrap().write_all(input.as_bytes())?;
    succeeded(cmd, child.wait_with_output()?)
}

/// `out` if `cmd` exited 0, else an error with the command and its stderr.
fn succeeded(cmd: &Command, out: Output) -> Result<Output> {
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out)
}

/// Run labelled commands, at most `width` at a time; all errors are reported together.
fn run_parallel(cmds: Vec<(String, Command)>, width: usize) -> Result<()> {
    let mut running: Vec<(String, Child)> = Vec::new();
    let mut errors = String::new();
    let reap = |running: &mut Vec<(String, Child)>, errors: &mut String| -> Result<()> {
        let (label, child) = running.remove(0);
        let out = child.wait_with_output()?;
        if !out.status.success() {
            let _ = writeln!(
                errors,
                "{label}: {} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    };
    for (label, mut c) in cmds {
        if running.len() >= width {
            reap(&mut running, &mut errors)?;
        }
        let child = c
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        running.push((label, child));
    }
    while !running.is_empty() {
        reap(&mut running, &mut errors)?;
    }
    if !errors.is_empty() {
        bail!("host preparation failed:\n{errors}");
    }
    Ok(())
}

fn mkdir_mode(p: &Path, mode: u32) -> Result<()> {
    fs::create_dir_all(p)?;
    fs::set_permissions(p, fs::Permissions::from_mode(mode))?;
    Ok(())
}

fn write_mode(p: &Path, content: &str, mode: u32) -> Result<()> {
    fs::write(p, content)?;
    fs::set_permissions(p, fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// Resolve `path` the way a process chrooted at `root` would: every symlink is followed
/// inside `root` (absolute targets restart at `root`, `..` stops at it); the last
/// component only if `follow_last`. Missing components are kept as they are.
pub fn resolve_in_root(root: &Path, path: &str, follow_last: bool) -> Result<PathBuf> {
    use std::collections::VecDeque;
    use std::ffi::OsString;
    fn parts(p: &Path) -> impl Iterator<Item = OsString> + '_ {
        p.iter()
            .filter(|c| *c != OsStr::new("/") && *c != OsStr::new("."))
            .map(OsStr::to_os_string)
    }
    let mut pending: VecDeque<OsString> = parts(Path::new(path)).collect();
    let mut cur = root.to_path_buf();
    let mut depth = 0usize;
    let mut links = 0;
    while let Some(c) = pending.pop_front() {
        if c == ".." {
            if depth > 0 {
                cur.pop();
                depth -= 1;
            }
            continue;
        }
        let cand = cur.join(&c);
        let is_link = cand
            .symlink_metadata()
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false);
        if is_link && (follow_last || !pending.is_empty()) {
            links += 1;
            if links > 40 {
                bail!("too many symlinks resolving {path} in {}", root.display());
            }
            let target = fs::read_link(&cand)?;
            if target.is_absolute() {
                cur = root.to_path_buf();
                depth = 0;
            }
            for t in parts(&target).collect::<Vec<_>>().into_iter().rev() {
                pending.push_front(t);
            }
            continue;
        }
        cur = cand;
        depth += 1;
    }
    Ok(cur)
}

fn children_of(pid: u32) -> Vec<u32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// "PID STARTTIME": identifies a process even when its pid is later reused.
fn owner_stamp(pid: u32) -> Result<String> {
    Ok(format!(
        "{pid} {}",
        start_time(pid).ok_or_else(|| anyhow!("no /proc/{pid}/stat"))?
    ))
}

fn start_time(pid: u32) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the ")" closing comm; starttime is field 22 overall.
    let rest = stat.rsplit_once(')')?.1;
    rest.split_whitespace().nth(19).map(str::to_string)
}

/// (dev, ino) of a named network namespace.
fn netns_inode(name: &str) -> Option<(u64, u64)> {
    let m = fs::metadata(format!("/run/netns/{name}")).ok()?;
    Some((m.dev(), m.ino()))
}

/// Every pid whose network namespace is one of `names` (what `ip netns pids` does).
fn netns_pids(names: &[String]) -> Vec<u32> {
    let wanted: HashSet<(u64, u64)> = names.iter().filter_map(|n| netns_inode(n)).collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut pids = Vec::new();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if let Ok(m) = fs::metadata(format!("/proc/{pid}/ns/net")) {
            if wanted.contains(&(m.dev(), m.ino())) {
                pids.push(pid);
            }
        }
    }
    pids
}

/// SIGKILL every process in the namespaces until none is left, and reap our children.
/// Our children (the `unshare` parents of each host's PID namespace) are left to exit by
/// themselves once the sshd they wait for (PID 1 of the namespace, whose death takes
/// every other process of the namespace with it) is killed, so nothing ends up as an
/// orphaned zombie.
fn kill_netns_processes(names: &[String], children: &mut [Child]) {
    let ours: HashSet<u32> = children.iter().map(Child::id).collect();
    let mut killed: HashSet<u32> = HashSet::new();
    let kill = |pids: &[u32]| {
        let _ = Command::new("sh")
            .args(["-c", "kill -9 \"$@\" 2>/dev/null; true", "kill"])
            .args(pids.iter().map(u32::to_string))
            .stdin(Stdio::null())
            .status();
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pids: Vec<u32> = netns_pids(names)
            .into_iter()
            .filter(|p| !ours.contains(p))
            .collect();
        if pids.is_empty() || Instant::now() > deadline {
            break;
        }
        kill(&pids);
        killed.extend(pids);
        std::thread::sleep(Duration::from_millis(5));
    }
    let reap_deadline = Instant::now() + Duration::from_secs(3);
    for c in children.iter_mut() {
        while c.try_wait().ok().flatten().is_none() && Instant::now() < reap_deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = c.kill();
        let _ = c.wait();
    }
    // Anything that appeared meanwhile (a late `ip netns exec`), then wait for the
    // killed processes to be gone from /proc.
    loop {
        let pids = netns_pids(names);
        if pids.is_empty() || Instant::now() > deadline {
            break;
        }
        kill(&pids);
        killed.extend(pids);
        std::thread::sleep(Duration::from_millis(5));
    }
    let gone_deadline = Instant::now() + Duration::from_secs(2);
    while killed
        .iter()
        .any(|p| Path::new(&format!("/proc/{p}")).exists())
        && Instant::now() < gone_deadline
    {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Mount points under `dir` (deepest first), from /proc/self/mountinfo.
fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut v: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| {
            PathBuf::from(
                m.replace("\\040", " ")
                    .replace("\\011", "\t")
                    .replace("\\012", "\n")
                    .replace("\\134", "\\"),
            )
        })
        .filter(|m| m.starts_with(dir))
        .collect();
    v.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    v.dedup();
    v
}

/// Network namespaces named for testbed `id` (`aetIDl`, `aetIDhN`).
fn netns_of(id: &str) -> Vec<String> {
    let lab = format!("{NS_PREFIX}{id}l");
    let host_prefix = format!("{NS_PREFIX}{id}h");
    fs::read_dir("/run/netns")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| {
            *n == lab
                || n.strip_prefix(&host_prefix)
                    .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect()
}

/// Remove everything testbed `id` made: processes, namespaces (with their veths and
/// bridge), overlay mounts, the directory.
fn teardown_id(id: &str, dir: &Path, mut children: Vec<Child>) -> Result<()> {
    let t0 = Instant::now();
    let names = netns_of(id);
    kill_netns_processes(&names, &mut children);
    let t_kill = t0.elapsed();
    let mut problems = Vec::new();
    if !names.is_empty() {
        let batch: String = names.iter().map(|n| format!("netns del {n}\n")).collect();
        if let Err(e) = run_stdin(Command::new("ip").args(["-force", "-batch", "-"]), &batch) {
            problems.push(format!("{e:#}"));
        }
    }
    let t_netns = t0.elapsed();
    let mounts = mounts_under(dir);
    if !mounts.is_empty() {
        let ok = Command::new("umount")
            .args(&mounts)
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            let rest = mounts_under(dir);
            if !rest.is_empty() {
                let _ = Command::new("umount").arg("-l").args(&rest).status();
            }
        }
    }
    let t_umount = t0.elapsed();
    let left = mounts_under(dir);
    if !left.is_empty() {
        problems.push(format!("still mounted: {left:?}"));
    } else if dir.exists() {
        if let Err(e) = fs::remove_dir_all(dir) {
            problems.push(format!("remove {}: {e}", dir.display()));
        }
    }
    if timing() {
        eprintln!(
            "testbed {id}: teardown: killed {t_kill:?}, netns deleted {t_netns:?}, unmounted {t_umount:?}, removed {:?}",
            t0.elapsed()
        );
    }
    let left_ns = netns_of(id);
    if !left_ns.is_empty() {
        problems.push(format!("namespaces left: {left_ns:?}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("testbed {id}: {}", problems.join("; "))
    }
}

fn owner_alive(pid: u32, stamp: Option<&str>) -> bool {
    match (start_time(pid), stamp) {
        (None, _) => false,
        (Some(now), Some(stamp)) => stamp.split_whitespace().nth(1) == Some(now.as_str()),
        (Some(_), None) => true,
    }
}

/// The once-per-process sweep of stale leftovers that [`Testbed::new`] runs
/// first. Tests that make leftovers on purpose call it before they start, so
/// no later `Testbed::new` in another thread sweeps their leftovers away
/// while they are looking at them.
pub fn initial_cleanup() {
    STALE_CLEANUP.call_once(|| {
        if let Err(e) = cleanup_stale() {
            eprintln!("testbed: cleaning stale leftovers failed: {e:#}");
        }
    });
}

/// Tear down leftovers of testbeds whose owning process is gone (a crashed or killed
/// test run); returns the ids cleaned. Runs once per process from [`Testbed::new`].
pub fn cleanup_stale() -> Result<Vec<String>> {
    let mut ids: Vec<String> = Vec::new();
    let parse_id = |s: &str| -> Option<(String, u32)> {
        let (pid, rest) = s.split_once('x')?;
        let pid: u32 = pid.parse().ok()?;
        let ctr_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        (ctr_len > 0).then(|| (format!("{pid}x{}", &rest[..ctr_len]), pid))
    };
    for e in fs::read_dir("/run/netns").into_iter().flatten().flatten() {
        if let Some(n) = e
            .file_name()
            .to_str()
            .and_then(|n| n.strip_prefix(NS_PREFIX))
        {
            if let Some((id, _)) = parse_id(n) {
                ids.push(id);
            }
        }
    }
    for e in fs::read_dir(base_dir()).into_iter().flatten().flatten() {
        if let Some((id, _)) = e.file_name().to_str().and_then(parse_id) {
            ids.push(id);
        }
    }
    ids.sort();
    ids.dedup();
    let me = std::process::id();
    let mut cleaned = Vec::new();
    let mut errors = Vec::new();
    for id in ids {
        let (_, pid) = parse_id(&id).unwrap();
        let dir = base_dir().join(&id);
        let stamp = fs::read_to_string(dir.join("owner")).ok();
        let alive = if pid == me {
            // Ours unless left by an earlier process that had the same pid.
            match &stamp {
                Some(s) => owner_stamp(me).map(|m| m == s.trim()).unwrap_or(true),
                None => dir.exists(),
            }
        } else {
            owner_alive(pid, stamp.as_deref())
        };
        if alive {
            continue;
        }
        match teardown_id(&id, &dir, Vec::new()) {
            Ok(()) => cleaned.push(id),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    if !errors.is_empty() {
        bail!("stale testbeds: {}", errors.join("; "));
    }
    Ok(cleaned)
}
