//! The kernel command line in `/etc/default/grub`: make sure some arguments
//! appear exactly once in `GRUB_CMDLINE_LINUX`, replacing any earlier value of
//! the same key (`intel_iommu=off` becomes `intel_iommu=on`), and keep every
//! other byte of the file as it was.

/// The variable aerie edits. `GRUB_CMDLINE_LINUX_DEFAULT` is left alone: it
/// only applies to normal (not recovery) entries.
pub const VARIABLE: &str = "GRUB_CMDLINE_LINUX";

/// `current` with each of `args` present exactly once in `GRUB_CMDLINE_LINUX`.
/// Idempotent: applying the result again changes nothing.
pub fn ensure_kernel_args(current: &str, args: &[String]) -> String {
    let lines: Vec<&str> = current.split_inclusive('\n').collect();
    // The shell's rule: the last assignment wins, so that is the one to edit.
    let Some(index) = lines.iter().rposition(|l| assignment(l).is_some()) else {
        return append_assignment(current, args);
    };
    let line = lines[index];
    let (indent_and_name, rest) = assignment(line).expect("found above");
    let (body, ending) = split_line_ending(rest);
    let Some(value) = Value::parse(body) else {
        // Something aerie cannot read safely (e.g. command substitution):
        // leave it and add a later assignment that extends it.
        let mut out = current.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("{VARIABLE}=\"${VARIABLE} {}\"\n", args.join(" ")));
        return out;
    };
    let words: Vec<&str> = value.text.split_whitespace().collect();
    let wanted = merged_words(&words, args);
    if wanted.iter().map(String::as_str).eq(words.iter().copied()) {
        return current.to_string();
    }
    let new_value = wanted.join(" ");
    let quoted = match value.quote {
        Some(q) => format!("{q}{new_value}{q}"),
        None if wanted.len() <= 1 => new_value,
        None => format!("\"{new_value}\""),
    };
    let mut out = String::with_capacity(current.len() + 32);
    for l in &lines[..index] {
        out.push_str(l);
    }
    out.push_str(indent_and_name);
    out.push_str(&quoted);
    out.push_str(value.trailer);
    out.push_str(ending);
    for l in &lines[index + 1..] {
        out.push_str(l);
    }
    out
}

/// The words after merging: others kept in order, each wanted argument once.
fn merged_words(words: &[&str], args: &[String]) -> Vec<String> {
    let key = |w: &str| w.split('=').next().unwrap_or(w).to_string();
    let wanted_keys: Vec<String> = args.iter().map(|a| key(a)).collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len() + args.len());
    let mut placed = vec![false; args.len()];
    for w in words {
        match wanted_keys.iter().position(|k| *k == key(w)) {
            None => out.push((*w).to_string()),
            Some(i) if args[i] == *w && !placed[i] => {
                placed[i] = true;
                out.push((*w).to_string());
            }
            Some(_) => {} // another value of a key aerie sets, or a duplicate
        }
    }
    for (i, a) in args.iter().enumerate() {
        if !placed[i] {
            out.push(a.clone());
        }
    }
    out
}

/// `(indent + "GRUB_CMDLINE_LINUX=", rest)` when the line assigns the variable.
fn assignment(line: &str) -> Option<(&str, &str)> {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    let after_export = trimmed.strip_prefix("export ").unwrap_or(trimmed);
    let skipped = trimmed.len() - after_export.len();
    let rest = after_export.strip_prefix(VARIABLE)?.strip_prefix('=')?;
    let split = indent + skipped + VARIABLE.len() + 1;
    Some((&line[..split], rest))
}

fn split_line_ending(rest: &str) -> (&str, &str) {
    if let Some(body) = rest.strip_suffix("\r\n") {
        (body, "\r\n")
    } else if let Some(body) = rest.strip_suffix('\n') {
        (body, "\n")
    } else {
        (rest, "")
    }
}

