//! The PKI HTTP server (`pki.direct.test`): `GET /<ca>.crl` built per request (thisUpdate =
//! now, nextUpdate = now + 24 h), `/<ca>.cer` (DER) for every CA, and the
//! fixture's extra routes (IPKIX targets, `.p7c` AIA bundles, trust bundles, explicit 404s),
//! and the signed trust bundle `/bundles/direct-test.p7m`, which scenarios switch between its
//! issues ([`PkiSite::set_bundle`]). Everything else is 404. hyper 1 over tokio; every request is logged.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use der::Encode;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use x509_cert::serial_number::SerialNumber;

use crate::pki::{ReferencePki, RevokedEntry, build_crl, build_p7c, parse_epoch};

use super::bundle::{BUNDLE_PATH, BundleIssue};
use super::error::EnvError;
use super::events::{EventKind, EventLog, HttpEvent};
use super::fixture::Fixture;

/// A connection is closed after this long, whatever it is doing.
const CONNECTION_LIMIT: Duration = Duration::from_secs(60);
/// How long a TLS client may take to finish its handshake.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);
/// Connections served at once; more are closed at once.
const MAX_CONNECTIONS: usize = 256;

const CT_CERT: &str = "application/pkix-cert";
const CT_CRL: &str = "application/pkix-crl";
const CT_P7C: &str = "application/pkcs7-mime";

#[derive(Clone, Debug)]
enum Route {
    Static {
        body: Bytes,
        content_type: &'static str,
    },
    /// Built per request for this CA.
    Crl(String),
    Status(u16),
}

/// Everything the server answers, computed at start (the signed bundle can change).
pub struct PkiSite {
    routes: BTreeMap<String, Route>,
    pki: Arc<ReferencePki>,
    /// The signed trust bundle served now, its issue, and when it last changed.
    bundle: std::sync::RwLock<(BundleIssue, Bytes, std::time::SystemTime)>,
}

impl PkiSite {
    pub fn build(fixture: &Fixture, pki: Arc<ReferencePki>) -> Result<Self, EnvError> {
        let mut routes = BTreeMap::new();
        for ca in pki.spec.cas() {
            let Some(cred) = pki.ca(&ca.name) else {
                continue;
            };
            routes.insert(
                format!("/{}.cer", ca.name),
                Route::Static {
                    body: Bytes::from(cred.certificate_der.clone()),
                    content_type: CT_CERT,
                },
            );
            routes.insert(format!("/{}.crl", ca.name), Route::Crl(ca.name.clone()));
        }
        for r in &fixture.http_routes {
            let route = if let Some(name) = &r.credential {
                let cred = pki.credential(name).ok_or_else(|| {
                    EnvError::fixture(format!("HTTP route {}: unknown credential {name}", r.path))
                })?;
                Route::Static {
                    body: Bytes::from(cred.certificate_der.clone()),
                    content_type: CT_CERT,
                }
            } else if let Some(names) = &r.p7c {
                let mut certs = Vec::new();
                for n in names {
                    let cred = pki.credential(n).ok_or_else(|| {
                        EnvError::fixture(format!("HTTP route {}: unknown credential {n}", r.path))
                    })?;
                    certs.push(cred.certificate.clone());
                }
                Route::Static {
                    body: Bytes::from(build_p7c(&certs)?),
                    content_type: CT_P7C,
                }
            } else {
                Route::Status(r.status.unwrap_or(404))
            };
            routes.insert(r.path.clone(), route);
        }
        let bundle = Bytes::from(BundleIssue::Standard.build(&pki)?);
        Ok(PkiSite {
            routes,
            pki,
            bundle: std::sync::RwLock::new((
                BundleIssue::Standard,
                bundle,
                std::time::SystemTime::now(),
            )),
        })
    }

    /// Serves `issue` from now on; Ok(false) when it was already served (nothing changes).
    pub fn set_bundle(&self, issue: BundleIssue) -> Result<bool, EnvError> {
        if self.bundle_issue().0 == issue {
            return Ok(false);
        }
        let bytes = Bytes::from(issue.build(&self.pki)?);
        *self.bundle.write().unwrap_or_else(|e| e.into_inner()) =
            (issue, bytes, std::time::SystemTime::now());
        Ok(true)
    }

