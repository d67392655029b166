//! Hosting checks H1–H8 (TEST-CATALOGUE §a.7, §a.10): the system under test publishes its
//! certificates, the harness discovers them from the SUT's own DNS server and LDAP, and judges
//! them. Unlike DCDT (public resolvers), the given DNS server is asked directly, so private
//! test zones work.
//!
//! H1–H4 pass, as in DCDT, when at least one discovered certificate passes DCDT's four
//! validators: inside its validity (VC-505), not revoked where it has an http CRL DP (VC-605; an
//! unreachable CRL is a warning), bound to the address or domain (VC-502), subject
//! emailAddress equal to the address when present (VC-504). Chain, key usage and key size are
//! judged separately by H6.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use der::Decode;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use serde::Serialize;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use x509_cert::Certificate;

use crate::trust::profile::{self, Role};
use crate::trust::{Outcome, PathReport, TrustCheck, cert};

use super::client::Discoverer;
use super::config::{DiscoveryConfig, ThreadRandom};
use super::dns::{Answer, ResolverError};
use super::ldap::{self, ServerOutcome};
use super::names::DirectAddress;
use super::result::NetworkStep;
use super::srv::order_targets;

/// One certificate the SUT published, and what the checks said of it.
#[derive(Clone, Debug, Serialize)]
pub struct HostedCertificate {
    pub origin: String,
    pub subject: String,
    pub sha256: String,
    pub checks: Vec<TrustCheck>,
    pub passed: bool,
    #[serde(skip)]
    pub certificate: Certificate,
}

/// The verdict of one hosting case, with its evidence.
#[derive(Clone, Debug, Serialize)]
pub struct HostingReport {
    pub case: String,
    /// The address or domain (or DNS name) the case looked at.
    pub target: String,
    pub passed: bool,
    pub summary: String,
    pub certificates: Vec<HostedCertificate>,
    pub steps: Vec<NetworkStep>,
    /// Transport observations (H7) and other facts that are not certificates.
    pub notes: Vec<String>,
}

