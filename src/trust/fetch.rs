//! Bounded HTTP fetching of AIA caIssuers certificates and CRLs (TRUST-04, TRUST-05), and
//! parsing what comes back: a certificate (DER or PEM), a certs-only PKCS#7 (`.p7c`/`.p7b`,
//! DER/BER or PEM), or a CRL (DER or PEM).
//!
//! The API is synchronous (`reqwest::blocking`): path validation is a sync computation and the
//! validator is sync. From tokio (the reference HISP) call it inside
//! `tokio::task::spawn_blocking`, because `reqwest::blocking` must not run on an async worker.
//! Path validation takes any [`Fetcher`], so tests and the HISP can plug in their own.

use std::io::Read;
use std::sync::Once;
use std::time::{Duration, Instant};

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use const_oid::db::rfc5911;
use der::{Decode, DecodePem, Encode};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;

use super::report::{FetchPurpose, FetchRecord};

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("HTTP client could not be built: {0}")]
    Client(String),
    #[error("not a certificate or certs-only PKCS#7: {0}")]
    NotCertificates(String),
    #[error("not a CRL: {0}")]
    NotCrl(String),
}

/// Limits for every fetch.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// Whole-request timeout (connect, send, read).
    pub timeout: Duration,
    /// Largest body accepted; larger ones are an error.
    pub max_bytes: usize,
    /// Also fetch `https://` URLs (AIA and CRL DPs are http by convention, RFC 5280 §4.2.2.1).
    pub allow_https: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            timeout: Duration::from_secs(10),
            max_bytes: 1024 * 1024,
            allow_https: false,
        }
    }
}

/// The outcome of one fetch: the record for the report and, when it succeeded with a 200, the
/// body.
#[derive(Clone, Debug)]
pub struct Fetched {
    pub record: FetchRecord,
    pub body: Option<Vec<u8>>,
}

/// Something that fetches a URL. [`HttpFetcher`] is the real one.
pub trait Fetcher {
    fn fetch(&self, url: &str, purpose: FetchPurpose) -> Fetched;
}

static PROVIDER: Once = Once::new();

