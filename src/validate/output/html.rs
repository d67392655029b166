//! A single self-contained HTML page (inline CSS, no scripts, no external resources) rendered
//! with tera from templates compiled into the binary.

use std::io::Write;

use tera::{Context, Tera};

use crate::validate::catalogue::CATALOGUE;
use crate::validate::error::ValidateError;
use crate::validate::output::Report;

/// One message as the page shows it.
#[derive(serde::Serialize)]
struct HtmlMessage<'a> {
    source: &'a str,
    overview: &'a crate::validate::engine::Overview,
    summary: &'a crate::validate::output::Summary,
    parts: Vec<crate::validate::output::PartGroup<'a>>,
}

const REPORT_TEMPLATE: &str = include_str!("report.html.tera");
const CATALOGUE_TEMPLATE: &str = include_str!("catalogue.html.tera");

fn render_template(
    template: &str,
    context: &Context,
    out: &mut dyn Write,
) -> Result<(), ValidateError> {
    // Autoescape on: message text and evidence come from the message under test.
    let page = Tera::one_off(template, context, true)
        .map_err(|e| ValidateError::Render(format!("{e:?}")))?;
    out.write_all(page.as_bytes())?;
    Ok(())
}

pub fn render(report: &Report, out: &mut dyn Write) -> Result<(), ValidateError> {
    let mut context =
        Context::from_serialize(report).map_err(|e| ValidateError::Render(e.to_string()))?;
    // The page groups findings by part in tree order; tera cannot sort that way itself.
    let messages: Vec<HtmlMessage> = report
        .messages
        .iter()
        .map(|m| HtmlMessage {
            source: &m.source,
            overview: &m.overview,
            summary: &m.summary,
            parts: m.by_part(),
        })
        .collect();
    context.insert("messages", &messages);
    render_template(REPORT_TEMPLATE, &context, out)
}

pub fn render_catalogue(out: &mut dyn Write) -> Result<(), ValidateError> {
    let mut context = Context::new();
    context.insert("checks", CATALOGUE);
    render_template(CATALOGUE_TEMPLATE, &context, out)
}
