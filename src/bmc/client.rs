//! One BMC's Redfish service: JSON over HTTPS, timeouts, and retries with
//! backoff when the BMC is busy (429, 5xx) or the connection drops. Every
//! retry is counted and noted for the node's result.
//!
//! [`Redfish::login`] opens a Redfish session when the service root lists
//! `Links.Sessions` (POST of the user and password, then the `X-Auth-Token`
//! on every request, the session DELETEd by [`Redfish::logout`]); a BMC
//! without a SessionService gets basic authentication on every request, as
//! noted. The password goes into the session request or the Authorization
//! header and nowhere else; the token into its header and nowhere else.
//!
//! A PATCH carries `If-Match` with the ETag the BMC gave when the resource
//! was last read (the `ETag` header, else `@odata.etag`); a 412 (changed
//! since) reads it again and sends the PATCH once more.

use super::error::BmcError;
use super::retry::{busy_status, Outcome, Policy};
use super::tls::{self, Seen, Trust};
use crate::site::secrets::BmcPassword;
use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zeroize::Zeroizing;

/// How aerie talks to every BMC of a run (TLS trust is each BMC's own:
/// [`Endpoint::trust`]).
#[derive(Debug, Clone)]
pub struct Options {
    /// The longest one request may take (connect, send, answer).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retry: Policy,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: Policy::default(),
        }
    }
}

/// Where one BMC is and who logs in.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `https://host:port`, no trailing slash.
    pub base: String,
    pub user: String,
    pub password: BmcPassword,
    pub trust: Trust,
}

/// An open Redfish session.
struct Session {
    token: Zeroizing<String>,
    /// The session's own path, DELETEd at logout.
    path: Option<String>,
}

pub struct Redfish {
    endpoint: Endpoint,
    http: Client,
    seen: Seen,
    retry: Policy,
    retries: AtomicU32,
    notes: Mutex<Vec<String>>,
    session: Mutex<Option<Session>>,
    /// The ETag of each resource when it was last read.
    etags: Mutex<HashMap<String, String>>,
    /// The service root, once read.
    root: Mutex<Option<Value>>,
}

/// What one request brought back.
struct Answer {
    body: Value,
    headers: reqwest::header::HeaderMap,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

/// How a request authenticates.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// The session's token, else basic authentication.
    Login,
    /// Nothing: the session request carries the credentials in its body.
    None,
}

