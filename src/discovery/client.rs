//! The discovery procedure: the four steps of DISC-15 in order, the selection of
//! [`super::select`], the no-fallback rule of DISC-16, and the fault knobs.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use der::Decode;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_cert::Certificate;

use crate::trust::fetch::{FetchOptions, HttpFetcher};
use crate::trust::{FetchPurpose, PathInput, PathOptions, cert, validate_with};

use super::config::DiscoveryConfig;
use super::dns::{Answer, Dns, ResolverError};
use super::fetch::RoutedFetcher;
use super::ldap::{self, ServerOutcome};
use super::names::DirectAddress;
use super::result::{
    CandidateReport, DiscoveryResult, DropReason, NetworkStep, Origin, StepKind, StepTarget,
    Verdict,
};
use super::select;
use super::srv::{SrvTarget, order_targets};

/// A candidate before selection: where it came from and its DER (or why there is none).
struct Raw {
    origin: Origin,
    der: Result<Vec<u8>, DropReason>,
}

impl Raw {
    /// Unknown CERT types are ignored (DISC-03): they do not count as "found".
    fn counts(&self) -> bool {
        !matches!(self.der, Err(DropReason::UnsupportedType(_)))
    }
}

/// What the LDAP steps of one discovery remember: target addresses, and servers that failed
/// (a dead server is not waited for twice, DISC-11).
#[derive(Default)]
struct LdapMemory {
    addresses: HashMap<String, Vec<IpAddr>>,
    failed: HashSet<String>,
}

/// A discovery client for one configuration (one resolver, reused across addresses).
pub struct Discoverer {
    config: DiscoveryConfig,
    dns: Dns,
}

/// Discovers `address` with a one-off [`Discoverer`].
pub async fn discover(address: &str, config: &DiscoveryConfig) -> DiscoveryResult {
    match Discoverer::new(config.clone()) {
        Ok(d) => d.discover(address).await,
        Err(e) => DiscoveryResult {
            address: address.into(),
            conclusion: e.to_string(),
            ..DiscoveryResult::default()
        },
    }
}

impl Discoverer {
    pub fn new(config: DiscoveryConfig) -> Result<Self, ResolverError> {
        let dns = Dns::new(
            config.dns_server,
            &config.timeouts,
            config.faults.no_tcp_retry,
        )?
        .with_faults(config.faults.no_cname, config.faults.nxdomain_fails);
        Ok(Discoverer { config, dns })
    }

    pub fn config(&self) -> &DiscoveryConfig {
        &self.config
    }

    /// The resolver pointed at the configured DNS server (for the hosting checks).
    pub(super) fn dns(&self) -> &Dns {
        &self.dns
    }

    /// Full path reports (VC-6xx facts) for `leaves` to the configured anchors, with AIA and
    /// CRL fetches routed through the configured DNS server, and the network steps they made.
    pub(super) async fn path_reports(
        &self,
        leaves: Vec<Certificate>,
        at: OffsetDateTime,
    ) -> (Vec<crate::trust::PathReport>, Vec<NetworkStep>) {
        let anchors = self.config.anchors.clone();
        let options = PathOptions {
            online: true,
            fetch_timeout: self.config.timeouts.http,
            strict_revocation: self.config.strict_revocation,
            ..PathOptions::default()
        };
        let (reports, steps) = self
            .blocking(true, move |f| {
                leaves
                    .iter()
                    .map(|leaf| {
                        let input = PathInput {
                            leaf,
                            intermediates: &[],
                            anchors: &anchors,
                            crls: &[],
                            at,
                        };
                        validate_with(&input, &options, Some(f))
                    })
                    .collect::<Vec<_>>()
            })
            .await;
        (reports.unwrap_or_default(), steps)
    }