impl HostingReport {
    fn new(case: &str, target: &str) -> Self {
        HostingReport {
            case: case.into(),
            target: target.into(),
            passed: false,
            summary: String::new(),
            certificates: Vec::new(),
            steps: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn verdict(mut self, passed: bool, summary: impl Into<String>) -> Self {
        self.passed = passed;
        self.summary = summary.into();
        self
    }
}

/// Runs the hosting cases against one SUT. The configuration names the SUT's DNS server, the
/// SUT's declared trust anchors (for revocation and H6) and the bounds on every step.
pub struct HostingChecker {
    discoverer: Discoverer,
    /// Where to reach the SUT's LDAP server when the SRV port cannot be used from here.
    ldap_override: Option<SocketAddr>,
}

/// The checks DCDT's four validators map onto.
const DCDT_CHECKS: [u16; 3] = [502, 504, 505];
/// H6: the catalogue's hosted-certificate profile.
const PROFILE_CHECKS: [u16; 10] = [502, 505, 506, 507, 508, 510, 601, 603, 604, 605];

impl HostingChecker {
    pub fn new(config: DiscoveryConfig) -> Result<Self, ResolverError> {
        Ok(HostingChecker {
            discoverer: Discoverer::new(config)?,
            ldap_override: None,
        })
    }

    /// LDAP is reached at `addr` instead of the SRV targets (the SRV record is still asked
    /// and recorded; its absence becomes a note).
    pub fn with_ldap_override(mut self, addr: Option<SocketAddr>) -> Self {
        self.ldap_override = addr;
        self
    }

    fn at(&self) -> OffsetDateTime {
        self.discoverer
            .config()
            .at
            .unwrap_or_else(OffsetDateTime::now_utc)
    }

    /// H1 (an address) or H2 (a domain): CERT at the address-bound or domain name.
    pub async fn dns(&self, case: &str, target: &str) -> HostingReport {
        let mut report = HostingReport::new(case, target);
        let addr = match DirectAddress::parse(target) {
            Ok(a) => a,
            Err(e) => return report.verdict(false, format!("not a Direct address: {e}")),
        };
        let names = if addr.local.is_some() {
            addr.address_names().unwrap_or_default()
        } else {
            addr.domain_name().map(|n| vec![n]).unwrap_or_default()
        };
        let mut found = Vec::new();
        for name in names {
            match self.discoverer.dns().cert(&name, &mut report.steps).await {
                Answer::Records(records) => {
                    for r in records {
                        match (r.cert_type, Certificate::from_der(&r.data)) {
                            (1, Ok(c)) => found.push((format!("DNS CERT PKIX at {name}"), c)),
                            (1, Err(e)) => report
                                .notes
                                .push(format!("CERT PKIX at {name} is not a certificate: {e}")),
                            (t, _) => report
                                .notes
                                .push(format!("CERT type {t} at {name} (not judged here)")),
                        }
                    }
                    break;
                }
                Answer::None => continue,
                Answer::Failed => {
                    return report.verdict(false, format!("the CERT query for {name} failed"));
                }
            }
        }
        self.judge_dcdt(report, target, found).await
    }

    /// H3 (an address) or H4 (a domain): SRV `_ldap._tcp.<domain>`, the first target that
    /// resolves and answers, a subtree search per naming context.
    pub async fn ldap(&self, case: &str, target: &str) -> HostingReport {
        let (report, outcome) = self.ldap_search(case, target).await;
        match outcome {
            Err(summary) => report.verdict(false, summary),
            Ok((server, found)) => {
                let found = found
                    .into_iter()
                    .filter_map(|f| {
                        Certificate::from_der(&f.der)
                            .ok()
                            .map(|c| (format!("LDAP {server} {}", f.dn), c))
                    })
                    .collect();
                self.judge_dcdt(report, target, found).await
            }
        }
    }

    /// H5: a search for an address that does not exist succeeds with zero entries.
    pub async fn ldap_no_entry(&self, case: &str, address: &str) -> HostingReport {
        let (report, outcome) = self.ldap_search(case, address).await;
        match outcome {
            Err(summary) => report.verdict(false, summary),
            Ok((server, found)) if found.is_empty() => report.verdict(
                true,
                format!("{server} answered with no entry for {address}"),
            ),
            Ok((server, found)) => report.verdict(
                false,
                format!(
                    "{server} returned {} certificate(s) for {address}",
                    found.len()
                ),
            ),
        }
    }

    async fn ldap_search(
        &self,
        case: &str,
        target: &str,
    ) -> (HostingReport, Result<(String, Vec<ldap::Found>), String>) {
        let mut report = HostingReport::new(case, target);
        let addr = match DirectAddress::parse(target) {
            Ok(a) => a,
            Err(e) => return (report, Err(format!("not a Direct address: {e}"))),
        };
        let Ok(srv) = addr.srv_name() else {
            return (report, Err("no SRV name for the domain".into()));
        };
        let dns = self.discoverer.dns();
        let t = &self.discoverer.config().timeouts;
        if let Some(sa) = self.ldap_override {
            let label = format!("{sa} (declared in [hosting].ldap)");
            match dns.srv(&srv, &mut report.steps).await {
                Answer::Records(_) => {}
                _ => report
                    .notes
                    .push(format!("no usable SRV record at {srv}; LDAP asked at {sa}")),
            }
            let outcome = ldap::query(
                &label,
                sa,
                &addr.text(),
                t.ldap_connect,
                t.ldap_operation,
                &mut report.steps,
            )
            .await;
            return match outcome {
                ServerOutcome::Answered(found) => (report, Ok((label, found))),
                ServerOutcome::Failed => (report, Err(format!("the LDAP server at {sa} failed"))),
            };
        }
        let targets = match dns.srv(&srv, &mut report.steps).await {
            Answer::Records(t) => order_targets(t, &ThreadRandom, false),
            Answer::None => return (report, Err(format!("no SRV records at {srv}"))),
            Answer::Failed => return (report, Err(format!("the SRV query for {srv} failed"))),
        };
        for target in targets {
            let label = format!("{}:{}", target.target, target.port);
            let ips = dns.addresses(&target.target, &mut report.steps).await;
            let Some(ip) = ips.first() else { continue };
            let sa = SocketAddr::new(*ip, target.port);
            if let ServerOutcome::Answered(found) = ldap::query(
                &label,
                sa,
                &addr.text(),
                t.ldap_connect,
                t.ldap_operation,
                &mut report.steps,
            )
            .await
            {
                return (report, Ok((label, found)));
            }
        }
        (report, Err("no LDAP server named by SRV answered".into()))
    }

    async fn judge_dcdt(
        &self,
        mut report: HostingReport,
        target: &str,
        found: Vec<(String, Certificate)>,
    ) -> HostingReport {
        if found.is_empty() {
            return report.verdict(false, format!("no certificate published for {target}"));
        }
        let at = self.at();
        let (paths, steps) = self.path_reports(&found, at).await;
        report.steps.extend(steps);
        for ((origin, c), path) in found.into_iter().zip(paths) {
            let mut checks: Vec<TrustCheck> =
                profile::evaluate(&c, Role::Recipient, Some(target), at)
                    .into_iter()
                    .filter(|k| DCDT_CHECKS.contains(&k.code))
                    .collect();
            checks.extend(revocation(&path));
            report.certificates.push(hosted(origin, c, checks));
        }
        let passing = report.certificates.iter().filter(|c| c.passed).count();
        let n = report.certificates.len();
        report.verdict(
            passing > 0,
            format!("{passing} of {n} published certificate(s) pass DCDT's validators"),
        )
    }

    async fn path_reports(
        &self,
        found: &[(String, Certificate)],
        at: OffsetDateTime,
    ) -> (Vec<Option<PathReport>>, Vec<NetworkStep>) {
        if self.discoverer.config().anchors.is_empty() {
            return (vec![None; found.len()], Vec::new());
        }
        let leaves = found.iter().map(|(_, c)| c.clone()).collect();
        let (reports, steps) = self.discoverer.path_reports(leaves, at).await;
        let mut out: Vec<Option<PathReport>> = reports.into_iter().map(Some).collect();
        out.resize(found.len(), None);
        (out, steps)
    }

    /// H6: every certificate H1–H4 found, judged by the hosted-certificate profile: chains to
    /// the SUT's declared anchor, keyUsage fits encryption, RSA ≥ 2048, SHA-256 or better, no
    /// wildcard (VC-5xx and VC-6xx facts from the trust library).
    pub async fn profile(&self, case: &str, target: &str, certs: &[Certificate]) -> HostingReport {
        let mut report = HostingReport::new(case, target);
        if certs.is_empty() {
            return report.verdict(false, "no hosted certificate to judge (H1–H4 found none)");
        }
        if self.discoverer.config().anchors.is_empty() {
            return report.verdict(false, "no trust anchor declared for the SUT");
        }
        let at = self.at();
        let found: Vec<(String, Certificate)> = certs
            .iter()
            .map(|c| ("hosted".to_string(), c.clone()))
            .collect();
        let (paths, steps) = self.path_reports(&found, at).await;
        report.steps.extend(steps);
        for ((origin, c), path) in found.into_iter().zip(paths) {
            let mut checks = profile::evaluate(&c, Role::Recipient, Some(target), at);
            if let Some(p) = path {
                checks.extend(p.checks);
            }
            checks.retain(|k| PROFILE_CHECKS.contains(&k.code));
            report.certificates.push(hosted(origin, c, checks));
        }
        let all = report.certificates.iter().all(|c| c.passed);
        report.verdict(
            all,
            if all {
                "every hosted certificate fits the profile"
            } else {
                "a hosted certificate does not fit the profile"
            },
        )
    }

    /// H7: the CERT RRset of `name` asked three ways: UDP without EDNS0, UDP with EDNS0 4096,
    /// TCP. Each answer must be complete or carry TC, and TCP must give the same RRset as any
    /// complete UDP answer.
    pub async fn cert_transport(&self, case: &str, name: &str) -> HostingReport {
        let mut report = HostingReport::new(case, name);
        let Ok(qname) = Name::from_ascii(name) else {
            return report.verdict(false, format!("{name} is not a DNS name"));
        };
        let server = self.discoverer.config().dns_server;
        let timeout = self.discoverer.config().timeouts.dns;
        let mut answers = Vec::new();
        for (label, edns, tcp) in [
            ("UDP without EDNS0", false, false),
            ("UDP with EDNS0 4096", true, false),
            ("TCP", false, true),
        ] {
            let started = Instant::now();
            let result = raw_query(server, &qname, edns, tcp, timeout).await;
            let (ok, outcome) = match &result {
                Ok(m) => (
                    true,
                    format!(
                        "{:?}, {} answer(s){}",
                        m.metadata.response_code,
                        m.answers.len(),
                        if m.metadata.truncation { ", TC" } else { "" }
                    ),
                ),
                Err(e) => (false, e.clone()),
            };
            report.steps.push(NetworkStep {
                target: super::result::StepTarget::Dns {
                    name: name.into(),
                    qtype: format!("CERT ({label})"),
                },
                server: Some(server.to_string()),
                ok,
                outcome: outcome.clone(),
                duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            });
            report.notes.push(format!("{label}: {outcome}"));
            answers.push(result);
        }
        let Some(Ok(tcp)) = answers.get(2) else {
            return report.verdict(false, "no answer over TCP");
        };
        if tcp.answers.is_empty() {
            return report.verdict(false, "no CERT records over TCP");
        }
        let mut problems = Vec::new();
        for (i, label) in ["UDP without EDNS0", "UDP with EDNS0 4096"]
            .iter()
            .enumerate()
        {
            match answers.get(i) {
                Some(Ok(m)) if m.metadata.truncation => {}
                Some(Ok(m)) if m.answers == tcp.answers => {}
                Some(Ok(_)) => problems.push(format!(
                    "{label}: not truncated, yet not the RRset TCP gave (a cut answer without TC)"
                )),
                _ => problems.push(format!("{label}: no answer")),
            }
        }
        if problems.is_empty() {
            report.verdict(true, "every transport gave the whole RRset or set TC")
        } else {
            let summary = problems.join("; ");
            report.verdict(false, summary)
        }
    }

    /// H8: the domain has MX records and every MX host resolves.
    pub async fn mx(&self, case: &str, domain: &str) -> HostingReport {
        let mut report = HostingReport::new(case, domain);
        let server = self.discoverer.config().dns_server;
        let timeout = self.discoverer.config().timeouts.dns;
        let Ok(qname) = Name::from_ascii(domain) else {
            return report.verdict(false, format!("{domain} is not a DNS name"));
        };
        let mx = match raw_lookup(server, &qname, RecordType::MX, timeout).await {
            Ok(m) => m,
            Err(e) => return report.verdict(false, format!("MX query failed: {e}")),
        };
        let hosts: Vec<String> = mx
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                hickory_proto::rr::RData::MX(m) => Some(m.exchange.to_ascii()),
                _ => None,
            })
            .collect();
        if hosts.is_empty() {
            return report.verdict(false, format!("no MX records for {domain}"));
        }
        let mut unresolved = Vec::new();
        for host in &hosts {
            let ips = self
                .discoverer
                .dns()
                .addresses(host, &mut report.steps)
                .await;
            report.notes.push(format!("MX {host} → {ips:?}"));
            if ips.is_empty() {
                unresolved.push(host.clone());
            }
        }
        if unresolved.is_empty() {
            report.verdict(true, format!("MX {} resolve", hosts.join(", ")))
        } else {
            let summary = format!("MX targets without an address: {}", unresolved.join(", "));
            report.verdict(false, summary)
        }
    }
}

