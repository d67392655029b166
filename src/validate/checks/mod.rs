//! The checks, one file per family (TEST-CATALOGUE §f). Each family has a `run` that decides
//! which entities it looks at; each check is a small function named after its id.

pub mod certs;
pub mod cms;
pub mod dsn;
pub mod headers;
pub mod mdn;
pub mod mime;
pub mod report;
pub mod smime;
pub mod trust;
pub mod xdm;

/// Why checks on the decrypted layers cannot run, when they cannot.
pub fn closed_envelope_reason(m: &crate::validate::message::MessageUnderValidation) -> String {
    use crate::validate::message::Decryption;
    match m.envelope.as_ref().map(|e| &e.decryption) {
        Some(Decryption::NotAttempted(why)) => format!("envelope not decrypted: {why}"),
        Some(Decryption::Failed(_)) => "envelope not decrypted: no given key opens it".into(),
        Some(Decryption::Decrypted { .. }) | None => "no such layer in this message".into(),
    }
}
