//! `aerie pxe serve`: check everything first (the plan, the base ISO, iPXE,
//! dnsmasq, the HTTP port), so bad input leaves nothing running; then run
//! dnsmasq as a child and the HTTP server until SIGINT/SIGTERM, and stop
//! both.

use super::dnsmasq::{self, Dnsmasq};
use super::dnsmasq_conf::{self, BIOS_IPXE, UEFI_IPXE};
use super::events::{now, Event};
use super::ipxe;
use super::iso_tree::IsoTree;
use super::plan::Plan;
use super::server::{self, Shared};
use super::state::{ServerInfo, StateDir};
use crate::fsutil::{self, Overwrite};
use crate::httpd;
use crate::site::Site;
use anyhow::Context;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What `serve` needs besides the site.
#[derive(Debug, Clone)]
pub struct Options {
    pub dir: PathBuf,
    pub base: PathBuf,
    /// Kernel arguments for every install (the serial console).
    pub extra_args: Vec<String>,
    /// Listen here instead of `netboot.address`:`http-port` (the URLs the
    /// nodes get still name `netboot.address`).
    pub listen: Option<SocketAddr>,
    /// Serve HTTP only: no dnsmasq (another DHCP/TFTP server chains to it).
    pub no_dhcp: bool,
}

/// Debian's iPXE binaries are missing.
#[derive(Debug, thiserror::Error)]
#[error("{dir} has no {file}: install Debian's iPXE (`apt-get install ipxe`), or set AERIE_IPXE_DIR to a directory holding {BIOS_IPXE} and {UEFI_IPXE}")]
pub struct IpxeMissing {
    pub dir: String,
    pub file: String,
}

/// Where the iPXE binaries are: `AERIE_IPXE_DIR` or Debian's /usr/lib/ipxe.
pub fn ipxe_dir() -> PathBuf {
    std::env::var_os("AERIE_IPXE_DIR")
        .map_or_else(|| PathBuf::from(dnsmasq_conf::IPXE_DIR), PathBuf::from)
}

/// Where the base ISO's files lie, refused when it has no installer kernel
/// and initrd (`images/pxeboot/`).
pub fn check_base(base: &Path) -> anyhow::Result<IsoTree> {
    let tree = IsoTree::read(base)?;
    tree.require(&[ipxe::KERNEL, ipxe::INITRD])?;
    Ok(tree)
}

/// What DHCP and TFTP need: Debian's iPXE binaries (or `AERIE_IPXE_DIR`) and dnsmasq.
pub fn check_dhcp_tools() -> anyhow::Result<()> {
    let ipxe_from = ipxe_dir();
    for file in [BIOS_IPXE, UEFI_IPXE] {
        if !ipxe_from.join(file).is_file() {
            return Err(IpxeMissing {
                dir: ipxe_from.display().to_string(),
                file: file.to_string(),
            }
            .into());
        }
    }
    Ok(dnsmasq::check_installed()?)
}

/// How the server ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    Signal(&'static str),
}

/// The checks and files before anything runs.
struct Ready {
    shared: Arc<Shared>,
    listener: tokio::net::TcpListener,
    conf: PathBuf,
    dir: PathBuf,
}

