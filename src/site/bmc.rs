//! A node's baseboard management controller (`nodes[].bmc`): how `aerie bmc`
//! reaches it over Redfish. The password is not here: it is kept in the site's
//! secrets file (`bmc-passwords:`, see `secrets.rs`).
//!
//! ```yaml
//! bmc:
//!   type: redfish
//!   address: https://10.20.1.11       # or host[:port]; https when no scheme
//!   user: admin
//!   system-id: System.Embedded.1      # optional: the BMC's only system by default
//!   tls-fingerprint: "sha256:AB:CD:…" # optional: pin the BMC's certificate
//! ```

use super::fields::{checked_text, no_leading_hyphen, string_conversions, FieldError};
use super::findings::Finding;
use super::model::Site;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// A node's BMC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Bmc {
    #[serde(rename = "type")]
    pub kind: BmcKind,
    pub address: BmcAddress,
    pub user: BmcUser,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_id: Option<SystemId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_fingerprint: Option<TlsFingerprint>,
}

/// The protocol aerie speaks to the BMC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BmcKind {
    Redfish,
}

fn refuse(message: String, fix: &str) -> FieldError {
    FieldError {
        message,
        fix: fix.to_string(),
    }
}

/// Where the BMC listens: `https://host[:port]`, `http://host[:port]` or
/// `host[:port]` (https). Host: a DNS name, an IPv4 address or `[IPv6]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BmcAddress {
    text: String,
    tls: bool,
    host: String,
    port: u16,
}

const ADDRESS_FIX: &str =
    "give the BMC as https://HOST[:PORT] (or HOST[:PORT]), for example `https://10.20.1.11`";

impl BmcAddress {
    /// The Redfish service's base URL, without a trailing slash.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}:{}", self.host, self.port)
    }

    /// Whether requests go over TLS.
    pub fn tls(&self) -> bool {
        self.tls
    }
}

impl FromStr for BmcAddress {
    type Err = FieldError;
    fn from_str(value: &str) -> Result<Self, FieldError> {
        let bad = |why: &str| {
            refuse(
                format!("{value:?} is not a BMC address: {why}"),
                ADDRESS_FIX,
            )
        };
        if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(bad("it contains a space or a control character"));
        }
        let (tls, rest) = match value.split_once("://") {
            Some(("https", rest)) => (true, rest),
            Some(("http", rest)) => (false, rest),
            Some((scheme, _)) => {
                return Err(bad(&format!("the scheme {scheme:?} is not https or http")))
            }
            None => (true, value),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(bad("it has a path, a query or a user part"));
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (addr, after) = v6.split_once(']').ok_or_else(|| bad("an unclosed `[`"))?;
            addr.parse::<std::net::Ipv6Addr>()
                .map_err(|_| bad("the part in [] is not an IPv6 address"))?;
            (format!("[{addr}]"), after.strip_prefix(':'))
        } else {
            match rest.split_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (rest.to_string(), None),
            }
        };
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p > 0)
                .ok_or_else(|| bad("the port is not 1..65535"))?,
            None => {
                if tls {
                    443
                } else {
                    80
                }
            }
        };
        if !host.starts_with('[') {
            let ok = !host.is_empty()
                && host.len() <= 253
                && !host.starts_with(['-', '.'])
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
            if !ok {
                return Err(bad("the host is not a DNS name or an IP address"));
            }
        }
        Ok(BmcAddress {
            text: value.to_string(),
            tls,
            host,
            port,
        })
    }
}

impl fmt::Display for BmcAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

checked_text!(
    /// The BMC account aerie logs in with.
    BmcUser,
    "a BMC user name",
    "use the BMC account's name: letters, digits, '.', '_', '@' and '-', at most 64 characters (for example `admin`)",
    max = 64,
    |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'),
    extra = no_leading_hyphen
);

checked_text!(
    /// A Redfish ComputerSystem id (the last part of `/redfish/v1/Systems/ID`).
    SystemId,
    "a Redfish system id",
    "use the id the BMC lists under /redfish/v1/Systems (for example `1` or `System.Embedded.1`): letters, digits, '.', '_', ':' and '-'",
    max = 128,
    |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'),
    extra = no_leading_hyphen
);

/// The SHA-256 fingerprint of the BMC's TLS certificate (its DER bytes), as
/// `sha256:` and 64 hex digits, colons between pairs allowed (what `openssl
/// x509 -noout -fingerprint -sha256` prints). Written back as `sha256:AB:CD:…`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TlsFingerprint([u8; 32]);

const FINGERPRINT_FIX: &str = "give `sha256:` and the certificate's 64 hex digits, as `openssl x509 -noout -fingerprint -sha256 -in CERT` prints them (aerie bmc prints the BMC's when it refuses it)";

impl TlsFingerprint {
    pub fn of(der: &[u8]) -> TlsFingerprint {
        use sha2::Digest;
        TlsFingerprint(sha2::Sha256::digest(der).into())
    }
}

