//! The harness's test PKI (TEST-CATALOGUE §a.1): described as data in
//! `reference-certs/pki.toml`, generated reproducibly by `direct-conformance certs`, loaded by
//! the rest of the harness through [`ReferencePki`].

mod crl;
mod error;
mod extensions;
mod generate;
mod issue;
mod malformed;
mod manifest;
mod p7c;
mod pkcs12;
mod pkcs12_read;
mod sign;
pub mod spec;
mod store;
mod time;

pub use crl::{RevokedEntry, build_crl};
pub use error::PkiError;
pub use generate::{ANCHOR_DER, ANCHOR_PEM, MANIFEST_FILE, SPEC_FILE, generate, seeded_rng};
pub use issue::self_signed_copy;
pub use manifest::{CredentialEntry, CrlEntry, FileEntry, Manifest, RevokedInfo};
pub use p7c::build_p7c;
pub use pkcs12::{PKCS12_PASSWORD, build_pkcs12};
pub use pkcs12_read::{Pkcs12Contents, read_pkcs12};
pub use sign::CertSigner;
pub use spec::{CredentialSpec, EMBEDDED_SPEC, PkiSpec};
pub use store::{CERTS_ENV, Credential, ReferencePki};
pub use time::parse_epoch;
