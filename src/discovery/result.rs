//! What discovery reports: every candidate certificate with where it came from and why it was
//! kept or dropped, and every network step with its outcome and duration (evidence).

use std::fmt;

use serde::Serialize;
use x509_cert::Certificate;

/// The four discovery levels of DISC-15.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum StepKind {
    DnsAddress,
    DnsDomain,
    LdapAddress,
    LdapDomain,
}

impl StepKind {
    pub fn is_address_bound(self) -> bool {
        matches!(self, StepKind::DnsAddress | StepKind::LdapAddress)
    }
}

/// Where a candidate came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Origin {
    /// A CERT record of `cert_type` (1 PKIX, 4 IPKIX, …) at `name`.
    DnsCert { name: String, cert_type: u16 },
    /// The URL of an IPKIX record at `name`.
    Ipkix { name: String, url: String },
    /// An LDAP entry.
    Ldap {
        server: String,
        base: String,
        filter: String,
        dn: String,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::DnsCert { name, cert_type } => write!(f, "DNS CERT type {cert_type} at {name}"),
            Origin::Ipkix { name, url } => write!(f, "IPKIX at {name} -> {url}"),
            Origin::Ldap {
                server,
                base,
                filter,
                dn,
            } => write!(f, "LDAP {server} base '{base}' filter {filter}: {dn}"),
        }
    }
}

/// Why a candidate was dropped (DISC-14).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum DropReason {
    /// The data is not a certificate (or the IPKIX URL gave none).
    Unparseable(String),
    Expired(String),
    NotYetValid(String),
    /// The binding does not fit the address (or the domain, for domain-bound steps).
    WrongBinding(String),
    /// keyUsage forbids key transport (CERT-05).
    KeyUsage(String),
    Revoked(String),
    /// No path to the configured anchors.
    Untrusted(String),
    /// Record types other than PKIX and IPKIX, or IPKIX switched off (DISC-03).
    UnsupportedType(u16),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Verdict {
    Kept,
    Dropped(DropReason),
}

/// One candidate as the report shows it.
#[derive(Clone, Debug, Serialize)]
pub struct CandidateReport {
    pub step: StepKind,
    pub origin: Origin,
    pub subject: String,
    /// Upper-case hex.
    pub serial: String,
    /// SHA-256 of the DER, lower-case hex.
    pub sha256: String,
    pub verdict: Verdict,
    #[serde(skip)]
    pub certificate: Option<Certificate>,
}

impl CandidateReport {
    pub fn kept(&self) -> bool {
        self.verdict == Verdict::Kept
    }
}

/// What a network step talked to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum StepTarget {
    Dns { name: String, qtype: String },
    Ldap { server: String, operation: String },
    Http { url: String },
}

impl fmt::Display for StepTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepTarget::Dns { name, qtype } => write!(f, "DNS {qtype} {name}"),
            StepTarget::Ldap { server, operation } => write!(f, "LDAP {server} {operation}"),
            StepTarget::Http { url } => write!(f, "HTTP GET {url}"),
        }
    }
}

/// One query, connection, operation or fetch.
#[derive(Clone, Debug, Serialize)]
pub struct NetworkStep {
    pub target: StepTarget,
    /// The server asked (DNS server, LDAP address), when known.
    pub server: Option<String>,
    pub ok: bool,
    pub outcome: String,
    pub duration_ms: u64,
}

/// The outcome of one discovery.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DiscoveryResult {
    pub address: String,
    /// The step whose valid certificates were chosen.
    pub winning_step: Option<StepKind>,
    /// Every valid certificate of the winning step (a HISP encrypts to each); empty: none.
    #[serde(skip)]
    pub certificates: Vec<Certificate>,
    pub candidates: Vec<CandidateReport>,
    pub steps: Vec<NetworkStep>,
    /// Why discovery ended: the winning step, the no-fallback rule, or nothing found.
    pub conclusion: String,
}

impl DiscoveryResult {
    /// SHA-256 (lower-case hex) of each chosen certificate.
    pub fn chosen_sha256(&self) -> Vec<String> {
        self.candidates
            .iter()
            .filter(|c| c.kept() && Some(c.step) == self.winning_step)
            .map(|c| c.sha256.clone())
            .collect()
    }

    /// Every parsed candidate, valid or not (for the HISP's `encrypt-to-all-found` fault).
    pub fn found_certificates(&self) -> Vec<Certificate> {
        self.candidates
            .iter()
            .filter_map(|c| c.certificate.clone())
            .collect()
    }

    /// A readable account, one line per step and candidate.
    pub fn explain(&self) -> String {
        use fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(s, "discovery for {}: {}", self.address, self.conclusion);
        for st in &self.steps {
            let _ = writeln!(
                s,
                "  step {} [{}] {} ({} ms)",
                st.target,
                st.server.as_deref().unwrap_or("-"),
                st.outcome,
                st.duration_ms
            );
        }
        for c in &self.candidates {
            let _ = writeln!(
                s,
                "  candidate {:?} {} serial {} from {}: {:?}",
                c.step, c.subject, c.serial, c.origin, c.verdict
            );
        }
        s
    }
}
