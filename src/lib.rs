//! direct-conformance: a conformance harness and reference validator for Direct secure
//! messaging (S/MIME over SMTP between HISPs).
//!
//! Data flows one way: `steps` → (`sut`, `hisp`, `env`) → (`smime`, `trust`, `discovery`,
//! `mdn`) → `pki`; `validate` reads messages through `smime`. See ARCHITECTURE in the README.
#![forbid(unsafe_code)]

pub mod audit;
pub mod discovery;
pub mod edge_client;
pub mod env;
pub mod hisp;
pub mod keys;
pub mod mdn;
pub mod pki;
pub mod report;
pub mod smime;
pub mod sut;
pub mod trust;
pub mod validate;
