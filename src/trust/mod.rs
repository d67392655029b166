//! Certificate trust for Direct: the certificate profile (VC-5xx, [`profile`]), path building
//! and validation against configured anchors with CRL revocation and AIA chasing (VC-6xx,
//! [`path`]), and the bounded HTTP fetching both need ([`fetch`]).
//!
//! Everything here reports facts ([`TrustCheck`]) rather than verdicts: the validator, the
//! discovery client and the reference HISP decide what a `Fail` means under their profile.
//!
//! ```text
//! // VC-5xx for the signer, bound to the From address:
//! let findings = trust::evaluate(&signer, Role::Signer, Some("alice@hisp.direct.test"), now);
//! // VC-6xx: SignedData certificates as candidate intermediates, anchors from files.
//! let anchors: Vec<TrustAnchor> = fetch::parse_certificates(&anchor_file)?
//!     .into_iter().map(TrustAnchor::from_certificate).collect();
//! let crls = vec![fetch::parse_crl(&crl_file)?];
//! let input = PathInput { leaf: &signer, intermediates: &signed_data_certs, anchors: &anchors,
//!                         crls: &crls, at: now };
//! let report = trust::validate(&input, &PathOptions { online: true, ..Default::default() });
//! report.trusted();      // a path validated with no Fail
//! report.checks;         // 601..607 findings, each naming its certificate
//! report.fetches;        // every AIA/CRL fetch: url, status, bytes, error, duration
//! ```
//! From async code use [`path::validate_async`] (the HTTP client is blocking).

pub mod bundle;
pub mod cert;
pub mod crl;
pub mod fetch;
pub mod names;
pub mod path;
pub mod profile;
pub mod report;

pub use path::{PathInput, PathOptions, TrustAnchor, validate, validate_async, validate_with};
pub use profile::{Binding, Role, binding, evaluate};
pub use report::{
    CertSource, CertSummary, FetchPurpose, FetchRecord, Outcome, PathReport, TrustCheck,
};
