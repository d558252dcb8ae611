//! Line-preserving INI merges (nova.conf, dhcp_agent.ini): aerie changes its
//! own keys and keeps every other line, comment and blank byte for byte.

/// Set `section.key = value`. The key's first line in the section is
/// rewritten (with its continuation lines) unless it already holds `value`;
/// a missing key goes after the section's last non-blank line; a missing
/// section is appended.
pub fn set(current: &str, section: &str, key: &str, value: &str) -> String {
    let doc = Doc::parse(current);
    match doc.find_key(section, key) {
        Some(found) if found.value == value => current.to_string(),
        Some(found) => doc.replace(found.lines, &format!("{key} = {value}")),
        None => doc.insert(section, &format!("{key} = {value}")),
    }
}

/// Make `item` one element of the comma-separated list `section.key`, once.
/// When the key is absent, the list becomes `default` (the service's own
/// default, which an explicit value would otherwise drop) plus `item`.
pub fn add_to_list(
    current: &str,
    section: &str,
    key: &str,
    item: &str,
    default: &[String],
) -> String {
    let doc = Doc::parse(current);
    match doc.find_key(section, key) {
        Some(found) => {
            let items: Vec<&str> = found
                .value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if items.contains(&item) {
                return current.to_string();
            }
            let mut joined: Vec<&str> = items;
            joined.push(item);
            doc.replace(found.lines, &format!("{key} = {}", joined.join(",")))
        }
        None => {
            let mut items: Vec<&str> = default.iter().map(String::as_str).collect();
            if !items.contains(&item) {
                items.push(item);
            }
            doc.insert(section, &format!("{key} = {}", items.join(",")))
        }
    }
}

/// A key's lines (the key line and its continuations) and its value.
struct Found {
    lines: std::ops::Range<usize>,
    value: String,
}

