//! What the trust library reports: one [`TrustCheck`] per fact, with a catalogue code (VC-5xx
//! for the certificate profile, VC-6xx for the path) and an [`Outcome`]. The validator maps a
//! `Fail` to an error or a warning by profile; this module judges nothing by profile.

use serde::Serialize;

/// The outcome of one check. `NotEvaluated` carries why the check could not run (no anchor,
/// network off, ...); it is never a pass (TEST-CATALOGUE §f.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Outcome {
    Pass,
    Fail,
    Warn,
    NotEvaluated(String),
    Info,
}

/// One finding. `code` is the catalogue number without the `VC-` prefix (501..514, 601..607).
/// `subject` names the certificate the finding is about, when it is about one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrustCheck {
    pub code: u16,
    pub outcome: Outcome,
    pub detail: String,
    pub subject: Option<String>,
}

impl TrustCheck {
    pub fn new(code: u16, outcome: Outcome, detail: impl Into<String>) -> Self {
        TrustCheck {
            code,
            outcome,
            detail: detail.into(),
            subject: None,
        }
    }

    pub fn about(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    pub fn is_fail(&self) -> bool {
        self.outcome == Outcome::Fail
    }
}

/// Where a path certificate came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum CertSource {
    /// The certificate being validated.
    Leaf,
    /// Supplied by the caller (SignedData certificates, files).
    Supplied,
    /// Fetched from this AIA caIssuers URL.
    Aia(String),
    /// A configured trust anchor.
    Anchor,
}

/// A path certificate as the reports show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    /// Serial number, upper-case hex.
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    /// The certificate's own signature algorithm (SHA-1 is reported, not rejected, here).
    pub signature_algorithm: String,
    /// "RSA 2048", "EC P-256", ...
    pub key: String,
    /// SHA-256 of the DER encoding, lower-case hex.
    pub sha256: String,
    pub source: CertSource,
}

/// Why a URL was fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum FetchPurpose {
    CaIssuers,
    Crl,
}

/// One HTTP fetch, successful or not (VC-602, VC-605, TRUST-05).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FetchRecord {
    pub url: String,
    pub purpose: FetchPurpose,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Body bytes received (up to the size limit).
    pub bytes: usize,
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// The result of path building and validation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PathReport {
    /// The accepted path, leaf first, anchor last; `None` when no candidate path validated.
    pub path: Option<Vec<CertSummary>>,
    /// How many complete candidate paths (leaf to an anchor) were validated.
    pub candidates_tried: usize,
    /// The findings for the accepted path, or, when none was accepted, for every candidate
    /// tried, so that the report says which certificate broke which rule.
    pub checks: Vec<TrustCheck>,
    pub fetches: Vec<FetchRecord>,
}

impl PathReport {
    /// A validation that did not complete (a failed task, no HTTP client): VC-601 not
    /// evaluated, with the reason.
    pub fn not_evaluated(reason: impl Into<String>) -> Self {
        PathReport {
            checks: vec![TrustCheck::new(
                601,
                Outcome::NotEvaluated(reason.into()),
                "path validation did not complete",
            )],
            ..PathReport::default()
        }
    }

    /// True when a path was accepted (no `Fail` among its checks).
    pub fn trusted(&self) -> bool {
        self.path.is_some()
    }

    pub fn failures(&self) -> impl Iterator<Item = &TrustCheck> {
        self.checks.iter().filter(|c| c.is_fail())
    }
}
