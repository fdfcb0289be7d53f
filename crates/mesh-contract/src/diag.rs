//! Diagnostics: what lint reports, each pointing at a file, line and column with a code and a
//! hint, in a compiler-like text form and as JSON for machines.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How bad a finding is. Errors fail `lint` (exit 1) and block `apply`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parses `error`, `warning` (or `warn`), `info`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "error" | "critical" | "high" => Some(Severity::Error),
            "warning" | "warn" | "medium" => Some(Severity::Warning),
            "info" | "low" => Some(Severity::Info),
            _ => None,
        }
    }
}

/// A position in a source file (1-based line and column).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Stable diagnostic codes (documented in docs/contracts.md).
pub mod code {
    pub const YAML_SYNTAX: &str = "yaml-syntax";
    pub const UNKNOWN_KEY: &str = "unknown-key";
    pub const TYPE: &str = "type";
    pub const MISSING_KEY: &str = "missing-key";
    pub const INVALID_VALUE: &str = "invalid-value";
    pub const SCHEMA_FILE: &str = "schema-file";
    pub const SCHEMA_INVALID: &str = "schema-invalid";
    pub const CEL_COMPILE: &str = "cel-compile";
    pub const UNKNOWN_FIELD: &str = "unknown-field";
    pub const INVALID_RULE: &str = "invalid-rule";
    pub const NOT_ENFORCED: &str = "not-enforced";
    pub const OWNERSHIP: &str = "ownership";
    pub const POLICY_FILE: &str = "policy-file";
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    /// A stable code (`unknown-key`, `policy:owner-present`, ...).
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(
        file: &str,
        pos: Pos,
        severity: Severity,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.to_owned(),
            line: pos.line,
            column: pos.column,
            severity,
            code: code.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}[{}]: {}",
            self.file,
            self.line,
            self.column,
            self.severity.as_str(),
            self.code,
            self.message
        )?;
        if let Some(h) = &self.hint {
            write!(f, "\n  = hint: {h}")?;
        }
        Ok(())
    }
}

/// Collected findings for one file.
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub file: String,
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new(file: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            items: Vec::new(),
        }
    }

    pub fn push(
        &mut self,
        pos: Pos,
        severity: Severity,
        code: &str,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        let mut d = Diagnostic::new(&self.file, pos, severity, code, message);
        d.hint = hint;
        self.items.push(d);
    }

    pub fn error(&mut self, pos: Pos, code: &str, message: impl Into<String>) {
        self.push(pos, Severity::Error, code, message, None);
    }

    pub fn error_hint(&mut self, pos: Pos, code: &str, message: impl Into<String>, hint: &str) {
        self.push(pos, Severity::Error, code, message, Some(hint.to_owned()));
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }
}

/// The closest candidate to `word` if it is close enough to be a typo.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
