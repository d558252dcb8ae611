//! Value types of the site file that are more than plain strings.
//!
//! Each type checks its text when it is parsed, so a bad value is reported with
//! the key that holds it, and nothing that could break a file or a shell line
//! (newlines, control characters, shell metacharacters) ever gets in. The wizard
//! parses every answer through these same types.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why a value was refused, and what would be right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub message: String,
    pub fix: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; {}", self.message, self.fix)
    }
}

impl std::error::Error for FieldError {}

fn refuse(value: &str, what: &str, fix: &str) -> FieldError {
    FieldError {
        message: format!("{value:?} is not {what}"),
        fix: fix.to_string(),
    }
}

/// The first character that has no place in a value written into a file or a
/// command line, described for a message.
pub(crate) fn forbidden_char(value: &str, allowed: impl Fn(char) -> bool) -> Option<String> {
    value.chars().find(|&c| !allowed(c)).map(|c| match c {
        '\n' => "a newline".to_string(),
        c if c.is_control() => format!("the control character {:?}", c),
        ' ' => "a space".to_string(),
        c => format!("{c:?}"),
    })
}

/// Declares a string newtype checked by a character set and length (and
/// `extra`); every site type of text uses it (`site::bmc` too).
macro_rules! checked_text {
    ($(#[$doc:meta])* $name:ident, $what:expr, $fix:expr, max = $max:expr, |$c:ident| $allowed:expr, extra = $extra:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::site::fields::FieldError;
            fn from_str(value: &str) -> Result<Self, $crate::site::fields::FieldError> {
                if value.is_empty() {
                    return Err($crate::site::fields::FieldError {
                        message: format!("an empty value is not {}", $what),
                        fix: $fix.to_string(),
                    });
                }
                if let Some(bad) = $crate::site::fields::forbidden_char(value, |$c: char| $allowed) {
                    return Err($crate::site::fields::FieldError {
                        message: format!("{value:?} contains {bad}, which is not allowed in {}", $what),
                        fix: $fix.to_string(),
                    });
                }
                if value.len() > $max {
                    return Err($crate::site::fields::FieldError {
                        message: format!("{value:?} is longer than {} characters", $max),
                        fix: $fix.to_string(),
                    });
                }
                let extra: fn(&str) -> Option<&'static str> = $extra;
                if let Some(problem) = extra(value) {
                    return Err($crate::site::fields::FieldError {
                        message: format!("{value:?} is not {}: {problem}", $what),
                        fix: $fix.to_string(),
                    });
                }
                Ok($name(value.to_string()))
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::site::fields::FieldError;
            fn try_from(value: String) -> Result<Self, $crate::site::fields::FieldError> {
                value.parse()
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use checked_text;

fn no_edge_hyphen(value: &str) -> Option<&'static str> {
    (value.starts_with('-') || value.ends_with('-')).then_some("it starts or ends with '-'")
}

fn dns_labels(value: &str) -> Option<&'static str> {
    if value.split('.').any(|label| label.is_empty()) {
        return Some("it has an empty label (two dots, or a dot at an end)");
    }
    if value
        .split('.')
        .any(|label| label.len() > 63 || label.starts_with('-') || label.ends_with('-'))
    {
        return Some("a label is longer than 63 characters or starts or ends with '-'");
    }
    None
}

fn nothing_more(_: &str) -> Option<&'static str> {
    None
}

/// Values that end up as arguments of commands (kickstart's `timezone`,
/// `timesource` and `ignoredisk`, `openstack flavor create`, `grubby`,
/// `ip link`, ssh) must not start with '-': it would be read as an option.
pub(crate) fn no_leading_hyphen(value: &str) -> Option<&'static str> {
    value
        .starts_with('-')
        .then_some("it starts with '-', which a command would read as an option")
}

/// A time zone: a name of the tz database (compiled in by chrono-tz, so the
/// check never depends on this machine's /usr/share/zoneinfo).
fn tz_name(value: &str) -> Option<&'static str> {
    if let Some(problem) = no_leading_hyphen(value) {
        return Some(problem);
    }
    if value.starts_with('/') || value.contains("..") {
        return Some("it is a path");
    }
    value
        .parse::<chrono_tz::Tz>()
        .is_err()
        .then_some("the tz database has no zone of that name")
}

checked_text!(
    /// A name used in labels, file names and the cloud's network names: `[a-z0-9-]`.
    Name,
    "a valid name",
    "use lowercase letters, digits and '-' (for example `demo-net`)",
    max = 32,
    |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
    extra = no_edge_hyphen
);

