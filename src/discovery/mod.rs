//! The discovery client (TEST-CATALOGUE §a.5, REQUIREMENTS DISC-01..18): finds the encryption
//! certificates of a Direct address the way a sending HISP must, and explains every step.
//!
//! Order (DISC-15): DNS CERT at the address-bound name, DNS CERT at the domain, then LDAP
//! through `_ldap._tcp.<domain>` SRV (address, then domain). The first step with a valid
//! certificate wins and all its valid certificates are returned. When address-bound
//! certificates were found and none is valid, discovery stops (DISC-16, no domain fallback).
//!
//! ```no_run
//! # async fn demo(dns: std::net::SocketAddr,
//! #     anchors: Vec<direct_conformance::trust::TrustAnchor>) {
//! use direct_conformance::discovery::{DiscoveryConfig, discover};
//! let config = DiscoveryConfig::new(dns, anchors);
//! let result = discover("d1@domain1.direct.test", &config).await;
//! for c in &result.candidates {
//!     println!("{} {} {:?}", c.origin, c.subject, c.verdict);
//! }
//! let to_encrypt_to = &result.certificates; // empty: do not send
//! # }
//! ```

mod client;
mod config;
mod dns;
mod fetch;
mod ldap;
mod names;
mod result;
mod select;
mod srv;

pub use client::{Discoverer, discover};
pub use config::{DiscoveryConfig, FaultKnobs, SrvRandom, ThreadRandom, Timeouts};
pub use names::{AddressError, DirectAddress};
pub use result::{
    CandidateReport, DiscoveryResult, DropReason, NetworkStep, Origin, StepKind, StepTarget,
    Verdict,
};
pub use srv::{SrvTarget, order_targets};