async fn prepare(
    site: &Site,
    kickstarts: HashMap<String, String>,
    opts: &Options,
) -> anyhow::Result<Ready> {
    let plan = Plan::new(site)?;
    let tree = check_base(&opts.base)?;
    let ipxe_from = ipxe_dir();
    if !opts.no_dhcp {
        check_dhcp_tools()?;
    }
    let state = StateDir::new(&opts.dir);
    if let Some(other) = state.running_server() {
        anyhow::bail!(
            "{} is in use by another `aerie pxe serve` (pid {}, {}); stop it first or give another --dir",
            opts.dir.display(),
            other.pid,
            other.url
        );
    }
    state.create()?;
    // dnsmasq runs from `/`: every path it gets is absolute.
    let dir = std::fs::canonicalize(&opts.dir)?;
    let state = StateDir::new(&dir);
    let addr = opts
        .listen
        .unwrap_or_else(|| SocketAddr::new(IpAddr::V4(plan.server), plan.http_port));
    let listener = httpd::bind(addr).await?;
    let tftp = dir.join("tftp");
    std::fs::create_dir_all(&tftp).with_context(|| format!("cannot create {}", tftp.display()))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tftp, std::fs::Permissions::from_mode(0o755))?;
    }
    if !opts.no_dhcp {
        // Copies, so dnsmasq serves only these; `undionly.0` is the name a
        // proxy-DHCP `pxe-service` asks BIOS clients to load.
        for (from, to) in [
            (BIOS_IPXE, BIOS_IPXE),
            (BIOS_IPXE, "undionly.0"),
            (UEFI_IPXE, UEFI_IPXE),
        ] {
            let bytes = std::fs::read(ipxe_from.join(from))
                .with_context(|| format!("cannot read {}", ipxe_from.join(from).display()))?;
            fsutil::write_atomic(&tftp.join(to), &bytes, 0o644, Overwrite::Allow)?;
        }
    }
    let conf = dir.join("dnsmasq.conf");
    let text = dnsmasq_conf::render(
        &plan,
        &dnsmasq_conf::Paths {
            leases: &dir.join("dnsmasq.leases"),
            tftp_root: &tftp,
        },
    );
    fsutil::write_atomic(&conf, text.as_bytes(), 0o600, Overwrite::Allow)?;
    let base = plan.base_url();
    let kickstarts = kickstarts
        .into_iter()
        .filter(|(host, _)| plan.node(host).is_some())
        .map(|(host, ks)| {
            let ks = super::kickstart::with_callback(&ks, &format!("{base}/done/{host}"));
            (host, ks)
        })
        .collect();
    let shared = Arc::new(Shared::new(
        plan,
        tree,
        kickstarts,
        state,
        opts.extra_args.clone(),
    ));
    Ok(Ready {
        shared,
        listener,
        conf,
        dir,
    })
}