    /// The bundle served now and when it last changed.
    pub fn bundle_issue(&self) -> (BundleIssue, std::time::SystemTime) {
        let b = self.bundle.read().unwrap_or_else(|e| e.into_inner());
        (b.0, b.2)
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.routes
            .keys()
            .map(String::as_str)
            .chain(std::iter::once(BUNDLE_PATH))
    }

    /// Status, content type and body for `path`.
    fn answer(&self, path: &str) -> (StatusCode, Option<&'static str>, Bytes) {
        if path == BUNDLE_PATH {
            let b = self.bundle.read().unwrap_or_else(|e| e.into_inner());
            return (StatusCode::OK, Some(CT_P7C), b.1.clone());
        }
        match self.routes.get(path) {
            Some(Route::Static { body, content_type }) => {
                (StatusCode::OK, Some(*content_type), body.clone())
            }
            Some(Route::Crl(ca)) => match self.fresh_crl(ca) {
                Ok(der) => (StatusCode::OK, Some(CT_CRL), Bytes::from(der)),
                Err(e) => {
                    // Serve the committed CRL rather than nothing.
                    eprintln!("http: building the CRL of {ca}: {e}; serving the committed one");
                    match self.pki.crl_der(ca) {
                        Some(der) => (StatusCode::OK, Some(CT_CRL), Bytes::copy_from_slice(der)),
                        None => (StatusCode::INTERNAL_SERVER_ERROR, None, Bytes::new()),
                    }
                }
            },
            Some(Route::Status(code)) => (
                StatusCode::from_u16(*code).unwrap_or(StatusCode::NOT_FOUND),
                None,
                Bytes::new(),
            ),
            None => (StatusCode::NOT_FOUND, None, Bytes::new()),
        }
    }

    /// A CRL of `ca` with thisUpdate = now, listing what the PKI description revokes.
    pub fn fresh_crl(&self, ca: &str) -> Result<Vec<u8>, EnvError> {
        let issuer = self
            .pki
            .ca(ca)
            .ok_or_else(|| EnvError::build("CRL", format!("{ca} is not a CA")))?;
        let epoch = parse_epoch(&self.pki.spec.epoch)?;
        let mut revoked = Vec::new();
        for c in self.pki.credentials() {
            if c.issuer != ca || c.name == ca {
                continue;
            }
            if let Some(r) = &c.entry.revoked {
                revoked.push(RevokedEntry {
                    serial: SerialNumber::clone(c.certificate.tbs_certificate().serial_number()),
                    date: epoch + time::Duration::days(r.days),
                    reason: Some(r.reason),
                });
            }
        }
        let now = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or(time::OffsetDateTime::now_utc());
        // Catalogue §a.1: a fresh CRL is good for a day (the committed ones use the PKI's period).
        let next = now + time::Duration::days(1);
        // Seconds since 1970 as the CRL number: a later CRL always has a larger number.
        let number = u64::try_from(now.unix_timestamp()).unwrap_or(1);
        let crl = build_crl(
            &issuer.certificate,
            &issuer.key,
            number,
            now,
            next,
            &revoked,
        )?;
        crl.to_der().map_err(|e| EnvError::build("CRL", e))
    }
}

