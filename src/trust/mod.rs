//! Certificate trust for Direct: the certificate profile (VC-5xx, [`profile`]), path building
//! and validation against configured anchors with CRL revocation and AIA chasing (VC-6xx,
//! [`path`]), and the bounded HTTP fetching both need ([`fetch`]).
//!
//! Everything here reports facts ([`TrustCheck`]) rather than verdicts: the validator, the
//! discovery client and the reference HISP decide what a `Fail` means under their profile.

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
