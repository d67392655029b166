//! What a run produced: one record per scenario, with its steps, verdict and evidence. The
//! steps fill it in; the writers only read it. `results.json` is this structure, serialised
//! (documented in docs/results-json.md).

use serde::{Deserialize, Serialize};

/// A scenario's verdict (TEST-CATALOGUE §0.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Passed,
    /// A `@should` case whose expectation was not met (TEST-CATALOGUE §0.2): it counts as
    /// passed unless the run is `--strict`, which leaves it failed.
    Warned,
    Failed,
    Skipped,
    Errored,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Warned => "warned",
            Verdict::Failed => "failed",
            Verdict::Skipped => "skipped",
            Verdict::Errored => "errored",
        }
    }

    /// Whether the verdict lets the run pass.
    pub fn is_pass(self) -> bool {
        matches!(self, Verdict::Passed | Verdict::Warned)
    }
}

/// The `@should` rule: without `strict`, a failed `@should` scenario ends passed with a
/// warning, its reason kept.
pub fn apply_should(scenario: &mut ScenarioReport, strict: bool) {
    if !strict && scenario.verdict == Verdict::Failed && scenario.tags.iter().any(|t| t == "should")
    {
        scenario.verdict = Verdict::Warned;
        let why = scenario.reason.take().unwrap_or_default();
        scenario.reason = Some(format!(
            "passed with a warning: a SHOULD expectation was not met (`--strict` fails it): {why}"
        ));
    }
}

/// One piece of evidence: an SMTP transcript, a message, findings, audit lines.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Evidence {
    /// `smtp`, `pop3`, `message`, `mdn`, `audit`, `note`, `hisp-events`, …
    pub kind: String,
    pub title: String,
    pub body: String,
}

/// One step as run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct StepReport {
    pub keyword: String,
    pub text: String,
    /// passed, failed, skipped.
    pub status: String,
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One scenario as run (or skipped).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScenarioReport {
    /// The feature file's name without `.feature` (the area: `trust-receive`, `mdn`).
    pub area: String,
    pub feature: String,
    pub name: String,
    /// Without the `@`.
    pub tags: Vec<String>,
    /// Requirement ids from `@req-…` tags.
    pub requirements: Vec<String>,
    /// Case ids (`RX-01`, `MT39`, …): the tags that are neither `req-`, `needs-` nor markers.
    pub cases: Vec<String>,
    pub line: usize,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub duration_ms: u64,
    pub steps: Vec<StepReport>,
    pub evidence: Vec<Evidence>,
}

impl ScenarioReport {
    /// Splits tags into requirement ids and case ids.
    pub fn classify(tags: &[String]) -> (Vec<String>, Vec<String>) {
        let mut reqs = Vec::new();
        let mut cases = Vec::new();
        for t in tags {
            if let Some(r) = t.strip_prefix("req-") {
                reqs.push(r.to_string());
            } else if !t.starts_with("needs-")
                // `serial`: cucumber runs the scenario alone (log-order checks).
                && !matches!(
                    t.as_str(),
                    "negative" | "should" | "ds-1.3" | "ats-1.2" | "serial" | "backbone-door"
                )
            {
                cases.push(t.clone());
            }
        }
        (reqs, cases)
    }
}

/// Counts by verdict.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Totals {
    /// Passed, including those passed with a warning.
    pub passed: usize,
    /// Of the passed, those with a warning (`@should` not met).
    #[serde(default)]
    pub warned: usize,
    pub failed: usize,
    pub skipped: usize,
    pub errored: usize,
}

impl Totals {
    pub fn of<'a>(scenarios: impl IntoIterator<Item = &'a ScenarioReport>) -> Self {
        let mut t = Totals::default();
        for s in scenarios {
            match s.verdict {
                Verdict::Passed => t.passed += 1,
                Verdict::Warned => {
                    t.passed += 1;
                    t.warned += 1;
                }
                Verdict::Failed => t.failed += 1,
                Verdict::Skipped => t.skipped += 1,
                Verdict::Errored => t.errored += 1,
            }
        }
        t
    }
}

/// For one requirement id: the scenarios that check it and their verdicts.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Coverage {
    pub requirement: String,
    pub scenarios: Vec<CoverageEntry>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CoverageEntry {
    pub name: String,
    pub cases: Vec<String>,
    pub verdict: Verdict,
}

/// The whole run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RunReport {
    /// Format version of this document.
    pub schema: u32,
    pub tool_version: String,
    /// What was tested (`embedded reference SUT`, a sut.toml path).
    pub sut: String,
    /// The fault switch on in the embedded SUT, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// RFC 3339, UTC.
    pub started: String,
    pub duration_ms: u64,
    pub totals: Totals,
    pub scenarios: Vec<ScenarioReport>,
    pub coverage: Vec<Coverage>,
    /// What a containerised SUT (`run --sut-image`) wrote on stdout and stderr during the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sut_log: Option<String>,
}

impl RunReport {
    /// Applies the `@should` rule ([`apply_should`]) to every scenario, and recounts.
    pub fn apply_should_rule(&mut self, strict: bool) {
        for s in &mut self.scenarios {
            apply_should(s, strict);
            let (name, verdict) = (&s.name, s.verdict);
            for c in &mut self.coverage {
                for e in c.scenarios.iter_mut().filter(|e| &e.name == name) {
                    e.verdict = verdict;
                }
            }
        }
        self.totals = Totals::of(&self.scenarios);
    }

    pub fn new(
        sut: String,
        fault: Option<String>,
        started: String,
        duration_ms: u64,
        mut scenarios: Vec<ScenarioReport>,
    ) -> Self {
        scenarios.sort_by(|a, b| (&a.area, a.line).cmp(&(&b.area, b.line)));
        let totals = Totals::of(&scenarios);
        let mut coverage: std::collections::BTreeMap<String, Vec<CoverageEntry>> =
            std::collections::BTreeMap::new();
        for s in &scenarios {
            for r in &s.requirements {
                coverage.entry(r.clone()).or_default().push(CoverageEntry {
                    name: s.name.clone(),
                    cases: s.cases.clone(),
                    verdict: s.verdict,
                });
            }
        }
        RunReport {
            schema: 1,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            sut,
            fault,
            started,
            duration_ms,
            totals,
            scenarios,
            coverage: coverage
                .into_iter()
                .map(|(requirement, scenarios)| Coverage {
                    requirement,
                    scenarios,
                })
                .collect(),
            sut_log: None,
        }
    }
}
