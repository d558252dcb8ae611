//! One BMC's Redfish service: JSON over HTTPS with basic authentication,
//! timeouts, and retries with backoff when the BMC is busy (429, 5xx) or the
//! connection drops. Every retry is counted and noted for the node's result.
//! The password goes into the Authorization header and nowhere else.

use super::error::BmcError;
use super::retry::{busy_status, Outcome, Policy};
use super::tls::{self, Seen, Trust};
use crate::site::secrets::BmcPassword;
use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

pub struct Redfish {
    endpoint: Endpoint,
    http: Client,
    seen: Seen,
    retry: Policy,
    retries: AtomicU32,
    notes: Mutex<Vec<String>>,
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
        })
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
        self.send(Method::GET, path, None)
    }

    pub fn patch(&self, path: &str, body: &Value) -> Result<Value, BmcError> {
        self.send(Method::PATCH, path, Some(body))
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value, BmcError> {
        self.send(Method::POST, path, Some(body))
    }

    fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value, BmcError> {
        let url = format!("{}{}", self.endpoint.base, path);
        let mut attempt = 1;
        loop {
            let (outcome, error) = match self.once(&method, &url, path, body) {
                Ok(value) => return Ok(value),
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
    ) -> Result<Value, (Outcome, BmcError)> {
        let mut request = self
            .http
            .request(method.clone(), url)
            .basic_auth(&self.endpoint.user, Some(self.endpoint.password.expose()))
            .header(reqwest::header::ACCEPT, "application/json");
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
        let bytes = match response.bytes() {
            Ok(bytes) => bytes,
            Err(e) => return Err(self.transport_error(url, &e)),
        };
        if (200..300).contains(&status) {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&bytes).map_err(|e| {
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
