//! The declarative description of the mock world (`fixture.toml`, embedded): zones and their
//! records, LDAP servers and their entries, extra HTTP routes, and the discovery and hosting
//! cases. Servers are generated from this data; no case has code of its own.

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde::Deserialize;

use crate::pki::ReferencePki;

use super::error::EnvError;

/// The embedded fixture text.
pub const EMBEDDED_FIXTURE: &str = include_str!("fixture.toml");

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    pub base_domain: String,
    pub ttl: u32,
    /// Target of SRV records that name a server (absolute, with the trailing dot).
    pub ldap_host: String,
    /// Host part of `{pki}` in URLs.
    pub http_host: String,
    /// The port that `--ldap-base-port` maps to (the lowest default LDAP port).
    pub ldap_base_port: u16,
    /// Default HTTP port; the certificates embed URLs with it.
    pub http_port: u16,
    #[serde(default, rename = "zone")]
    pub zones: Vec<ZoneSpec>,
    #[serde(default, rename = "ldap")]
    pub ldap: Vec<LdapServerSpec>,
    #[serde(default, rename = "http_route")]
    pub http_routes: Vec<HttpRouteSpec>,
    #[serde(default, rename = "case")]
    pub cases: Vec<CaseSpec>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ZoneStyle {
    /// DCDT: NOERROR + empty + SOA for missing names; UDP capped at 512 bytes even with EDNS0.
    Dcdt,
    /// By the RFCs: NXDOMAIN for missing names; EDNS0 payload size honoured.
    Rfc,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneSpec {
    pub name: String,
    pub style: ZoneStyle,
    /// Adds SOA, NS, A, MX → itself and TXT SPF at the apex.
    #[serde(default)]
    pub standard: bool,
    /// Only SOA and NS: a zone that exists but has nothing else.
    #[serde(default)]
    pub soa_only: bool,
    /// Names (relative, and everything below them) that answer NXDOMAIN whatever the style.
    #[serde(default)]
    pub nxdomain: Vec<String>,
    #[serde(default)]
    pub records: Vec<RecordSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum RecordSpec {
    A {
        owner: String,
        /// Default: the world's bind address.
        #[serde(default)]
        address: Option<IpAddr>,
    },
    MX {
        owner: String,
        #[serde(default = "default_preference")]
        preference: u16,
        exchange: String,
    },
    CNAME {
        owner: String,
        target: String,
    },
    TXT {
        owner: String,
        text: String,
    },
    /// `_ldap._tcp` SRV pointing at a fixture LDAP server (its actual port); `target`
    /// overrides the host (for example an unresolvable one).
    SRV {
        owner: String,
        priority: u16,
        weight: u16,
        ldap: String,
        #[serde(default)]
        target: Option<String>,
    },
    /// One PKIX (type 1) CERT record per credential, in this order.
    CERT {
        owner: String,
        credentials: Vec<String>,
    },
    /// One IPKIX (type 4) CERT record whose data is the URL (`{pki}` expanded).
    IPKIX {
        owner: String,
        url: String,
    },
}

fn default_preference() -> u16 {
    10
}

impl RecordSpec {
    pub fn owner(&self) -> &str {
        match self {
            RecordSpec::A { owner, .. }
            | RecordSpec::MX { owner, .. }
            | RecordSpec::CNAME { owner, .. }
            | RecordSpec::TXT { owner, .. }
            | RecordSpec::SRV { owner, .. }
            | RecordSpec::CERT { owner, .. }
            | RecordSpec::IPKIX { owner, .. } => owner,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum LdapBehaviour {
    /// A directory that answers (anonymous bind, root DSE, searches).
    #[default]
    Directory,
    /// Nothing listens: connections are refused.
    Closed,
    /// Accepts TCP connections and never answers.
    Tarpit,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapServerSpec {
    pub name: String,
    /// Default port; moved by `--ldap-base-port`.
    pub port: u16,
    #[serde(default)]
    pub behaviour: LdapBehaviour,
    /// Naming contexts, in the order the root DSE lists them.
    #[serde(default)]
    pub contexts: Vec<NamingContextSpec>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ContextAccess {
    /// Anonymous read.
    #[default]
    Read,
    /// Every search under it answers insufficientAccessRights.
    Denied,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamingContextSpec {
    pub dn: String,
    #[serde(default)]
    pub access: ContextAccess,
    #[serde(default)]
    pub entries: Vec<EntrySpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntrySpec {
    pub mail: String,
    /// Whose certificate the entry holds; none: an entry without a certificate.
    #[serde(default)]
    pub credential: Option<String>,
    /// Default: the credential's name.
    #[serde(default)]
    pub cn: Option<String>,
}

impl EntrySpec {
    pub fn cn(&self) -> Option<&str> {
        self.cn.as_deref().or(self.credential.as_deref())
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpRouteSpec {
    pub path: String,
    #[serde(default)]
    pub credential: Option<String>,
    #[serde(default)]
    pub p7c: Option<Vec<String>>,
    #[serde(default)]
    pub status: Option<u16>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    pub id: String,
    pub title: String,
    /// The address submitted to (discovery) or looked up (hosting); a bare domain for
    /// domain-bound hosting cases.
    pub address: String,
    /// The credential a conforming SUT must use; `None`: a negative case.
    #[serde(default)]
    pub expect: Option<String>,
}

impl Fixture {
    pub fn parse(text: &str) -> Result<Self, EnvError> {
        let fixture: Fixture = toml::from_str(text)?;
        fixture.check_shape()?;
        Ok(fixture)
    }

    pub fn embedded() -> Result<Self, EnvError> {
        Self::parse(EMBEDDED_FIXTURE)
    }

    pub fn ldap_server(&self, name: &str) -> Option<&LdapServerSpec> {
        self.ldap.iter().find(|s| s.name == name)
    }

    pub fn case(&self, id: &str) -> Option<&CaseSpec> {
        self.cases.iter().find(|c| c.id.eq_ignore_ascii_case(id))
    }

    /// Checks that need no PKI: unique names, references between parts.
    fn check_shape(&self) -> Result<(), EnvError> {
        let mut seen = BTreeSet::new();
        for z in &self.zones {
            if !seen.insert(z.name.to_ascii_lowercase()) {
                return Err(EnvError::fixture(format!("zone {} declared twice", z.name)));
            }
            if z.standard && z.soa_only {
                return Err(EnvError::fixture(format!(
                    "zone {}: standard and soa_only exclude each other",
                    z.name
                )));
            }
            for r in &z.records {
                if let RecordSpec::SRV { ldap, .. } = r
                    && self.ldap_server(ldap).is_none()
                {
                    return Err(EnvError::fixture(format!(
                        "zone {}: SRV {} names unknown LDAP server {ldap}",
                        z.name,
                        r.owner()
                    )));
                }
            }
        }
        let mut names = BTreeSet::new();
        let mut ports = BTreeSet::new();
        for s in &self.ldap {
            if !names.insert(s.name.as_str()) {
                return Err(EnvError::fixture(format!(
                    "LDAP server {} declared twice",
                    s.name
                )));
            }
            if !ports.insert(s.port) {
                return Err(EnvError::fixture(format!(
                    "LDAP server {}: port {} used twice",
                    s.name, s.port
                )));
            }
            if s.port < self.ldap_base_port {
                return Err(EnvError::fixture(format!(
                    "LDAP server {}: port {} is below ldap_base_port {}",
                    s.name, s.port, self.ldap_base_port
                )));
            }
        }
        for r in &self.http_routes {
            let kinds = [r.credential.is_some(), r.p7c.is_some(), r.status.is_some()];
            if kinds.iter().filter(|k| **k).count() != 1 || !r.path.starts_with('/') {
                return Err(EnvError::fixture(format!(
                    "HTTP route {}: needs a path starting with / and exactly one of credential, p7c, status",
                    r.path
                )));
            }
        }
        let mut ids = BTreeSet::new();
        for c in &self.cases {
            if !ids.insert(c.id.as_str()) {
                return Err(EnvError::fixture(format!("case {} declared twice", c.id)));
            }
        }
        Ok(())
    }

    /// Every credential name the fixture refers to exists in `pki`.
    pub fn check_against(&self, pki: &ReferencePki) -> Result<(), EnvError> {
        let known = |what: &str, name: &str| -> Result<(), EnvError> {
            match pki.credential(name) {
                Some(_) => Ok(()),
                None => Err(EnvError::fixture(format!(
                    "{what} names credential {name}, which the test PKI does not have"
                ))),
            }
        };
        for z in &self.zones {
            for r in &z.records {
                if let RecordSpec::CERT { credentials, .. } = r {
                    for c in credentials {
                        known(&format!("zone {} CERT {}", z.name, r.owner()), c)?;
                    }
                }
            }
        }
        for s in &self.ldap {
            for ctx in &s.contexts {
                for e in &ctx.entries {
                    if let Some(c) = &e.credential {
                        known(&format!("LDAP {} {}", s.name, ctx.dn), c)?;
                    }
                }
            }
        }
        for r in &self.http_routes {
            for c in r.credential.iter().chain(r.p7c.iter().flatten()) {
                known(&format!("HTTP route {}", r.path), c)?;
            }
        }
        for c in &self.cases {
            if let Some(e) = &c.expect {
                known(&format!("case {}", c.id), e)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_fixture_parses_and_matches_the_pki() {
        let f = Fixture::embedded().expect("fixture");
        let pki = ReferencePki::load_default().expect("pki");
        f.check_against(&pki).expect("every credential exists");
        // D1–D34 and H1–H8, in order
        let ids: Vec<_> = f.cases.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), 42);
        assert_eq!(ids[0], "D1");
        assert_eq!(ids[33], "D34");
        assert_eq!(
            f.case("d3").and_then(|c| c.expect.as_deref()),
            Some("D3_valC")
        );
        assert_eq!(f.case("D5").and_then(|c| c.expect.as_deref()), None);
        assert_eq!(f.ldap.len(), 9);
    }

    #[test]
    fn unknown_srv_server_is_refused() {
        let text = r#"
            base_domain = "direct.test"
            ttl = 300
            ldap_host = "ldap.direct.test."
            http_host = "pki.direct.test"
            ldap_base_port = 10389
            http_port = 10080
            [[zone]]
            name = "x.direct.test"
            style = "rfc"
            records = [{ owner = "_ldap._tcp", type = "SRV", priority = 0, weight = 0, ldap = "L9" }]
        "#;
        let err = Fixture::parse(text).expect_err("refused");
        assert!(err.to_string().contains("L9"), "{err}");
    }
}
