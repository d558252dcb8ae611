//! Quoted here-documents for `%post`: `cat > path <<'DELIM'` expands nothing,
//! and the delimiter is chosen so that it cannot occur in the content.

/// A delimiter that occurs nowhere in `content` (so never as a line of it).
pub fn delimiter(content: &str) -> String {
    let mut delim = "AERIE_EOF".to_string();
    let mut n = 0u32;
    while content.contains(&delim) {
        n += 1;
        delim = format!("AERIE_EOF_{n}");
    }
    delim
}

/// Single-quote a word for sh (paths are validated, but quote anyway).
pub fn sh_quote(word: &str) -> String {
    if !word.is_empty()
        && word.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | ':' | '@' | '+' | ',')
        })
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_avoids_the_content() {
        assert_eq!(delimiter("plain\n"), "AERIE_EOF");
        assert_eq!(delimiter("AERIE_EOF\n"), "AERIE_EOF_1");
        assert_eq!(delimiter("AERIE_EOF\nAERIE_EOF_1\n"), "AERIE_EOF_2");
    }

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("/etc/nova/nova.conf"), "/etc/nova/nova.conf");
        assert_eq!(sh_quote("a b'c"), "'a b'\\''c'");
    }
}