/// Serve until SIGINT or SIGTERM. `on_event` sees every event (from a task);
/// `on_ready` the running server once dnsmasq and HTTP are up.
pub async fn run(
    site: &Site,
    kickstarts: HashMap<String, String>,
    opts: &Options,
    on_ready: impl FnOnce(&ServerInfo, &Shared),
    mut on_event: impl FnMut(Event) + Send + 'static,
) -> anyhow::Result<Stopped> {
    // This command stops cleanly by itself; the interrupt thread must not exit for it.
    crate::interrupt::caller_handles();
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let Ready {
        shared,
        listener,
        conf,
        dir,
    } = prepare(site, kickstarts, opts).await?;
    let mut events = shared.events.subscribe();
    let printer = tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(e) => on_event(e),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    let dnsmasq: Option<Arc<Mutex<Option<Dnsmasq>>>> = if opts.no_dhcp {
        None
    } else {
        let for_log = shared.clone();
        // Started from this (the main) thread: the child is tied to it.
        let child = dnsmasq::start(
            &conf,
            &dir.join("dnsmasq.pid"),
            &dir.join("dnsmasq.log"),
            move |line| {
                if let Some(mac) = dnsmasq::dhcp_mac(line) {
                    for_log.dhcp_seen(&mac);
                }
            },
        )?;
        Some(Arc::new(Mutex::new(Some(child))))
    };
    let url = shared.plan.base_url();
    let info = ServerInfo {
        pid: std::process::id(),
        url: url.clone(),
        mode: if opts.no_dhcp {
            "http-only".to_string()
        } else {
            shared.plan.mode.as_str().to_string()
        },
        started: now(),
    };
    shared.state.write_server(&info)?;
    let writer = {
        let shared = shared.clone();
        tokio::spawn(async move {
            loop {
                shared.changed.notified().await;
                let _ = shared.state.write_status(&shared.snapshot());
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut http = tokio::spawn(httpd::serve(
        listener,
        server::router(shared.clone()),
        async {
            let _ = stop_rx.await;
        },
    ));
    on_ready(&info, &shared);
    shared.emit(Event::other(
        "server",
        None,
        None,
        format!("serving on {url} ({} nodes)", shared.plan.nodes.len()),
    ));
    let watch = dnsmasq.clone();
    let died = async move {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if let Some(d) = &watch {
                let mut guard = d.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(child) = guard.as_mut() {
                    if !child.running() {
                        return;
                    }
                }
            }
        }
    };
    let outcome: anyhow::Result<Stopped> = tokio::select! {
        _ = sigint.recv() => Ok(Stopped::Signal("SIGINT")),
        _ = sigterm.recv() => Ok(Stopped::Signal("SIGTERM")),
        _ = died => Err(anyhow::anyhow!("dnsmasq stopped on its own; its log: {}", dir.join("dnsmasq.log").display())),
        r = &mut http => Err(match r {
            Ok(Ok(())) => anyhow::anyhow!("the HTTP server stopped"),
            Ok(Err(e)) => anyhow::Error::new(e).context("the HTTP server failed"),
            Err(e) => anyhow::Error::new(e).context("the HTTP server failed"),
        }),
    };
    // Stop: dnsmasq first (no new boots), then HTTP (requests in flight get
    // 3 s), then the last status.
    if let Some(d) = dnsmasq {
        if let Some(child) = d.lock().unwrap_or_else(|e| e.into_inner()).take() {
            child.stop();
        }
    }
    let _ = stop_tx.send(());
    if tokio::time::timeout(Duration::from_secs(3), &mut http)
        .await
        .is_err()
    {
        http.abort();
    }
    writer.abort();
    let _ = shared.state.write_status(&shared.snapshot());
    shared.state.clear_server();
    shared.emit(Event::other("server", None, None, "stopped"));
    // Let the printer show the last events.
    drop(shared);
    let _ = tokio::time::timeout(Duration::from_secs(1), printer).await;
    outcome
}

/// How long `write_config` took, step by step.
#[derive(Debug, Clone, Copy)]
pub struct ConfigTimes {
    /// The netboot configuration in memory: dnsmasq.conf, a script per
    /// node, each kickstart with its callback.
    pub generate: std::time::Duration,
    /// Writing it (a private folder renamed into place, synced once).
    pub write: std::time::Duration,
    /// The sync, part of `write`.
    pub sync: std::time::Duration,
    pub files: usize,
}

/// `aerie pxe config`: what the server would serve, written to `dir` (which
/// must not exist): dnsmasq.conf, boot/<mac>.ipxe, ks/<host>.cfg; nothing started.
pub fn write_config(
    site: &Site,
    kickstarts: &HashMap<String, String>,
    extra_args: &[String],
    dir: &Path,
) -> anyhow::Result<ConfigTimes> {
    use std::os::unix::fs::PermissionsExt;
    let start = std::time::Instant::now();
    let plan = Plan::new(site)?;
    let base = plan.base_url();
    let mut files: Vec<(PathBuf, String, u32)> = Vec::with_capacity(plan.nodes.len() * 2 + 1);
    files.push((
        PathBuf::from("dnsmasq.conf"),
        dnsmasq_conf::render(
            &plan,
            &dnsmasq_conf::Paths {
                leases: &dir.join("dnsmasq.leases"),
                tftp_root: &dir.join("tftp"),
            },
        ),
        0o600,
    ));
    for node in &plan.nodes {
        files.push((
            Path::new("boot").join(format!("{}.ipxe", node.mac.replace(':', "-"))),
            ipxe::install(&plan, node, extra_args),
            0o644,
        ));
        if let Some(ks) = kickstarts.get(&node.hostname) {
            files.push((
                Path::new("ks").join(format!("{}.cfg", node.hostname)),
                super::kickstart::with_callback(ks, &format!("{base}/done/{}", node.hostname)),
                0o600,
            ));
        }
    }
    let generate = start.elapsed();
    let start = std::time::Instant::now();
    if dir.exists() {
        return Err(crate::exit::AlreadyExists {
            path: dir.display().to_string(),
            remedy: "remove it or choose another -o".to_string(),
        }
        .into());
    }
    let parent = fsutil::parent_or_dot(dir);
    std::fs::create_dir_all(parent)?;
    let staging = tempfile::Builder::new()
        .prefix(".aerie-pxe-config-")
        .tempdir_in(parent)?;
    let _guard = crate::interrupt::remove_on_interrupt(staging.path());
    for sub in ["boot", "ks"] {
        std::fs::create_dir(staging.path().join(sub))?;
    }
    for (path, text, mode) in &files {
        let path = staging.path().join(path);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode))?;
    }
    std::fs::set_permissions(staging.path(), std::fs::Permissions::from_mode(0o700))?;
    // One sync of the output's file system beats one fsync per file.
    let synced = std::time::Instant::now();
    fsutil::sync_filesystem(staging.path())?;
    let sync = synced.elapsed();
    let staged = staging.keep();
    std::fs::rename(&staged, dir)
        .with_context(|| format!("cannot rename {} to {}", staged.display(), dir.display()))?;
    fsutil::sync_dir(parent)?;
    Ok(ConfigTimes {
        generate,
        write: start.elapsed(),
        sync,
        files: files.len(),
    })
}
