//! Shell quoting, the one way aerie does it: every word POSIX-quoted by
//! `shlex`, so a shell splits the line back into exactly these words. A word
//! no shell can carry (one with a NUL byte) is an error, never quoted some
//! other way.

use std::borrow::Cow;

/// A word that cannot go on a shell command line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{word:?} cannot go on a command line: it contains a NUL byte")]
pub struct Unquotable {
    pub word: String,
}

/// One word, quoted only when the shell needs it (`a-b` stays as it is).
pub fn quote(word: &str) -> Result<Cow<'_, str>, Unquotable> {
    shlex::try_quote(word).map_err(|_| Unquotable {
        word: word.to_string(),
    })
}

/// Words as one command line, each quoted, separated by spaces.
pub fn join<I, S>(words: I) -> Result<String, Unquotable>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut line = String::new();
    for (i, word) in words.into_iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        line.push_str(&quote(word.as_ref())?);
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_come_back_as_they_went_in() {
        let words = ["echo", "a b", "it's", "$HOME", "", "--x=1;rm", "ü"];
        let line = join(words).unwrap();
        assert_eq!(shlex::split(&line).unwrap(), words);
        assert_eq!(join(["sh", "-c", "true"]).unwrap(), "sh -c true");
    }

    #[test]
    fn a_nul_byte_is_an_error() {
        let err = join(["printf", "a\0b"]).unwrap_err();
        assert_eq!(err.word, "a\0b");
        assert!(err.to_string().contains("NUL"), "{err}");
        assert!(quote("\0").is_err());
    }
}
