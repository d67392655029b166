//! Rendering: the report of a run (every message's findings plus a summary) as terminal text,
//! stable JSON (docs/validator-json.md) or a self-contained HTML page; and the catalogue for
//! `--list-checks` in the same three forms.

pub mod html;
pub mod json;
pub mod text;

use serde::Serialize;

use crate::validate::engine::MessageReport;
use crate::validate::finding::{Finding, Profile, Severity, Status};

/// The output format of `validate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Html,
}

/// Counts over findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub passed: usize,
    pub errors: usize,
    pub warnings: usize,
    /// Failures at information level (for example the older micalg spelling).
    pub notes: usize,
    pub not_evaluated: usize,
    pub info: usize,
}

impl Summary {
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Self {
        let mut s = Summary::default();
        for f in findings {
            match (f.status, f.severity) {
                (Status::Passed, _) => s.passed += 1,
                (Status::Failed, Severity::Error) => s.errors += 1,
                (Status::Failed, Severity::Warning) => s.warnings += 1,
                (Status::Failed, Severity::Info) => s.notes += 1,
                (Status::NotEvaluated, _) => s.not_evaluated += 1,
                (Status::Info, _) => s.info += 1,
            }
        }
        s
    }
}

/// One message in the report.
#[derive(Clone, Debug, Serialize)]
pub struct MessageSection {
    pub source: String,
    pub summary: Summary,
    pub findings: Vec<Finding>,
}

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Identifies the JSON layout; bumped only on incompatible change.
    pub format: &'static str,
    pub tool_version: &'static str,
    pub profile: Profile,
    /// The validation time, RFC 3339.
    pub at: String,
    pub messages: Vec<MessageSection>,
    pub summary: Summary,
}

pub const REPORT_FORMAT: &str = "direct-conformance/validate/1";
pub const CATALOGUE_FORMAT: &str = "direct-conformance/checks/1";

impl Report {
    pub fn new(profile: Profile, at: String, reports: Vec<MessageReport>) -> Self {
        let messages: Vec<MessageSection> = reports
            .into_iter()
            .map(|r| MessageSection {
                source: r.source,
                summary: Summary::of(&r.findings),
                findings: r.findings,
            })
            .collect();
        let summary = Summary::of(messages.iter().flat_map(|m| m.findings.iter()));
        Report {
            format: REPORT_FORMAT,
            tool_version: env!("CARGO_PKG_VERSION"),
            profile,
            at,
            messages,
            summary,
        }
    }
}
