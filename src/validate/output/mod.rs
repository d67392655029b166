//! Rendering: the report of a run (every message's findings plus a summary) as terminal text,
//! stable JSON (docs/validator-json.md) or a self-contained HTML page; and the catalogue for
//! `--list-checks` in the same three forms.

pub mod html;
pub mod json;
pub mod text;

use serde::Serialize;

use crate::validate::engine::{MessageReport, Overview};
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
    pub overview: Overview,
    pub summary: Summary,
    pub findings: Vec<Finding>,
}

/// The findings of one part, for the grouped views (text, HTML).
#[derive(Clone, Debug, Serialize)]
pub struct PartGroup<'a> {
    pub path: &'a str,
    pub findings: Vec<&'a Finding>,
}

impl MessageSection {
    /// Findings grouped by part, parts in tree order (`message`, `message/decrypted`,
    /// `…/1`, `…/1/inner`, `…/2`, numbers compared as numbers), findings in run order.
    pub fn by_part(&self) -> Vec<PartGroup<'_>> {
        let mut groups: std::collections::HashMap<&str, Vec<&Finding>> =
            std::collections::HashMap::new();
        for f in &self.findings {
            groups.entry(f.part_path.as_str()).or_default().push(f);
        }
        let mut parts: Vec<PartGroup<'_>> = groups
            .into_iter()
            .map(|(path, findings)| PartGroup { path, findings })
            .collect();
        parts.sort_by(|a, b| tree_order(a.path, b.path));
        parts
    }
}

/// Compares part paths segment by segment, numeric segments as numbers.
fn tree_order(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |s: &str| -> Vec<(u8, u64, String)> {
        s.split('/')
            .map(|seg| match seg.parse::<u64>() {
                Ok(n) => (0, n, String::new()),
                Err(_) => (1, 0, seg.to_string()),
            })
            .collect()
    };
    key(a).cmp(&key(b))
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
                overview: r.overview,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::engine::validate_message;
    use crate::validate::options::ValidationOptions;

    fn report() -> Report {
        let raw = b"From: a@b.test\r\nSubject: <script>\r\n\r\nhello\r\n";
        let r = validate_message("<x>.eml", raw, &ValidationOptions::default());
        Report::new(Profile::Ds13, "2026-11-25T10:00:00Z".into(), vec![r])
    }

    #[test]
    fn summary_counts_every_status() {
        let r = report();
        let s = r.summary;
        let total: usize = r.messages[0].findings.len();
        assert_eq!(
            s.passed + s.errors + s.warnings + s.notes + s.not_evaluated + s.info,
            total
        );
        assert!(s.errors > 0, "a plain message is not a Direct message");
        assert_eq!(r.messages[0].overview.subject.as_deref(), Some("<script>"));
    }

    #[test]
    fn parts_come_in_tree_order() {
        let mut v = vec![
            "message/10",
            "message/decrypted/2",
            "message",
            "message/2",
            "message/decrypted/1/inner",
            "message/decrypted/1",
            "message/decrypted",
        ];
        v.sort_by(|a, b| tree_order(a, b));
        assert_eq!(
            v,
            [
                "message",
                "message/2",
                "message/10",
                "message/decrypted",
                "message/decrypted/1",
                "message/decrypted/1/inner",
                "message/decrypted/2"
            ]
        );
    }

    #[test]
    fn text_colour_only_when_asked() {
        let r = report();
        let mut plain = Vec::new();
        text::render(&r, &mut plain, false).expect("render");
        let mut coloured = Vec::new();
        text::render(&r, &mut coloured, true).expect("render");
        assert!(!plain.contains(&0x1b));
        assert!(coloured.contains(&0x1b));
        let plain = String::from_utf8(plain).expect("utf-8");
        assert!(plain.contains("ERROR VC-301"));
        assert!(plain.contains("error(s)"));
    }

    #[test]
    fn json_and_html_render() {
        let r = report();
        let mut j = Vec::new();
        json::render(&r, &mut j).expect("render");
        let v: serde_json::Value = serde_json::from_slice(&j).expect("json");
        assert_eq!(v["format"], REPORT_FORMAT);
        assert_eq!(v["messages"][0]["findings"][0]["id"], "VC-101");
        let mut h = Vec::new();
        html::render(&r, &mut h).expect("render");
        let h = String::from_utf8(h).expect("utf-8");
        assert!(h.contains("&lt;script&gt;"));
        assert!(!h.contains("<script>"));
        let mut c = Vec::new();
        html::render_catalogue(&mut c).expect("render");
        assert!(String::from_utf8(c).expect("utf-8").contains("VC-805"));
    }
}
