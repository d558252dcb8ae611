//! Shell-variable files (`eucalyptus.conf`): set `KEY="value"` lines and keep
//! every other line, including the commented-out defaults, byte for byte.

/// `current` with `key` set to `value`: the last active assignment is
/// rewritten unless it already holds the value; a missing key is appended.
pub fn set(current: &str, key: &str, value: &str) -> String {
    let wanted = format!("{key}=\"{}\"", escape(value));
    let lines: Vec<&str> = current.split_inclusive('\n').collect();
    let found = lines.iter().rposition(|l| {
        let t = l.trim_start();
        t.strip_prefix(key)
            .is_some_and(|rest| rest.starts_with('='))
    });
    match found {
        Some(i) => {
            let (body, ending) = match lines[i].strip_suffix('\n') {
                Some(b) => (b, "\n"),
                None => (lines[i], ""),
            };
            if body.trim() == wanted || unquote(body.trim(), key) == Some(value) {
                return current.to_string();
            }
            let mut out = String::with_capacity(current.len() + wanted.len());
            lines[..i].iter().for_each(|l| out.push_str(l));
            out.push_str(&wanted);
            out.push_str(ending);
            lines[i + 1..].iter().for_each(|l| out.push_str(l));
            out
        }
        None => {
            let mut out = current.to_string();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&wanted);
            out.push('\n');
            out
        }
    }
}

/// The plain value of `KEY=value` or `KEY='value'` (no expansions in it).
fn unquote<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let raw = line.strip_prefix(key)?.strip_prefix('=')?;
    if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return (!inner.contains('\'')).then_some(inner);
    }
    if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        return (!inner.contains(['"', '$', '`', '\\'])).then_some(inner);
    }
    (!raw.contains(['"', '\'', '$', '`', '\\', ' ', '#', ';'])).then_some(raw)
}

/// Escape for the inside of double quotes.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_once_and_keeps_comments() {
        let before = "# VNET_MODE=\"SYSTEM\"\n#VNET_MODE=\"MANAGED\"\nVNET_DNS=\"8.8.8.8\"\n";
        let once = set(before, "VNET_MODE", "MANAGED-NOVLAN");
        assert_eq!(once, format!("{before}VNET_MODE=\"MANAGED-NOVLAN\"\n"));
        assert_eq!(set(&once, "VNET_MODE", "MANAGED-NOVLAN"), once);
        let dns = set(&once, "VNET_DNS", "192.0.2.53");
        assert_eq!(
            dns,
            once.replace("VNET_DNS=\"8.8.8.8\"", "VNET_DNS=\"192.0.2.53\"")
        );
        assert_eq!(
            set("VNET_DNS=192.0.2.53\n", "VNET_DNS", "192.0.2.53"),
            "VNET_DNS=192.0.2.53\n"
        );
    }
}
