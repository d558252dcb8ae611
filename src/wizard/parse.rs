//! Turning typed answers into values, with the same messages as the site
//! loader: field types parse through their `FromStr` (problem; fix), plain
//! numbers and addresses get a message that says what to write.

use crate::site::fields::FieldError;
use ipnet::IpNet;
use std::net::IpAddr;
use std::str::FromStr;

/// A value of one of the site's checked field types.
pub fn field<T: FromStr<Err = FieldError>>(s: &str) -> Result<T, String> {
    s.parse().map_err(|e: FieldError| e.to_string())
}

/// An IP address.
pub fn ip(s: &str) -> Result<IpAddr, String> {
    s.parse().map_err(|_| {
        format!("{s:?} is not an IP address; write an IPv4 or IPv6 address such as 10.20.0.1")
    })
}

/// A network in CIDR notation.
pub fn cidr(s: &str) -> Result<IpNet, String> {
    s.parse().map_err(|_| {
        format!(
            "{s:?} is not a network in CIDR notation; write the network address and prefix length, such as 10.44.1.0/24"
        )
    })
}

/// A whole number from `min` to `max`.
pub fn number<T>(s: &str, min: T, max: T) -> Result<T, String>
where
    T: FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match s.parse::<T>() {
        Ok(n) if min <= n && n <= max => Ok(n),
        _ => Err(format!(
            "{s:?} is not a whole number from {min} to {max}; type digits only"
        )),
    }
}

/// A DHCP range: two addresses separated by `-`, a space or a comma.
pub fn range(s: &str) -> Result<[IpAddr; 2], String> {
    let parts: Vec<&str> = s.split(['-', ' ', ',']).filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [start, end] => Ok([ip(start)?, ip(end)?]),
        _ => Err(format!(
            "{s:?} is not a range; write the first and last address, such as 10.44.1.10-10.44.1.200"
        )),
    }
}

/// A range as the wizard shows it.
pub fn show_range([start, end]: [IpAddr; 2]) -> String {
    format!("{start}-{end}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::fields::Name;

    #[test]
    fn messages_say_what_to_write() {
        assert!(cidr("10.44.1.0/33").unwrap_err().contains("10.44.1.0/24"));
        assert!(ip("10.1").unwrap_err().contains("not an IP address"));
        assert!(number::<u16>("5000", 1, 4094)
            .unwrap_err()
            .contains("1 to 4094"));
        assert!(field::<Name>("Bad Name").unwrap_err().contains("lowercase"));
        assert_eq!(
            range("10.0.0.10 - 10.0.0.20").unwrap(),
            [ip("10.0.0.10").unwrap(), ip("10.0.0.20").unwrap()]
        );
        assert!(range("10.0.0.10").is_err());
    }
}
