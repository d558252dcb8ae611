//! What validation found: errors and warnings, each naming a key path and the fix.

pub use crate::problem::Problem;
use serde::Serialize;
use std::fmt;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem with a site, at a key path such as `networks[1].gateway`
/// (the problem's `what`; `key` in JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub problem: Problem,
    /// Line and column in the file, where known (syntax and type errors).
    pub line: Option<usize>,
    pub column: Option<usize>,
}

/// A finding as JSON: `severity`, `key`, `message`, `fix`, then `line` and
/// `column` where known.
#[derive(Serialize)]
struct FindingJson<'a> {
    severity: Severity,
    key: &'a str,
    message: &'a str,
    fix: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
}

impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        FindingJson {
            severity: self.severity,
            key: &self.problem.what,
            message: &self.problem.message,
            fix: &self.problem.fix,
            line: self.line,
            column: self.column,
        }
        .serialize(s)
    }
}

impl Finding {
    pub fn error(
        key: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Finding {
            severity: Severity::Error,
            problem: Problem::new(key, message, fix),
            line: None,
            column: None,
        }
    }

    pub fn warning(
        key: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(key, message, fix)
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{label}: ")?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, "line {line} column {column}: ")?;
        }
        write!(f, "{}: {}", self.problem.what, self.problem.message)?;
        if !self.problem.fix.is_empty() {
            write!(f, "\n  fix: {}", self.problem.fix)?;
        }
        Ok(())
    }
}

/// Every finding about one site file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub file: String,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
    }

    pub fn is_valid(&self) -> bool {
        self.errors().next().is_none()
    }

    /// The report as JSON for `--output json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "file": self.file,
            "valid": self.is_valid(),
            "errors": self.errors().collect::<Vec<_>>(),
            "warnings": self.warnings().collect::<Vec<_>>(),
        })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        let errors = self.errors().count();
        let warnings = self.warnings().count();
        let verdict = if errors == 0 { "valid" } else { "invalid" };
        write!(
            f,
            "{}: {verdict} ({errors} error{}, {warnings} warning{})",
            self.file,
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" },
        )
    }
}

/// A site that failed validation; carries the whole report.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidSite(pub Report);