    /// One path validation with the caller's inputs (the reference HISP's trust decisions),
    /// AIA and CRL fetches routed through the configured DNS server like discovery's own; a
    /// task failure ends in a "not evaluated" report. Returns the network steps it made.
    pub async fn validate_path(
        &self,
        leaf: Certificate,
        intermediates: Vec<Certificate>,
        anchors: Vec<crate::trust::TrustAnchor>,
        crls: Vec<x509_cert::crl::CertificateList>,
        at: OffsetDateTime,
        options: PathOptions,
    ) -> (crate::trust::PathReport, Vec<NetworkStep>) {
        let aia = !self.config.faults.no_aia_fetch;
        let (leaf2, inter2, anchors2, crls2, options2) = (
            leaf.clone(),
            intermediates.clone(),
            anchors.clone(),
            crls.clone(),
            options.clone(),
        );
        let (report, mut steps) = self
            .blocking(aia, move |f| {
                let input = PathInput {
                    leaf: &leaf2,
                    intermediates: &inter2,
                    anchors: &anchors2,
                    crls: &crls2,
                    at,
                };
                validate_with(&input, &options2, Some(f))
            })
            .await;
        // No HTTP client: validate offline, as `trust::validate` does, and say so.
        let report = match report {
            Some(r) => r,
            None => {
                let offline = tokio::task::spawn_blocking(move || {
                    let input = PathInput {
                        leaf: &leaf,
                        intermediates: &intermediates,
                        anchors: &anchors,
                        crls: &crls,
                        at,
                    };
                    let mut r = validate_with(&input, &options, None);
                    r.checks.push(crate::trust::TrustCheck::new(
                        602,
                        crate::trust::Outcome::Warn,
                        "online mode, but the HTTP client could not start",
                    ));
                    r
                })
                .await;
                offline.unwrap_or_else(|e| {
                    steps.push(client_failed(format!("task: {e}")));
                    crate::trust::PathReport::not_evaluated(format!("validation task failed: {e}"))
                })
            }
        };
        (report, steps)
    }

    /// Discovers `address`, within `timeouts.total` overall: past it, discovery gives up with
    /// the evidence gathered so far and chooses nothing.
    pub async fn discover(&self, address: &str) -> DiscoveryResult {
        let mut result = DiscoveryResult {
            address: address.into(),
            ..DiscoveryResult::default()
        };
        let total = self.config.timeouts.total;
        if tokio::time::timeout(total, self.run(address, &mut result))
            .await
            .is_err()
        {
            result.winning_step = None;
            result.certificates.clear();
            result.conclusion = format!("gave up after {total:?} (timeouts.total)");
        }
        result
    }

    async fn run(&self, address: &str, result: &mut DiscoveryResult) {
        let addr = match DirectAddress::parse(address) {
            Ok(a) => a,
            Err(e) => {
                result.conclusion = e.to_string();
                return;
            }
        };
        let at = self.config.at.unwrap_or_else(OffsetDateTime::now_utc);
        let faults = self.config.faults;
        let order = if faults.domain_bound_before_address_bound {
            [
                StepKind::DnsDomain,
                StepKind::DnsAddress,
                StepKind::LdapDomain,
                StepKind::LdapAddress,
            ]
        } else {
            [
                StepKind::DnsAddress,
                StepKind::DnsDomain,
                StepKind::LdapAddress,
                StepKind::LdapDomain,
            ]
        };
        let mut srv: Option<Vec<SrvTarget>> = None;
        let mut memory = LdapMemory::default();
        for step in order {
            if step.is_address_bound() && addr.local.is_none() {
                continue;
            }
            let raw = match step {
                StepKind::DnsAddress | StepKind::DnsDomain => {
                    match self.dns_step(step, &addr, result).await {
                        Ok(raw) => raw,
                        Err(name) => {
                            // Fail closed: only NXDOMAIN and NODATA mean "none here" (DISC-07);
                            // after an error, a lower level could hide a certificate that wins.
                            result.conclusion = format!(
                                "{step:?}: the CERT lookup of {name} failed; discovery stops \
                                 rather than fall through to a lower level"
                            );
                            return;
                        }
                    }
                }
                StepKind::LdapAddress | StepKind::LdapDomain => {
                    if srv.is_none() {
                        srv = Some(self.srv_targets(&addr, result).await);
                    }
                    let targets = srv.as_deref().unwrap_or_default();
                    self.ldap_step(step, &addr, targets, &mut memory, result)
                        .await
                }
            };
            let found = raw.iter().any(Raw::counts);
            let reports = self.evaluate(raw, step, &addr, at, result).await;
            let kept: Vec<Certificate> = reports
                .iter()
                .filter(|r| r.kept())
                .filter_map(|r| r.certificate.clone())
                .collect();
            result.candidates.extend(reports);
            if !kept.is_empty() {
                result.conclusion = format!("{} valid certificate(s) from {step:?}", kept.len());
                result.winning_step = Some(step);
                result.certificates = kept;
                return;
            }
            if found && step.is_address_bound() && !faults.fallback_to_domain_after_invalid {
                result.conclusion = format!(
                    "{step:?} found certificates and none is valid: no fallback to \
                     domain-bound certificates (DISC-16)"
                );
                return;
            }
        }
        result.conclusion = "no valid certificate found".into();
    }

