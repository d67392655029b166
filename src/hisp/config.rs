//! The HISP's configuration: TOML read by serde (unknown fields refused), then a validation
//! pass that loads every credential and anchor and names the field of whatever is wrong.
//! See `examples/hisp.toml` for the format, field by field.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use x509_cert::Certificate;

use crate::keys::PrivateKey;
use crate::pki::ReferencePki;
use crate::trust::TrustAnchor;

use super::faults::{Fault, Faults};

/// A configuration error that names the field it is about (`address[1].signing`).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Toml(String),
    #[error("{field}: {message}")]
    Field { field: String, message: String },
}

fn field_err(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Field {
        field: field.into(),
        message: message.into(),
    }
}

/// A certificate with its key: `"pki:NAME"` (a reference-PKI credential) or PEM/DER files.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum CredentialRef {
    Named(String),
    Files {
        cert: PathBuf,
        key: PathBuf,
        /// Intermediates to send along with signatures.
        #[serde(default)]
        chain: Vec<PathBuf>,
    },
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct ListenConfig {
    /// Backbone SMTP (where other HISPs deliver).
    pub backbone: Option<String>,
    /// Edge submission (SMTP with STARTTLS and AUTH).
    pub submission: Option<String>,
    /// Edge retrieval by POP3 (STLS, USER/PASS).
    pub pop3: Option<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct ResolverConfig {
    /// DNS server (`ADDR:PORT`) for MX and A lookups.
    pub server: Option<String>,
    /// Domain (or host) → `ADDR:PORT` overrides that bypass DNS.
    #[serde(default, rename = "static")]
    pub statics: BTreeMap<String, String>,
    /// Port of the SMTP servers that MX and A lookups find (25 in the field).
    pub smtp_port: Option<u16>,
}

/// The HISP as a publisher of its own certificates (the hosting cases H1–H8): an
/// authoritative DNS server for every `[[domain]]` (SOA, NS, A, MX, `_ldap._tcp` SRV, and
/// CERT PKIX at the domain and at each address with its own certificate) and an LDAP
/// directory (anonymous; `ou=<domain>`, one entry per published address or domain, with
/// `userCertificate;binary`). What is published is the encryption certificate of each domain
/// and the certificates of each address that has its own (not its domain's).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct PublishConfig {
    /// `ADDR:PORT` of the authoritative DNS server (UDP and TCP).
    pub dns: Option<String>,
    /// `ADDR:PORT` of the LDAP directory (the SRV record names its actual port).
    pub ldap: Option<String>,
    /// The address the A records give (the domain, `ns.`, `ldap.`); default: the DNS
    /// listen address, or 127.0.0.1 when that is unspecified.
    pub address: Option<String>,
    /// Decoys for the fault switch `publish-expired-cert` (published instead of the real
    /// certificates).
    #[serde(default)]
    pub expired: Vec<String>,
    /// Decoys for the fault switch `publish-weak-key` (published beside the real ones).
    #[serde(default)]
    pub weak: Vec<String>,
}

/// `[publish]`, loaded.
#[derive(Clone, Debug)]
pub struct PublishSettings {
    pub dns: Option<SocketAddr>,
    pub ldap: Option<SocketAddr>,
    pub address: std::net::IpAddr,
    pub expired: Vec<Certificate>,
    pub weak: Vec<Certificate>,
}

/// Certificate discovery for outbound (DNS CERT, then LDAP through SRV) through the
/// resolver's DNS server, after the static `[certificates]` table.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct DiscoverySection {
    #[serde(default)]
    pub enabled: bool,
    /// `host:port` of AIA/CRL URLs → `ADDR:PORT` to connect to instead.
    #[serde(default)]
    pub http_hosts: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutConfig {
    /// Server: longest wait for a command line (RFC 5321 §4.5.3.2: at least 5 minutes).
    pub command_secs: u64,
    /// Server: longest wait for each block of DATA.
    pub data_secs: u64,
    /// Client: connect, and each reply.
    pub client_secs: u64,
    /// Outbound delivery attempts per destination, and the pause between them.
    pub delivery_attempts: u32,
    pub retry_delay_ms: u64,
    /// Timely-and-reliable deadlines for processed and dispatched MDNs.
    pub processed_mdn_secs: u64,
    pub dispatched_mdn_secs: u64,
    /// How often the tracker's deadlines are checked.
    pub tick_ms: u64,
    /// Each AIA or CRL fetch during trust checks (TRUST-05).
    pub trust_fetch_secs: u64,
    /// The responders' "T_d + δ" (`processdelayeddispatch7`, `processedtimeoutfailure`).
    pub responder_delay_secs: u64,
}