/// The revocation facts (VC-605) of a path report, or "not evaluated" without anchors.
fn revocation(path: &Option<PathReport>) -> Vec<TrustCheck> {
    match path {
        Some(p) => p.checks.iter().filter(|k| k.code == 605).cloned().collect(),
        None => vec![TrustCheck::new(
            605,
            Outcome::NotEvaluated("no trust anchor declared: the CRL cannot be checked".into()),
            "",
        )],
    }
}

fn hosted(origin: String, certificate: Certificate, checks: Vec<TrustCheck>) -> HostedCertificate {
    let passed = checks.iter().all(|k| k.outcome != Outcome::Fail);
    HostedCertificate {
        origin,
        subject: cert::subject(&certificate),
        sha256: cert::sha256_hex(&certificate),
        checks,
        passed,
        certificate,
    }
}

async fn raw_lookup(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    timeout: Duration,
) -> Result<Message, String> {
    let udp = exchange(server, name, rtype, true, false, timeout).await?;
    if udp.metadata.truncation {
        return exchange(server, name, rtype, false, true, timeout).await;
    }
    Ok(udp)
}

async fn raw_query(
    server: SocketAddr,
    name: &Name,
    edns: bool,
    tcp: bool,
    timeout: Duration,
) -> Result<Message, String> {
    exchange(server, name, RecordType::CERT, edns, tcp, timeout).await
}

