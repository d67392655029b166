//! Path validation for the HISP's trust decisions (inbound signers, outbound recipients).
//! AIA issuers and CRL distribution points name hosts such as `pki.direct.test` that only the
//! configured DNS server knows; so with `resolver.server` set, every fetch goes through it
//! (the discovery client's routed fetcher, with `discovery.http_hosts` overrides), never
//! the system resolver. Without a resolver, the system resolver is all there is.

use std::time::Duration;

use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;

use crate::discovery::{Discoverer, DiscoveryConfig};
use crate::trust::{PathOptions, PathReport, TrustAnchor};

use super::config::Settings;

pub struct Paths {
    routed: Option<Discoverer>,
    fetch_timeout: Duration,
}

impl Paths {
    pub fn new(settings: &Settings) -> Result<Self, String> {
        let fetch_timeout = Duration::from_secs(settings.timeouts.trust_fetch_secs);
        let routed = match settings.dns_server {
            None => None,
            Some(dns) => {
                let mut config = DiscoveryConfig::new(dns, Vec::new());
                config.http_hosts = settings.http_hosts.clone();
                // The same switch as discovery's: no AIA caIssuers fetch anywhere.
                config.faults.no_aia_fetch = settings.faults.on(super::Fault::NoAiaFetch);
                config.timeouts.http = fetch_timeout;
                Some(Discoverer::new(config).map_err(|e| e.to_string())?)
            }
        };
        Ok(Paths {
            routed,
            fetch_timeout,
        })
    }

    /// Validates `leaf` to `anchors` online (AIA, CRL DPs), at `at`.
    pub async fn validate(
        &self,
        leaf: Certificate,
        intermediates: Vec<Certificate>,
        anchors: Vec<TrustAnchor>,
        crls: Vec<CertificateList>,
        at: OffsetDateTime,
    ) -> PathReport {
        let options = PathOptions {
            online: true,
            fetch_timeout: self.fetch_timeout,
            ..PathOptions::default()
        };
        match &self.routed {
            Some(d) => {
                d.validate_path(leaf, intermediates, anchors, crls, at, options)
                    .await
                    .0
            }
            None => {
                crate::trust::validate_async(leaf, intermediates, anchors, crls, at, options).await
            }
        }
    }
}