/// The TLS side of the PKI site (HTTPS on 10443 for trust bundles, TEST-CATALOGUE §0.4):
/// the `tls_pki` credential of the test PKI (pki.direct.test, issued by the harness root),
/// rustls with ring.
pub fn tls_acceptor(pki: &ReferencePki) -> Result<TlsAcceptor, EnvError> {
    let credential = pki
        .credential("tls_pki")
        .ok_or_else(|| EnvError::build("HTTPS", "the test PKI has no tls_pki credential"))?;
    let mut chain = vec![CertificateDer::from(credential.certificate_der.clone())];
    // Leaf first, then any intermediates; the root is the anchor the client already holds.
    for issuer in pki.chain("tls_pki").unwrap_or_default().iter().skip(1) {
        if !issuer.entry.is_self_signed() {
            chain.push(CertificateDer::from(issuer.certificate_der.clone()));
        }
    }
    let key = credential
        .key
        .to_pkcs8_der()
        .map_err(|e| EnvError::build("HTTPS key", e))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| EnvError::build("HTTPS", e))?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|e| EnvError::build("HTTPS certificate", e))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `listener` until `stop` is cancelled; over TLS when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    site: Arc<PkiSite>,
    log: EventLog,
    stop: CancellationToken,
    tls: Option<TlsAcceptor>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => return,
            a = listener.accept() => a,
        };
        let (stream, client) = match accepted {
            Ok(a) => a,
            Err(e) => {
                eprintln!("http: accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let site = site.clone();
        let log = log.clone();
        let stop = stop.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _slot = slot;
            match tls {
                None => connection(stream, site, log, client, false, stop).await,
                Some(acceptor) => {
                    // A client that never finishes the handshake must not hold a slot.
                    let handshake = tokio::time::timeout(HANDSHAKE_LIMIT, acceptor.accept(stream));
                    if let Ok(Ok(stream)) = handshake.await {
                        connection(stream, site, log, client, true, stop).await;
                    }
                }
            }
        });
    }
}

/// One HTTP/1.1 connection, plain or TLS, bounded in time.
async fn connection<S>(
    stream: S,
    site: Arc<PkiSite>,
    log: EventLog,
    client: SocketAddr,
    tls: bool,
    stop: CancellationToken,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| {
        let site = site.clone();
        let log = log.clone();
        async move { Ok::<_, Infallible>(handle(&site, &log, client, tls, req).await) }
    });
    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = tokio::time::timeout(CONNECTION_LIMIT, conn) => {}
    }
}

async fn handle(
    site: &Arc<PkiSite>,
    log: &EventLog,
    client: SocketAddr,
    tls: bool,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let (status, content_type, body) = if method == Method::GET || method == Method::HEAD {
        let site = site.clone();
        let p = path.clone();
        // Signing a CRL is CPU work: keep it off the reactor.
        tokio::task::spawn_blocking(move || site.answer(&p))
            .await
            .unwrap_or((StatusCode::INTERNAL_SERVER_ERROR, None, Bytes::new()))
    } else {
        (StatusCode::METHOD_NOT_ALLOWED, None, Bytes::new())
    };
    log.record(EventKind::Http(HttpEvent {
        client,
        tls,
        method: method.to_string(),
        path,
        status: status.as_u16(),
        bytes: body.len(),
    }));
    let body = if method == Method::HEAD {
        Bytes::new()
    } else {
        body
    };
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    if let Some(ct) = content_type {
        resp.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode;
    use x509_cert::crl::CertificateList;

    #[test]
    fn root_crl_is_fresh_and_lists_the_revoked() {
        let pki = Arc::new(ReferencePki::load_default().expect("pki"));
        let fixture = Fixture::embedded().expect("fixture");
        let site = PkiSite::build(&fixture, pki.clone()).expect("site");
        let der = site.fresh_crl("direct.test_ca_root").expect("crl");
        let crl = CertificateList::from_der(&der).expect("parse");
        let revoked = crl
            .tbs_cert_list
            .revoked_certificates
            .clone()
            .unwrap_or_default();
        let serial_of = |n: &str| {
            pki.credential(n)
                .expect("cred")
                .certificate
                .tbs_certificate()
                .serial_number()
                .clone()
        };
        for n in ["D17_invB", "D17_invC", "D34_invA"] {
            assert!(
                revoked.iter().any(|r| r.serial_number == serial_of(n)),
                "{n}"
            );
        }
        let this = crl.tbs_cert_list.this_update.to_unix_duration().as_secs();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        assert!(now.abs_diff(this) < 120);
        assert!(
            site.paths()
                .any(|p| p == "/direct.test_ca_intermediate2.p7c")
        );
        let (status, _, _) = site.answer("/missing.cer");
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