impl Redfish {
    pub fn new(endpoint: Endpoint, options: &Options) -> anyhow::Result<Redfish> {
        let seen: Seen = Arc::new(Mutex::new(None));
        // Always aerie's own TLS configuration (reqwest has no crypto provider
        // of its own), used only for https addresses.
        let http = Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("aerie/", env!("CARGO_PKG_VERSION")))
            .tls_backend_preconfigured(tls::client_config(endpoint.trust, seen.clone())?)
            .build()?;
        Ok(Redfish {
            endpoint,
            http,
            seen,
            retry: options.retry,
            retries: AtomicU32::new(0),
            notes: Mutex::new(Vec::new()),
            session: Mutex::new(None),
            etags: Mutex::new(HashMap::new()),
            root: Mutex::new(None),
        })
    }

    /// Open a session if the BMC has a SessionService, else go on with
    /// basic authentication (noted). Wrong credentials are an error either way.
    pub fn login(&self) -> Result<(), BmcError> {
        let root = self.service_root()?;
        let Some(sessions) = root["Links"]["Sessions"]["@odata.id"].as_str() else {
            self.note("the BMC has no SessionService: basic authentication".to_string());
            return Ok(());
        };
        let body = serde_json::json!({
            "UserName": self.endpoint.user,
            "Password": self.endpoint.password.expose(),
        });
        let answer = match self.send(Method::POST, sessions, Some(&body), Auth::None) {
            Err(BmcError::Http {
                status: status @ (404 | 405 | 501),
                ..
            }) => {
                self.note(format!(
                    "the BMC lists a SessionService but refuses sessions (HTTP {status}): basic authentication"
                ));
                return Ok(());
            }
            other => other?,
        };
        let Some(token) = answer.header("x-auth-token") else {
            self.note(
                "the BMC opened a session but gave no X-Auth-Token: basic authentication"
                    .to_string(),
            );
            return Ok(());
        };
        let path = answer
            .header("location")
            .or_else(|| answer.body["@odata.id"].as_str().map(str::to_string))
            .map(|p| self.path_of(&p));
        *self.session.lock().expect("session") = Some(Session {
            token: Zeroizing::new(token),
            path,
        });
        Ok(())
    }

    /// The service root (`/redfish/v1/`), read once.
    pub fn service_root(&self) -> Result<Value, BmcError> {
        if let Some(root) = &*self.root.lock().expect("root") {
            return Ok(root.clone());
        }
        let root = self.get("/redfish/v1/")?;
        *self.root.lock().expect("root") = Some(root.clone());
        Ok(root)
    }

    /// Close the session, if one is open; a failure is noted, not an error
    /// (the BMC times the session out).
    pub fn logout(&self) {
        let path = match &*self.session.lock().expect("session") {
            Some(Session { path: Some(p), .. }) => p.clone(),
            _ => return,
        };
        if let Err(e) = self.send(Method::DELETE, &path, None, Auth::Login) {
            self.note(format!(
                "could not close the session ({}); the BMC times it out",
                short(&e)
            ));
        }
        *self.session.lock().expect("session") = None;
    }

    /// A `Location` may be a whole URL: its path.
    fn path_of(&self, location: &str) -> String {
        match location.strip_prefix(&self.endpoint.base) {
            Some(path) => path.to_string(),
            None => location.to_string(),
        }
    }

    /// Retries made so far, over all requests.
    pub fn retries(&self) -> u32 {
        self.retries.load(Ordering::Relaxed)
    }

    /// What happened on the way (retries, quirks), for the node's result.
    pub fn notes(&self) -> Vec<String> {
        self.notes.lock().expect("notes").clone()
    }

    pub fn note(&self, text: String) {
        self.notes.lock().expect("notes").push(text);
    }

    /// Count a retry the caller made itself (a step done again).
    pub fn count_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self, path: &str) -> Result<Value, BmcError> {
        let answer = self.send(Method::GET, path, None, Auth::Login)?;
        let etag = answer
            .header("etag")
            .or_else(|| answer.body["@odata.etag"].as_str().map(str::to_string));
        let mut etags = self.etags.lock().expect("etags");
        match etag {
            Some(etag) => etags.insert(path.to_string(), etag),
            None => etags.remove(path),
        };
        Ok(answer.body)
    }

    /// PATCH with `If-Match` when the resource's ETag is known; read it
    /// again and send once more when the BMC says it changed (412).
    pub fn patch(&self, path: &str, body: &Value) -> Result<Value, BmcError> {
        match self.send(Method::PATCH, path, Some(body), Auth::Login) {
            Err(BmcError::Http { status: 412, .. }) => {
                self.count_retry();
                self.note(format!(
                    "PATCH {path}: HTTP 412 (changed since read); read it again and sent again"
                ));
                self.get(path)?;
                Ok(self
                    .send(Method::PATCH, path, Some(body), Auth::Login)?
                    .body)
            }
            other => Ok(other?.body),
        }
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value, BmcError> {
        Ok(self.send(Method::POST, path, Some(body), Auth::Login)?.body)
    }

    fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        auth: Auth,
    ) -> Result<Answer, BmcError> {
        let url = format!("{}{}", self.endpoint.base, path);
        let mut attempt = 1;
        loop {
            let (outcome, error) = match self.once(&method, &url, path, body, auth) {
                Ok(answer) => return Ok(answer),
                Err((outcome, error)) => (outcome, error),
            };
            attempt += 1;
            let Some(wait) = self.retry.wait(outcome, attempt, jitter()) else {
                return Err(error);
            };
            self.retries.fetch_add(1, Ordering::Relaxed);
            self.note(format!(
                "{method} {path}: {}; retried after {:.1} s",
                short(&error),
                wait.as_secs_f64()
            ));
            std::thread::sleep(wait);
        }
    }

    /// One attempt: the answer, or what it came to and the error to report.
    fn once(
        &self,
        method: &Method,
        url: &str,
        path: &str,
        body: Option<&Value>,
        auth: Auth,
    ) -> Result<Answer, (Outcome, BmcError)> {
        let mut request = self
            .http
            .request(method.clone(), url)
            .header(reqwest::header::ACCEPT, "application/json");
        if auth == Auth::Login {
            request = match &*self.session.lock().expect("session") {
                Some(session) => {
                    let mut token = reqwest::header::HeaderValue::from_str(&session.token)
                        .map_err(|_| {
                            (
                                Outcome::Final,
                                BmcError::Protocol(
                                    "the BMC's session token is not a valid header value"
                                        .to_string(),
                                ),
                            )
                        })?;
                    token.set_sensitive(true);
                    request.header("X-Auth-Token", token)
                }
                None => {
                    request.basic_auth(&self.endpoint.user, Some(self.endpoint.password.expose()))
                }
            };
        }
        if *method == Method::PATCH {
            if let Some(etag) = self.etags.lock().expect("etags").get(path) {
                request = request.header(reqwest::header::IF_MATCH, etag.as_str());
            }
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(body).expect("JSON serializes"));
        }
        let response = match request.send() {
            Ok(response) => response,
            Err(e) => return Err(self.transport_error(url, &e)),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let headers = response.headers().clone();
        let bytes = match response.bytes() {
            Ok(bytes) => bytes,
            Err(e) => return Err(self.transport_error(url, &e)),
        };
        if (200..300).contains(&status) {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Answer {
                    body: Value::Null,
                    headers,
                });
            }
            return serde_json::from_slice(&bytes)
                .map(|body| Answer { body, headers })
                .map_err(|e| {
                    (
                        Outcome::Final,
                        BmcError::Protocol(format!(
                            "{method} {path}: the BMC's answer is not JSON ({e})"
                        )),
                    )
                });
        }
        if status == 401 || status == 403 {
            return Err((
                Outcome::Final,
                BmcError::Auth {
                    user: self.endpoint.user.clone(),
                    status,
                },
            ));
        }
        let error = BmcError::Http {
            method: method.to_string(),
            path: path.to_string(),
            status,
            message: redfish_message(&bytes),
        };
        let outcome = if busy_status(status) {
            Outcome::Busy(retry_after)
        } else {
            Outcome::Final
        };
        Err((outcome, error))
    }

    fn transport_error(&self, url: &str, e: &reqwest::Error) -> (Outcome, BmcError) {
        let detail = chain(e);
        let presented = *self.seen.lock().expect("seen");
        let tls_refused = detail.contains("certificate") || detail.contains("pinned");
        if tls_refused && url.starts_with("https://") {
            let pinned = match self.endpoint.trust {
                Trust::Pin(pin) => Some(pin),
                _ => None,
            };
            return (
                Outcome::Final,
                BmcError::Tls {
                    detail: tls_reason(&detail),
                    presented,
                    pinned,
                },
            );
        }
        let what = if e.is_timeout() {
            "no answer in time".to_string()
        } else if e.is_connect() {
            format!("connection failed: {}", last_cause(&detail))
        } else {
            format!("the connection dropped: {}", last_cause(&detail))
        };
        (
            Outcome::NoAnswer,
            BmcError::Unreachable {
                url: self.endpoint.base.clone(),
                detail: what,
            },
        )
    }
}

