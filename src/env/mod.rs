//! The mock discovery world (TEST-CATALOGUE §a): an authoritative DNS server for
//! `direct.test`, the LDAP servers of the DCDT and added cases, the PKI HTTP server, and the
//! fixture that describes them all as data. [`World::start`] runs it on real sockets.
//!
//! ```no_run
//! # async fn demo() -> Result<(), direct_conformance::env::EnvError> {
//! use direct_conformance::env::{EventKind, World, WorldConfig};
//! let world = World::start(WorldConfig::ephemeral()).await?; // free ports on 127.0.0.1
//! let mark = world.log.next_seq();
//! // … point a resolver at `world.dns`, LDAP clients at `world.ldap_addr("L1")`, …
//! let fetched_crl = world
//!     .log
//!     .wait_for(mark, std::time::Duration::from_secs(5), |e| {
//!         matches!(&e.kind, EventKind::Http(h) if h.path.ends_with(".crl"))
//!     })
//!     .await;
//! world.shutdown().await;
//! # let _ = fetched_crl; Ok(()) }
//! ```

pub mod bundle;
mod directory;
pub mod dns;
mod error;
pub mod events;
pub mod fixture;
pub mod http;
pub(crate) mod keytag;
pub mod ldap;
mod world;
pub mod zone;

pub use directory::{Directory, PublishedEntry, SearchOutcome, filter_string};
pub use error::EnvError;
pub use events::{
    DnsEvent, Event, EventKind, EventLog, HttpEvent, LdapEvent, LdapOpKind, Transport,
};
pub use fixture::{CaseSpec, EMBEDDED_FIXTURE, Fixture};
pub use world::{DEFAULT_DNS, LdapEndpoint, World, WorldConfig, WorldHandle};
