//! `junit.xml`: one testsuite per area, one testcase per scenario; failures carry the reason,
//! skipped scenarios a `<skipped/>`, errored ones an `<error>`.

use std::fmt::Write;

use super::model::{RunReport, Verdict};

/// XML text and attribute escaping.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

pub fn render(report: &RunReport) -> String {
    let mut areas: Vec<&str> = report.scenarios.iter().map(|s| s.area.as_str()).collect();
    areas.dedup();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let t = &report.totals;
    let _ = writeln!(
        out,
        "<testsuites name=\"direct-conformance\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        report.scenarios.len(),
        t.failed,
        t.errored,
        t.skipped,
        report.duration_ms as f64 / 1000.0
    );
    for area in areas {
        let cases: Vec<_> = report.scenarios.iter().filter(|s| s.area == area).collect();
        let count = |v: Verdict| cases.iter().filter(|s| s.verdict == v).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            escape(area),
            cases.len(),
            count(Verdict::Failed),
            count(Verdict::Errored),
            count(Verdict::Skipped)
        );
        for s in cases {
            // Scenario names start with their case id by convention; add it when one does not.
            let label = match s.cases.first() {
                Some(c) if !s.name.starts_with(c.as_str()) => format!("{c} {}", s.name),
                _ => s.name.clone(),
            };
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(&s.area),
                escape(&label),
                s.duration_ms as f64 / 1000.0
            );
            let reason = escape(s.reason.as_deref().unwrap_or(""));
            match s.verdict {
                Verdict::Passed => out.push_str("/>\n"),
                Verdict::Warned => {
                    let _ = writeln!(
                        out,
                        ">\n      <system-out>{reason}</system-out>\n    </testcase>"
                    );
                }
                Verdict::Failed => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{reason}\">{reason}</failure>\n    </testcase>"
                    );
                }
                Verdict::Errored => {
                    let _ = writeln!(
                        out,
                        ">\n      <error message=\"{reason}\">{reason}</error>\n    </testcase>"
                    );
                }
                Verdict::Skipped => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{reason}\"/>\n    </testcase>"
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
