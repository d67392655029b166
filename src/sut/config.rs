//! `sut.toml`: what a vendor writes about their system (see `examples/sut.toml`, field by
//! field). Parsed by serde with unknown fields refused, then checked; every error names the
//! field it is about.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// An error that names the field (`recipients.primary.address`).
#[derive(Debug, thiserror::Error)]
pub enum SutConfigError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("sut.toml: {0}")]
    Toml(String),
    #[error("sut.toml field `{field}`: {message}")]
    Field { field: String, message: String },
}

fn field(field: impl Into<String>, message: impl Into<String>) -> SutConfigError {
    SutConfigError::Field {
        field: field.into(),
        message: message.into(),
    }
}

/// A test recipient at the SUT.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RecipientFile {
    pub address: String,
    /// Its encryption certificate: `pki:NAME` or a PEM/DER file (until discovery finds it).
    pub certificate: String,
    /// Edge retrieval login (default: the address).
    pub user: Option<String>,
    pub password: Option<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BackboneFile {
    /// `ADDR:PORT` of the SUT's backbone SMTP server.
    pub smtp: String,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RetrievalFile {
    /// `pop3` or `maildir`.
    pub kind: String,
    /// `ADDR:PORT` for pop3.
    pub addr: Option<String>,
    /// Maildir root (one Maildir per address below it) for maildir.
    pub maildir: Option<PathBuf>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct EdgeFile {
    pub submission: Option<SubmissionFile>,
    pub retrieval: Option<RetrievalFile>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SubmissionFile {
    pub addr: String,
    #[serde(default)]
    pub starttls: bool,
    pub user: Option<String>,
    pub password: Option<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AuditFile {
    /// `file` (JSON lines in the catalogue's §e.1 vocabulary).
    pub kind: String,
    pub path: PathBuf,
}

/// Windows in seconds (TEST-CATALOGUE §0.3).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct WindowsFile {
    pub accept: u64,
    pub silence: u64,
    pub processed_timeout: u64,
    pub dispatched_timeout: u64,
    pub audit: u64,
    /// Extra time for giving up on a dead LDAP or AIA peer (TRUST-05).
    pub lookup_allowance: u64,
    /// δ: how long after the SUT's dispatched deadline the harness's late responders
    /// (`delaydispatched<N>`, `processedtimeoutfailure`) send their MDN.
    pub late_delay: u64,
    /// How often the SUT refreshes its trust bundle (`@needs-trust-bundle`, TRUST-13).
    pub bundle_refresh: u64,
}

impl Default for WindowsFile {
    fn default() -> Self {
        WindowsFile {
            accept: 300,
            silence: 300,
            processed_timeout: 3600,
            dispatched_timeout: 3600,
            audit: 60,
            lookup_allowance: 60,
            late_delay: 120,
            bundle_refresh: 3600,
        }
    }
}

/// Where the harness's own peer HISP listens (the SUT must be able to reach it).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct HarnessFile {
    /// Backbone SMTP of `hisp.direct.test` (default `127.0.0.1:0`: a free port).
    pub backbone: Option<String>,
    /// The harness DNS server (default `127.0.0.1:0`).
    pub dns: Option<String>,
}

/// `[hosting]`: where the SUT publishes its own certificates, and which address or domain
/// each hosting case looks at (TEST-CATALOGUE §a.7, §a.10; an unnamed case is skipped).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HostingFile {
    /// `ADDR:PORT` of the SUT's authoritative DNS server, asked directly.
    pub dns: String,
    /// `ADDR:PORT` to reach the SUT's LDAP server when the port of its SRV record cannot be
    /// used from the harness (the SRV record is still asked).
    pub ldap: Option<String>,
    /// H1 (and H7): an address with an address-bound certificate in DNS.
    pub dns_address: Option<String>,
    /// H2 (and H7, H8): a domain with a domain-bound certificate in DNS.
    pub dns_domain: Option<String>,
    /// H3 (and H5): an address with an address-bound certificate in LDAP.
    pub ldap_address: Option<String>,
    /// H4 (and H5): a domain with a domain-bound certificate in LDAP.
    pub ldap_domain: Option<String>,
}

/// `[edge_client]`: how the harness makes the SUT's edge client act (claim `edge-client`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EdgeClientFile {
    /// Run with `sh -c`; the job is in the `DC_EDGE_*` variables (examples/sut.toml).
    pub command: String,
    /// Seconds the command may take (default 120).
    pub timeout: Option<u64>,
}

