//! The one shape of "something is wrong, and here is how to fix it": a site
//! finding (what = its key path), a failed lab host check and a failed
//! preflight check (what = the check's name) all say it this way. Each says
//! it in its own words on output (`key`/`fix`, `check`/`remedy`), so this type
//! has no serialized form of its own.

/// What is wrong, the message, and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where or which: a key path (`networks[1].gateway`) or a check's name.
    pub what: String,
    pub message: String,
    /// How to fix it; may be empty where there is nothing to say.
    pub fix: String,
}

impl Problem {
    pub fn new(
        what: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Problem {
        Problem {
            what: what.into(),
            message: message.into(),
            fix: fix.into(),
        }
    }
}