/// Installs rustls's ring provider as the process default, once. Safe to call repeatedly and
/// harmless when another part of the program installed ring first.
pub fn install_crypto_provider() {
    PROVIDER.call_once(|| {
        // An error means a provider is already installed, which is all we need.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A blocking HTTP fetcher with bounded time and size.
pub struct HttpFetcher {
    client: reqwest::blocking::Client,
    options: FetchOptions,
}

impl HttpFetcher {
    pub fn new(options: FetchOptions) -> Result<Self, FetchError> {
        install_crypto_provider();
        let allow_https = options.allow_https;
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            let scheme_ok = attempt.url().scheme() == "http"
                || (allow_https && attempt.url().scheme() == "https");
            if attempt.previous().len() >= 3 || !scheme_ok {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::blocking::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .redirect(redirect)
            .no_proxy()
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        Ok(HttpFetcher { client, options })
    }

    fn get(&self, url: &str) -> Result<(u16, Vec<u8>), FailedGet> {
        let scheme_ok =
            url.starts_with("http://") || (self.options.allow_https && url.starts_with("https://"));
        if !scheme_ok {
            return Err((
                None,
                0,
                format!(
                    "scheme not allowed (http only{})",
                    if self.options.allow_https {
                        " or https"
                    } else {
                        ""
                    }
                ),
            ));
        }
        let resp = self
            .client
            .get(url)
            .send()
            .map_err(|e| (None, 0, error_chain(&e)))?;
        let status = resp.status().as_u16();
        let limit = self.options.max_bytes;
        if resp.content_length().is_some_and(|l| l > limit as u64) {
            return Err((Some(status), 0, format!("body larger than {limit} bytes")));
        }
        let mut body = Vec::new();
        resp.take(limit as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|e| (Some(status), body.len(), format!("reading the body: {e}")))?;
        if body.len() > limit {
            return Err((
                Some(status),
                body.len(),
                format!("body larger than {limit} bytes"),
            ));
        }
        if status != 200 {
            return Err((Some(status), body.len(), format!("HTTP status {status}")));
        }
        Ok((status, body))
    }
}

/// A failed GET: the status if a response came, the bytes read, and the error.
type FailedGet = (Option<u16>, usize, String);

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

impl Fetcher for HttpFetcher {
    fn fetch(&self, url: &str, purpose: FetchPurpose) -> Fetched {
        let start = Instant::now();
        let result = self.get(url);
        let duration_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok((status, body)) => Fetched {
                record: FetchRecord {
                    url: url.into(),
                    purpose,
                    status: Some(status),
                    bytes: body.len(),
                    error: None,
                    duration_ms,
                },
                body: Some(body),
            },
            Err((status, bytes, error)) => Fetched {
                record: FetchRecord {
                    url: url.into(),
                    purpose,
                    status,
                    bytes,
                    error: Some(error),
                    duration_ms,
                },
                body: None,
            },
        }
    }
}

fn is_pem(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    bytes[start..].starts_with(b"-----BEGIN")
}

/// Reads certificates from a DER or PEM certificate, a PEM chain, or a certs-only PKCS#7
/// (DER, BER or PEM `PKCS7`), as AIA caIssuers URLs and certificate files serve them.
pub fn parse_certificates(bytes: &[u8]) -> Result<Vec<Certificate>, FetchError> {
    if is_pem(bytes) {
        let text = String::from_utf8_lossy(bytes);
        if text.contains("-----BEGIN CERTIFICATE-----") {
            return Certificate::load_pem_chain(bytes)
                .map_err(|e| FetchError::NotCertificates(e.to_string()));
        }
        let (label, der) =
            der::pem::decode_vec(bytes).map_err(|e| FetchError::NotCertificates(e.to_string()))?;
        if label != "PKCS7" && label != "CMS" {
            return Err(FetchError::NotCertificates(format!("PEM label {label}")));
        }
        return certs_only(&der);
    }
    if let Ok(cert) = Certificate::from_der(bytes) {
        return Ok(vec![cert]);
    }
    certs_only(bytes)
}

fn certs_only(bytes: &[u8]) -> Result<Vec<Certificate>, FetchError> {
    let bad = |e: String| FetchError::NotCertificates(e);
    let der = crate::smime::ber::to_der(bytes).map_err(|e| bad(e.to_string()))?;
    let ci = ContentInfo::from_der(&der).map_err(|e| bad(e.to_string()))?;
    if ci.content_type != rfc5911::ID_SIGNED_DATA {
        return Err(bad(format!("content type {}", ci.content_type)));
    }
    let sd_der = ci.content.to_der().map_err(|e| bad(e.to_string()))?;
    let sd = SignedData::from_der(&sd_der).map_err(|e| bad(e.to_string()))?;
    let certs = crate::smime::verify::signed_data_certificates(&sd);
    if certs.is_empty() {
        return Err(bad("PKCS#7 without certificates".into()));
    }
    Ok(certs)
}

/// Reads a CRL in DER or PEM.
pub fn parse_crl(bytes: &[u8]) -> Result<CertificateList, FetchError> {
    let r = if is_pem(bytes) {
        CertificateList::from_pem(bytes)
    } else {
        CertificateList::from_der(bytes)
    };
    r.map_err(|e| FetchError::NotCrl(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_neither_certificate_nor_crl() {
        assert!(parse_certificates(b"not a certificate").is_err());
        assert!(
            parse_certificates(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .is_err()
        );
        assert!(parse_crl(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_err());
    }

    #[test]
    fn non_http_scheme_is_refused_without_a_request() {
        let f = HttpFetcher::new(FetchOptions::default()).expect("client");
        for url in [
            "ldap://x/cn=ca",
            "https://pki.direct.test/ca.cer",
            "file:///etc/passwd",
        ] {
            let got = f.fetch(url, FetchPurpose::CaIssuers);
            assert!(got.body.is_none());
            assert_eq!(got.record.status, None);
            assert!(
                got.record
                    .error
                    .as_deref()
                    .is_some_and(|e| e.contains("scheme")),
                "{url}"
            );
        }
    }
}
