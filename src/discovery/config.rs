//! What a caller configures: the DNS server, the outgoing anchors, bounded timeouts, HTTP
//! host overrides (for a world on moved ports), the SRV random source and the fault knobs.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rand::RngExt as _;
use time::OffsetDateTime;

use crate::trust::TrustAnchor;

/// Bounds on every network step (SEC-07, TRUST-05).
#[derive(Clone, Debug)]
pub struct Timeouts {
    /// One DNS query attempt (the resolver makes `dns_attempts` of them).
    pub dns: Duration,
    pub dns_attempts: usize,
    /// TCP connect to an LDAP server.
    pub ldap_connect: Duration,
    /// One LDAP operation (bind, root DSE, one search).
    pub ldap_operation: Duration,
    /// One HTTP fetch (IPKIX, AIA, CRL).
    pub http: Duration,
    /// The whole discovery (the catalogue's lookup allowance is 12 s embedded, 60 s vendor).
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            dns: Duration::from_secs(3),
            dns_attempts: 2,
            ldap_connect: Duration::from_secs(3),
            ldap_operation: Duration::from_secs(5),
            http: Duration::from_secs(10),
            total: Duration::from_secs(60),
        }
    }
}

/// Deliberate defects for the reference HISP's fault switches. Each is off by default and
/// breaks exactly one behaviour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FaultKnobs {
    /// Ask for domain-bound certificates before address-bound ones (breaks D1).
    pub domain_bound_before_address_bound: bool,
    /// Go on to domain-bound certificates after invalid address-bound ones (breaks D5, D7).
    pub fallback_to_domain_after_invalid: bool,
    /// UDP only: a truncated answer is taken as it is (breaks D14 and every DCDT CERT case).
    pub no_tcp_retry: bool,
    /// Try SRV targets from the highest priority number down, i.e. against RFC 2782
    /// (breaks D15 deterministically; merely ignoring priority would pass it by luck).
    pub ignore_srv_priority: bool,
    /// Give up LDAP at the first target that is unresolvable, refuses, times out or errs
    /// (breaks D10, D24, D25).
    pub no_ldap_failover: bool,
    /// Within one priority, lightest weight first instead of RFC 2782 weighted choice (D16).
    pub ignore_srv_weight: bool,
    /// Keep certificates their issuer's CRL revokes (D17, D34).
    pub ignore_crl: bool,
    /// Fetch no AIA caIssuers (D18, D33).
    pub no_aia_fetch: bool,
    /// Cut a dotted local part at its first dot for the address-bound name (D27).
    pub local_part_up_to_dot: bool,
    /// Compare the certificate's rfc822Name / dNSName with the recipient's spelling exactly (D28).
    pub case_sensitive_binding: bool,
    /// Keep only answer records owned by the name asked: no CNAME following (D29).
    pub no_cname: bool,
    /// Drop a certificate carrying both an rfc822Name and a dNSName (D30).
    pub refuse_dual_san: bool,
    /// NXDOMAIN is an error that stops discovery (D31).
    pub nxdomain_fails: bool,
    /// Search only the first naming context of an LDAP server (D32).
    pub first_naming_context_only: bool,
}

/// The random source of RFC 2782 weighted selection, injectable for tests.
pub trait SrvRandom: Send + Sync {
    /// A uniformly chosen number in `0..=max`.
    fn up_to(&self, max: u32) -> u32;
}

/// The thread-local RNG.
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadRandom;

impl SrvRandom for ThreadRandom {
    fn up_to(&self, max: u32) -> u32 {
        rand::rng().random_range(0..=max)
    }
}

/// Everything discovery needs.
#[derive(Clone)]
pub struct DiscoveryConfig {
    /// The DNS server to ask (no system resolver): UDP, and TCP after truncation.
    pub dns_server: SocketAddr,
    /// Outgoing anchors: a candidate must chain to one of them (TRUST-02).
    pub anchors: Vec<TrustAnchor>,
    pub timeouts: Timeouts,
    /// `host:port` (lower case) of http URLs → where to connect instead. Hosts not listed are
    /// resolved through `dns_server`.
    pub http_hosts: BTreeMap<String, SocketAddr>,
    /// Follow IPKIX (type 4) records (DISC-04).
    pub follow_ipkix: bool,
    /// An unobtainable CRL drops the certificate (TRUST-09 strict); default soft-fail.
    pub strict_revocation: bool,
    /// Validation time; `None`: now.
    pub at: Option<OffsetDateTime>,
    pub random: Arc<dyn SrvRandom>,
    pub faults: FaultKnobs,
}

impl DiscoveryConfig {
    pub fn new(dns_server: SocketAddr, anchors: Vec<TrustAnchor>) -> Self {
        DiscoveryConfig {
            dns_server,
            anchors,
            timeouts: Timeouts::default(),
            http_hosts: BTreeMap::new(),
            follow_ipkix: true,
            strict_revocation: false,
            at: None,
            random: Arc::new(ThreadRandom),
            faults: FaultKnobs::default(),
        }
    }
}

impl fmt::Debug for DiscoveryConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscoveryConfig")
            .field("dns_server", &self.dns_server)
            .field("anchors", &self.anchors.len())
            .field("timeouts", &self.timeouts)
            .field("http_hosts", &self.http_hosts)
            .field("follow_ipkix", &self.follow_ipkix)
            .field("strict_revocation", &self.strict_revocation)
            .field("at", &self.at)
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}
