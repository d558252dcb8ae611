//! One typed error per way a BMC fails, each saying what to do about it.

use crate::site::bmc::TlsFingerprint;

#[derive(Debug, thiserror::Error)]
pub enum BmcError {
    #[error("cannot reach the BMC at {url} ({detail}); check the address, that the BMC is up, and that this machine reaches its network")]
    Unreachable { url: String, detail: String },
    #[error("{}", tls_message(detail, *presented, *pinned))]
    Tls {
        detail: String,
        presented: Option<TlsFingerprint>,
        pinned: Option<TlsFingerprint>,
    },
    #[error("the BMC refused the login of {user:?} (HTTP {status}); check bmc.user in the site and the password in the secrets file (`aerie bmc password NODE` sets it)")]
    Auth { user: String, status: u16 },
    #[error("{method} {path}: HTTP {status}: {message}")]
    Http {
        method: String,
        path: String,
        status: u16,
        message: String,
    },
    #[error("{0}")]
    Protocol(String),
}

fn tls_message(
    detail: &str,
    presented: Option<TlsFingerprint>,
    pinned: Option<TlsFingerprint>,
) -> String {
    match (presented, pinned) {
        (Some(seen), Some(pin)) => format!(
            "the BMC presented the certificate {seen}, not the pinned {pin}: if its certificate was replaced, check the new one on the BMC's console and set `tls-fingerprint: \"{seen}\"`; if not, something is between aerie and the BMC"
        ),
        (Some(seen), None) => format!(
            "the BMC's TLS certificate is not trusted ({detail}); it presented {seen}: check that fingerprint on the BMC's console, then pin it with `tls-fingerprint: \"{seen}\"` under the node's bmc (or pass --insecure to trust any certificate)"
        ),
        (None, _) => format!("TLS with the BMC failed ({detail}); check that the address speaks https, or use http:// if the BMC has no TLS"),
    }
}

impl BmcError {
    /// Whether this error means nothing was reached (for the summary).
    pub fn unreachable(&self) -> bool {
        matches!(self, BmcError::Unreachable { .. })
    }
}
