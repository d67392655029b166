//! Step definitions for the Gherkin features in `features/`, the World that holds one
//! scenario's state, and the runner behind `direct-conformance run`.
//!
//! - `send`: what the harness prepares and delivers to the SUT's backbone;
//! - `verdict`: what must or must not come out of the SUT's doors (mailbox, MDNs, audit);
//! - `collector`: the cucumber writer that builds the report; `runner`: the run itself.

pub mod audit;
pub mod bundle;
pub mod collector;
pub mod context;
pub mod discovery;
pub mod edge;
pub mod edge_client;
pub mod edge_client_imap;
pub mod edge_smtp;
pub mod hosting;
pub mod imap;
pub mod mdn_receive;
pub mod notices;
pub mod pop3;
pub mod receipts;
pub mod runner;
pub mod send;
pub mod smtp_attachments;
pub mod smtp_door;
pub mod smtp_limits;
pub mod smtp_tls;
pub mod trust_send;
pub mod verdict;
pub mod world;

#[allow(unused_imports)]
pub use world::DirectWorld;
