//! HTTP for discovery: IPKIX targets (DISC-04) and, through the trust module, AIA issuers and
//! CRLs. URLs name hosts such as `pki.direct.test`, which only the configured DNS server knows;
//! so the authority is rewritten to an address, from `http_hosts` or from that server.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use crate::trust::FetchPurpose;
use crate::trust::fetch::{Fetched, Fetcher, HttpFetcher};

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
    /// The URL to connect to for `url`; unchanged when it cannot be routed.
    fn route(&self, url: &str) -> String {
        let Some((host, port, path)) = split_http(url) else {
            return url.to_string();
        };
        if let Some(addr) = self.hosts.get(&format!("{host}:{port}")) {
            return format!("http://{addr}{path}");
        }
        if host.parse::<std::net::IpAddr>().is_ok() {
            return url.to_string();
        }
        let mut steps = Vec::new();
        let ips = self.runtime.block_on(self.dns.addresses(&host, &mut steps));
        if let Ok(mut s) = self.steps.lock() {
            s.extend(steps);
        }
        match ips.first() {
            Some(ip) => format!("http://{}{path}", SocketAddr::new(*ip, port)),
            None => url.to_string(),
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
        let routed = self.route(url);
        let mut got = self.inner.fetch(&routed, purpose);
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
    use super::split_http;

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
