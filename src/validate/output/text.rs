//! Terminal text: one line per finding, grouped by part, evidence indented below. Colour only
//! when the caller says the output is a terminal.

use std::io::Write;

use crate::validate::catalogue::CATALOGUE;
use crate::validate::finding::{Finding, Severity, Status};
use crate::validate::output::{Report, Summary};

struct Style {
    colour: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn label(&self, f: &Finding) -> String {
        match (f.status, f.severity) {
            (Status::Passed, _) => self.paint("32", "pass  "),
            (Status::Failed, Severity::Error) => self.paint("1;31", "ERROR "),
            (Status::Failed, Severity::Warning) => self.paint("33", "WARN  "),
            (Status::Failed, Severity::Info) => self.paint("36", "NOTE  "),
            (Status::NotEvaluated, _) => self.paint("2", "n/e   "),
            (Status::Info, _) => self.paint("36", "info  "),
        }
    }
}

pub fn render(report: &Report, out: &mut dyn Write, colour: bool) -> std::io::Result<()> {
    let style = Style { colour };
    for m in &report.messages {
        writeln!(
            out,
            "{} {} (profile {}, at {})",
            style.paint("1", "=="),
            style.paint("1", &m.source),
            report.profile.name(),
            report.at
        )?;
        writeln!(out, "{}", overview_line(&m.overview))?;
        for group in m.by_part() {
            writeln!(out, "{}", style.paint("4", group.path))?;
            for f in group.findings {
                let reqs = if f.requirement_ids.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", f.requirement_ids.join(","))
                };
                writeln!(out, "  {}{}{} {}", style.label(f), f.id, reqs, f.message)?;
                for e in &f.evidence {
                    writeln!(out, "        {}", style.paint("2", e))?;
                }
            }
        }
        writeln!(out, "{}", summary_line(&m.summary))?;
        writeln!(out)?;
    }
    if report.messages.len() > 1 {
        writeln!(out, "all messages: {}", summary_line(&report.summary))?;
    }
    Ok(())
}

/// One line saying what the message is.
pub fn overview_line(o: &crate::validate::engine::Overview) -> String {
    let mut layers = Vec::new();
    match (o.encrypted, o.decrypted) {
        (true, true) => layers.push("encrypted (decrypted)"),
        (true, false) => layers.push("encrypted (not decrypted)"),
        (false, _) => layers.push("not encrypted"),
    }
    if o.signed {
        layers.push("signed");
    }
    if o.wrapped {
        layers.push("wrapped");
    }
    if let Some(n) = o.notification {
        layers.push(if n == "mdn" { "MDN" } else { "DSN" });
    }
    format!(
        "{} octets, {}; Message-ID {}, From {}, Subject {}",
        o.size,
        layers.join(", "),
        o.message_id.as_deref().unwrap_or("(none)"),
        o.from.as_deref().unwrap_or("(none)"),
        o.subject.as_deref().unwrap_or("(none)")
    )
}

pub fn summary_line(s: &Summary) -> String {
    format!(
        "{} error(s), {} warning(s), {} note(s), {} passed, {} not evaluated, {} info",
        s.errors, s.warnings, s.notes, s.passed, s.not_evaluated, s.info
    )
}

/// `--list-checks` as text: id, requirement ids, severity per profile, one line.
pub fn render_catalogue(out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "check   ds-1.3 ats-1.2  requirements                       description"
    )?;
    for c in CATALOGUE {
        let mut line = format!(
            "{:<7} {:<6} {:<7}  {:<34} {}",
            c.id,
            c.ds13.letter(),
            c.ats12.letter(),
            c.requirements.join(","),
            c.description
        );
        if !c.varies.is_empty() {
            line.push_str(&format!(" [{}]", c.varies));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}
