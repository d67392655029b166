//! Why `validate` itself could not run (exit 2). Problems with a message are findings, not
//! errors.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the key in {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("cannot read the certificate(s) in {path}: {reason}")]
    Certificate { path: PathBuf, reason: String },
    #[error("--at {value:?} is not an RFC 3339 time: {reason}")]
    BadTime { value: String, reason: String },
    #[error("no MESSAGE given (or use --list-checks)")]
    NoMessages,
    #[error("cannot write the report: {0}")]
    Output(#[from] std::io::Error),
    #[error("cannot render the report: {0}")]
    Render(String),
}