checked_text!(
    /// A host name: one RFC 1123 label.
    Hostname,
    "a valid host name",
    "use one RFC 1123 label: lowercase letters, digits and '-', at most 63 characters (for example `node1`)",
    max = 63,
    |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
    extra = no_edge_hyphen
);

checked_text!(
    /// A DNS domain name.
    Domain,
    "a valid domain name",
    "use dot-separated labels of lowercase letters, digits and '-' (for example `lab.example.org`)",
    max = 253,
    |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.',
    extra = dns_labels
);

checked_text!(
    /// A host name or address, as given for NTP servers or SSH targets.
    HostOrAddress,
    "a host name or IP address",
    "give a DNS name such as `0.pool.ntp.org` or an IP address",
    max = 253,
    |c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == ':',
    extra = no_leading_hyphen
);

checked_text!(
    /// A container registry, `host` or `host:port` with an optional path
    /// (`registry.lab.example.org:4000`, `10.20.0.5:5000/kolla`): where the
    /// kolla profile pulls its images on a site without internet.
    Registry,
    "a container registry (host or host:port)",
    "give the registry as `host:port` without a scheme, such as `registry.lab.example.org:4000`",
    max = 253,
    |c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '/' | '_'),
    extra = registry_shape
);

fn registry_shape(value: &str) -> Option<&'static str> {
    if value.starts_with('-') {
        return Some("it starts with '-' and would be read as an option");
    }
    if value.contains("://") {
        return Some("it has a scheme (Kolla wants host:port only)");
    }
    if value.starts_with(['/', '.', ':']) || value.ends_with(['/', ':', '.']) {
        return Some("it starts or ends with '/', ':' or '.'");
    }
    None
}

checked_text!(
    /// A time zone name such as `UTC` or `Europe/Berlin`.
    Timezone,
    "a time zone name",
    "use a tz database name such as `UTC` or `Europe/Berlin` (`timedatectl list-timezones` lists them)",
    max = 64,
    |c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'),
    extra = tz_name
);

checked_text!(
    /// A network device name such as `eth0` or `enp3s0f1`.
    DeviceName,
    "a network device name",
    "use the kernel's name for the device, such as `eth0` or `enp3s0f1` (at most 15 characters)",
    max = 15,
    |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'),
    extra = no_leading_hyphen
);

checked_text!(
    /// A disk to install on, such as `sda`, `nvme0n1` or `/dev/disk/by-id/...`.
    DiskName,
    "a disk name",
    "use a kernel disk name such as `sda` or `nvme0n1`, or a /dev/disk/by-id/ path",
    max = 255,
    |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':'),
    extra = |v| no_leading_hyphen(v).or_else(|| v.contains("..").then_some("it contains `..`"))
);

checked_text!(
    /// A login name on a host.
    UserName,
    "a user name",
    "use a POSIX login name: lowercase letters, digits, '_' and '-', starting with a letter or '_'",
    max = 32,
    |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-',
    extra = |v| v.starts_with(|c: char| c.is_ascii_digit() || c == '-').then_some("it starts with a digit or '-'")
);

checked_text!(
    /// A kernel module name such as `mlx4_core`.
    ModuleName,
    "a kernel module name",
    "use the module's name as `lsmod` shows it, such as `mlx4_core`",
    max = 56,
    |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_',
    extra = nothing_more
);

checked_text!(
    /// A name for an OpenStack object (flavor, PCI alias).
    ObjectName,
    "a valid object name",
    "use letters, digits, '.', '_' and '-' (for example `m1.ib`)",
    max = 64,
    |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'),
    extra = no_leading_hyphen
);

/// A PCI vendor or product id: exactly four hex digits, stored lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PciId(String);

impl PciId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PciId {
    type Err = FieldError;
    fn from_str(value: &str) -> Result<Self, FieldError> {
        let digits = value.strip_prefix("0x").unwrap_or(value);
        if digits.len() == 4 && digits.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(PciId(digits.to_ascii_lowercase()))
        } else {
            Err(refuse(
                value,
                "a PCI id (four hex digits)",
                "give four hex digits in quotes, as `lspci -nn` shows them, e.g. \"15b3\"",
            ))
        }
    }
}

/// An Ethernet MAC address, stored as lowercase `aa:bb:cc:dd:ee:ff`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MacAddr(String);

impl MacAddr {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for MacAddr {
    type Err = FieldError;
    fn from_str(value: &str) -> Result<Self, FieldError> {
        let parts: Vec<&str> = value.split([':', '-']).collect();
        let ok = parts.len() == 6
            && parts
                .iter()
                .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
        if !ok {
            return Err(refuse(
                value,
                "a MAC address",
                "give six hex pairs separated by ':' in quotes, e.g. \"52:54:00:00:00:10\"",
            ));
        }
        Ok(MacAddr(parts.join(":").to_ascii_lowercase()))
    }
}

/// A root password stored as a SHA-512 crypt string (`$6$...`), never plain text.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PasswordHash(String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash($6$…)")
    }
}

