//! A cucumber writer that turns the event stream into [`ScenarioReport`]s (steps, timings,
//! failures) and prints a progress line on a terminal. Events are taken as they happen, not
//! normalised, so that durations are real under concurrency.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use cucumber::event::{self, Cucumber, Feature, Rule, Scenario, Step, StepError};
use cucumber::{Event, Writer, cli, gherkin, parser};
use direct_conformance::report::{ScenarioReport, StepReport, Verdict};

use super::context::ScenarioKey;
use super::world::DirectWorld;

struct Running {
    report: ScenarioReport,
    started: Instant,
    step_started: Option<Instant>,
}

/// What the run produced, shared with the caller (cucumber keeps the writer).
#[derive(Default)]
pub struct Collected {
    pub done: Vec<(ScenarioKey, ScenarioReport)>,
    pub parse_errors: Vec<String>,
}

/// Collects what ran.
#[derive(Default)]
pub struct Collector {
    running: HashMap<ScenarioKey, Running>,
    pub collected: Arc<Mutex<Collected>>,
    pub total: usize,
    pub progress: bool,
}

pub fn key(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> ScenarioKey {
    (
        feature
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| feature.name.clone()),
        scenario.position.line,
    )
}

pub fn area(feature: &gherkin::Feature) -> String {
    feature
        .path
        .as_ref()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| feature.name.clone())
}

pub fn new_report(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> ScenarioReport {
    let tags: Vec<String> = feature
        .tags
        .iter()
        .chain(scenario.tags.iter())
        .map(|t| t.trim_start_matches('@').to_string())
        .collect();
    let (requirements, cases) = ScenarioReport::classify(&tags);
    ScenarioReport {
        area: area(feature),
        feature: feature.name.clone(),
        name: scenario.name.clone(),
        tags,
        requirements,
        cases,
        line: scenario.position.line,
        verdict: Verdict::Passed,
        reason: None,
        duration_ms: 0,
        steps: Vec::new(),
        evidence: Vec::new(),
    }
}

fn lock(m: &Mutex<Collected>) -> std::sync::MutexGuard<'_, Collected> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn error_text(e: &StepError) -> String {
    match e {
        StepError::NotFound => "no step definition matches this step".into(),
        StepError::AmbiguousMatch(a) => format!("ambiguous step: {a}"),
        StepError::Panic(info) => info
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the step panicked".into()),
    }
}

impl Collector {
    fn scenario(
        &mut self,
        feature: &gherkin::Feature,
        scenario: &gherkin::Scenario,
        ev: Scenario<DirectWorld>,
    ) {
        let k = key(feature, scenario);
        match ev {
            Scenario::Started => {
                self.running.insert(
                    k,
                    Running {
                        report: new_report(feature, scenario),
                        started: Instant::now(),
                        step_started: None,
                    },
                );
            }
            Scenario::Step(step, ev) | Scenario::Background(step, ev) => {
                let Some(r) = self.running.get_mut(&k) else {
                    return;
                };
                let status = match ev {
                    Step::Started => {
                        r.step_started = Some(Instant::now());
                        return;
                    }
                    Step::Passed(..) => ("passed", None),
                    Step::Skipped => (
                        "skipped",
                        Some("no step definition matches this step".to_string()),
                    ),
                    Step::Failed(_, _, _, e) => ("failed", Some(error_text(&e))),
                };
                let ms = r
                    .step_started
                    .take()
                    .map(|s| s.elapsed().as_millis() as u64)
                    .unwrap_or(0);
                if status.0 != "passed" && r.report.reason.is_none() {
                    r.report.verdict = if status.0 == "skipped" {
                        Verdict::Errored
                    } else {
                        Verdict::Failed
                    };
                    r.report.reason = status
                        .1
                        .clone()
                        .map(|e| format!("{} {}: {e}", step.keyword.trim(), step.value));
                }
                r.report.steps.push(StepReport {
                    keyword: step.keyword.trim().to_string(),
                    text: step.value.clone(),
                    status: status.0.into(),
                    duration_ms: ms,
                    error: status.1,
                });
            }
            Scenario::Hook(_, event::Hook::Failed(_, info)) => {
                if let Some(r) = self.running.get_mut(&k) {
                    r.report.verdict = Verdict::Errored;
                    r.report.reason = Some(error_text(&StepError::Panic(info)));
                }
            }
            Scenario::Finished => {
                if let Some(mut r) = self.running.remove(&k) {
                    r.report.duration_ms = r.started.elapsed().as_millis() as u64;
                    lock(&self.collected).done.push((k, r.report));
                    self.show_progress();
                }
            }
            _ => {}
        }
    }

    fn show_progress(&self) {
        if !self.progress {
            return;
        }
        let c = lock(&self.collected);
        let v = |x: Verdict| c.done.iter().filter(|(_, r)| r.verdict == x).count();
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K[{}/{}] {} passed, {} failed",
            c.done.len(),
            self.total,
            v(Verdict::Passed),
            v(Verdict::Failed) + v(Verdict::Errored)
        );
        let _ = err.flush();
    }
}

impl Writer<DirectWorld> for Collector {
    type Cli = cli::Empty;

    async fn handle_event(
        &mut self,
        ev: parser::Result<Event<Cucumber<DirectWorld>>>,
        _: &Self::Cli,
    ) {
        let ev = match ev {
            Ok(ev) => ev.value,
            Err(e) => {
                lock(&self.collected).parse_errors.push(e.to_string());
                return;
            }
        };
        match ev {
            Cucumber::ParsingFinished { scenarios, .. } => self.total = scenarios,
            Cucumber::Feature(f, Feature::Scenario(s, ev)) => self.scenario(&f, &s, ev.event),
            Cucumber::Feature(f, Feature::Rule(_, Rule::Scenario(s, ev))) => {
                self.scenario(&f, &s, ev.event)
            }
            Cucumber::Finished if self.progress => eprintln!(),
            _ => {}
        }
    }
}
