//! A fault-injecting stand-in for misbehaving BMCs (test support, not a BMC):
//! an HTTP proxy in front of sushy-tools' emulator that, per system, answers
//! 503 to its first InsertMedia, drops the connection of its first GET,
//! accepts and ignores its boot override, or plays a make of BMC that the
//! quirks table describes (a Manufacturer of its own; media refused while the
//! system is on; the virtual CD booted as `UsbCd`, `Cd` refused). Every fault
//! it injects is logged, so a test can show it happened.
//!
//! With [`Features`], the whole stand-in also plays what sushy-tools lacks: a
//! SessionService (the service root, open to anyone as the standard has it,
//! lists `Links.Sessions`; a POST of the
//! user and password, checked against the emulator, opens a session with an
//! `X-Auth-Token`, whose requests reach the emulator with basic
//! authentication; DELETE closes it), and ETags on each system (an `ETag`
//! header on its GET; its PATCH checks `If-Match`, 412 when stale). It logs
//! how each request authenticated and which PATCH carried `If-Match`.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    BusyOnFirstInsert,
    DropFirstGet,
    IgnoresBootOnce,
    PlaysVendor(String),
    /// Its first PATCH is answered 412 (changed since read), whatever it carries.
    StaleOnFirstPatch,
}

/// What the whole stand-in plays, beyond its faults.
#[derive(Debug, Clone, Copy, Default)]
pub struct Features {
    pub sessions: bool,
    pub etags: bool,
}

pub struct FaultProxy {
    pub port: u16,
    pub log: Arc<Mutex<Vec<String>>>,
}

struct State {
    upstream: u16,
    features: Features,
    /// token -> (basic credentials for the emulator, session id)
    sessions: Mutex<HashMap<String, (String, u32)>>,
    next_session: Mutex<u32>,
    faults: HashMap<String, Vec<Fault>>,
    fired: Mutex<Vec<(String, &'static str)>>,
    log: Arc<Mutex<Vec<String>>>,
}

impl FaultProxy {
    pub fn start(upstream: u16, faults: HashMap<String, Vec<Fault>>) -> FaultProxy {
        FaultProxy::start_with(upstream, faults, Features::default())
    }

    pub fn start_with(
        upstream: u16,
        faults: HashMap<String, Vec<Fault>>,
        features: Features,
    ) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(State {
            upstream,
            features,
            sessions: Mutex::new(HashMap::new()),
            next_session: Mutex::new(0),
            faults,
            fired: Mutex::new(Vec::new()),
            log: log.clone(),
        });
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = state.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &state);
                });
            }
        });
        FaultProxy { port, log }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        seen.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&seen[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let path = first.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = seen[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Ok(Some(Request {
        method,
        path,
        headers,
        body,
    }))
}

/// Pass a request to the emulator; (status, body).
fn forward(upstream: u16, request: &Request) -> std::io::Result<(u16, Vec<u8>)> {
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.path);
    for (k, v) in &request.headers {
        if !k.eq_ignore_ascii_case("connection") && !k.eq_ignore_ascii_case("content-length") {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        request.body.len()
    ));
    up.write_all(head.as_bytes())?;
    up.write_all(&request.body)?;
    let mut response = Vec::new();
    up.read_to_end(&mut response)?;
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(response.len());
    let status_line = String::from_utf8_lossy(&response[..end]).to_string();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(502);
    let body = response.get(end + 4..).unwrap_or_default().to_vec();
    Ok((status, body))
}

fn respond(stream: &mut TcpStream, status: u16, body: &[u8]) -> std::io::Result<()> {
    respond_with(stream, status, &[], body)
}

fn respond_with(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        409 => "Conflict",
        412 => "Precondition Failed",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)
}

fn redfish_error(message: &str) -> Vec<u8> {
    json!({"error": {"code": "Base.1.0.GeneralError", "message": message,
        "@Message.ExtendedInfo": [{"Message": message}]}})
    .to_string()
    .into_bytes()
}

/// The system a path is about (`/redfish/v1/Systems/ID[/...]`).
fn system_of(path: &str) -> Option<&str> {
    path.strip_prefix("/redfish/v1/Systems/")?
        .split('/')
        .next()
        .filter(|s| !s.is_empty())
}

impl State {
    fn has(&self, system: &str, fault: &Fault) -> bool {
        self.faults.get(system).is_some_and(|f| f.contains(fault))
    }

