//! HTTP for discovery: IPKIX targets (DISC-04) and, through the trust module, AIA issuers and
//! CRLs. URLs name hosts such as `pki.direct.test`, which only the configured DNS server knows;
//! so the authority is rewritten to an address, from `http_hosts` or from that server.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use crate::trust::fetch::{Fetched, Fetcher, HttpFetcher};
use crate::trust::{FetchPurpose, FetchRecord};

use super::dns::Dns;
use super::result::{NetworkStep, StepTarget};

/// Wraps the trust module's bounded HTTP fetcher with host routing. Blocking: use it on a
/// blocking thread of the runtime whose handle it holds.
pub struct RoutedFetcher {
    pub inner: HttpFetcher,
    pub hosts: BTreeMap<String, SocketAddr>,
    pub dns: Dns,
    pub runtime: tokio::runtime::Handle,
    /// Name look-ups made for routing, and every fetch.
    pub steps: Mutex<Vec<NetworkStep>>,
    /// The `no-aia-fetch` fault knob: AIA caIssuers fetches are refused without asking.
    pub no_ca_issuers: bool,
}

/// `http://host[:port]/rest` split into (host, port, rest).
fn split_http(url: &str) -> Option<(String, u16, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.contains(['@', '[']) {
        return None;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (authority, 80),
    };
    Some((host.to_ascii_lowercase(), port, path.to_string()))
}

impl RoutedFetcher {
    /// The URL to connect to for `url`: host names go through the configured DNS server
    /// only, never the system resolver. URLs that are not plain http pass unchanged (the trust
    /// fetcher refuses their scheme itself).
    fn route(&self, url: &str) -> Result<String, String> {
        let Some((host, port, path)) = split_http(url) else {
            return Ok(url.to_string());
        };
        if let Some(addr) = self.hosts.get(&format!("{host}:{port}")) {
            return Ok(format!("http://{addr}{path}"));
        }
        if host.parse::<std::net::IpAddr>().is_ok() {
            return Ok(url.to_string());
        }
        let mut steps = Vec::new();
        let ips = self.runtime.block_on(self.dns.addresses(&host, &mut steps));
        if let Ok(mut s) = self.steps.lock() {
            s.extend(steps);
        }
        match ips.first() {
            Some(ip) => Ok(format!("http://{}{path}", SocketAddr::new(*ip, port))),
            None => Err(format!("{host} has no address in the configured DNS")),
        }
    }

    pub fn take_steps(&self) -> Vec<NetworkStep> {
        self.steps
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}

impl Fetcher for RoutedFetcher {
    fn fetch(&self, url: &str, purpose: FetchPurpose) -> Fetched {
        if self.no_ca_issuers && purpose == FetchPurpose::CaIssuers {
            return Fetched {
                record: FetchRecord {
                    url: url.into(),
                    purpose,
                    status: None,
                    bytes: 0,
                    error: Some("AIA fetching is off (fault no-aia-fetch)".into()),
                    duration_ms: 0,
                },
                body: None,
            };
        }
        let (routed, mut got) = match self.route(url) {
            Ok(routed) => {
                let got = self.inner.fetch(&routed, purpose);
                (routed, got)
            }
            Err(e) => (
                url.to_string(),
                Fetched {
                    record: FetchRecord {
                        url: url.into(),
                        purpose,
                        status: None,
                        bytes: 0,
                        error: Some(e),
                        duration_ms: 0,
                    },
                    body: None,
                },
            ),
        };
        // The report names the URL the certificate gave, and where it went.
        let server = (routed != url).then(|| routed.clone());
        got.record.url = url.to_string();
        if let Ok(mut s) = self.steps.lock() {
            s.push(NetworkStep {
                target: StepTarget::Http { url: url.into() },
                server,
                ok: got.body.is_some(),
                outcome: match (&got.record.status, &got.record.error) {
                    (_, Some(e)) => format!("{purpose:?}: {e}"),
                    (Some(st), None) => {
                        format!("{purpose:?}: HTTP {st}, {} bytes", got.record.bytes)
                    }
                    (None, None) => format!("{purpose:?}: no response"),
                },
                duration_ms: got.record.duration_ms,
            });
        }
        got
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::Timeouts;
    use crate::trust::fetch::FetchOptions;

    #[test]
    fn hosts_resolve_only_through_the_configured_dns() {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        // A UDP socket that never answers: every name is unresolvable.
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
        let timeouts = Timeouts {
            dns: std::time::Duration::from_millis(200),
            dns_attempts: 1,
            ..Timeouts::default()
        };
        let dns = rt.block_on(async {
            Dns::new(silent.local_addr().expect("addr"), &timeouts, true).expect("dns")
        });
        let mut hosts = BTreeMap::new();
        hosts.insert(
            "pki.direct.test:10080".to_string(),
            "127.0.0.1:9".parse().expect("addr"),
        );
        let f = RoutedFetcher {
            inner: HttpFetcher::new(FetchOptions::default()).expect("client"),
            hosts,
            dns,
            runtime: rt.handle().clone(),
            steps: Mutex::new(Vec::new()),
            no_ca_issuers: false,
        };
        assert_eq!(
            f.route("http://PKI.direct.test:10080/a.crl"),
            Ok("http://127.0.0.1:9/a.crl".to_string())
        );
        assert_eq!(
            f.route("http://10.0.0.1/a"),
            Ok("http://10.0.0.1/a".to_string())
        );
        let got = f.fetch("http://nowhere.direct.test/x.cer", FetchPurpose::CaIssuers);
        assert!(got.body.is_none());
        assert!(
            got.record
                .error
                .as_deref()
                .is_some_and(|e| e.contains("configured DNS")),
            "{:?}",
            got.record
        );
        let steps = f.take_steps();
        assert!(steps.iter().any(|s| !s.ok), "{steps:?}");
    }

    #[test]
    fn http_urls_split() {
        assert_eq!(
            split_http("http://PKI.direct.test:10080/a.crl"),
            Some(("pki.direct.test".into(), 10080, "/a.crl".into()))
        );
        assert_eq!(
            split_http("http://pki.direct.test"),
            Some(("pki.direct.test".into(), 80, "/".into()))
        );
        assert_eq!(split_http("https://x/"), None);
    }
}