/// One DNS exchange by hand (hickory-proto encodes and decodes; the transport is ours, because
/// H7 must choose it and the resolver hides it).
async fn exchange(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    edns: bool,
    tcp: bool,
    timeout: Duration,
) -> Result<Message, String> {
    let id: u16 = rand::random();
    let mut query = Message::new(id, MessageType::Query, OpCode::Query);
    query.add_query(Query::query(name.clone(), rtype));
    if edns {
        let mut e = Edns::new();
        e.set_max_payload(4096);
        query.set_edns(e);
    }
    let wire = query
        .to_vec()
        .map_err(|e| format!("encoding the query: {e}"))?;
    let answer = tokio::time::timeout(timeout, async {
        if tcp {
            let mut s = tokio::net::TcpStream::connect(server)
                .await
                .map_err(|e| format!("TCP connect: {e}"))?;
            let len = u16::try_from(wire.len()).map_err(|_| "query too long".to_string())?;
            s.write_all(&len.to_be_bytes())
                .await
                .map_err(|e| e.to_string())?;
            s.write_all(&wire).await.map_err(|e| e.to_string())?;
            let mut len = [0u8; 2];
            s.read_exact(&mut len).await.map_err(|e| e.to_string())?;
            let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
            s.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
            Ok::<Vec<u8>, String>(buf)
        } else {
            let bind = if server.is_ipv4() {
                "0.0.0.0:0"
            } else {
                "[::]:0"
            };
            let s = tokio::net::UdpSocket::bind(bind)
                .await
                .map_err(|e| e.to_string())?;
            s.send_to(&wire, server).await.map_err(|e| e.to_string())?;
            let mut buf = vec![0u8; 65_535];
            let (n, _) = s.recv_from(&mut buf).await.map_err(|e| e.to_string())?;
            buf.truncate(n);
            Ok(buf)
        }
    })
    .await
    .map_err(|_| format!("no answer within {timeout:?}"))??;
    let message = Message::from_vec(&answer).map_err(|e| format!("undecodable answer: {e}"))?;
    if message.metadata.id != id {
        return Err("the answer's id does not match the query".into());
    }
    Ok(message)
}
