//! The mock discovery world (TEST-CATALOGUE §a): an authoritative DNS server for
//! `direct.test`, the LDAP servers of the DCDT and added cases, the PKI HTTP server, and the
//! fixture that describes them all as data. [`World::start`] runs it on real sockets.

mod directory;
pub mod dns;
mod error;
pub mod events;
pub mod fixture;
pub mod http;
mod keytag;
pub mod ldap;
mod world;
pub mod zone;

pub use directory::{Directory, SearchOutcome, filter_string};
pub use error::EnvError;
pub use events::{
    DnsEvent, Event, EventKind, EventLog, HttpEvent, LdapEvent, LdapOpKind, Transport,
};
pub use fixture::{CaseSpec, EMBEDDED_FIXTURE, Fixture};
pub use world::{DEFAULT_DNS, LdapEndpoint, World, WorldConfig, WorldHandle};