impl Default for TimeoutConfig {
    fn default() -> Self {
        TimeoutConfig {
            command_secs: 300,
            data_secs: 180,
            client_secs: 30,
            delivery_attempts: 3,
            retry_delay_ms: 1000,
            processed_mdn_secs: 3600,
            dispatched_mdn_secs: 3600,
            tick_ms: 1000,
            trust_fetch_secs: 10,
            responder_delay_secs: 3901,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitConfig {
    pub max_message_bytes: usize,
    pub max_recipients: usize,
}

impl Default for LimitConfig {
    fn default() -> Self {
        LimitConfig {
            max_message_bytes: 25 * 1024 * 1024,
            max_recipients: 100,
        }
    }
}

/// A local domain: its domain-bound credentials and default anchors.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DomainConfig {
    pub name: String,
    pub signing: Option<CredentialRef>,
    pub encryption: Option<CredentialRef>,
    #[serde(default)]
    pub incoming_anchors: Vec<String>,
    #[serde(default)]
    pub outgoing_anchors: Vec<String>,
    /// Serve the responder mailboxes of TEST-CATALOGUE §c.1 on this domain, selected by
    /// local part (`processedonly5`, `nomdn8`, `delaydispatched<N>`, ...), with the
    /// domain's credentials and anchors.
    #[serde(default)]
    pub responders: bool,
}

/// A local address (mailbox). Credentials and anchors default to its domain's.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AddressConfig {
    pub address: String,
    pub signing: Option<CredentialRef>,
    pub encryption: Option<CredentialRef>,
    pub incoming_anchors: Option<Vec<String>>,
    pub outgoing_anchors: Option<Vec<String>>,
    /// Edge password (submission AUTH, POP3 PASS); no password: no edge login.
    pub password: Option<String>,
    /// MDN behaviour of this mailbox (see [`Responder`]); default: the standard rules.
    pub responder: Option<String>,
    /// A mailbox that cannot take mail: every delivery into it fails after trust passed
    /// (the `recipients.undeliverable` role of TEST-CATALOGUE §c.4, MT41).
    #[serde(default)]
    pub refuse_mail: bool,
}

/// The file as written.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HispConfig {
    /// Host name for greetings, Received lines, Reporting-UA and Reporting-MTA.
    pub hostname: String,
    /// `ds-1.3` (default) or `ats-1.2`.
    #[serde(default = "default_profile")]
    pub profile: String,
    /// Maildir root: one Maildir per address, `ROOT/<address>/{new,cur,tmp}`.
    pub maildir: PathBuf,
    /// The audit log (JSON lines); none: no audit log.
    pub audit_log: Option<PathBuf>,
    /// The reference PKI folder for `pki:` names (default: the committed set).
    pub pki_dir: Option<PathBuf>,
    /// Where each finished session's transcript is written as a text file (evidence);
    /// none: transcripts are kept in memory only (`HispHandle::transcripts`).
    pub transcript_dir: Option<PathBuf>,
    /// Fault switch names (see `direct-conformance faults`).
    #[serde(default)]
    pub faults: Vec<String>,
    #[serde(default)]
    pub listen: ListenConfig,
    /// The TLS server certificate for STARTTLS/STLS; none: no STARTTLS.
    pub tls: Option<CredentialRef>,
    /// Roots for verifying peers' STARTTLS certificates when sending (default: the PKI root).
    #[serde(default)]
    pub tls_client_anchors: Vec<String>,
    #[serde(default)]
    pub resolver: ResolverConfig,
    #[serde(default)]
    pub discovery: DiscoverySection,
    #[serde(default)]
    pub timeouts: TimeoutConfig,
    #[serde(default)]
    pub limits: LimitConfig,
    #[serde(default, rename = "domain")]
    pub domains: Vec<DomainConfig>,
    #[serde(default, rename = "address")]
    pub addresses: Vec<AddressConfig>,
    /// Static certificate source: address or domain → certificates (`pki:NAME` or files).
    #[serde(default)]
    pub certificates: BTreeMap<String, Vec<String>>,
    /// CRLs known in advance (`pki:CA_NAME` for a committed CRL, or a file); used before
    /// any CRL distribution point is fetched.
    #[serde(default)]
    pub crls: Vec<String>,
    /// Capture domains: the backbone accepts every recipient in them and keeps nothing after
    /// its 250 (no decryption, no MDN, no DSN). The conformance harness's peer uses them for
    /// the discovery case addresses, whose bytes the tap in front of it has already kept.
    #[serde(default)]
    pub capture_domains: Vec<String>,
    /// Publish the HISP's own certificates in DNS and LDAP (none: nothing is published).
    pub publish: Option<PublishConfig>,
    /// Trust bundles the HISP subscribes to (TRUST-12, TRUST-13): their anchors are added to
    /// every mailbox's incoming and outgoing anchors.
    #[serde(default, rename = "trust_bundle")]
    pub trust_bundles: Vec<TrustBundleConfig>,
}

/// One trust-bundle subscription.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TrustBundleConfig {
    /// `https://` (or `http://`) URL of the bundle: a certs-only PKCS#7, or a CMS SignedData
    /// holding one (`.p7m`).
    pub url: String,
    /// Anchors the bundle signer's certificate must chain to (`pki:NAME` or files). When set,
    /// only a signed bundle whose signature verifies is taken; when empty, any bundle is.
    #[serde(default)]
    pub signer_anchors: Vec<String>,
    /// Seconds between fetches (TRUST-13 asks for at least daily).
    #[serde(default = "default_bundle_refresh")]
    pub refresh_secs: u64,
    /// Roots for the HTTPS server's certificate (default: `tls_client_anchors`, or the PKI
    /// root).
    #[serde(default)]
    pub tls_anchors: Vec<String>,
}

fn default_bundle_refresh() -> u64 {
    86_400
}

/// A trust-bundle subscription, loaded.
#[derive(Clone, Debug)]
pub struct TrustBundleSettings {
    pub url: String,
    pub signer_anchors: Vec<TrustAnchor>,
    pub refresh: Duration,
    /// DER roots for the HTTPS server certificate.
    pub tls_roots: Vec<Vec<u8>>,
}

fn default_profile() -> String {
    "ds-1.3".into()
}

/// The algorithm profile (REQUIREMENTS: ds-1.3 is the default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    Ds13,
    Ats12,
}

/// A loaded credential.
#[derive(Clone, Debug)]
pub struct Credential {
    pub certificate: Certificate,
    pub key: PrivateKey,
    pub chain: Vec<Certificate>,
}

