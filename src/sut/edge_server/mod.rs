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

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::Notify;

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

/// A running edge server: its finished sessions (`T`, the protocol's record) and how many are
/// still open. Stops when dropped.
pub struct Server<T> {
    pub addr: SocketAddr,
    shared: Arc<Shared<T>>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared<T> {
    finished: Mutex<Vec<T>>,
    active: Mutex<usize>,
    changed: Notify,
}

impl<T> Drop for Server<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<T: Clone + Send + 'static> Server<T> {
    /// Listens on a free port of `bind` and runs `serve` for each connection on a task of its
    /// own; what `serve` returns is the session's record.
    pub(crate) async fn listen<F, Fut>(bind: IpAddr, serve: F) -> Result<Self, EdgeServerError>
    where
        F: Fn(crate::hisp::conn::LineConn, SocketAddr) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        let want = SocketAddr::new(bind, 0);
        let listener = TcpListener::bind(want)
            .await
            .map_err(|source| EdgeServerError::Listen { addr: want, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EdgeServerError::Listen { addr: want, source })?;
        let shared = Arc::new(Shared {
            finished: Mutex::new(Vec::new()),
            active: Mutex::new(0),
            changed: Notify::new(),
        });
        let s = shared.clone();
        let serve = Arc::new(serve);
        let task = tokio::spawn(async move {
            while let Ok((tcp, peer)) = listener.accept().await {
                let (s, serve) = (s.clone(), serve.clone());
                *s.active.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                tokio::spawn(async move {
                    let record = serve(crate::hisp::conn::LineConn::new(tcp), peer).await;
                    s.finished
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(record);
                    *s.active.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
                    s.changed.notify_waiters();
                });
            }
        });
        Ok(Server { addr, shared, task })
    }

    /// The sessions finished so far.
    pub fn sessions(&self) -> Vec<T> {
        self.shared
            .finished
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until no session is open (and at least `min` have finished), or `deadline`.
    pub async fn settle(&self, min: usize, deadline: Duration) -> Vec<T> {
        let end = Instant::now() + deadline;
        loop {
            let notified = self.shared.changed.notified();
            let active = *self.shared.active.lock().unwrap_or_else(|e| e.into_inner());
            let done = self.sessions();
            if active == 0 && done.len() >= min {
                return done;
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return done;
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), notified).await;
        }
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
