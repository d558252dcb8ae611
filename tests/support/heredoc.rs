//! The here-documents of a rendered kickstart: what `%post` writes to a
//! path, for tests that compare it with another road's copy.

/// The body of the here-document that writes `path` in a kickstart.
pub fn heredoc(ks: &str, path: &str) -> String {
    let mut lines = ks.lines();
    let start = lines
        .by_ref()
        .find(|l| l.starts_with("cat > ") && l.contains(path) && l.contains("<<'"))
        .unwrap_or_else(|| panic!("no here-document for {path}"));
    let delim = start.rsplit("<<'").next().unwrap().trim_end_matches('\'');
    let mut body = String::new();
    for l in lines {
        if l == delim {
            return body;
        }
        body.push_str(l);
        body.push('\n');
    }
    panic!("unterminated here-document for {path}")
}