/// How a mailbox answers with MDNs (TEST-CATALOGUE §c.1 responder mailboxes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Responder {
    /// Processed; dispatched after delivery when requested (MDN-01, MDN-10).
    #[default]
    Standard,
    /// `processedonly5`: processed only, never dispatched.
    ProcessedOnly,
    /// `processeddispatched6`: processed, then dispatched (extension field when requested).
    ProcessedDispatched,
    /// `processdelayeddispatch7`, `delaydispatched<N>`: processed; dispatched after a delay.
    DelayedDispatch(Duration),
    /// `nomdn8`: accepts, never answers.
    NoMdn,
    /// `noaddressfailure9`: a failed MDN with a Failure field.
    Failure,
    /// `processedfailure`: processed, then failed.
    ProcessedFailure,
    /// `processedtimeoutfailure`: processed; failed after a delay.
    ProcessedTimeoutFailure(Duration),
    /// `errordisposition`: processed, then a failure with the legacy `error` type.
    ErrorDisposition,
    /// `dupdispatched`: processed, then the same dispatched MDN twice.
    DupDispatched,
    /// Processed and dispatched, written in a malformed style (ETT MDN generators).
    Malformed(MdnStyle),
}

/// The malformed MDN styles of the ETT generators (`EncryptedSmtpMDNMessageGenerator`),
/// written into the plain MDN after it is built (before it is signed and encrypted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MdnStyle {
    /// `white_space_mdn`: extra white space around report field names and values.
    WhiteSpace,
    /// `extra_line_break_mdn`: report fields folded over several lines.
    ExtraLineBreak,
    /// `extra_space_disposition`: extra spaces inside the Disposition value.
    ExtraSpaceDisposition,
    /// `missing_disposition`: no Disposition field at all.
    MissingDisposition,
    /// `null_sender`: the MDN is sent with a null reverse path (`MAIL FROM:<>`).
    NullSender,
    /// `different_sender`: a Sender header that differs from From.
    DifferentSender,
    /// `different_msgid`: the outer Message-ID differs from the inner one.
    DifferentMsgid,
    /// `white_space_822`: white space before the colon and after it in the MDN's own
    /// (RFC 822) header fields (the obsolete syntax RFC 5322 §4.5 still asks readers to take).
    WhiteSpace822,
    /// `different_cases_822`: the MDN's own header field names in unusual case.
    DifferentCases822,
}

impl MdnStyle {
    fn by_local_part(name: &str) -> Option<Self> {
        Some(match name {
            "white_space_mdn" => MdnStyle::WhiteSpace,
            "extra_line_break_mdn" => MdnStyle::ExtraLineBreak,
            "extra_space_disposition" => MdnStyle::ExtraSpaceDisposition,
            "missing_disposition" => MdnStyle::MissingDisposition,
            "null_sender" => MdnStyle::NullSender,
            "different_sender" => MdnStyle::DifferentSender,
            "different_msgid" => MdnStyle::DifferentMsgid,
            "white_space_822" => MdnStyle::WhiteSpace822,
            "different_cases_822" => MdnStyle::DifferentCases822,
            _ => return None,
        })
    }

    /// Rewrites a built (plain) MDN in this style.
    pub fn rewrite(self, mdn: &[u8], host: &str) -> Vec<u8> {
        let text = String::from_utf8_lossy(mdn).to_string();
        let out = match self {
            MdnStyle::WhiteSpace => text
                .replace(
                    "\r\nFinal-Recipient: rfc822; ",
                    "\r\nFinal-Recipient :  rfc822 ;  ",
                )
                .replace("\r\nDisposition: ", "\r\nDisposition :   ")
                .replace("\r\nOriginal-Message-ID: ", "\r\nOriginal-Message-ID :  "),
            MdnStyle::ExtraLineBreak => text
                .replace(
                    "\r\nFinal-Recipient: rfc822; ",
                    "\r\nFinal-Recipient: rfc822;\r\n ",
                )
                .replace("MDN-sent-automatically; ", "MDN-sent-automatically;\r\n   "),
            MdnStyle::ExtraSpaceDisposition => text
                .replace("automatic-action/", "automatic-action /  ")
                .replace("MDN-sent-automatically; ", "MDN-sent-automatically ;   "),
            MdnStyle::MissingDisposition => text
                .split_inclusive("\r\n")
                .filter(|l| !l.starts_with("Disposition:"))
                .collect(),
            MdnStyle::DifferentSender => format!("Sender: postmaster@{host}\r\n{text}"),
            MdnStyle::NullSender | MdnStyle::DifferentMsgid => text,
            MdnStyle::WhiteSpace822 | MdnStyle::DifferentCases822 => {
                return rewrite_822_header(self, mdn);
            }
        };
        out.into_bytes()
    }
}

/// The `*_822` styles: only the MDN's top header block changes, never its MIME parts.
fn rewrite_822_header(style: MdnStyle, mdn: &[u8]) -> Vec<u8> {
    let (head, body) = crate::smime::entity::split_header_body(mdn);
    let head = String::from_utf8_lossy(head);
    let mut out = String::new();
    for line in head.split_inclusive("\r\n") {
        let starts_field = !line.starts_with([' ', '\t']);
        match line.split_once(':').filter(|_| starts_field) {
            Some((name, rest)) => match style {
                MdnStyle::WhiteSpace822 => {
                    out.push_str(&format!("{name} :  {}", rest.trim_start_matches(' ')))
                }
                _ => out.push_str(&format!("{}:{rest}", odd_case(name))),
            },
            None => out.push_str(line),
        }
    }
    if !out.ends_with("\r\n") {
        out.push_str("\r\n");
    }
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(body);
    bytes
}

