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

/// Sources $1 (refusing a missing file with a clear message), then runs the rest.
const SOURCING: &str = r#"[ -r "$1" ] || { echo "the credentials file $1 is missing or unreadable" >&2; exit 127; }; . "$1" >/dev/null && shift && exec "$@""#;

/// `argv` run by `sh` after it sourced `file` (a profile's admin credentials):
/// the file and every word are arguments of a fixed script, never shell text.
pub fn sourcing(file: &str, argv: &[String]) -> Vec<String> {
    let mut words: Vec<String> = ["sh", "-c", SOURCING, "aerie-credentials", file]
        .into_iter()
        .map(String::from)
        .collect();
    words.extend(argv.iter().cloned());
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sourcing_runs_the_words_after_the_file_and_names_a_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        let rc = dir.path().join("rc 'x'");
        std::fs::write(&rc, "export AERIE_TEST_CRED='a b'\n").unwrap();
        let run = |file: &std::path::Path| {
            let words = sourcing(
                &file.display().to_string(),
                &["sh", "-c", "printf %s \"$AERIE_TEST_CRED\"", "$1;"].map(String::from),
            );
            std::process::Command::new(&words[0])
                .args(&words[1..])
                .output()
                .unwrap()
        };
        let ok = run(&rc);
        assert!(ok.status.success());
        assert_eq!(ok.stdout, b"a b");
        let missing = run(&dir.path().join("absent"));
        assert_eq!(missing.status.code(), Some(127));
        assert!(String::from_utf8_lossy(&missing.stderr).contains("missing or unreadable"));
    }

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
