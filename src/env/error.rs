//! Errors of the mock discovery world. Network input never produces one of these: a malformed
//! query or request is answered (or dropped) and logged, not propagated.

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("fixture is not valid TOML: {0}")]
    FixtureToml(#[from] toml::de::Error),
    #[error("fixture: {0}")]
    Fixture(String),
    #[error("test PKI: {0}")]
    Pki(#[from] crate::pki::PkiError),
    #[error("cannot listen on {addr} ({what}): {error}; pick another port or stop what uses it")]
    Bind {
        what: String,
        addr: SocketAddr,
        error: std::io::Error,
    },
    #[error("{what}: {message}")]
    Build { what: String, message: String },
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl EnvError {
    pub(crate) fn fixture(message: impl Into<String>) -> Self {
        EnvError::Fixture(message.into())
    }

    pub(crate) fn build(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        EnvError::Build {
            what: what.into(),
            message: message.to_string(),
        }
    }
}