/// `Content-Type` → `cONTENT-tYPE`: every letter's case swapped.
fn odd_case(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

impl Responder {
    /// By configured name (`processed-only`, `delayed-dispatch:30`, ...) or by catalogue
    /// local part (`processedonly5`, `delaydispatched30`, ...). `delay` is T_d + δ.
    pub fn parse(name: &str, delay: Duration) -> Option<Self> {
        let n = name.trim().to_ascii_lowercase();
        let secs = |v: &str| v.parse::<u64>().ok().map(Duration::from_secs);
        Some(match n.as_str() {
            "standard" => Responder::Standard,
            "processed-only" | "processedonly5" => Responder::ProcessedOnly,
            "processed-dispatched" | "processeddispatched6" => Responder::ProcessedDispatched,
            "delayed-dispatch" | "processdelayeddispatch7" => Responder::DelayedDispatch(delay),
            "no-mdn" | "nomdn8" => Responder::NoMdn,
            "failure" | "noaddressfailure9" => Responder::Failure,
            "processed-failure" | "processedfailure" => Responder::ProcessedFailure,
            "processed-timeout-failure" | "processedtimeoutfailure" => {
                Responder::ProcessedTimeoutFailure(delay)
            }
            "error-disposition" | "errordisposition" => Responder::ErrorDisposition,
            "dup-dispatched" | "dupdispatched" => Responder::DupDispatched,
            other => {
                if let Some(style) = MdnStyle::by_local_part(other) {
                    Responder::Malformed(style)
                } else if let Some(v) = other.strip_prefix("delayed-dispatch:") {
                    Responder::DelayedDispatch(secs(v)?)
                } else if let Some(v) = other.strip_prefix("delaydispatched") {
                    Responder::DelayedDispatch(secs(v)?)
                } else {
                    return None;
                }
            }
        })
    }
}

/// A local domain's defaults, kept for responder mailboxes made up on demand.
#[derive(Clone, Debug)]
pub struct LocalDomain {
    pub name: String,
    pub responders: bool,
    pub incoming_anchors: Vec<TrustAnchor>,
    pub outgoing_anchors: Vec<TrustAnchor>,
}

/// A local address, resolved.
#[derive(Clone, Debug)]
pub struct LocalAddress {
    pub address: String,
    pub signing: Credential,
    pub encryption: Credential,
    pub incoming_anchors: Vec<TrustAnchor>,
    pub outgoing_anchors: Vec<TrustAnchor>,
    pub password: Option<String>,
    pub responder: Responder,
    /// Deliveries into this mailbox fail (see [`AddressConfig::refuse_mail`]).
    pub refuse_mail: bool,
}

/// A TLS identity in DER.
#[derive(Clone, Debug)]
pub struct TlsIdentity {
    pub chain: Vec<Vec<u8>>,
    pub key_pkcs8: Vec<u8>,
}

/// Everything the HISP runs with, validated and loaded.
#[derive(Clone, Debug)]
pub struct Settings {
    pub hostname: String,
    pub profile: Profile,
    pub faults: Faults,
    pub maildir: PathBuf,
    pub audit_log: Option<PathBuf>,
    pub transcript_dir: Option<PathBuf>,
    pub backbone: Option<SocketAddr>,
    pub submission: Option<SocketAddr>,
    pub pop3: Option<SocketAddr>,
    pub tls: Option<TlsIdentity>,
    pub tls_client_roots: Vec<Vec<u8>>,
    pub dns_server: Option<SocketAddr>,
    pub static_routes: BTreeMap<String, SocketAddr>,
    pub smtp_port: u16,
    /// Discovery on: the `http_hosts` overrides (`host:port` → address).
    /// `host:port` of AIA/CRL URLs → where to connect (`discovery.http_hosts`).
    pub http_hosts: BTreeMap<String, SocketAddr>,
    pub discovery: Option<BTreeMap<String, SocketAddr>>,
    pub timeouts: TimeoutConfig,
    pub limits: LimitConfig,
    pub domains: Vec<String>,
    pub addresses: Vec<LocalAddress>,
    /// Credentials of local domains (domain-bound), used when an address has none of its own.
    pub domain_credentials: BTreeMap<String, (Credential, Credential)>,
    pub certificates: BTreeMap<String, Vec<Certificate>>,
    pub crls: Vec<x509_cert::crl::CertificateList>,
    pub local_domains: Vec<LocalDomain>,
    /// Lower-cased capture domains (see [`HispConfig::capture_domains`]).
    pub capture_domains: Vec<String>,
    pub publish: Option<PublishSettings>,
    pub trust_bundles: Vec<TrustBundleSettings>,
}

impl Settings {
    /// A recipient in a capture domain: accepted on the backbone and dropped after the 250.
    pub fn is_capture(&self, address: &str) -> bool {
        address.trim().rsplit_once('@').is_some_and(|(_, d)| {
            self.capture_domains
                .iter()
                .any(|c| c.eq_ignore_ascii_case(d))
        })
    }

    /// The local address, compared case-insensitively (MSG-19).
    pub fn address(&self, address: &str) -> Option<&LocalAddress> {
        self.addresses
            .iter()
            .find(|a| a.address.eq_ignore_ascii_case(address.trim()))
    }

    /// A local mailbox: a configured address, or a responder mailbox of a domain that
    /// serves them (made up from the domain's credentials and anchors).
    pub fn mailbox(&self, address: &str) -> Option<LocalAddress> {
        if let Some(a) = self.address(address) {
            return Some(a.clone());
        }
        let (local, domain) = address.trim().rsplit_once('@')?;
        let d = self
            .local_domains
            .iter()
            .find(|d| d.responders && d.name.eq_ignore_ascii_case(domain))?;
        let delay = Duration::from_secs(self.timeouts.responder_delay_secs);
        let responder = Responder::parse(local, delay)?;
        let (signing, encryption) = self.domain_credentials.get(&d.name)?.clone();
        Some(LocalAddress {
            address: address.trim().to_string(),
            signing,
            encryption,
            incoming_anchors: d.incoming_anchors.clone(),
            outgoing_anchors: d.outgoing_anchors.clone(),
            password: None,
            responder,
            refuse_mail: false,
        })
    }

    pub fn is_local_domain(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    }

    /// Every decryption key the HISP holds (addresses and domains), for "decrypt with any
    /// local key".
    pub fn decryption_credentials(&self) -> Vec<&Credential> {
        let mut out: Vec<&Credential> = Vec::new();
        for a in &self.addresses {
            if !out
                .iter()
                .any(|o| o.certificate == a.encryption.certificate)
            {
                out.push(&a.encryption);
            }
            if !out.iter().any(|o| o.certificate == a.signing.certificate) {
                out.push(&a.signing);
            }
        }
        for (s, e) in self.domain_credentials.values() {
            for c in [e, s] {
                if !out.iter().any(|o| o.certificate == c.certificate) {
                    out.push(c);
                }
            }
        }
        out
    }
}

/// Loads reference-PKI credentials on first use.
struct Loader<'a> {
    pki_dir: Option<&'a Path>,
    base: &'a Path,
    pki: Option<ReferencePki>,
}

