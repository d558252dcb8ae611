//! Reading Rust source as text for the layer check: comments and literals
//! blanked out, then every `crate::x` path and the longest `super::` chain.

fn is_word(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// The source text with comments and string and char literals blanked out
/// (newlines kept, so line numbers stay true).
pub(super) fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    while i < c.len() {
        let rest = &c[i..];
        if rest.starts_with(&['/', '/']) {
            while i < c.len() && c[i] != '\n' {
                i += 1;
                out.push(' ');
            }
        } else if rest.starts_with(&['/', '*']) {
            let mut nest = 0;
            while i < c.len() {
                if c[i..].starts_with(&['/', '*']) {
                    nest += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i..].starts_with(&['*', '/']) {
                    nest -= 1;
                    out.push_str("  ");
                    i += 2;
                    if nest == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (i == 0 || !is_word(c[i - 1]) || (c[i - 1] == 'b' && (i < 2 || !is_word(c[i - 2]))))
            && rest.len() > 1
            && (rest[1] == '"' || rest[1] == '#')
            && rest[1..].iter().find(|ch| **ch != '#') == Some(&'"')
        {
            // A raw string: r"…", r#"…"#.
            let hashes = rest[1..].iter().take_while(|ch| **ch == '#').count();
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let start = i + 2 + hashes;
            out.push_str(&" ".repeat(2 + hashes));
            i = start;
            while i < c.len() && !c[i..].starts_with(&close) {
                blank(&mut out, c[i]);
                i += 1;
            }
            out.push_str(&" ".repeat(close.len()));
            i += close.len();
        } else if c[i] == '"' {
            out.push(' ');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c[i] == '\'' {
            // A char literal ('x', '\n', '\'') or a lifetime ('a).
            if rest.get(1) == Some(&'\\') {
                let end = rest[2..]
                    .iter()
                    .position(|ch| *ch == '\'')
                    .map_or(1, |p| p + 3);
                out.push_str(&" ".repeat(end));
                i += end;
            } else if rest.get(2) == Some(&'\'') {
                out.push_str("   ");
                i += 3;
            } else {
                out.push('\'');
                i += 1;
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// One import of a file: the line and the top-level module it names.
#[derive(Debug, PartialEq)]
pub(super) struct Import {
    pub line: usize,
    pub module: String,
    pub path: String,
}

fn ident_at(c: &[char], mut i: usize) -> (String, usize) {
    let mut s = String::new();
    while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
        s.push(c[i]);
        i += 1;
    }
    (s, i)
}

/// Every `crate::x` a file names, and the longest `super::` chain in it.
pub(super) fn imports(text: &str) -> (Vec<Import>, usize) {
    let code = code_only(text);
    let c: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    let mut supers = 0;
    let mut line = 1;
    let mut i = 0;
    let word_start = |i: usize| i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_');
    while i < c.len() {
        if c[i] == '\n' {
            line += 1;
        }
        if word_start(i) && c[i..].starts_with(&['s', 'u', 'p', 'e', 'r', ':', ':']) {
            let mut n = 0;
            let mut j = i;
            while c[j..].starts_with(&['s', 'u', 'p', 'e', 'r', ':', ':']) {
                n += 1;
                j += 7;
            }
            supers = supers.max(n);
            i = j;
            continue;
        }
        if word_start(i) && c[i..].starts_with(&['c', 'r', 'a', 't', 'e', ':', ':']) {
            let mut j = i + 7;
            while j < c.len() && c[j].is_whitespace() {
                j += 1;
            }
            if c.get(j) == Some(&'{') {
                // `crate::{a, b::c, d::{e, f}}`: the first name of each top-level entry.
                let mut depth = 0;
                let mut expect_name = true;
                j += 1;
                let mut group_line = line;
                while j < c.len() {
                    match c[j] {
                        '\n' => group_line += 1,
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => expect_name = true,
                        ch if expect_name && (ch.is_alphanumeric() || ch == '_') => {
                            let (name, end) = ident_at(&c, j);
                            found.push(Import {
                                line: group_line,
                                path: format!("crate::{{{name}…}}"),
                                module: name,
                            });
                            expect_name = false;
                            j = end;
                            continue;
                        }
                        _ => {}
                    }
                    j += 1;
                }
            } else {
                let (name, end) = ident_at(&c, j);
                let (next, _) = if c[end..].starts_with(&[':', ':']) {
                    ident_at(&c, end + 2)
                } else {
                    (String::new(), end)
                };
                let path = if next.is_empty() {
                    format!("crate::{name}")
                } else {
                    format!("crate::{name}::{next}")
                };
                found.push(Import {
                    line,
                    module: name,
                    path,
                });
                i = end;
                continue;
            }
        }
        i += 1;
    }
    (found, supers)
}

#[test]
fn literals_and_comments_are_not_code() {
    let code = code_only("let c = '\"'; let s = r#\"crate::x \"y\"\"#; // crate::z\nfn f<'a>() {}");
    assert!(!code.contains("crate::"), "{code}");
    assert!(code.contains("fn f<'a>()"), "{code}");
    assert_eq!(code.lines().count(), 2);
}
