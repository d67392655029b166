//! `index.html`: one self-contained file (inline CSS, no script), rendered with tera. Data is
//! shaped in Rust; the template only prints it. Scenarios and evidence are `<details>`,
//! failed scenarios open.

use serde::Serialize;

use super::ReportError;
use super::model::{RunReport, Totals};

const TEMPLATE: &str = include_str!("index.html.tera");

#[derive(Serialize)]
struct Area {
    name: String,
    totals: Totals,
}

pub fn render(report: &RunReport) -> Result<String, ReportError> {
    let mut names: Vec<String> = report.scenarios.iter().map(|s| s.area.clone()).collect();
    names.sort();
    names.dedup();
    let areas: Vec<Area> = names
        .into_iter()
        .map(|name| Area {
            totals: Totals::of(report.scenarios.iter().filter(|s| s.area == name)),
            name,
        })
        .collect();
    let mut tera = tera::Tera::default();
    tera.add_raw_template("index.html", TEMPLATE)
        .map_err(|e| ReportError::Render {
            what: "index.html",
            message: format!("{e:?}"),
        })?;
    let mut ctx = tera::Context::new();
    ctx.insert("r", report);
    ctx.insert("areas", &areas);
    ctx.insert(
        "seconds",
        &format!("{:.1}", report.duration_ms as f64 / 1000.0),
    );
    tera.render("index.html", &ctx)
        .map_err(|e| ReportError::Render {
            what: "index.html",
            message: format!("{e:?}"),
        })
}