impl PasswordHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Hash a plain password with SHA-512 crypt and a random salt.
    pub fn from_password(password: &str) -> anyhow::Result<PasswordHash> {
        let params = sha_crypt::Sha512Params::new(sha_crypt::ROUNDS_DEFAULT)
            .map_err(|e| anyhow::anyhow!("SHA-512 crypt parameters: {e:?}"))?;
        let hash = sha_crypt::sha512_simple(password, &params)
            .map_err(|e| anyhow::anyhow!("SHA-512 crypt failed: {e:?}"))?;
        Ok(PasswordHash(hash))
    }

    /// Whether `password` matches this hash.
    pub fn matches(&self, password: &str) -> bool {
        sha_crypt::sha512_check(password, &self.0).is_ok()
    }
}

fn is_crypt_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '/'
}

impl FromStr for PasswordHash {
    type Err = FieldError;
    fn from_str(value: &str) -> Result<Self, FieldError> {
        let fix = "store a SHA-512 crypt hash (`$6$salt$...`, 86 characters of hash), made e.g. with `openssl passwd -6` or by `aerie init`; never the password itself";
        let bad = || FieldError {
            message: "the value is not a SHA-512 crypt string".to_string(),
            fix: fix.to_string(),
        };
        let rest = value.strip_prefix("$6$").ok_or_else(bad)?;
        let mut parts: Vec<&str> = rest.split('$').collect();
        if parts.len() == 3 {
            let rounds = parts.remove(0);
            let n = rounds
                .strip_prefix("rounds=")
                .and_then(|n| n.parse::<u32>().ok())
                .ok_or_else(bad)?;
            if !(1000..=999_999_999).contains(&n) {
                return Err(bad());
            }
        }
        match parts.as_slice() {
            [salt, hash]
                if !salt.is_empty()
                    && salt.len() <= 16
                    && salt.chars().all(is_crypt_char)
                    && hash.len() == 86
                    && hash.chars().all(is_crypt_char) =>
            {
                Ok(PasswordHash(value.to_string()))
            }
            _ => Err(bad()),
        }
    }
}

/// An OpenSSH public key line: type, base64 body, optional comment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SshPublicKey(String);

impl SshPublicKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

const SSH_KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

impl FromStr for SshPublicKey {
    type Err = FieldError;
    fn from_str(value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        let fix = "paste one line of a .pub file: `ssh-ed25519 AAAA... comment`";
        if let Some(bad) = forbidden_char(value, |c| {
            !c.is_control() && !matches!(c, '\'' | '"' | '`' | '$' | '\\' | ';' | '|' | '&')
        }) {
            return Err(FieldError {
                message: format!("the key contains {bad}"),
                fix: fix.to_string(),
            });
        }
        let mut words = value.split_whitespace();
        let kind = words.next().unwrap_or_default();
        let body = words.next().unwrap_or_default();
        if !SSH_KEY_TYPES.contains(&kind) {
            return Err(FieldError {
                message: format!("{kind:?} is not an SSH public key type"),
                fix: format!("{fix} (types: {})", SSH_KEY_TYPES.join(", ")),
            });
        }
        let base64_ok = body.len() >= 16
            && body
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='));
        if !base64_ok {
            return Err(FieldError {
                message: "the key body is not base64".to_string(),
                fix: fix.to_string(),
            });
        }
        Ok(SshPublicKey(value.to_string()))
    }
}

/// The string conversions every checked type shares: parse on the way in
/// (serde's `try_from = "String"`), plain text on the way out (the inner
/// string, or with `display:` the type's `Display`).
macro_rules! string_conversions {
    (display: $($name:ident),*) => {$(
        $crate::site::fields::string_conversions!(@one $name, value => value.to_string());
    )*};
    ($($name:ident),*) => {$(
        $crate::site::fields::string_conversions!(@one $name, value => value.0);
    )*};
    (@one $name:ident, $value:ident => $text:expr) => {
        impl TryFrom<String> for $name {
            type Error = FieldError;
            fn try_from(value: String) -> Result<Self, FieldError> {
                value.parse()
            }
        }

        impl From<$name> for String {
            fn from($value: $name) -> String {
                $text
            }
        }
    };
}
pub(crate) use string_conversions;

string_conversions!(PciId, MacAddr, PasswordHash, SshPublicKey);