    async fn dns_step(
        &self,
        step: StepKind,
        addr: &DirectAddress,
        result: &mut DiscoveryResult,
    ) -> Result<Vec<Raw>, String> {
        let names = if step == StepKind::DnsAddress && self.config.faults.local_part_up_to_dot {
            DirectAddress {
                local: addr
                    .local
                    .as_deref()
                    .map(|l| l.split('.').next().unwrap_or(l).to_string()),
                domain: addr.domain.clone(),
            }
            .address_names()
        } else if step == StepKind::DnsAddress {
            addr.address_names()
        } else {
            addr.domain_name().map(|n| vec![n])
        };
        let names = match names {
            Ok(n) => n,
            Err(e) => {
                result.conclusion = e.to_string();
                return Ok(Vec::new());
            }
        };
        for name in names {
            let records = match self.dns.cert(&name, &mut result.steps).await {
                Answer::Records(r) => r,
                Answer::None => continue,
                Answer::Failed => return Err(name.to_string()),
            };
            let owner = name.to_string();
            let mut raw = Vec::new();
            for r in records {
                let origin = Origin::DnsCert {
                    name: owner.clone(),
                    cert_type: r.cert_type,
                };
                raw.push(match r.cert_type {
                    1 => Raw {
                        origin,
                        der: Ok(r.data),
                    },
                    4 if self.config.follow_ipkix => self.ipkix(&owner, &r.data, result).await,
                    t => Raw {
                        origin,
                        der: Err(DropReason::UnsupportedType(t)),
                    },
                });
            }
            // The first owner spelling that answers is the address-bound RRset.
            return Ok(raw);
        }
        Ok(Vec::new())
    }

    /// DISC-04: the record data is a URL; its target is used as if published.
    async fn ipkix(&self, owner: &str, data: &[u8], result: &mut DiscoveryResult) -> Raw {
        let url = String::from_utf8_lossy(data).trim().to_string();
        let origin = Origin::Ipkix {
            name: owner.into(),
            url: url.clone(),
        };
        let u = url.clone();
        let (fetched, mut steps) = self
            .blocking(true, move |f| {
                use crate::trust::fetch::Fetcher;
                f.fetch(&u, FetchPurpose::CaIssuers)
            })
            .await;
        for s in &mut steps {
            s.outcome = s.outcome.replacen("CaIssuers", "IPKIX", 1);
        }
        result.steps.extend(steps);
        let der = match fetched {
            Some(f) => match f.body {
                Some(body) => crate::trust::fetch::parse_certificates(&body)
                    .map_err(|e| DropReason::Unparseable(e.to_string()))
                    .and_then(|certs| {
                        certs
                            .first()
                            .and_then(|c| der::Encode::to_der(c).ok())
                            .ok_or_else(|| DropReason::Unparseable("no certificate".into()))
                    }),
                None => Err(DropReason::Unparseable(format!(
                    "IPKIX fetch failed: {}",
                    f.record.error.unwrap_or_default()
                ))),
            },
            None => Err(DropReason::Unparseable("IPKIX fetch did not run".into())),
        };
        Raw { origin, der }
    }

