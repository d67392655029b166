//! JSON output, documented in docs/validator-json.md. Field names and value spellings are part
//! of the contract: change them only with a new `format` string.

use std::io::Write;

use serde::Serialize;

use crate::validate::catalogue::{CATALOGUE, CheckInfo};
use crate::validate::output::{CATALOGUE_FORMAT, Report};

pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

#[derive(Serialize)]
struct Catalogue {
    format: &'static str,
    checks: &'static [CheckInfo],
}

pub fn render_catalogue(out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(
        &mut *out,
        &Catalogue {
            format: CATALOGUE_FORMAT,
            checks: CATALOGUE,
        },
    )?;
    writeln!(out)
}
