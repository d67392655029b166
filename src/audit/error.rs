//! Audit-log errors: only the ones that stop the tool (I/O, an existing log it cannot
//! continue). A broken chain found by `verify` is a report, not an error.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The existing log ends in a way that cannot be continued (a partial or unreadable last
    /// line): appending would hide the damage.
    #[error("{}: cannot continue the log: line {line}: {reason}", path.display())]
    CannotContinue {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("cannot serialise the audit event: {0}")]
    Serialise(String),
}
