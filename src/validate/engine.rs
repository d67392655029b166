//! Runs the check families over one message, in catalogue order, and collects the findings.

use crate::validate::catalogue::lookup;
use crate::validate::checks;
use crate::validate::finding::{Finding, Profile, Severity, Status};
use crate::validate::message::MessageUnderValidation;
use crate::validate::options::ValidationOptions;

/// The findings of one message.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MessageReport {
    pub source: String,
    pub overview: Overview,
    pub findings: Vec<Finding>,
}

/// What the message is, in a few facts, so that a report names it without its findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Overview {
    pub size: usize,
    /// The outer header's Message-ID, From, To as written (None when absent).
    pub message_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The Subject of the wrapped message, else of the outer one.
    pub subject: Option<String>,
    /// The outer entity is application/pkcs7-mime.
    pub encrypted: bool,
    pub decrypted: bool,
    /// A multipart/signed layer was found (after decryption, or in clear).
    pub signed: bool,
    /// The signed content is a wrapped message/rfc822.
    pub wrapped: bool,
    /// `mdn` or `dsn` when the content is such a report.
    pub notification: Option<&'static str>,
}

impl Overview {
    pub fn of(m: &MessageUnderValidation) -> Self {
        let outer = |name: &str| m.outer.header.value(name).map(str::to_string);
        Overview {
            size: m.raw.len(),
            message_id: outer("Message-ID"),
            from: outer("From"),
            to: outer("To"),
            subject: m
                .inner()
                .and_then(|i| i.header.value("Subject"))
                .map(str::to_string)
                .or_else(|| outer("Subject")),
            encrypted: m.envelope.is_some(),
            decrypted: m.decrypted.is_some(),
            signed: m.signature.is_some(),
            wrapped: m.inner().is_some(),
            notification: checks::report::find(m).map(|r| match r.kind {
                checks::report::ReportKind::Mdn => "mdn",
                checks::report::ReportKind::Dsn => "dsn",
            }),
        }
    }
}

/// Collects findings; severities and requirement ids come from the catalogue and the profile.
#[derive(Debug)]
pub struct Findings {
    profile: Profile,
    pub items: Vec<Finding>,
}

impl Findings {
    pub fn new(profile: Profile) -> Self {
        Findings {
            profile,
            items: Vec::new(),
        }
    }

    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The catalogue severity of `id` under the current profile.
    pub fn severity(&self, id: &str) -> Severity {
        lookup(id).map_or(Severity::Error, |c| c.severity(self.profile))
    }

    fn push(
        &mut self,
        id: &'static str,
        status: Status,
        severity: Severity,
        path: &str,
        message: String,
        evidence: Vec<String>,
    ) {
        let info = lookup(id);
        debug_assert!(info.is_some(), "{id} is not in the catalogue");
        self.items.push(Finding {
            id,
            status,
            severity,
            requirement_ids: info.map(|c| c.requirements.to_vec()).unwrap_or_default(),
            part_path: path.to_string(),
            message,
            evidence,
        });
    }

    pub fn pass(&mut self, id: &'static str, path: &str, message: impl Into<String>) {
        let s = self.severity(id);
        self.push(id, Status::Passed, s, path, message.into(), Vec::new());
    }

    /// A failure at the catalogue severity.
    pub fn fail(
        &mut self,
        id: &'static str,
        path: &str,
        message: impl Into<String>,
        evidence: Vec<String>,
    ) {
        let s = self.severity(id);
        self.push(id, Status::Failed, s, path, message.into(), evidence);
    }

    /// A failure at a severity the check chose (lower, for the cases the catalogue softens).
    pub fn fail_at(
        &mut self,
        id: &'static str,
        severity: Severity,
        path: &str,
        message: impl Into<String>,
        evidence: Vec<String>,
    ) {
        self.push(id, Status::Failed, severity, path, message.into(), evidence);
    }

    pub fn info(
        &mut self,
        id: &'static str,
        path: &str,
        message: impl Into<String>,
        evidence: Vec<String>,
    ) {
        self.push(
            id,
            Status::Info,
            Severity::Info,
            path,
            message.into(),
            evidence,
        );
    }

    pub fn not_evaluated(&mut self, id: &'static str, path: &str, reason: impl Into<String>) {
        let s = self.severity(id);
        self.push(id, Status::NotEvaluated, s, path, reason.into(), Vec::new());
    }

    /// Pass when `problems` is empty, else one failure listing them.
    pub fn verdict(
        &mut self,
        id: &'static str,
        path: &str,
        ok: impl Into<String>,
        failed: impl Into<String>,
        problems: Vec<String>,
    ) {
        if problems.is_empty() {
            self.pass(id, path, ok);
        } else {
            self.fail(id, path, failed, problems);
        }
    }
}

/// Validates one message.
pub fn validate_message(source: &str, raw: &[u8], options: &ValidationOptions) -> MessageReport {
    validate_owned(source, raw.to_vec(), options)
}

/// Validates a message the caller hands over, without copying it.
pub fn validate_owned(source: &str, raw: Vec<u8>, options: &ValidationOptions) -> MessageReport {
    let m = MessageUnderValidation::analyse_owned(source, raw, options);
    let mut out = Findings::new(options.profile);
    checks::headers::run(&m, &mut out);
    checks::mime::run(&m, &mut out);
    checks::smime::run(&m, &mut out);
    checks::cms::run(&m, options, &mut out);
    let inputs = checks::certs::CertInputs::from_message(&m, options);
    checks::certs::run(&inputs, &mut out);
    checks::trust::run(&inputs, &mut out);
    let correlation = options.correlation.as_ref();
    checks::mdn::run(&m, correlation, &mut out);
    checks::dsn::run(&m, correlation, &mut out);
    MessageReport {
        source: source.to_string(),
        overview: Overview::of(&m),
        findings: out.items,
    }
}
