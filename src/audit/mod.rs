//! The HISP's audit log (AUD-01 … AUD-10): one JSON line per event, each carrying `seq` and
//! `prev` (the SHA-256 of the previous line), so that an edited, removed, reordered or cut
//! line is found by `verify`, and lines dropped from the end by comparing with a kept head.

pub mod chain;
pub mod command;
pub mod error;
pub mod event;
pub mod log;
pub mod verify;

pub use chain::{GENESIS, Head, Line};
pub use command::{AuditArgs, AuditCommand};
pub use error::AuditError;
pub use event::{AuditEvent, EventKind, rfc3339};
pub use log::AuditLog;
pub use verify::{Broken, BrokenReason, VerifyReport, verify, verify_against, verify_bytes};
