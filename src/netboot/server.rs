//! The HTTP side of the boot server: the routes the nodes use, over
//! [`crate::httpd`]. Every request that moves a node on is an event.
//!
//! | route | answer |
//! |---|---|
//! | `GET /boot.ipxe` | the chain script (every iPXE's first fetch) |
//! | `GET /boot/<mac>` | the node's install script; the local-disk script for an unknown or installed machine |
//! | `GET /node/<host>/vmlinuz`, `/node/<host>/initrd.img` | the installer's kernel and initrd from the base ISO |
//! | `GET /iso/<path>` | any file of the base ISO (stage2, repository) |
//! | `GET /ks/<host>.cfg` | the node's kickstart |
//! | `POST /done/<host>` | the node's %post: installed, boot the disk from now on |
//! | `GET /status` | every node's latest step, as JSON |

use super::events::{Event, Phase, Tracker};
use super::ipxe;
use super::iso_tree::IsoTree;
use super::plan::{normalize_mac, Plan};
use super::state::StateDir;
use crate::httpd::{self, FilePart};
use axum::extract::{ConnectInfo, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, Notify};

/// What the routes share.
pub struct Shared {
    pub plan: Plan,
    pub tree: IsoTree,
    /// Each node's kickstart, with the install-done callback.
    pub kickstarts: HashMap<String, String>,
    pub state: StateDir,
    /// Kernel arguments added to every install (the console).
    pub extra_args: Vec<String>,
    pub tracker: Mutex<Tracker>,
    pub events: broadcast::Sender<Event>,
    /// Woken when the tracker changed (the status writer waits on it).
    pub changed: Notify,
}

impl Shared {
    pub fn new(
        plan: Plan,
        tree: IsoTree,
        kickstarts: HashMap<String, String>,
        state: StateDir,
        extra_args: Vec<String>,
    ) -> Shared {
        let tracker = Tracker::new(plan.nodes.iter().map(|n| n.hostname.as_str()));
        let (events, _) = broadcast::channel(16 * 1024);
        Shared {
            plan,
            tree,
            kickstarts,
            state,
            extra_args,
            tracker: Mutex::new(tracker),
            events,
            changed: Notify::new(),
        }
    }

    /// Tell the subscribers; a node's step only when it is news.
    pub fn emit(&self, event: Event) {
        if let Some(phase) = phase_of(&event.event) {
            let Some(node) = event.node.as_deref() else {
                return;
            };
            let mut tracker = self.tracker.lock().unwrap_or_else(|e| e.into_inner());
            if !tracker.advance(node, phase) {
                return;
            }
            drop(tracker);
            self.changed.notify_one();
        }
        let _ = self.events.send(event);
    }

    /// A DHCP request seen in dnsmasq's log.
    pub fn dhcp_seen(&self, mac: &str) {
        match self.plan.node_by_mac(mac) {
            Some(node) if !self.state.is_installed(&node.hostname) => self.emit(Event::phase(
                &node.hostname,
                Some(mac),
                Phase::DhcpSeen,
                "DHCP request",
            )),
            _ => {}
        }
    }

    fn phase_now(&self, node: &str) -> Option<Phase> {
        let tracker = self.tracker.lock().unwrap_or_else(|e| e.into_inner());
        tracker.nodes.get(node).and_then(|s| s.phase)
    }

    pub fn snapshot(&self) -> Tracker {
        self.tracker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

fn phase_of(event: &str) -> Option<Phase> {
    Phase::ALL.into_iter().find(|p| p.as_str() == event)
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/boot.ipxe", get(chain))
        .route("/boot/{mac}", get(script))
        .route("/node/{host}/{file}", get(installer_file))
        .route("/iso/{*path}", get(iso_file))
        .route("/ks/{file}", get(kickstart))
        .route("/done/{host}", post(done))
        .route("/status", get(status))
        .with_state(shared)
}

fn text(body: String) -> Response {
    ([("content-type", "text/plain; charset=utf-8")], body).into_response()
}

async fn chain(State(s): State<Arc<Shared>>) -> Response {
    text(ipxe::chain(&s.plan))
}

async fn script(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    UrlPath(mac): UrlPath<String>,
) -> Response {
    let Some(mac) = normalize_mac(&mac) else {
        return (StatusCode::BAD_REQUEST, "not a MAC address\n").into_response();
    };
    let Some(node) = s.plan.node_by_mac(&mac) else {
        s.emit(Event::other(
            "local-boot",
            None,
            Some(&mac),
            format!("unknown MAC (from {}): booting its local disk", peer.ip()),
        ));
        return text(ipxe::local_disk("this machine is not in the site"));
    };
    let host = node.hostname.clone();
    if s.state.is_installed(&host) {
        if s.phase_now(&host) == Some(Phase::InstallDone) {
            s.emit(Event::phase(
                &host,
                Some(&mac),
                Phase::FirstBoot,
                "installed: booting its local disk",
            ));
        } else {
            s.emit(Event::other(
                "local-boot",
                Some(&host),
                Some(&mac),
                "installed: booting its local disk (`aerie pxe reinstall` to install again)",
            ));
        }
        return text(ipxe::local_disk(&format!("{host} is installed")));
    }
    s.emit(Event::phase(
        &host,
        Some(&mac),
        Phase::Script,
        format!("from {}", peer.ip()),
    ));
    text(ipxe::install(&s.plan, node, &s.extra_args))
}

async fn installer_file(
    State(s): State<Arc<Shared>>,
    UrlPath((host, file)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(node) = s.plan.node(&host) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let path = match file.as_str() {
        "vmlinuz" => ipxe::KERNEL,
        "initrd.img" => ipxe::INITRD,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    if file == "vmlinuz" {
        s.emit(Event::phase(
            &node.hostname,
            Some(&node.mac),
            Phase::Kernel,
            "installer kernel",
        ));
    }
    iso_part(&s, path, &headers).await
}

async fn iso_file(
    State(s): State<Arc<Shared>>,
    UrlPath(path): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    iso_part(&s, &path, &headers).await
}

async fn iso_part(s: &Shared, path: &str, headers: &HeaderMap) -> Response {
    let Some(extent) = s.tree.get(path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let part = FilePart {
        path: s.tree.iso.clone(),
        offset: extent.offset,
        len: extent.len,
    };
    httpd::send_file(part, headers, "application/octet-stream").await
}

async fn kickstart(State(s): State<Arc<Shared>>, UrlPath(file): UrlPath<String>) -> Response {
    let Some(host) = file.strip_suffix(".cfg") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(ks) = s.kickstarts.get(host) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mac = s.plan.node(host).map(|n| n.mac.clone());
    s.emit(Event::phase(
        host,
        mac.as_deref(),
        Phase::Kickstart,
        "kickstart",
    ));
    text(ks.clone())
}

async fn done(State(s): State<Arc<Shared>>, UrlPath(host): UrlPath<String>) -> Response {
    let Some(node) = s.plan.node(&host) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Err(e) = s.state.mark_installed(&host) {
        let _ = s
            .events
            .send(Event::other("server", Some(&host), None, format!("{e:#}")));
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot record the install\n",
        )
            .into_response();
    }
    s.emit(Event::phase(
        &host,
        Some(&node.mac),
        Phase::InstallDone,
        "its %post called back: it boots its local disk from now on",
    ));
    text(format!("{host}: installed\n"))
}

async fn status(State(s): State<Arc<Shared>>) -> Response {
    let snapshot = s.snapshot();
    match serde_json::to_string(&snapshot) {
        Ok(body) => ([("content-type", "application/json")], body).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
