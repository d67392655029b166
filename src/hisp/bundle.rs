//! Trust-bundle subscriptions (TRUST-12, TRUST-13, SEC-06): each `[[trust_bundle]]` is fetched
//! at start and every `refresh_secs`, over HTTPS verified against the configured roots, with
//! host names resolved like every other fetch (`discovery.http_hosts`, then the configured DNS
//! server). A signed bundle is taken only when its CMS signature verifies and its signer
//! chains to the subscription's signer anchors; a bundle that fails leaves the anchors of the
//! last good one in force. The anchors of every bundle are added to every mailbox's incoming
//! and outgoing anchors.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

use crate::trust::TrustAnchor;
use crate::trust::bundle::read_bundle;

use super::config::TrustBundleSettings;
use super::{Core, Fault, lock};

/// Largest bundle accepted.
const MAX_BYTES: usize = 4 * 1024 * 1024;

/// The anchors each subscription delivered last, by URL.
#[derive(Debug, Default)]
pub struct Bundles {
    anchors: Mutex<BTreeMap<String, Vec<TrustAnchor>>>,
}

impl Bundles {
    /// Every anchor of every bundle, once.
    pub fn anchors(&self) -> Vec<TrustAnchor> {
        let mut out: Vec<TrustAnchor> = Vec::new();
        for a in lock(&self.anchors).values().flatten() {
            if !out.contains(a) {
                out.push(a.clone());
            }
        }
        out
    }

    /// A good bundle's anchors replace what `url` delivered before (TRUST-13); with
    /// `keep_old` (the `keep-withdrawn-anchor` fault) they are added instead.
    fn install(&self, url: &str, anchors: Vec<TrustAnchor>, keep_old: bool) {
        let mut all = lock(&self.anchors);
        let slot = all.entry(url.to_string()).or_default();
        if keep_old {
            for a in anchors {
                if !slot.contains(&a) {
                    slot.push(a);
                }
            }
        } else {
            *slot = anchors;
        }
    }
}

/// `scheme://host[:port]/…` → (host, port).
fn authority(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let default = if scheme.eq_ignore_ascii_case("https") {
        443
    } else {
        80
    };
    let auth = rest.split('/').next()?;
    if auth.contains(['@', '[']) || auth.is_empty() {
        return None;
    }
    Some(match auth.rsplit_once(':') {
        Some((h, p)) => (h.to_ascii_lowercase(), p.parse().ok()?),
        None => (auth.to_ascii_lowercase(), default),
    })
}

/// Where to connect for `url`: `http_hosts` first, then the configured DNS server.
async fn connect_to(core: &Core, url: &str) -> Result<(String, SocketAddr), String> {
    let (host, port) = authority(url).ok_or_else(|| format!("{url}: not a URL with a host"))?;
    if let Some(a) = core.settings.http_hosts.get(&format!("{host}:{port}")) {
        return Ok((host, *a));
    }
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok((host, SocketAddr::new(ip, port)));
    }
    match core.router.host_address(&host).await {
        Some(ip) => Ok((host, SocketAddr::new(ip, port))),
        None => Err(format!("{host} has no address in the configured DNS")),
    }
}

/// An error with its causes (reqwest's own text leaves out why a request failed).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(&format!(": {c}"));
        cur = c.source();
    }
    out
}