/// A shell value: `"…"`, `'…'`, a bare word, or nothing; `trailer` is what
/// follows it on the line (spaces, a comment).
struct Value<'a> {
    quote: Option<char>,
    text: &'a str,
    trailer: &'a str,
}

impl<'a> Value<'a> {
    fn parse(body: &'a str) -> Option<Value<'a>> {
        let first = body.chars().next();
        match first {
            Some(q @ ('"' | '\'')) => {
                let inner = &body[1..];
                let end = inner.find(q)?;
                let text = &inner[..end];
                if q == '"' && (text.contains('`') || text.contains("$(") || text.contains('\\')) {
                    return None;
                }
                let trailer = &inner[end + 1..];
                trailer_ok(trailer).then_some(Value {
                    quote: Some(q),
                    text,
                    trailer,
                })
            }
            _ => {
                let end = body.find([' ', '\t']).unwrap_or(body.len());
                let text = &body[..end];
                if text.contains(['"', '\'', '`', '$', '\\', ';']) {
                    return None;
                }
                let trailer = &body[end..];
                trailer_ok(trailer).then_some(Value {
                    quote: None,
                    text,
                    trailer,
                })
            }
        }
    }
}

/// After the value only blanks and a comment may follow.
fn trailer_ok(trailer: &str) -> bool {
    let t = trailer.trim_start();
    t.is_empty() || t.starts_with('#')
}

fn append_assignment(current: &str, args: &[String]) -> String {
    let mut out = current.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("{VARIABLE}=\"{}\"\n", args.join(" ")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> Vec<String> {
        vec!["intel_iommu=on".into(), "iommu=pt".into()]
    }

    fn check(before: &str, after: &str) {
        let once = ensure_kernel_args(before, &args());
        assert_eq!(once, after, "before: {before:?}");
        assert_eq!(ensure_kernel_args(&once, &args()), once, "not idempotent");
    }

    #[test]
    fn quoted_empty_and_unquoted() {
        check(
            "GRUB_CMDLINE_LINUX=\"\"\n",
            "GRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt\"\n",
        );
        check(
            "GRUB_CMDLINE_LINUX=\n",
            "GRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt\"\n",
        );
        check(
            "GRUB_CMDLINE_LINUX=quiet\n",
            "GRUB_CMDLINE_LINUX=\"quiet intel_iommu=on iommu=pt\"\n",
        );
        check(
            "GRUB_CMDLINE_LINUX='quiet splash'\n",
            "GRUB_CMDLINE_LINUX='quiet splash intel_iommu=on iommu=pt'\n",
        );
    }

    #[test]
    fn earlier_value_of_the_key_is_replaced_and_duplicates_collapse() {
        check(
            "GRUB_CMDLINE_LINUX=\"intel_iommu=off quiet iommu=pt iommu=pt\"\n",
            "GRUB_CMDLINE_LINUX=\"quiet iommu=pt intel_iommu=on\"\n",
        );
    }

    #[test]
    fn already_present_is_byte_for_byte_untouched() {
        let text = "GRUB_CMDLINE_LINUX=\"iommu=pt   intel_iommu=on\"   # keep\n";
        assert_eq!(ensure_kernel_args(text, &args()), text);
    }

    #[test]
    fn missing_variable_is_appended_and_last_assignment_wins() {
        check(
            "GRUB_TIMEOUT=5",
            "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt\"\n",
        );
        check("", "GRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt\"\n");
        check(
            "GRUB_CMDLINE_LINUX=\"a\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"b\"\n",
            "GRUB_CMDLINE_LINUX=\"a\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"b intel_iommu=on iommu=pt\"\n",
        );
    }

    #[test]
    fn unreadable_value_is_extended_not_rewritten() {
        check(
            "GRUB_CMDLINE_LINUX=\"$(cat /etc/x)\"\n",
            "GRUB_CMDLINE_LINUX=\"$(cat /etc/x)\"\nGRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX intel_iommu=on iommu=pt\"\n",
        );
    }
}