    fn vendor(&self, system: &str) -> Option<String> {
        self.faults.get(system)?.iter().find_map(|f| match f {
            Fault::PlaysVendor(v) => Some(v.clone()),
            _ => None,
        })
    }

    /// True the first time only, per system and kind.
    fn first(&self, system: &str, kind: &'static str) -> bool {
        let mut fired = self.fired.lock().unwrap();
        if fired.iter().any(|(s, k)| s == system && *k == kind) {
            return false;
        }
        fired.push((system.to_string(), kind));
        true
    }

    fn note(&self, text: String) {
        self.log.lock().unwrap().push(text);
    }
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The SessionService: open, close, and a token turned into basic
/// authentication for the emulator. `Some` when it answered itself.
fn sessions(
    stream: &mut TcpStream,
    state: &State,
    request: &mut Request,
) -> std::io::Result<Option<()>> {
    const SESSIONS: &str = "/redfish/v1/SessionService/Sessions";
    let token = header(request, "x-auth-token").map(str::to_string);
    let kind = match (&token, header(request, "authorization")) {
        (Some(_), _) => "token",
        (None, Some(_)) => "basic",
        (None, None) => "none",
    };
    state.note(format!("auth {kind}: {} {}", request.method, request.path));
    if request.method == "POST" && request.path == SESSIONS {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let user = body["UserName"].as_str().unwrap_or("");
        let password = body["Password"].as_str().unwrap_or("");
        use base64ct::Encoding;
        let basic = format!(
            "Basic {}",
            base64ct::Base64::encode_string(format!("{user}:{password}").as_bytes())
        );
        let probe = Request {
            method: "GET".into(),
            path: "/redfish/v1/Systems".into(),
            headers: vec![("Authorization".into(), basic.clone())],
            body: Vec::new(),
        };
        if forward(state.upstream, &probe)?.0 != 200 {
            state.note(format!("session refused for {user}"));
            respond(stream, 401, &redfish_error("Invalid username or password"))?;
            return Ok(Some(()));
        }
        let id = {
            let mut next = state.next_session.lock().unwrap();
            *next += 1;
            *next
        };
        let token = format!("stand-in-token-{id}");
        state
            .sessions
            .lock()
            .unwrap()
            .insert(token.clone(), (basic, id));
        state.note(format!("session {id} opened for {user}"));
        let location = format!("{SESSIONS}/{id}");
        let body = json!({"@odata.id": location, "Id": id.to_string(), "UserName": user});
        respond_with(
            stream,
            201,
            &[("X-Auth-Token", token), ("Location", location)],
            body.to_string().as_bytes(),
        )?;
        return Ok(Some(()));
    }
    let Some(token) = token else { return Ok(None) };
    let Some((basic, id)) = state.sessions.lock().unwrap().get(&token).cloned() else {
        respond(stream, 401, &redfish_error("No such session"))?;
        return Ok(Some(()));
    };
    if request.method == "DELETE" && request.path == format!("{SESSIONS}/{id}") {
        state.sessions.lock().unwrap().remove(&token);
        state.note(format!("session {id} closed"));
        respond(stream, 204, b"")?;
        return Ok(Some(()));
    }
    request
        .headers
        .retain(|(k, _)| !k.eq_ignore_ascii_case("x-auth-token"));
    request.headers.push(("Authorization".into(), basic));
    Ok(None)
}

/// A system's ETag: its body's hash, as the emulator has it now.
fn etag_of(body: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    format!("W/\"{:016x}\"", h.finish())
}

fn serve(mut stream: TcpStream, state: &State) -> std::io::Result<()> {
    let Some(mut request) = read_request(&mut stream)? else {
        return Ok(());
    };
    if state.features.sessions {
        if sessions(&mut stream, state, &mut request)?.is_some() {
            return Ok(());
        }
        if request.method == "GET" && request.path.trim_end_matches('/') == "/redfish/v1" {
            // A real service root needs no login (the emulator's does).
            use base64ct::Encoding;
            let login = format!("{}:{}", crate::redfish::USER, crate::redfish::PASSWORD);
            request
                .headers
                .retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
            request.headers.push((
                "Authorization".into(),
                format!(
                    "Basic {}",
                    base64ct::Base64::encode_string(login.as_bytes())
                ),
            ));
            let (status, body) = forward(state.upstream, &request)?;
            let mut root: Value = serde_json::from_slice(&body).unwrap_or_default();
            if status == 200 {
                root["Links"]["Sessions"] =
                    json!({"@odata.id": "/redfish/v1/SessionService/Sessions"});
            }
            return respond(&mut stream, status, root.to_string().as_bytes());
        }
    }
    let system = system_of(&request.path).map(str::to_string);
    let Some(system) = system else {
        let (status, body) = forward(state.upstream, &request)?;
        return respond(&mut stream, status, &body);
    };
    let is_system = request.path.trim_end_matches('/') == format!("/redfish/v1/Systems/{system}");
    if state.features.etags && is_system {
        if request.method == "PATCH" {
            let probe = Request {
                method: "GET".into(),
                path: request.path.clone(),
                headers: request.headers.clone(),
                body: Vec::new(),
            };
            let (_, now) = forward(state.upstream, &probe)?;
            let sent = header(&request, "if-match").map(str::to_string);
            let stale =
                state.has(&system, &Fault::StaleOnFirstPatch) && state.first(&system, "412");
            state.note(format!(
                "{system}: PATCH {}",
                if sent.is_some() {
                    "with If-Match"
                } else {
                    "without If-Match"
                }
            ));
            if stale || sent.as_ref().is_some_and(|e| *e != etag_of(&now)) {
                state.note(format!("{system}: 412 on PATCH"));
                return respond(&mut stream, 412, &redfish_error("The resource has changed"));
            }
        } else if request.method == "GET"
            && state.vendor(&system).is_none()
            && !state.has(&system, &Fault::DropFirstGet)
        {
            let (status, body) = forward(state.upstream, &request)?;
            let etag = etag_of(&body);
            return respond_with(&mut stream, status, &[("ETag", etag)], &body);
        }
    }
    let is_insert = request.path.ends_with("/Actions/VirtualMedia.InsertMedia");

    if request.method == "GET"
        && is_system
        && state.has(&system, &Fault::DropFirstGet)
        && state.first(&system, "drop")
    {
        state.note(format!(
            "{system}: dropped the connection of GET {}",
            request.path
        ));
        return Ok(()); // closed without a word
    }
    if is_insert && state.has(&system, &Fault::BusyOnFirstInsert) && state.first(&system, "503") {
        state.note(format!("{system}: 503 on InsertMedia"));
        return respond(&mut stream, 503, &redfish_error("The service is busy"));
    }
    if request.method == "PATCH" && is_system && state.has(&system, &Fault::IgnoresBootOnce) {
        state.note(format!("{system}: accepted and ignored a boot override"));
        return respond(&mut stream, 204, b"");
    }
    if let Some(vendor) = state.vendor(&system) {
        if is_insert {
            let probe = Request {
                method: "GET".into(),
                path: format!("/redfish/v1/Systems/{system}"),
                headers: request.headers.clone(),
                body: Vec::new(),
            };
            let (_, body) = forward(state.upstream, &probe)?;
            let power = serde_json::from_slice::<Value>(&body).unwrap_or_default()["PowerState"]
                .as_str()
                .unwrap_or("")
                .to_string();
            if power != "Off" {
                state.note(format!("{system} ({vendor}): refused media while {power}"));
                return respond(
                    &mut stream,
                    409,
                    &redfish_error(
                        "Virtual media cannot be inserted while the system is powered on",
                    ),
                );
            }
        }
        if request.method == "PATCH" && is_system {
            let mut body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            let target = body["Boot"]["BootSourceOverrideTarget"]
                .as_str()
                .unwrap_or("")
                .to_string();
            if target == "Cd" {
                state.note(format!("{system} ({vendor}): refused target Cd"));
                return respond(
                    &mut stream,
                    400,
                    &redfish_error(
                        "The value Cd for BootSourceOverrideTarget is not allowed; use UsbCd",
                    ),
                );
            }
            if target == "UsbCd" {
                body["Boot"]["BootSourceOverrideTarget"] = json!("Cd");
                request.body = body.to_string().into_bytes();
            }
        }
        let (status, body) = forward(state.upstream, &request)?;
        if request.method == "GET" && is_system && status == 200 {
            let mut value: Value = serde_json::from_slice(&body).unwrap_or_default();
            value["Manufacturer"] = json!(vendor);
            if value["Boot"]["BootSourceOverrideTarget"] == "Cd" {
                value["Boot"]["BootSourceOverrideTarget"] = json!("UsbCd");
            }
            return respond(&mut stream, 200, value.to_string().as_bytes());
        }
        return respond(&mut stream, status, &body);
    }
    let (status, body) = forward(state.upstream, &request)?;
    respond(&mut stream, status, &body)
}