/// An error and all its causes, as one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

fn last_cause(detail: &str) -> &str {
    detail.rsplit(": ").next().unwrap_or(detail)
}

/// The part of a TLS failure that says why (rustls's words).
fn tls_reason(detail: &str) -> String {
    match detail.find("invalid peer certificate") {
        Some(i) => detail[i..].to_string(),
        None => last_cause(detail).to_string(),
    }
}

/// The short form of an error for a retry note.
fn short(e: &BmcError) -> String {
    match e {
        BmcError::Http { status, .. } => format!("HTTP {status}"),
        BmcError::Unreachable { detail, .. } => detail.clone(),
        other => other.to_string(),
    }
}

/// What a Redfish error body says (`error.@Message.ExtendedInfo[].Message`,
/// else `error.message`), else the start of the text.
fn redfish_message(bytes: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        let error = &value["error"];
        let extended: Vec<&str> = error["@Message.ExtendedInfo"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["Message"].as_str())
            .collect();
        if !extended.is_empty() {
            return extended.join("; ");
        }
        if let Some(message) = error["message"].as_str() {
            return message.to_string();
        }
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.is_empty() {
        return "(no message)".to_string();
    }
    text.chars().take(200).collect()
}

/// A number in 0..1 that differs between threads and moments, to spread
/// retries (no randomness needed beyond that).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() % 1000) as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redfish_error_messages_are_read() {
        let body = br#"{"error":{"code":"Base.1.0.GeneralError","message":"general","@Message.ExtendedInfo":[{"Message":"The media is already inserted."}]}}"#;
        assert_eq!(redfish_message(body), "The media is already inserted.");
        assert_eq!(redfish_message(br#"{"error":{"message":"busy"}}"#), "busy");
        assert_eq!(
            redfish_message(b"Service Unavailable"),
            "Service Unavailable"
        );
        assert_eq!(redfish_message(b""), "(no message)");
    }
}