/// `[edge_client]`, checked: the trigger of the SUT's edge client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdgeClientTrigger {
    pub command: String,
    pub timeout: Duration,
    /// Variables added to every job (the embedded SUT's fault switches).
    pub env: Vec<(String, String)>,
}

/// The file as written.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SutFile {
    pub domain: String,
    #[serde(default = "default_profile")]
    pub profile: String,
    /// Optional features the SUT claims (`pop3`, `audit`, `aes-gcm`, …).
    #[serde(default)]
    pub claims: Vec<String>,
    /// `primary` (required), and optional roles such as `untrusting`.
    pub recipients: BTreeMap<String, RecipientFile>,
    pub backbone: BackboneFile,
    #[serde(default)]
    pub edge: EdgeFile,
    /// Trust anchors the SUT's certificates chain to (`pki:NAME` or files).
    #[serde(default)]
    pub anchors: Vec<String>,
    pub audit: Option<AuditFile>,
    #[serde(default)]
    pub windows: WindowsFile,
    #[serde(default)]
    pub harness: HarnessFile,
    #[serde(default)]
    pub hosting: Option<HostingFile>,
    #[serde(default)]
    pub edge_client: Option<EdgeClientFile>,
}

fn default_profile() -> String {
    "ds-1.3".into()
}

/// A recipient, checked.
#[derive(Clone, Debug)]
pub struct Recipient {
    pub address: String,
    pub certificate: String,
    pub user: String,
    pub password: Option<String>,
}

/// Where the harness reads what reached the SUT's users.
#[derive(Clone, Debug)]
pub enum Retrieval {
    Pop3(SocketAddr),
    Maildir(PathBuf),
}

/// Time windows.
#[derive(Clone, Copy, Debug)]
pub struct Windows {
    pub accept: Duration,
    pub silence: Duration,
    pub processed_timeout: Duration,
    pub dispatched_timeout: Duration,
    pub audit: Duration,
    pub lookup_allowance: Duration,
    /// δ (TEST-CATALOGUE §0.3).
    pub late_delay: Duration,
    pub bundle_refresh: Duration,
}

/// `[hosting]`, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hosting {
    pub dns: SocketAddr,
    pub ldap: Option<SocketAddr>,
    pub dns_address: Option<String>,
    pub dns_domain: Option<String>,
    pub ldap_address: Option<String>,
    pub ldap_domain: Option<String>,
}

/// The SUT, as the steps see it: doors, recipients, windows, claims.
#[derive(Clone, Debug)]
pub struct SutModel {
    pub domain: String,
    pub profile: String,
    pub claims: Vec<String>,
    pub recipients: BTreeMap<String, Recipient>,
    pub backbone: SocketAddr,
    pub submission: Option<SubmissionFile>,
    pub retrieval: Option<Retrieval>,
    pub anchors: Vec<String>,
    /// The audit file (JSON lines), when declared.
    pub audit: Option<PathBuf>,
    pub windows: Windows,
    pub harness_backbone: SocketAddr,
    pub harness_dns: SocketAddr,
    /// A human name for the report (`embedded reference SUT` or the file).
    pub label: String,
    /// Where the SUT publishes its certificates (hosting cases), when declared.
    pub hosting: Option<Hosting>,
    /// How to make the SUT's edge client act (the `@needs-edge-client` cases).
    pub edge_client: Option<EdgeClientTrigger>,
}

impl SutModel {
    pub fn claims(&self, feature: &str) -> bool {
        self.claims.iter().any(|c| c.eq_ignore_ascii_case(feature))
    }

    pub fn recipient(&self, role: &str) -> Option<&Recipient> {
        self.recipients.get(role)
    }
}

fn socket(name: &str, v: &str) -> Result<SocketAddr, SutConfigError> {
    v.parse()
        .map_err(|e| field(name, format!("{v:?} is not ADDR:PORT ({e})")))
}

impl SutFile {
    pub fn parse(text: &str) -> Result<Self, SutConfigError> {
        toml::from_str(text).map_err(|e| SutConfigError::Toml(e.to_string()))
    }

