//! The discovery client (TEST-CATALOGUE §a.5, REQUIREMENTS DISC-01..18): finds the encryption
//! certificates of a Direct address the way a sending HISP must, and explains every step.
//!
//! Order (DISC-15): DNS CERT at the address-bound name, DNS CERT at the domain, then LDAP
//! through `_ldap._tcp.<domain>` SRV (address, then domain). The first step with a valid
//! certificate wins and all its valid certificates are returned. When address-bound
//! certificates were found and none is valid, discovery stops (DISC-16, no domain fallback);
//! invalid domain-bound certificates in DNS do not stop the LDAP steps (DISC-15).
//!
//! Decisions worth knowing:
//! - Address-bound owner names: the local part as one label with its dots escaped (RFC 4398),
//!   then one label per dot (the RIs, DCDT) when the first spelling has no records (D27).
//! - Only NXDOMAIN and NODATA mean "nothing here" (DISC-07); any other DNS failure of a CERT
//!   lookup stops discovery rather than let a lower level win by accident.
//! - An address-bound step accepts a certificate bound to the address or to its domain; a
//!   domain-bound step only a domain binding. Unknown CERT types are ignored (DISC-03).
//! - LDAP: the SRV order is computed once per discovery; a target that does not resolve,
//!   refuses, stays silent or errs is skipped and not asked again in the same discovery; a
//!   target that answers without a certificate passes to the next (DISC-13).
//! - Host names in AIA, CRL and IPKIX URLs resolve through the configured DNS server only
//!   (or `http_hosts`), never the system resolver.
//! - Bounded: each DNS, LDAP and HTTP step by [`Timeouts`], the whole by `timeouts.total`.
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
mod hosting;
mod ldap;
mod names;
mod result;
mod select;
mod srv;

pub use client::{Discoverer, discover};
pub use config::{DiscoveryConfig, FaultKnobs, SrvRandom, ThreadRandom, Timeouts};
pub use hosting::{HostedCertificate, HostingChecker, HostingReport};
pub use names::{AddressError, DirectAddress};
pub use result::{
    CandidateReport, DiscoveryResult, DropReason, NetworkStep, Origin, StepKind, StepTarget,
    Verdict,
};
pub use srv::{SrvTarget, order_targets};