impl FromStr for TlsFingerprint {
    type Err = FieldError;
    fn from_str(value: &str) -> Result<Self, FieldError> {
        let bad = || {
            refuse(
                format!("{value:?} is not a TLS fingerprint"),
                FINGERPRINT_FIX,
            )
        };
        let (algo, hex) = value.split_once(':').ok_or_else(bad)?;
        if !algo.eq_ignore_ascii_case("sha256") {
            return Err(bad());
        }
        let digits: String = hex.chars().filter(|&c| c != ':').collect();
        if digits.len() != 64 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(TlsFingerprint(out))
    }
}

impl fmt::Display for TlsFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pairs: Vec<String> = self.0.iter().map(|b| format!("{b:02X}")).collect();
        write!(f, "sha256:{}", pairs.join(":"))
    }
}

impl fmt::Debug for TlsFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

string_conversions!(display: BmcAddress, TlsFingerprint);

/// The rules between BMC values: one node per BMC system, a pin only over
/// TLS, a warning for plain HTTP (the password would cross in clear).
pub fn check(site: &Site, out: &mut Vec<Finding>) {
    let mut seen: HashMap<(String, Option<&str>), usize> = HashMap::new();
    let mut by_address: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, node) in site.nodes.iter().enumerate() {
        let Some(bmc) = &node.bmc else { continue };
        let key = format!("nodes[{i}].bmc");
        let url = bmc.address.base_url();
        let system = bmc.system_id.as_ref().map(SystemId::as_str);
        if let Some(first) = seen.insert((url.clone(), system), i) {
            out.push(Finding::error(
                format!("{key}.address"),
                format!(
                    "nodes[{first}] ({}) already uses this BMC{}",
                    site.nodes[first].hostname,
                    system.map_or(String::new(), |s| format!(" and system-id {s}"))
                ),
                "give each node its own BMC, or, for one BMC that manages several systems, each node its own `system-id`",
            ));
        }
        by_address.entry(url).or_default().push(i);
        if !bmc.address.tls() {
            if bmc.tls_fingerprint.is_some() {
                out.push(Finding::error(
                    format!("{key}.tls-fingerprint"),
                    "a fingerprint pins a TLS certificate, and this BMC is reached over plain http",
                    "use an https:// address, or remove tls-fingerprint",
                ));
            }
            out.push(Finding::warning(
                format!("{key}.address"),
                "plain http: the BMC password crosses the network in clear",
                "use the BMC's https:// address (pin its certificate with `tls-fingerprint`)",
            ));
        }
    }
    for nodes in by_address.values().filter(|n| n.len() > 1) {
        for &i in nodes {
            let bmc = site.nodes[i].bmc.as_ref().expect("collected above");
            if bmc.system_id.is_none() {
                out.push(Finding::error(
                    format!("nodes[{i}].bmc.system-id"),
                    format!(
                        "{} nodes share this BMC, and this one does not say which of its systems it is",
                        nodes.len()
                    ),
                    "add `system-id` (an id under the BMC's /redfish/v1/Systems) to every node on that BMC",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_with_defaults() {
        let a: BmcAddress = "10.0.0.5".parse().unwrap();
        assert_eq!(a.base_url(), "https://10.0.0.5:443");
        let a: BmcAddress = "http://bmc-1.example.org:8000/".parse().unwrap();
        assert_eq!(a.base_url(), "http://bmc-1.example.org:8000");
        assert!(!a.tls());
        let a: BmcAddress = "https://[fd00::5]:8443".parse().unwrap();
        assert_eq!(a.base_url(), "https://[fd00::5]:8443");
        for bad in [
            "ftp://x",
            "https://x/redfish",
            "x:0",
            "x:99999",
            "-x",
            "a b",
            "https://u@x",
            "[::1",
            "",
        ] {
            assert!(bad.parse::<BmcAddress>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn fingerprints_take_both_forms_and_print_one() {
        let hex = "ab".repeat(32);
        let a: TlsFingerprint = format!("sha256:{hex}").parse().unwrap();
        let colons = vec!["AB"; 32].join(":");
        let b: TlsFingerprint = format!("SHA256:{colons}").parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), format!("sha256:{colons}"));
        for bad in ["sha1:ab", "sha256:abc", &format!("md5:{hex}"), &hex] {
            assert!(bad.parse::<TlsFingerprint>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn ids_and_users_refuse_url_and_shell_characters() {
        for bad in ["a/b", "a?b", "-x", "a b", "a;b", ""] {
            assert!(bad.parse::<SystemId>().is_err(), "{bad:?} accepted");
            assert!(bad.parse::<BmcUser>().is_err(), "{bad:?} accepted");
        }
        assert!("System.Embedded.1".parse::<SystemId>().is_ok());
        assert!("ops@example".parse::<BmcUser>().is_ok());
    }
}