    async fn srv_targets(
        &self,
        addr: &DirectAddress,
        result: &mut DiscoveryResult,
    ) -> Vec<SrvTarget> {
        let Ok(name) = addr.srv_name() else {
            return Vec::new();
        };
        match self.dns.srv(&name, &mut result.steps).await {
            Answer::Records(t) if self.config.faults.ignore_srv_weight => {
                // Always the lowest running sum: the lightest target of each priority first.
                order_targets(t, &Lightest, self.config.faults.ignore_srv_priority)
            }
            Answer::Records(t) => order_targets(
                t,
                self.config.random.as_ref(),
                self.config.faults.ignore_srv_priority,
            ),
            Answer::None | Answer::Failed => Vec::new(),
        }
    }

    /// Asks the SRV targets in order until one answers with a certificate (DISC-11, DISC-13).
    async fn ldap_step(
        &self,
        step: StepKind,
        addr: &DirectAddress,
        targets: &[SrvTarget],
        memory: &mut LdapMemory,
        result: &mut DiscoveryResult,
    ) -> Vec<Raw> {
        let mail = if step == StepKind::LdapAddress {
            addr.text()
        } else {
            addr.domain.clone()
        };
        let failover = !self.config.faults.no_ldap_failover;
        let t = &self.config.timeouts;
        for target in targets {
            let label = format!("{}:{}", target.target, target.port);
            if memory.failed.contains(&label) {
                if failover {
                    continue;
                }
                break;
            }
            let ips = match memory.addresses.get(&target.target) {
                Some(ips) => ips.clone(),
                None => {
                    let ips = self.dns.addresses(&target.target, &mut result.steps).await;
                    memory.addresses.insert(target.target.clone(), ips.clone());
                    ips
                }
            };
            let Some(ip) = ips.first() else {
                memory.failed.insert(label);
                if failover {
                    continue;
                }
                break;
            };
            let sa = SocketAddr::new(*ip, target.port);
            match ldap::query_contexts(
                &label,
                sa,
                &mail,
                t.ldap_connect,
                t.ldap_operation,
                self.config.faults.first_naming_context_only,
                &mut result.steps,
            )
            .await
            {
                ServerOutcome::Answered(found) if !found.is_empty() => {
                    return found
                        .into_iter()
                        .map(|f| Raw {
                            origin: Origin::Ldap {
                                server: label.clone(),
                                base: f.base,
                                filter: f.filter,
                                dn: f.dn,
                            },
                            der: Ok(f.der),
                        })
                        .collect();
                }
                ServerOutcome::Answered(_) => continue,
                ServerOutcome::Failed => {
                    memory.failed.insert(label);
                    if !failover {
                        break;
                    }
                }
            }
        }
        Vec::new()
    }