/// One fetch, bounded in time and size.
async fn fetch(core: &Core, b: &TrustBundleSettings) -> Result<Vec<u8>, String> {
    let (host, addr) = connect_to(core, &b.url).await?;
    let timeout = Duration::from_secs(core.settings.timeouts.trust_fetch_secs.max(1));
    let mut roots = Vec::new();
    for der in &b.tls_roots {
        roots.push(reqwest::Certificate::from_der(der).map_err(|e| e.to_string())?);
    }
    crate::trust::fetch::install_crypto_provider();
    let client = reqwest::Client::builder()
        .tls_certs_only(roots)
        .resolve(&host, addr)
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .map_err(|e| chain(&e))?;
    // reqwest's resolve override keeps the URL's port: connect to the routed one instead
    // (the host name, and so TLS SNI and certificate name, stay as the URL says).
    let mut url = reqwest::Url::parse(&b.url).map_err(|e| e.to_string())?;
    url.set_port(Some(addr.port()))
        .map_err(|()| format!("{}: cannot set the port", b.url))?;
    let mut resp = client.get(url).send().await.map_err(|e| chain(&e))?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| chain(&e))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BYTES {
            return Err(format!("bundle larger than {MAX_BYTES} bytes"));
        }
    }
    Ok(body)
}

/// Fetches, checks and installs one subscription's bundle; the error says why it was not
/// taken (the old anchors then stay, TRUST-12).
pub async fn refresh(core: &Arc<Core>, b: &TrustBundleSettings) -> Result<usize, String> {
    let bytes = fetch(core, b).await?;
    let faults = core.faults();
    let check = !faults.on(Fault::IgnoreBundleSignature);
    let signed_required = !b.signer_anchors.is_empty() && check;
    let bundle = read_bundle(&bytes, check, signed_required).map_err(|e| e.to_string())?;
    if let (Some((signer, others)), true) = (&bundle.signer, signed_required) {
        let report = core
            .paths
            .validate(
                signer.clone(),
                others.clone(),
                b.signer_anchors.clone(),
                core.settings.crls.clone(),
                OffsetDateTime::now_utc(),
            )
            .await;
        if !report.trusted() {
            let why: Vec<String> = report
                .failures()
                .map(|c| format!("VC-{} {}", c.code, c.detail))
                .collect();
            return Err(format!(
                "the bundle signer is not trusted: {}",
                why.join("; ")
            ));
        }
    }
    let n = bundle.anchors.len();
    let anchors = bundle
        .anchors
        .into_iter()
        .map(TrustAnchor::from_certificate)
        .collect();
    core.bundles
        .install(&b.url, anchors, faults.on(Fault::KeepWithdrawnAnchor));
    Ok(n)
}

/// Refreshes `b` now and every `b.refresh` until stopped.
pub async fn run(core: Arc<Core>, b: TrustBundleSettings, mut stop: watch::Receiver<bool>) {
    // Said once per new reason, not at every refresh.
    let mut last_error: Option<String> = None;
    loop {
        match refresh(&core, &b).await {
            Ok(_) => last_error = None,
            Err(e) => {
                // The previous anchors stay in force; the next refresh tries again.
                if last_error.as_ref() != Some(&e) {
                    eprintln!(
                        "hisp {}: trust bundle {} not taken: {e}",
                        core.settings.hostname, b.url
                    );
                }
                last_error = Some(e);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(b.refresh) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities() {
        assert_eq!(
            authority("https://PKI.direct.test:10443/bundles/x.p7m"),
            Some(("pki.direct.test".into(), 10443))
        );
        assert_eq!(
            authority("https://pki.direct.test/b"),
            Some(("pki.direct.test".into(), 443))
        );
        assert_eq!(authority("http://h/b"), Some(("h".into(), 80)));
        assert_eq!(authority("nonsense"), None);
    }

    #[test]
    fn a_refresh_replaces_and_the_fault_keeps() {
        let pki = crate::pki::ReferencePki::load_default().expect("pki");
        let a =
            |n: &str| TrustAnchor::from_certificate(pki.credential(n).unwrap().certificate.clone());
        let b = Bundles::default();
        b.install("u", vec![a("direct.test_ca_bundle")], false);
        b.install("u", vec![a("direct.test_ca_root")], false);
        assert_eq!(b.anchors(), vec![a("direct.test_ca_root")]);
        b.install("u", vec![a("direct.test_ca_bundle")], true);
        assert_eq!(b.anchors().len(), 2);
    }
}
