//! What a check reports: one finding per (check, part), with a status, a severity and the
//! evidence that shows why.

use serde::Serialize;

/// The policy profile that decides severities (REQUIREMENTS §1.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
pub enum Profile {
    /// The Direct Standard, ATS 1.3 (default).
    #[value(name = "ds-1.3")]
    #[serde(rename = "ds-1.3")]
    Ds13,
    /// ATS 1.2 as certified by ONC 2015 (h)(1).
    #[value(name = "ats-1.2")]
    #[serde(rename = "ats-1.2")]
    Ats12,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Ds13 => "ds-1.3",
            Profile::Ats12 => "ats-1.2",
        }
    }
}

/// How much a failed check weighs: SHALL → error, SHOULD → warning, MAY → information.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn letter(self) -> &'static str {
        match self {
            Severity::Error => "E",
            Severity::Warning => "W",
            Severity::Info => "I",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// The outcome of one check on one part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Passed,
    /// Failed at the finding's severity.
    Failed,
    /// The check could not run (no key, no anchor, nothing to look at); never a pass.
    NotEvaluated,
    /// An observation for the reader; neither pass nor fail.
    Info,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::NotEvaluated => "not-evaluated",
            Status::Info => "info",
        }
    }
}

/// One result of one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub status: Status,
    /// For a failure, the severity it counts at; otherwise the check's severity in the profile.
    pub severity: Severity,
    pub requirement_ids: Vec<&'static str>,
    /// Where in the message: `message`, `message/decrypted/1`, `…/inner` and so on.
    pub part_path: String,
    pub message: String,
    pub evidence: Vec<String>,
}

impl Finding {
    /// An error-level failure: what makes `validate` exit 1.
    pub fn is_error(&self) -> bool {
        self.status == Status::Failed && self.severity == Severity::Error
    }
}
