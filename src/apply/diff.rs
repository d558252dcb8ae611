//! Unified diffs of a file's current and bundle content, for `--diff`.

use similar::TextDiff;

/// `diff -u` style text; a missing file diffs against /dev/null.
pub fn unified(path: &str, old: Option<&[u8]>, new: &[u8]) -> String {
    let old_text = old.map(String::from_utf8_lossy).unwrap_or_default();
    let new_text = String::from_utf8_lossy(new);
    let old_name = if old.is_some() {
        format!("a{path}")
    } else {
        "/dev/null".to_string()
    };
    TextDiff::from_lines(old_text.as_ref(), new_text.as_ref())
        .unified_diff()
        .context_radius(3)
        .header(&old_name, &format!("b{path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_changed_lines_with_headers() {
        let d = unified("/etc/x.conf", Some(b"a\nb\n"), b"a\nc\n");
        assert!(d.starts_with("--- a/etc/x.conf\n+++ b/etc/x.conf\n"), "{d}");
        assert!(d.contains("-b\n+c\n"), "{d}");
    }

    #[test]
    fn new_file_diffs_against_dev_null() {
        let d = unified("/etc/new", None, b"x\n");
        assert!(d.starts_with("--- /dev/null\n+++ b/etc/new\n"), "{d}");
        assert!(d.contains("+x\n"), "{d}");
    }
}
