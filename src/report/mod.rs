//! Reports of a run: the evidence model the steps fill in, and the three files written to
//! the report folder: `index.html` (tera, self-contained), `junit.xml`, `results.json`.

pub mod html;
pub mod junit;
pub mod model;

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
