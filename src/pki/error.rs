//! Typed errors of the test PKI: what went wrong and with which credential or file.

use std::path::PathBuf;

use crate::keys::KeyError;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    // Display carries the cause; no `#[source]` so that `{:#}` does not print it twice.
    #[error("PKI description is not valid TOML: {0}")]
    SpecSyntax(toml::de::Error),
    #[error("PKI description: {0}")]
    SpecInvalid(String),
    #[error("epoch {0:?} is neither RFC 3339 nor `now`")]
    Epoch(String),
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("credential {name}: key: {error}")]
    Key { name: String, error: KeyError },
    #[error("{context}: ASN.1 encoding: {error}")]
    Der { context: String, error: der::Error },
    #[error("{context}: certificate builder: {message}")]
    Builder { context: String, message: String },
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("PKCS#12: {0}")]
    Pkcs12(String),
    #[error("manifest: {0}")]
    Manifest(serde_json::Error),
    #[error("{dir}: no credential {name} in this PKI")]
    Missing { dir: PathBuf, name: String },
    #[error("{path}: {message}")]
    Corrupt { path: PathBuf, message: String },
}

impl From<toml::de::Error> for PkiError {
    fn from(e: toml::de::Error) -> Self {
        PkiError::SpecSyntax(e)
    }
}

impl From<serde_json::Error> for PkiError {
    fn from(e: serde_json::Error) -> Self {
        PkiError::Manifest(e)
    }
}

impl PkiError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        PkiError::Io {
            path: path.into(),
            error,
        }
    }

    pub(crate) fn der(context: impl Into<String>) -> impl FnOnce(der::Error) -> Self {
        let context = context.into();
        move |error| PkiError::Der { context, error }
    }
}