    pub fn read(path: &Path) -> Result<Self, SutConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| SutConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Checks every field; relative paths are taken from `base`.
    pub fn check(&self, base: &Path, label: &str) -> Result<SutModel, SutConfigError> {
        let domain = self.domain.trim().to_ascii_lowercase();
        if domain.is_empty() || domain.contains('@') || domain.contains(char::is_whitespace) {
            return Err(field("domain", "must be a domain name"));
        }
        if !matches!(self.profile.as_str(), "ds-1.3" | "ats-1.2") {
            return Err(field("profile", "must be ds-1.3 or ats-1.2"));
        }
        if !self.recipients.contains_key("primary") {
            return Err(field(
                "recipients.primary",
                "the primary test recipient is required",
            ));
        }
        let mut recipients = BTreeMap::new();
        for (role, r) in &self.recipients {
            let f = format!("recipients.{role}");
            let Some((_, d)) = r.address.rsplit_once('@') else {
                return Err(field(format!("{f}.address"), "not local@domain"));
            };
            if !d.eq_ignore_ascii_case(&domain) {
                return Err(field(
                    format!("{f}.address"),
                    format!("not in the SUT's domain {domain}"),
                ));
            }
            if r.certificate.trim().is_empty() {
                return Err(field(format!("{f}.certificate"), "required"));
            }
            let certificate = if r.certificate.starts_with("pki:") {
                r.certificate.clone()
            } else {
                base.join(&r.certificate).display().to_string()
            };
            recipients.insert(
                role.clone(),
                Recipient {
                    address: r.address.clone(),
                    certificate,
                    user: r.user.clone().unwrap_or_else(|| r.address.clone()),
                    password: r.password.clone(),
                },
            );
        }
        let backbone = socket("backbone.smtp", &self.backbone.smtp)?;
        let retrieval = match &self.edge.retrieval {
            None => None,
            Some(r) => Some(match r.kind.as_str() {
                "pop3" => Retrieval::Pop3(socket(
                    "edge.retrieval.addr",
                    r.addr
                        .as_deref()
                        .ok_or_else(|| field("edge.retrieval.addr", "required for pop3"))?,
                )?),
                "maildir" => Retrieval::Maildir(
                    base.join(
                        r.maildir
                            .as_ref()
                            .ok_or_else(|| field("edge.retrieval.maildir", "required"))?,
                    ),
                ),
                other => {
                    return Err(field(
                        "edge.retrieval.kind",
                        format!("{other:?}: pop3 or maildir"),
                    ));
                }
            }),
        };
        if let Some(s) = &self.edge.submission {
            socket("edge.submission.addr", &s.addr)?;
        }
        let audit = match &self.audit {
            None => None,
            Some(a) if a.kind == "file" => Some(base.join(&a.path)),
            Some(a) => {
                return Err(field(
                    "audit.kind",
                    format!("{:?}: only `file` is supported", a.kind),
                ));
            }
        };
        let w = &self.windows;
        for (n, v) in [
            ("windows.accept", w.accept),
            ("windows.silence", w.silence),
            ("windows.audit", w.audit),
            ("windows.lookup_allowance", w.lookup_allowance),
            ("windows.late_delay", w.late_delay),
        ] {
            if v == 0 || v > 3600 {
                return Err(field(n, "must be between 1 and 3600 seconds"));
            }
        }
        if w.bundle_refresh == 0 || w.bundle_refresh > 86_400 {
            return Err(field(
                "windows.bundle_refresh",
                "must be between 1 and 86400 seconds",
            ));
        }
        let hosting = match &self.hosting {
            None => None,
            Some(h) => {
                let named = |f: &str, v: &Option<String>, address: bool| {
                    let Some(v) = v.as_deref().map(str::trim) else {
                        return Ok(None);
                    };
                    let ok = if address {
                        v.split_once('@')
                            .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
                    } else {
                        !v.is_empty() && !v.contains('@') && !v.contains(char::is_whitespace)
                    };
                    if ok {
                        Ok(Some(v.to_string()))
                    } else {
                        Err(field(
                            format!("hosting.{f}"),
                            if address {
                                "must be local@domain"
                            } else {
                                "must be a domain name"
                            },
                        ))
                    }
                };
                Some(Hosting {
                    dns: socket("hosting.dns", &h.dns)?,
                    ldap: h
                        .ldap
                        .as_deref()
                        .map(|v| socket("hosting.ldap", v))
                        .transpose()?,
                    dns_address: named("dns_address", &h.dns_address, true)?,
                    dns_domain: named("dns_domain", &h.dns_domain, false)?,
                    ldap_address: named("ldap_address", &h.ldap_address, true)?,
                    ldap_domain: named("ldap_domain", &h.ldap_domain, false)?,
                })
            }
        };
        let edge_client = match &self.edge_client {
            None => None,
            Some(e) if e.command.trim().is_empty() => {
                return Err(field("edge_client.command", "must not be empty"));
            }
            Some(e) => {
                let secs = e.timeout.unwrap_or(120);
                if secs == 0 || secs > 3600 {
                    return Err(field(
                        "edge_client.timeout",
                        "must be between 1 and 3600 seconds",
                    ));
                }
                Some(EdgeClientTrigger {
                    command: e.command.clone(),
                    timeout: Duration::from_secs(secs),
                    env: Vec::new(),
                })
            }
        };
        let lo = "127.0.0.1:0";
        Ok(SutModel {
            edge_client,
            hosting,
            domain,
            profile: self.profile.clone(),
            claims: self.claims.clone(),
            recipients,
            backbone,
            submission: self.edge.submission.clone(),
            retrieval,
            anchors: self.anchors.clone(),
            audit,
            windows: Windows {
                accept: Duration::from_secs(w.accept),
                silence: Duration::from_secs(w.silence),
                processed_timeout: Duration::from_secs(w.processed_timeout),
                dispatched_timeout: Duration::from_secs(w.dispatched_timeout),
                audit: Duration::from_secs(w.audit),
                lookup_allowance: Duration::from_secs(w.lookup_allowance),
                late_delay: Duration::from_secs(w.late_delay),
                bundle_refresh: Duration::from_secs(w.bundle_refresh),
            },
            harness_backbone: socket(
                "harness.backbone",
                self.harness.backbone.as_deref().unwrap_or(lo),
            )?,
            harness_dns: socket("harness.dns", self.harness.dns.as_deref().unwrap_or(lo))?,
            label: label.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../examples/sut.toml");

    #[test]
    fn example_parses() {
        let m = SutFile::parse(EXAMPLE)
            .expect("parses")
            .check(Path::new("/"), "example")
            .expect("checks");
        assert_eq!(m.domain, "sut.example.test");
        assert!(m.recipient("primary").is_some());
    }

    #[test]
    fn hosting_is_read_and_checked() {
        let m = SutFile::parse(EXAMPLE)
            .unwrap()
            .check(Path::new("/"), "example")
            .unwrap();
        let h = m.hosting.expect("[hosting] in the example");
        assert_eq!(h.dns_address.as_deref(), Some("recipient@sut.example.test"));
        assert!(h.ldap.is_some());
        let bad = EXAMPLE.replace(
            "dns_domain = \"sut.example.test\"",
            "dns_domain = \"x@sut.example.test\"",
        );
        let e = SutFile::parse(&bad)
            .unwrap()
            .check(Path::new("/"), "x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("hosting.dns_domain"), "{e}");
        let bad = EXAMPLE.replace("dns = \"192.0.2.10:53\"", "dns = \"nowhere\"");
        let e = SutFile::parse(&bad)
            .unwrap()
            .check(Path::new("/"), "x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("hosting.dns"), "{e}");
    }

    #[test]
    fn edge_client_trigger_is_read_and_checked() {
        let m = SutFile::parse(EXAMPLE)
            .unwrap()
            .check(Path::new("/"), "example")
            .unwrap();
        let t = m.edge_client.expect("[edge_client] in the example");
        assert_eq!(t.timeout, Duration::from_secs(120));
        let bad = EXAMPLE.replace("timeout = 120", "timeout = 0");
        let e = SutFile::parse(&bad)
            .unwrap()
            .check(Path::new("/"), "x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("edge_client.timeout"), "{e}");
    }

    #[test]
    fn errors_name_the_field() {
        let bad = EXAMPLE.replace("smtp = \"192.0.2.10:25\"", "smtp = \"nowhere\"");
        let e = SutFile::parse(&bad)
            .unwrap()
            .check(Path::new("/"), "x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("backbone.smtp"), "{e}");
        let bad = EXAMPLE.replace("bundle_refresh = 3600", "bundle_refresh = 0");
        let e = SutFile::parse(&bad)
            .unwrap()
            .check(Path::new("/"), "x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("windows.bundle_refresh"), "{e}");
        let e = SutFile::parse("domain = 1").unwrap_err().to_string();
        assert!(e.contains("domain"), "{e}");
    }
}