impl Loader<'_> {
    fn pki(&mut self, field: &str) -> Result<&ReferencePki, ConfigError> {
        if self.pki.is_none() {
            let loaded = match self.pki_dir {
                Some(d) => ReferencePki::load(self.base.join(d)),
                None => ReferencePki::load_default(),
            }
            .map_err(|e| field_err(field, format!("cannot load the reference PKI: {e}")))?;
            self.pki = Some(loaded);
        }
        self.pki
            .as_ref()
            .ok_or_else(|| field_err(field, "reference PKI unavailable"))
    }

    fn read(&self, field: &str, path: &Path) -> Result<Vec<u8>, ConfigError> {
        let full = self.base.join(path);
        std::fs::read(&full).map_err(|e| field_err(field, format!("{}: {e}", full.display())))
    }

    fn credential(&mut self, field: &str, r: &CredentialRef) -> Result<Credential, ConfigError> {
        match r {
            CredentialRef::Named(name) => {
                let name = name.strip_prefix("pki:").unwrap_or(name);
                let pki = self.pki(field)?;
                let c = pki.credential(name).ok_or_else(|| {
                    field_err(field, format!("no reference-PKI credential named {name:?}"))
                })?;
                // Intermediates between the leaf and the root travel with signatures.
                let chain = pki
                    .chain(name)
                    .map(|v| {
                        v.iter()
                            .skip(1)
                            .filter(|c| !c.entry.is_self_signed())
                            .map(|c| c.certificate.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(Credential {
                    certificate: c.certificate.clone(),
                    key: c.key.clone(),
                    chain,
                })
            }
            CredentialRef::Files { cert, key, chain } => {
                let certs = crate::trust::fetch::parse_certificates(&self.read(field, cert)?)
                    .map_err(|e| field_err(format!("{field}.cert"), e.to_string()))?;
                let certificate = certs
                    .first()
                    .cloned()
                    .ok_or_else(|| field_err(format!("{field}.cert"), "no certificate"))?;
                let key = PrivateKey::from_pem_or_der(&self.read(field, key)?)
                    .map_err(|e| field_err(format!("{field}.key"), e.to_string()))?;
                if !key.matches(certificate.tbs_certificate().subject_public_key_info()) {
                    return Err(field_err(
                        format!("{field}.key"),
                        "the key does not match the certificate",
                    ));
                }
                let mut all_chain: Vec<Certificate> = certs.into_iter().skip(1).collect();
                for (i, p) in chain.iter().enumerate() {
                    let more = crate::trust::fetch::parse_certificates(&self.read(field, p)?)
                        .map_err(|e| field_err(format!("{field}.chain[{i}]"), e.to_string()))?;
                    all_chain.extend(more);
                }
                Ok(Credential {
                    certificate,
                    key,
                    chain: all_chain,
                })
            }
        }
    }

    /// `pki:NAME` or a certificate file (PEM, DER or PKCS#7; several certificates allowed).
    fn certificates(&mut self, field: &str, r: &str) -> Result<Vec<Certificate>, ConfigError> {
        if let Some(name) = r.strip_prefix("pki:") {
            let pki = self.pki(field)?;
            let c = pki.credential(name).ok_or_else(|| {
                field_err(field, format!("no reference-PKI credential named {name:?}"))
            })?;
            return Ok(vec![c.certificate.clone()]);
        }
        crate::trust::fetch::parse_certificates(&self.read(field, Path::new(r))?)
            .map_err(|e| field_err(field, e.to_string()))
    }

    fn anchors(&mut self, field: &str, list: &[String]) -> Result<Vec<TrustAnchor>, ConfigError> {
        let mut out = Vec::new();
        for (i, a) in list.iter().enumerate() {
            for c in self.certificates(&format!("{field}[{i}]"), a)? {
                out.push(TrustAnchor::from_certificate(c));
            }
        }
        Ok(out)
    }
}

fn socket(field: &str, value: &str) -> Result<SocketAddr, ConfigError> {
    value
        .parse()
        .map_err(|e| field_err(field, format!("{value:?} is not ADDR:PORT ({e})")))
}

impl HispConfig {
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))
    }

    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|e| match e {
            ConfigError::Toml(m) => ConfigError::Toml(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Validates and loads; relative paths are taken from `base` (the config file's folder).
    pub fn load(&self, base: &Path) -> Result<Settings, ConfigError> {
        let mut l = Loader {
            pki_dir: self.pki_dir.as_deref(),
            base,
            pki: None,
        };
        if self.hostname.trim().is_empty() || self.hostname.contains(char::is_whitespace) {
            return Err(field_err("hostname", "must be a host name"));
        }
        let profile = match self.profile.to_ascii_lowercase().as_str() {
            "ds-1.3" | "ds13" => Profile::Ds13,
            "ats-1.2" | "ats12" => Profile::Ats12,
            other => {
                return Err(field_err(
                    "profile",
                    format!("{other:?} is neither ds-1.3 nor ats-1.2"),
                ));
            }
        };
        let mut faults = Vec::new();
        for (i, f) in self.faults.iter().enumerate() {
            faults.push(
                f.parse::<Fault>()
                    .map_err(|e| field_err(format!("faults[{i}]"), e.to_string()))?,
            );
        }
        let opt_socket =
            |field: &str, v: &Option<String>| v.as_deref().map(|s| socket(field, s)).transpose();
        let backbone = opt_socket("listen.backbone", &self.listen.backbone)?;
        let submission = opt_socket("listen.submission", &self.listen.submission)?;
        let pop3 = opt_socket("listen.pop3", &self.listen.pop3)?;
        let tls = match &self.tls {
            None => None,
            Some(r) => {
                let c = l.credential("tls", r)?;
                let mut chain = vec![
                    der::Encode::to_der(&c.certificate)
                        .map_err(|e| field_err("tls", e.to_string()))?,
                ];
                for x in &c.chain {
                    chain
                        .push(der::Encode::to_der(x).map_err(|e| field_err("tls", e.to_string()))?);
                }
                let key_pkcs8 = c
                    .key
                    .to_pkcs8_der()
                    .map_err(|e| field_err("tls", e.to_string()))?;
                Some(TlsIdentity { chain, key_pkcs8 })
            }
        };
        let mut tls_client_roots = Vec::new();
        if self.tls_client_anchors.is_empty() {
            if let Some(a) = l.pki("tls_client_anchors")?.anchor() {
                tls_client_roots.push(a.certificate_der.clone());
            }
        } else {
            for (i, a) in self.tls_client_anchors.iter().enumerate() {
                let field = format!("tls_client_anchors[{i}]");
                for c in l.certificates(&field, a)? {
                    tls_client_roots.push(
                        der::Encode::to_der(&c).map_err(|e| field_err(&field, e.to_string()))?,
                    );
                }
            }
        }
        let dns_server = opt_socket("resolver.server", &self.resolver.server)?;
        let mut static_routes = BTreeMap::new();
        for (k, v) in &self.resolver.statics {
            static_routes.insert(
                k.to_ascii_lowercase(),
                socket(&format!("resolver.static.{k:?}"), v)?,
            );
        }
        // Host overrides serve every HTTP fetch (trust decisions too), discovery on or off.
        let mut http_hosts = BTreeMap::new();
        for (k, v) in &self.discovery.http_hosts {
            http_hosts.insert(
                k.to_ascii_lowercase(),
                socket(&format!("discovery.http_hosts.{k:?}"), v)?,
            );
        }
        let discovery = if self.discovery.enabled {
            if dns_server.is_none() {
                return Err(field_err(
                    "discovery.enabled",
                    "discovery needs resolver.server (the DNS server to ask)",
                ));
            }
            Some(http_hosts.clone())
        } else {
            None
        };
        if self.timeouts.delivery_attempts == 0 {
            return Err(field_err(
                "timeouts.delivery_attempts",
                "must be at least 1",
            ));
        }
        if self.timeouts.command_secs == 0 || self.timeouts.data_secs == 0 {
            return Err(field_err("timeouts", "server timeouts must be positive"));
        }
        if self.limits.max_message_bytes < 1024 {
            return Err(field_err(
                "limits.max_message_bytes",
                "must be at least 1024",
            ));
        }

        let mut domains: Vec<String> = Vec::new();
        let mut local_domains: Vec<LocalDomain> = Vec::new();
        let mut domain_credentials = BTreeMap::new();
        let mut domain_anchors: BTreeMap<String, (Vec<TrustAnchor>, Vec<TrustAnchor>)> =
            BTreeMap::new();
        for (i, d) in self.domains.iter().enumerate() {
            let field = format!("domain[{i}]");
            let name = d.name.trim().to_ascii_lowercase();
            if name.is_empty() || name.contains('@') {
                return Err(field_err(format!("{field}.name"), "must be a domain name"));
            }
            if domains.contains(&name) {
                return Err(field_err(format!("{field}.name"), format!("{name} twice")));
            }
            let signing = d
                .signing
                .as_ref()
                .map(|r| l.credential(&format!("{field}.signing"), r))
                .transpose()?;
            let encryption = d
                .encryption
                .as_ref()
                .map(|r| l.credential(&format!("{field}.encryption"), r))
                .transpose()?;
            match (signing, encryption) {
                (Some(s), Some(e)) => {
                    domain_credentials.insert(name.clone(), (s, e));
                }
                (Some(s), None) => {
                    domain_credentials.insert(name.clone(), (s.clone(), s));
                }
                (None, Some(_)) => {
                    return Err(field_err(
                        format!("{field}.signing"),
                        "an encryption credential needs a signing one",
                    ));
                }
                (None, None) => {}
            }
            let inc = l.anchors(&format!("{field}.incoming_anchors"), &d.incoming_anchors)?;
            let out = l.anchors(&format!("{field}.outgoing_anchors"), &d.outgoing_anchors)?;
            if d.responders && !domain_credentials.contains_key(&name) {
                return Err(field_err(
                    format!("{field}.responders"),
                    "responder mailboxes need the domain's signing credential",
                ));
            }
            if d.responders && inc.is_empty() {
                return Err(field_err(
                    format!("{field}.responders"),
                    "responder mailboxes need the domain's incoming_anchors",
                ));
            }
            local_domains.push(LocalDomain {
                name: name.clone(),
                responders: d.responders,
                incoming_anchors: inc.clone(),
                outgoing_anchors: out.clone(),
            });
            domain_anchors.insert(name.clone(), (inc, out));
            domains.push(name);
        }
        if domains.is_empty() {
            return Err(field_err("domain", "at least one [[domain]] is needed"));
        }

        let mut addresses: Vec<LocalAddress> = Vec::new();
        for (i, a) in self.addresses.iter().enumerate() {
            let field = format!("address[{i}]");
            let address = a.address.trim().to_string();
            let Some((_, domain)) = address.rsplit_once('@') else {
                return Err(field_err(format!("{field}.address"), "not local@domain"));
            };
            let domain = domain.to_ascii_lowercase();
            if !domains.contains(&domain) {
                return Err(field_err(
                    format!("{field}.address"),
                    format!("{domain} is not one of the [[domain]] names"),
                ));
            }
            if addresses
                .iter()
                .any(|x| x.address.eq_ignore_ascii_case(&address))
            {
                return Err(field_err(format!("{field}.address"), "listed twice"));
            }
            let signing = a
                .signing
                .as_ref()
                .map(|r| l.credential(&format!("{field}.signing"), r))
                .transpose()?;
            let encryption = a
                .encryption
                .as_ref()
                .map(|r| l.credential(&format!("{field}.encryption"), r))
                .transpose()?;
            let dom = domain_credentials.get(&domain);
            let signing = match signing.or_else(|| dom.map(|d| d.0.clone())) {
                Some(s) => s,
                None => {
                    return Err(field_err(
                        format!("{field}.signing"),
                        "no credential here or on its [[domain]]",
                    ));
                }
            };
            let encryption = encryption
                .or_else(|| dom.map(|d| d.1.clone()))
                .unwrap_or_else(|| signing.clone());
            let (dom_in, dom_out) = domain_anchors.get(&domain).cloned().unwrap_or_default();
            let incoming_anchors = match &a.incoming_anchors {
                Some(list) => l.anchors(&format!("{field}.incoming_anchors"), list)?,
                None => dom_in,
            };
            let outgoing_anchors = match &a.outgoing_anchors {
                Some(list) => l.anchors(&format!("{field}.outgoing_anchors"), list)?,
                None => dom_out,
            };
            if incoming_anchors.is_empty() {
                return Err(field_err(
                    format!("{field}.incoming_anchors"),
                    "no incoming anchors here or on its [[domain]]: nothing could be received",
                ));
            }
            let delay = Duration::from_secs(self.timeouts.responder_delay_secs);
            let responder = match &a.responder {
                None => Responder::Standard,
                Some(r) => Responder::parse(r, delay).ok_or_else(|| {
                    field_err(
                        format!("{field}.responder"),
                        format!("{r:?} is not a responder behaviour"),
                    )
                })?,
            };
            addresses.push(LocalAddress {
                responder,
                address,
                signing,
                encryption,
                incoming_anchors,
                outgoing_anchors,
                password: a.password.clone(),
                refuse_mail: a.refuse_mail,
            });
        }
        if addresses.is_empty() {
            return Err(field_err("address", "at least one [[address]] is needed"));
        }
        let mut certificates = BTreeMap::new();
        for (k, list) in &self.certificates {
            let mut certs = Vec::new();
            for (i, r) in list.iter().enumerate() {
                certs.extend(l.certificates(&format!("certificates.{k:?}[{i}]"), r)?);
            }
            certificates.insert(k.to_ascii_lowercase(), certs);
        }
        let mut crls = Vec::new();
        for (i, r) in self.crls.iter().enumerate() {
            let field = format!("crls[{i}]");
            let bytes = match r.strip_prefix("pki:") {
                Some(ca) => l
                    .pki(&field)?
                    .crl_der(ca)
                    .map(<[u8]>::to_vec)
                    .ok_or_else(|| field_err(&field, format!("no committed CRL of {ca:?}")))?,
                None => l.read(&field, Path::new(r))?,
            };
            crls.push(
                crate::trust::fetch::parse_crl(&bytes)
                    .map_err(|e| field_err(&field, e.to_string()))?,
            );
        }
        let publish = match &self.publish {
            None => None,
            Some(p) => {
                let dns = opt_socket("publish.dns", &p.dns)?;
                let ldap = opt_socket("publish.ldap", &p.ldap)?;
                let address = match &p.address {
                    Some(a) => a.parse().map_err(|e| {
                        field_err("publish.address", format!("{a:?} is not an address ({e})"))
                    })?,
                    None => dns
                        .map(|d| d.ip())
                        .filter(|ip| !ip.is_unspecified())
                        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1])),
                };
                let mut decoys = |name: &str, list: &[String]| {
                    let mut out = Vec::new();
                    for (i, r) in list.iter().enumerate() {
                        out.extend(l.certificates(&format!("publish.{name}[{i}]"), r)?);
                    }
                    Ok::<_, ConfigError>(out)
                };
                let expired = decoys("expired", &p.expired)?;
                let weak = decoys("weak", &p.weak)?;
                Some(PublishSettings {
                    dns,
                    ldap,
                    address,
                    expired,
                    weak,
                })
            }
        };
        let mut trust_bundles = Vec::new();
        for (i, b) in self.trust_bundles.iter().enumerate() {
            let field = format!("trust_bundle[{i}]");
            if !(b.url.starts_with("https://") || b.url.starts_with("http://")) {
                return Err(field_err(
                    format!("{field}.url"),
                    "must be an http(s):// URL",
                ));
            }
            if b.refresh_secs == 0 || b.refresh_secs > 86_400 {
                return Err(field_err(
                    format!("{field}.refresh_secs"),
                    "must be between 1 and 86400 (TRUST-13: at least daily)",
                ));
            }
            let signer_anchors =
                l.anchors(&format!("{field}.signer_anchors"), &b.signer_anchors)?;
            let mut tls_roots = Vec::new();
            for (j, a) in b.tls_anchors.iter().enumerate() {
                let f = format!("{field}.tls_anchors[{j}]");
                for c in l.certificates(&f, a)? {
                    tls_roots
                        .push(der::Encode::to_der(&c).map_err(|e| field_err(&f, e.to_string()))?);
                }
            }
            if tls_roots.is_empty() {
                tls_roots = tls_client_roots.clone();
            }
            trust_bundles.push(TrustBundleSettings {
                url: b.url.trim().to_string(),
                signer_anchors,
                refresh: Duration::from_secs(b.refresh_secs),
                tls_roots,
            });
        }
        Ok(Settings {
            trust_bundles,
            publish,
            local_domains,
            crls,
            hostname: self.hostname.trim().to_string(),
            profile,
            faults: faults.into_iter().collect(),
            maildir: base.join(&self.maildir),
            audit_log: self.audit_log.as_ref().map(|p| base.join(p)),
            transcript_dir: self.transcript_dir.as_ref().map(|p| base.join(p)),
            backbone,
            submission,
            pop3,
            tls,
            tls_client_roots,
            dns_server,
            http_hosts,
            static_routes,
            smtp_port: self.resolver.smtp_port.unwrap_or(25),
            discovery,
            timeouts: self.timeouts.clone(),
            limits: self.limits.clone(),
            domains,
            addresses,
            domain_credentials,
            certificates,
            capture_domains: self
                .capture_domains
                .iter()
                .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
hostname = "hisp.direct.test"
maildir = "mail"
[listen]
backbone = "127.0.0.1:0"
[[domain]]
name = "hisp.direct.test"
signing = "pki:hisp_domain"
incoming_anchors = ["pki:direct.test_ca_root"]
[[address]]
address = "good@hisp.direct.test"
signing = "pki:hisp_good"
"#;

    #[test]
    fn minimal_config_loads() {
        let s = HispConfig::parse(MINIMAL)
            .unwrap()
            .load(Path::new("/tmp"))
            .unwrap();
        assert_eq!(s.addresses.len(), 1);
        assert!(s.address("GOOD@hisp.direct.test").is_some());
        assert_eq!(s.addresses[0].incoming_anchors.len(), 1);
        assert_eq!(s.profile, Profile::Ds13);
    }

    #[test]
    fn capture_domains_match_any_recipient_case_insensitively() {
        let s = HispConfig::parse(&MINIMAL.replace(
            "maildir = \"mail\"",
            "maildir = \"mail\"\ncapture_domains = [\"Domain1.direct.test.\"]",
        ))
        .unwrap()
        .load(Path::new("/tmp"))
        .unwrap();
        assert!(s.is_capture("d1@domain1.direct.test"));
        assert!(s.is_capture("D1@DOMAIN1.Direct.Test"));
        assert!(!s.is_capture("d1@domain10.direct.test"));
        assert!(!s.is_capture("good@hisp.direct.test"));
        assert!(!s.is_capture("domain1.direct.test"));
    }

    fn error_of(text: &str) -> String {
        match HispConfig::parse(text).and_then(|c| c.load(Path::new("/tmp"))) {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn errors_name_the_field() {
        let e = error_of(&MINIMAL.replace("pki:hisp_good", "pki:nobody"));
        assert!(e.starts_with("address[0].signing:"), "{e}");
        let e = error_of(&format!("{MINIMAL}\nfaults = [\"no-such\"]").replace(
            "maildir = \"mail\"",
            "maildir = \"mail\"\nfaults = [\"no-such\"]",
        ));
        assert!(e.contains("faults") || e.contains("duplicate"), "{e}");
        let e = error_of(&MINIMAL.replace("127.0.0.1:0", "nowhere"));
        assert!(e.starts_with("listen.backbone:"), "{e}");
        let e = error_of(&MINIMAL.replace("good@hisp.direct.test", "good@elsewhere.test"));
        assert!(e.starts_with("address[0].address:"), "{e}");
        let e = error_of(&MINIMAL.replace("hostname", "hostnme"));
        assert!(e.contains("hostnme"), "{e}");
        let e = error_of(&MINIMAL.replace(
            "maildir = \"mail\"",
            "maildir = \"mail\"\nfaults = [\"bogus\"]",
        ));
        assert!(e.starts_with("faults[0]:"), "{e}");
    }
}

#[cfg(test)]
mod example_tests {
    use super::*;

    #[test]
    fn the_example_config_loads() {
        let text = include_str!("../../examples/hisp.toml");
        let s = HispConfig::parse(text)
            .unwrap()
            .load(Path::new("/tmp"))
            .unwrap();
        assert_eq!(s.addresses.len(), 2);
        assert!(s.tls.is_some());
        assert_eq!(s.static_routes.len(), 1);
        assert!(s.dns_server.is_some());
        assert_eq!(s.certificates.len(), 2);
    }

    #[test]
    fn the_822_styles_rewrite_only_the_mdn_header_and_stay_readable() {
        use crate::mdn::{Disposition, DispositionKind, MdnSpec, Notification, build_mdn};
        let d = Duration::from_secs(1);
        let plain = build_mdn(&MdnSpec {
            from: "white_space_822@hisp.direct.test".into(),
            to: "recipient@sut.direct.test".into(),
            subject: "Dispatched: hello".into(),
            message_id: "<mdn-1@hisp.direct.test>".into(),
            date: time::OffsetDateTime::UNIX_EPOCH,
            original_message_id: "<m-1@sut.direct.test>".into(),
            reporting_ua: "hisp.direct.test; direct-conformance".into(),
            original_recipient: None,
            final_recipient: "white_space_822@hisp.direct.test".into(),
            disposition: Disposition::automatic(DispositionKind::Dispatched),
            final_delivery: true,
            failure: None,
            human_text: None,
        })
        .unwrap();
        for (name, style, mark) in [
            (
                "white_space_822",
                MdnStyle::WhiteSpace822,
                "\r\nSubject :  Dispatched",
            ),
            (
                "Different_Cases_822",
                MdnStyle::DifferentCases822,
                "\r\nsUBJECT: Dispatched",
            ),
        ] {
            assert_eq!(Responder::parse(name, d), Some(Responder::Malformed(style)));
            let m = style.rewrite(&plain, "hisp.direct.test");
            let text = String::from_utf8_lossy(&m);
            assert!(text.contains(mark), "{name}:\n{text}");
            assert!(
                text.contains("\r\nDisposition: automatic-action"),
                "parts untouched"
            );
            match crate::mdn::parse_notification(&m).unwrap() {
                Notification::Mdn(r) => {
                    assert_eq!(r.disposition.kind, DispositionKind::Dispatched)
                }
                other => panic!("{other:?}"),
            }
            assert!(crate::mdn::is_notification(&m), "{name}");
        }
    }
}
