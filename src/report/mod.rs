//! Reports of a run: the evidence model the steps fill in, and the three files written to
//! the report folder: `index.html` (tera, self-contained), `junit.xml`, `results.json`.

pub mod html;
pub mod junit;
pub mod model;
pub mod web;

use std::path::{Path, PathBuf};

pub use model::{Evidence, RunReport, ScenarioReport, StepReport, Totals, Verdict};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot render {what}: {message}")]
    Render { what: &'static str, message: String },
}

/// Writes `index.html`, `junit.xml` and `results.json` into `dir` (created if needed).
pub fn write_all(report: &RunReport, dir: &Path) -> Result<(), ReportError> {
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| ReportError::Write { path, source })
    };
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let json = serde_json::to_string_pretty(report).map_err(|e| ReportError::Render {
        what: "results.json",
        message: e.to_string(),
    })?;
    write("results.json", &json)?;
    write("junit.xml", &junit::render(report))?;
    write("index.html", &html::render(report)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(name: &str, verdict: Verdict, reason: Option<&str>) -> ScenarioReport {
        let tags = vec![
            "RX-19".to_string(),
            "req-TRUST-06".to_string(),
            "negative".to_string(),
        ];
        let (requirements, cases) = ScenarioReport::classify(&tags);
        ScenarioReport {
            area: "trust-receive".into(),
            feature: "Trust".into(),
            name: name.into(),
            tags,
            requirements,
            cases,
            line: 3,
            verdict,
            reason: reason.map(str::to_string),
            duration_ms: 12,
            steps: vec![StepReport {
                keyword: "Then".into(),
                text: "the SUT refuses the message".into(),
                status: if verdict == Verdict::Passed {
                    "passed"
                } else {
                    "failed"
                }
                .into(),
                duration_ms: 10,
                error: reason.map(str::to_string),
            }],
            evidence: vec![Evidence {
                kind: "smtp".into(),
                title: "harness → SUT".into(),
                body: "S: 250 <ok> & done".into(),
            }],
        }
    }

    #[test]
    fn three_reports_with_coverage_and_escaping() {
        let report = RunReport::new(
            "embedded reference SUT".into(),
            Some("accept-expired".into()),
            "2026-11-26T00:00:00Z".into(),
            1500,
            vec![
                scenario(
                    "RX-19 an expired signer is refused",
                    Verdict::Failed,
                    Some("the message reached <R>"),
                ),
                scenario("RX-19 b", Verdict::Passed, None),
            ],
        );
        assert_eq!(report.totals.failed, 1);
        assert_eq!(report.coverage.len(), 1);
        assert_eq!(report.coverage[0].requirement, "TRUST-06");
        assert_eq!(report.coverage[0].scenarios.len(), 2);
        let html = html::render(&report).expect("html");
        assert!(html.contains("1 failed"), "{html}");
        assert!(html.contains("the message reached &lt;R&gt;"));
        assert!(html.contains("S: 250 &lt;ok&gt; &amp; done"));
        assert!(html.contains("<details class=\"scenario\" id=\"s1\" open>"));
        let junit = junit::render(&report);
        assert!(junit.contains("<failure message=\"the message reached &lt;R&gt;\">"));
        assert!(junit.contains("tests=\"2\" failures=\"1\""));
        let dir = std::env::temp_dir().join(format!("dc-report-test-{}", std::process::id()));
        write_all(&report, &dir).expect("write");
        for f in ["index.html", "junit.xml", "results.json"] {
            assert!(dir.join(f).exists(), "{f}");
        }
        let back: RunReport =
            serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap())
                .unwrap();
        assert_eq!(back, report);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_failed_should_case_passes_with_a_warning_unless_strict() {
        let make = || {
            let mut failed = scenario("RX-40 legacy types", Verdict::Failed, Some("refused"));
            failed.tags.push("should".into());
            RunReport::new(
                "embedded reference SUT".into(),
                None,
                "2026-11-26T00:00:00Z".into(),
                10,
                vec![failed, scenario("RX-19 b", Verdict::Failed, Some("x"))],
            )
        };
        let mut lenient = make();
        lenient.apply_should_rule(false);
        assert_eq!(lenient.scenarios[0].verdict, Verdict::Warned);
        assert!(
            lenient.scenarios[0]
                .reason
                .as_deref()
                .unwrap_or("")
                .contains("refused")
        );
        assert_eq!(
            lenient.scenarios[1].verdict,
            Verdict::Failed,
            "only @should"
        );
        assert_eq!(
            (
                lenient.totals.passed,
                lenient.totals.warned,
                lenient.totals.failed
            ),
            (1, 1, 1)
        );
        assert!(
            lenient.coverage[0]
                .scenarios
                .iter()
                .any(|e| e.verdict == Verdict::Warned)
        );
        assert!(junit::render(&lenient).contains("<system-out>passed with a warning"));
        let mut strict = make();
        strict.apply_should_rule(true);
        assert_eq!(strict.scenarios[0].verdict, Verdict::Failed);
        assert_eq!(strict.totals.failed, 2);
    }
}