struct Doc<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Doc<'a> {
    fn parse(text: &'a str) -> Doc<'a> {
        Doc {
            lines: text.split_inclusive('\n').collect(),
        }
    }

    fn section_name(line: &str) -> Option<&str> {
        let t = line.trim();
        t.strip_prefix('[')?.strip_suffix(']').map(str::trim)
    }

    /// `(key, value)` of an option line.
    fn option(line: &str) -> Option<(&str, &str)> {
        if line.starts_with([' ', '\t']) {
            return None; // a continuation line
        }
        let t = line.trim_end_matches(['\n', '\r']);
        if t.trim().is_empty() || t.starts_with(['#', ';', '[']) {
            return None;
        }
        let split = t.find(['=', ':'])?;
        Some((t[..split].trim(), t[split + 1..].trim()))
    }

    fn is_continuation(line: &str) -> bool {
        line.starts_with([' ', '\t']) && !line.trim().is_empty()
    }

    /// The line ranges `[header, end)` of every section with this name; the
    /// implicit top part (before any header) is never `section`.
    fn sections(&self, section: &str) -> Vec<std::ops::Range<usize>> {
        let mut out = Vec::new();
        let mut open: Option<usize> = None;
        for (i, line) in self.lines.iter().enumerate() {
            if let Some(name) = Self::section_name(line) {
                if let Some(start) = open.take() {
                    out.push(start..i);
                }
                if name == section {
                    open = Some(i);
                }
            }
        }
        if let Some(start) = open {
            out.push(start..self.lines.len());
        }
        out
    }

    fn find_key(&self, section: &str, key: &str) -> Option<Found> {
        for range in self.sections(section) {
            for i in range.start + 1..range.end {
                if let Some((k, v)) = Self::option(self.lines[i]) {
                    if k == key {
                        let mut end = i + 1;
                        let mut value = v.to_string();
                        while end < range.end && Self::is_continuation(self.lines[end]) {
                            value.push('\n');
                            value.push_str(self.lines[end].trim());
                            end += 1;
                        }
                        return Some(Found {
                            lines: i..end,
                            value,
                        });
                    }
                }
            }
        }
        None
    }

    fn newline(&self) -> &'static str {
        if self.lines.first().is_some_and(|l| l.ends_with("\r\n")) {
            "\r\n"
        } else {
            "\n"
        }
    }

    fn replace(&self, lines: std::ops::Range<usize>, new_line: &str) -> String {
        let ending = if self.lines[lines.end - 1].ends_with('\n') {
            self.newline()
        } else {
            ""
        };
        let mut out = String::new();
        self.lines[..lines.start]
            .iter()
            .for_each(|l| out.push_str(l));
        out.push_str(new_line);
        out.push_str(ending);
        self.lines[lines.end..].iter().for_each(|l| out.push_str(l));
        out
    }

    fn insert(&self, section: &str, new_line: &str) -> String {
        let nl = self.newline();
        let mut out = String::new();
        match self.sections(section).first() {
            Some(range) => {
                // after the last non-blank line of the section
                let mut at = range.end;
                while at > range.start + 1 && self.lines[at - 1].trim().is_empty() {
                    at -= 1;
                }
                self.lines[..at].iter().for_each(|l| out.push_str(l));
                if !out.ends_with('\n') {
                    out.push_str(nl);
                }
                out.push_str(new_line);
                out.push_str(nl);
                self.lines[at..].iter().for_each(|l| out.push_str(l));
            }
            None => {
                self.lines.iter().for_each(|l| out.push_str(l));
                if !out.is_empty() {
                    if !out.ends_with('\n') {
                        out.push_str(nl);
                    }
                    out.push_str(nl);
                }
                out.push_str(&format!("[{section}]{nl}{new_line}{nl}"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOVA: &str = "# nova.conf from the package\n[DEFAULT]\n# comment\ndebug = false\n\n[pci]\n#device_spec =\n\n[filter_scheduler]\nenabled_filters = ComputeFilter,\n  ImagePropertiesFilter\n";

    #[test]
    fn set_keeps_everything_else_and_is_idempotent() {
        let once = set(NOVA, "pci", "device_spec", "{\"vendor_id\":\"15b3\"}");
        assert_eq!(
            once,
            NOVA.replace(
                "#device_spec =\n",
                "#device_spec =\ndevice_spec = {\"vendor_id\":\"15b3\"}\n"
            )
        );
        assert_eq!(
            set(&once, "pci", "device_spec", "{\"vendor_id\":\"15b3\"}"),
            once
        );
        let changed = set(&once, "DEFAULT", "debug", "true");
        assert_eq!(changed, once.replace("debug = false", "debug = true"));
    }

    #[test]
    fn add_to_list_once_with_continuation_lines() {
        let once = add_to_list(
            NOVA,
            "filter_scheduler",
            "enabled_filters",
            "PciPassthroughFilter",
            &[],
        );
        assert!(once.ends_with(
            "[filter_scheduler]\nenabled_filters = ComputeFilter,ImagePropertiesFilter,PciPassthroughFilter\n"
        ), "{once}");
        assert_eq!(
            add_to_list(
                &once,
                "filter_scheduler",
                "enabled_filters",
                "PciPassthroughFilter",
                &[]
            ),
            once
        );
    }

    #[test]
    fn absent_list_starts_from_the_default() {
        let out = add_to_list(
            "",
            "filter_scheduler",
            "enabled_filters",
            "PciPassthroughFilter",
            &["ComputeFilter".into()],
        );
        assert_eq!(
            out,
            "[filter_scheduler]\nenabled_filters = ComputeFilter,PciPassthroughFilter\n"
        );
    }

    #[test]
    fn missing_section_is_appended_after_a_blank_line() {
        assert_eq!(
            set("[DEFAULT]\nx = 1", "pci", "alias", "a"),
            "[DEFAULT]\nx = 1\n\n[pci]\nalias = a\n"
        );
        assert_eq!(set("", "DEFAULT", "k", "v"), "[DEFAULT]\nk = v\n");
    }
}
