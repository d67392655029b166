//! The `validate` command: arguments, loading, running every message, rendering, and the exit
//! outcome. The binary's `cli.rs` only parses and maps the outcome to an exit code.

use std::io::Write;
use std::path::PathBuf;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::validate::correlation::Correlation;
use crate::validate::engine::validate_owned;
use crate::validate::error::ValidateError;
use crate::validate::finding::Profile;
use crate::validate::options::{ValidationOptions, load_certificates, load_key, read_file};
use crate::validate::output::{Format, Report, html, json, text};

/// `direct-conformance validate`.
#[derive(Clone, Debug, clap::Args)]
pub struct ValidateArgs {
    /// Recipient private key (PKCS#8 or PKCS#1, PEM or DER) to decrypt with; repeatable.
    #[arg(long = "recipient-key", value_name = "FILE")]
    pub recipient_key: Vec<PathBuf>,
    /// Recipient certificate (PEM or DER) that selects the RecipientInfo; repeatable.
    #[arg(long = "recipient-cert", value_name = "FILE")]
    pub recipient_cert: Vec<PathBuf>,
    /// Trust anchor certificate(s); repeatable. Anchors need not be self-signed.
    #[arg(long, value_name = "FILE")]
    pub anchor: Vec<PathBuf>,
    /// Intermediate CA certificate(s) to build paths with; repeatable.
    #[arg(long, value_name = "FILE")]
    pub intermediate: Vec<PathBuf>,
    /// CRL (DER or PEM) to check revocation with; repeatable.
    #[arg(long, value_name = "FILE")]
    pub crl: Vec<PathBuf>,
    /// Password of an encrypted recipient key (encrypted PKCS#8 now; PKCS#12 later).
    #[arg(long, value_name = "PW")]
    pub password: Option<String>,
    /// Allow network fetches (AIA, CRL distribution points).
    #[arg(long)]
    pub online: bool,
    /// Validation time (RFC 3339); default now.
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    /// Policy profile that decides severities.
    #[arg(long, value_enum, default_value = "ds-1.3")]
    pub profile: Profile,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// The original message(s) an MDN or DSN answers, as sent: lets VC-709, VC-711 and
    /// VC-714 correlate the notification (Message-ID, where it went, what was requested);
    /// repeatable (several originals: the notification may answer any of them).
    #[arg(long, value_name = "FILE")]
    pub original: Vec<PathBuf>,
    /// Print the check catalogue and exit.
    #[arg(long)]
    pub list_checks: bool,
    /// Message files (raw RFC 5322, as captured).
    #[arg(value_name = "MESSAGE")]
    pub messages: Vec<PathBuf>,
}

/// How the run ended (the tool ran; problems, if any, are in the messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// No error-level finding (or only the catalogue was listed).
    Clean,
    /// At least one error-level finding.
    Errors,
}

impl Outcome {
    /// The process exit code: 0 clean, 1 errors.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Errors => 1,
        }
    }
}

/// Runs `validate` writing the report to `out`, without colour.
pub fn run(args: &ValidateArgs, out: &mut dyn Write) -> Result<Outcome, ValidateError> {
    run_with_colour(args, out, false)
}

/// As `run`; `colour` applies to the text format only (the binary passes whether stdout is a
/// terminal).
pub fn run_with_colour(
    args: &ValidateArgs,
    out: &mut dyn Write,
    colour: bool,
) -> Result<Outcome, ValidateError> {
    if args.list_checks {
        match args.format {
            Format::Text => text::render_catalogue(out)?,
            Format::Json => json::render_catalogue(out)?,
            Format::Html => html::render_catalogue(out)?,
        }
        return Ok(Outcome::Clean);
    }
    if args.messages.is_empty() {
        return Err(ValidateError::NoMessages);
    }
    let options = load_options(args)?;
    // Open every message first, so an unreadable file stops the run before any output; then
    // read and validate one at a time, so that only one message is in memory at once.
    for path in &args.messages {
        std::fs::File::open(path).map_err(|source| ValidateError::Read {
            path: path.clone(),
            source,
        })?;
    }
    let mut reports = Vec::with_capacity(args.messages.len());
    for path in &args.messages {
        let raw = read_file(path)?;
        reports.push(validate_owned(&path.display().to_string(), raw, &options));
    }
    let at = options
        .at
        .format(&Rfc3339)
        .unwrap_or_else(|_| options.at.to_string());
    let report = Report::new(options.profile, at, reports);
    match args.format {
        Format::Text => text::render(&report, out, colour)?,
        Format::Json => json::render(&report, out)?,
        Format::Html => html::render(&report, out)?,
    }
    out.flush()?;
    Ok(if report.summary.errors > 0 {
        Outcome::Errors
    } else {
        Outcome::Clean
    })
}

/// Reads every key, certificate and CRL named on the command line.
pub fn load_options(args: &ValidateArgs) -> Result<ValidationOptions, ValidateError> {
    let at = match &args.at {
        None => OffsetDateTime::now_utc(),
        Some(s) => OffsetDateTime::parse(s, &Rfc3339).map_err(|e| ValidateError::BadTime {
            value: s.clone(),
            reason: e.to_string(),
        })?,
    };
    let mut options = ValidationOptions {
        at,
        profile: args.profile,
        online: args.online,
        password: args.password.clone(),
        ..ValidationOptions::default()
    };
    for p in &args.recipient_key {
        let (key, certificates) = load_key(p, args.password.as_deref())?;
        options.recipient_keys.push(key);
        options.recipient_certs.extend(certificates);
    }
    for p in &args.recipient_cert {
        options.recipient_certs.extend(load_certificates(p)?);
    }
    for p in &args.anchor {
        options.anchors.extend(load_certificates(p)?);
    }
    for p in &args.intermediate {
        options.intermediates.extend(load_certificates(p)?);
    }
    for p in &args.crl {
        options.crls.push(read_file(p)?);
    }
    for p in &args.original {
        let c = Correlation::from_original(&read_file(p)?);
        options.correlation = Some(match options.correlation.take() {
            None => c,
            Some(mut all) => {
                all.message_ids.extend(c.message_ids);
                all.notify_to.extend(c.notify_to);
                all.final_delivery_requested =
                    match (all.final_delivery_requested, c.final_delivery_requested) {
                        (Some(a), Some(b)) => Some(a || b),
                        (a, b) => a.or(b),
                    };
                all
            }
        });
    }
    Ok(options)
}