macro_rules! display_as_text {
    ($($name:ident),*) => {$(
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}

display_as_text!(PciId, MacAddr);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_shell_metacharacters_and_newlines() {
        for bad in [
            "demo;rm", "demo net", "Demo", "a\nb", "$(x)", "-lead", "trail-", "",
        ] {
            assert!(bad.parse::<Name>().is_err(), "{bad:?} accepted");
        }
        assert!("demo-net".parse::<Name>().is_ok());
    }

    #[test]
    fn values_that_become_arguments_refuse_a_leading_hyphen() {
        fn refused<T: FromStr<Err = FieldError>>(v: &str) -> String {
            match v.parse::<T>() {
                Ok(_) => panic!("{v:?} accepted"),
                Err(e) => e.to_string(),
            }
        }
        for v in ["--help", "-x"] {
            assert!(refused::<HostOrAddress>(v).contains("read as an option"));
            assert!(refused::<DeviceName>(v).contains("read as an option"));
            assert!(refused::<DiskName>(v).contains("read as an option"));
            assert!(refused::<ObjectName>(v).contains("read as an option"));
            assert!(refused::<Timezone>(v).contains("read as an option"));
        }
        assert!("a-b".parse::<HostOrAddress>().is_ok());
        assert!("m1.ib-x".parse::<ObjectName>().is_ok());
        assert!("/dev/disk/by-id/ata-x".parse::<DiskName>().is_ok());
    }

    #[test]
    fn time_zones_come_from_the_tz_database() {
        for ok in [
            "UTC",
            "Europe/Berlin",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+5",
        ] {
            assert!(ok.parse::<Timezone>().is_ok(), "{ok}");
        }
        for bad in [
            "Europe/Berln",
            "Mars/Olympus",
            "utc",
            "../etc/passwd",
            "/etc/localtime",
        ] {
            assert!(bad.parse::<Timezone>().is_err(), "{bad:?} accepted");
        }
        let e = "Europe/Berln".parse::<Timezone>().unwrap_err();
        assert!(e.message.contains("tz database"), "{e}");
        assert!(e.fix.contains("Europe/Berlin"), "{e}");
    }

    #[test]
    fn domains_need_proper_labels() {
        assert!("lab.example.org".parse::<Domain>().is_ok());
        for bad in [
            "lab..org",
            ".lab",
            "lab.",
            "-a.org",
            "lab.org;reboot",
            "a b.org",
        ] {
            assert!(bad.parse::<Domain>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn pci_ids_are_four_hex_digits() {
        assert_eq!("15B3".parse::<PciId>().unwrap().as_str(), "15b3");
        assert_eq!("0x1004".parse::<PciId>().unwrap().as_str(), "1004");
        for bad in ["15b", "15b33", "zzzz", "15b3;"] {
            assert!(bad.parse::<PciId>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn macs_are_normalised() {
        assert_eq!(
            "52-54-00-AA-00-10".parse::<MacAddr>().unwrap().as_str(),
            "52:54:00:aa:00:10"
        );
        assert!("52:54:00:aa:00".parse::<MacAddr>().is_err());
    }

    #[test]
    fn password_hash_accepts_only_sha512_crypt() {
        let example = "$6$aerielabsalt$/NJ4vplzY1y4GxW616K7k/6isqDpOzHxSddj/PFPAqg15fsamggY9/8JCFpJKZMVqcC5EK5Jp.a./EYRSSP91/";
        assert!(example.parse::<PasswordHash>().is_ok());
        for bad in [
            "hunter2",
            "$1$salt$abcdefghijklmnopqrstuv",
            "$5$salt$abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq",
            "$6$salt$short",
        ] {
            assert!(bad.parse::<PasswordHash>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn password_hash_round_trips_a_password() {
        let hash = PasswordHash::from_password("correct horse").unwrap();
        assert!(hash.as_str().starts_with("$6$"));
        assert!(hash.as_str().parse::<PasswordHash>().is_ok());
        assert!(hash.matches("correct horse"));
        assert!(!hash.matches("wrong"));
        assert!(!format!("{hash:?}").contains(&hash.as_str()[4..]));
    }

    #[test]
    fn ssh_keys_need_a_type_and_base64() {
        assert!("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHFp admin@laptop"
            .parse::<SshPublicKey>()
            .is_ok());
        assert!("ssh-foo AAAAC3NzaC1lZDI1NTE5AAAAIHFp"
            .parse::<SshPublicKey>()
            .is_err());
        assert!("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHFp x\nrm -rf /"
            .parse::<SshPublicKey>()
            .is_err());
        assert!("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHFp $(reboot)"
            .parse::<SshPublicKey>()
            .is_err());
    }
}
