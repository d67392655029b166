//! The harness edge server (EDGE-SRV, TEST-CATALOGUE §c.5, §d.1 SMTP8/15, §d.3 POP19-27): the
//! server that the SUT's edge *client* talks to, `edge.direct.test`. It offers STARTTLS/STLS
//! with a certificate the scenario chooses (good, expired, wrongly named, self-signed), keeps
//! every line both ways as evidence, and records what the client did (TLS before credentials,
//! the mechanism, what it sent or fetched).
//!
//! Written by hand on purpose: these servers must misbehave on command (scripted -ERR, bad
//! certificates) and observe a client's every step, which no mail-server crate offers. They
//! reuse the HISP's line connection (bounded lines, timeouts, STARTTLS in place).

pub mod imap;
mod imap_fetch;
pub mod imap_syntax;
pub mod pop3;
pub mod smtp;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::hisp::config::TlsIdentity;
use crate::pki::ReferencePki;

/// Every read and write of an edge-server session is bounded by this.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(30);

/// The name the SUT's edge client must verify.
pub const EDGE_HOST: &str = "edge.direct.test";

#[derive(Debug, thiserror::Error)]
pub enum EdgeServerError {
    #[error("edge server certificate {0}: not in the reference PKI")]
    MissingCredential(String),
    #[error("edge server TLS: {0}")]
    Tls(String),
    #[error("edge server listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// Which certificate the server presents (SMTP15 / POP23 outline).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerCert {
    /// Issued by the harness root for edge.direct.test.
    Good,
    Expired,
    WrongName,
    SelfSigned,
}

impl ServerCert {
    /// From the scenario's wording: `good`, `expired`, `wrongly named`, `self-signed`.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "good" | "valid" => ServerCert::Good,
            "expired" => ServerCert::Expired,
            "wrongly named" | "wrong-name" | "wrong name" => ServerCert::WrongName,
            "self-signed" | "self signed" => ServerCert::SelfSigned,
            _ => return None,
        })
    }

    /// The reference-PKI credential.
    pub fn credential(self) -> &'static str {
        match self {
            ServerCert::Good => "tls_edge",
            ServerCert::Expired => "tls_edge_expired",
            ServerCert::WrongName => "tls_edge_wrong_name",
            ServerCert::SelfSigned => "tls_edge_self_signed",
        }
    }

    /// Whether a correct client must refuse it.
    pub fn is_bad(self) -> bool {
        self != ServerCert::Good
    }
}

/// The TLS acceptor presenting `cert` (with its chain, so that a client needs only the root).
pub fn acceptor(
    pki: &ReferencePki,
    cert: ServerCert,
) -> Result<tokio_rustls::TlsAcceptor, EdgeServerError> {
    let name = cert.credential();
    let c = pki
        .credential(name)
        .ok_or_else(|| EdgeServerError::MissingCredential(name.into()))?;
    let mut chain = vec![c.certificate_der.clone()];
    if cert != ServerCert::SelfSigned
        && let Some(ca) = pki.credential(&c.issuer)
    {
        chain.push(ca.certificate_der.clone());
    }
    let key_pkcs8 = c
        .key
        .to_pkcs8_der()
        .map_err(|e| EdgeServerError::Tls(format!("{name} key: {e}")))?;
    crate::hisp::tls::acceptor(&TlsIdentity { chain, key_pkcs8 })
        .map_err(|e| EdgeServerError::Tls(e.to_string()))
}

/// A shared, append-only session log: `C: `/`S: ` lines and `# ` notes.
#[derive(Clone, Debug, Default)]
pub struct Log(Arc<Mutex<String>>);

impl Log {
    pub fn line(&self, text: impl AsRef<str>) {
        let mut l = self.0.lock().unwrap_or_else(|e| e.into_inner());
        l.push_str(text.as_ref());
        l.push('\n');
    }

    pub fn text(&self) -> String {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Decodes `AUTH PLAIN` credentials (`\0user\0password`, base64) into (user, password).
pub fn decode_plain(b64: &str) -> Option<(String, String)> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut parts = text.split('\0');
    let _authzid = parts.next()?;
    let user = parts.next()?.to_string();
    let password = parts.next()?.to_string();
    Some((user, password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_credentials_decode() {
        let b64 = crate::sut::submission::auth_plain("a@edge.direct.test", "pw");
        assert_eq!(
            decode_plain(&b64),
            Some(("a@edge.direct.test".into(), "pw".into()))
        );
        assert_eq!(decode_plain("%%%"), None);
    }

    #[test]
    fn certificate_wording() {
        assert_eq!(
            ServerCert::parse("self-signed"),
            Some(ServerCert::SelfSigned)
        );
        assert_eq!(
            ServerCert::parse("wrongly named"),
            Some(ServerCert::WrongName)
        );
        assert!(ServerCert::Expired.is_bad());
        assert!(!ServerCert::Good.is_bad());
        assert_eq!(ServerCert::parse("odd"), None);
    }
}