    /// Runs `f` with a routed HTTP fetcher on the blocking pool (the trust module's HTTP
    /// client is blocking); returns its value and the network steps it made.
    /// `aia`: false under the `no-aia-fetch` knob (caIssuers fetches refused).
    async fn blocking<T: Send + 'static>(
        &self,
        aia: bool,
        f: impl FnOnce(&RoutedFetcher) -> T + Send + 'static,
    ) -> (Option<T>, Vec<NetworkStep>) {
        let options = FetchOptions {
            timeout: self.config.timeouts.http,
            ..FetchOptions::default()
        };
        let hosts = self.config.http_hosts.clone();
        let dns = self.dns.clone();
        let runtime = tokio::runtime::Handle::current();
        let job = tokio::task::spawn_blocking(move || {
            let inner = match HttpFetcher::new(options) {
                Ok(i) => i,
                Err(e) => return (None, vec![client_failed(e.to_string())]),
            };
            let fetcher = RoutedFetcher {
                inner,
                hosts,
                dns,
                runtime,
                steps: Mutex::new(Vec::new()),
                no_ca_issuers: !aia,
            };
            let v = f(&fetcher);
            (Some(v), fetcher.take_steps())
        });
        job.await
            .unwrap_or_else(|e| (None, vec![client_failed(format!("task: {e}"))]))
    }

    async fn evaluate(
        &self,
        raw: Vec<Raw>,
        step: StepKind,
        addr: &DirectAddress,
        at: OffsetDateTime,
        result: &mut DiscoveryResult,
    ) -> Vec<CandidateReport> {
        let mut reports = Vec::new();
        let mut to_path = Vec::new();
        for r in raw {
            let parsed = r.der.and_then(|der| {
                Certificate::from_der(&der)
                    .map_err(|e| DropReason::Unparseable(format!("{e} ({})", hex_sha256(&der))))
            });
            let report = match parsed {
                Ok(c) => {
                    let verdict = match select::local_checks(&c, step, addr, at)
                        .and_then(|()| select::fault_checks(&c, step, addr, &self.config.faults))
                    {
                        Ok(()) => Verdict::Kept,
                        Err(d) => Verdict::Dropped(d),
                    };
                    CandidateReport {
                        step,
                        origin: r.origin,
                        subject: cert::subject(&c),
                        serial: cert::serial_hex(&c),
                        sha256: cert::sha256_hex(&c),
                        verdict,
                        certificate: Some(c),
                    }
                }
                Err(d) => CandidateReport {
                    step,
                    origin: r.origin,
                    subject: String::new(),
                    serial: String::new(),
                    sha256: String::new(),
                    verdict: Verdict::Dropped(d),
                    certificate: None,
                },
            };
            if report.kept() {
                to_path.push(reports.len());
            }
            reports.push(report);
        }
        if to_path.is_empty() {
            return reports;
        }
        let leaves: Vec<Certificate> = to_path
            .iter()
            .filter_map(|i| reports[*i].certificate.clone())
            .collect();
        let anchors = self.config.anchors.clone();
        let options = PathOptions {
            online: true,
            fetch_timeout: self.config.timeouts.http,
            strict_revocation: self.config.strict_revocation,
            ..PathOptions::default()
        };
        let aia = !self.config.faults.no_aia_fetch;
        let (verdicts, steps) = self
            .blocking(aia, move |f| {
                leaves
                    .iter()
                    .map(|leaf| {
                        let input = PathInput {
                            leaf,
                            intermediates: &[],
                            anchors: &anchors,
                            crls: &[],
                            at,
                        };
                        select::path_verdict(&validate_with(&input, &options, Some(f)))
                    })
                    .collect::<Vec<_>>()
            })
            .await;
        result.steps.extend(steps);
        let verdicts = verdicts.unwrap_or_default();
        let ignore_crl = self.config.faults.ignore_crl;
        for (n, i) in to_path.iter().enumerate() {
            reports[*i].verdict = match verdicts.get(n) {
                Some(Ok(())) => Verdict::Kept,
                Some(Err(DropReason::Revoked(_))) if ignore_crl => Verdict::Kept,
                Some(Err(d)) => Verdict::Dropped(d.clone()),
                None => {
                    Verdict::Dropped(DropReason::Untrusted("path validation did not run".into()))
                }
            };
        }
        reports
    }
}

/// The `ignore-srv-weight` knob's random source: always 0, so RFC 2782's running sum picks
/// the first (zero-weight, then lightest) target.
struct Lightest;

impl super::config::SrvRandom for Lightest {
    fn up_to(&self, _max: u32) -> u32 {
        0
    }
}

/// A fetcher that could not be built (or a task that died), as a failed step.
fn client_failed(e: String) -> NetworkStep {
    NetworkStep {
        target: StepTarget::Http { url: String::new() },
        server: None,
        ok: false,
        outcome: format!("HTTP client: {e}"),
        duration_ms: 0,
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The reference HISP runs discovery on spawned tasks: the client and its future must be
/// `Send` (a compile-time check).
#[allow(dead_code)]
fn discovery_is_send(d: &Discoverer) {
    fn is_send<T: Send>(_: T) {}
    fn is_sync<T: Sync>(_: &T) {}
    is_sync(d);
    is_send(d.discover("a@b.test"));
}
