//! Certification path building and validation (RFC 5280 §6, VC-601..607).
//!
//! Hand-written rather than certval 0.2.0-rc.1 or rustls-webpki, on purpose:
//! - rustls-webpki has no SHA-1, no rfc822Name constraints and no AIA or CRL fetching, and
//!   applies a required EKU to the whole chain (CRATES.md);
//! - certval verifies SHA-1-signed certificates only with its `sha1_sig`/`rsa` features, which
//!   pin rsa release candidates that conflict with our `rsa =0.10.0`; without them every RSA
//!   check goes through a callback anyway. Its result is a status code per path, while VC-6xx
//!   needs per-certificate, per-rule findings, "not evaluated" for offline checks and a log of
//!   every fetch; mapping that back out of its string-keyed settings cost more than this module.
//!
//! What is checked, per candidate path leaf → intermediates → anchor: every signature with the
//! S/MIME core's RSA/ECDSA verifier (SHA-1 and MD5 included: the algorithm is reported, VC-507
//! judges it), validity at the validation time (603), basicConstraints cA and keyCertSign on
//! every intermediate (604), pathLenConstraint and name constraints including the anchor
//! certificate's own (606, as OpenSSL does), and revocation by CRL (605). An anchor is trusted as
//! given (a name and a key, RFC 5914): it need not be self-signed and its signature is not
//! checked. Not done: policy processing, delta/indirect CRLs, OCSP.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use spki::SubjectPublicKeyInfoOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::NameConstraints;
use x509_cert::name::Name;

use super::cert;
use super::crl::{self, CrlIssuer, CrlVerdict};
use super::fetch::{self, FetchOptions, Fetcher, HttpFetcher};
use super::names;
use super::profile::validity_check;
use super::report::{CertSource, FetchPurpose, FetchRecord, Outcome, PathReport, TrustCheck};

/// A trust anchor: a name and a key (RFC 5914 / RFC 5280 §6.1.1), optionally with the
/// certificate it came from, whose pathLenConstraint and name constraints then apply too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustAnchor {
    pub name: Name,
    pub spki: SubjectPublicKeyInfoOwned,
    pub key_id: Option<Vec<u8>>,
    pub certificate: Option<Certificate>,
}

impl TrustAnchor {
    /// Any certificate can be an anchor: a root, an intermediate, even a leaf (TRUST-03).
    pub fn from_certificate(cert: Certificate) -> Self {
        TrustAnchor {
            name: cert.tbs_certificate().subject().clone(),
            spki: cert.tbs_certificate().subject_public_key_info().clone(),
            key_id: cert::subject_key_id(&cert),
            certificate: Some(cert),
        }
    }

    pub fn from_name_and_key(name: Name, spki: SubjectPublicKeyInfoOwned) -> Self {
        TrustAnchor {
            name,
            spki,
            key_id: None,
            certificate: None,
        }
    }

    fn label(&self) -> String {
        self.name.to_string()
    }
}

/// How to validate.
#[derive(Clone, Debug)]
pub struct PathOptions {
    /// Fetch AIA caIssuers and CRLs over HTTP. Off: such checks report "not evaluated" (VC-607).
    pub online: bool,
    /// Per-fetch timeout (TRUST-05).
    pub fetch_timeout: Duration,
    /// Largest fetched body.
    pub max_fetch_bytes: usize,
    /// An unobtainable CRL fails the path instead of warning (TRUST-09 strict mode).
    pub strict_revocation: bool,
    /// Longest path, anchor excluded.
    pub max_depth: usize,
    /// Most candidate paths built and validated.
    pub max_candidates: usize,
    /// Also follow `https://` AIA and CRL URLs (http only by default).
    pub allow_https: bool,
}

impl Default for PathOptions {
    fn default() -> Self {
        PathOptions {
            online: false,
            fetch_timeout: Duration::from_secs(10),
            max_fetch_bytes: 1024 * 1024,
            strict_revocation: false,
            max_depth: 8,
            max_candidates: 16,
            allow_https: false,
        }
    }
}

/// What to validate.
#[derive(Clone, Copy, Debug)]
pub struct PathInput<'a> {
    pub leaf: &'a Certificate,
    /// Candidate intermediates: SignedData certificates, files. Order does not matter.
    pub intermediates: &'a [Certificate],
    pub anchors: &'a [TrustAnchor],
    /// CRLs from files; with `online`, CRLs are also fetched from http CRL DPs.
    pub crls: &'a [CertificateList],
    pub at: OffsetDateTime,
}

/// Builds and validates paths, fetching over HTTP when `options.online` (blocking; see
/// [`fetch`] for use from async code).
pub fn validate(input: &PathInput<'_>, options: &PathOptions) -> PathReport {
    if !options.online {
        return validate_with(input, options, None);
    }
    let fo = FetchOptions {
        timeout: options.fetch_timeout,
        max_bytes: options.max_fetch_bytes,
        allow_https: options.allow_https,
    };
    match HttpFetcher::new(fo) {
        Ok(f) => validate_with(input, options, Some(&f)),
        Err(e) => {
            let mut report = validate_with(input, options, None);
            report.checks.push(TrustCheck::new(
                602,
                Outcome::Warn,
                format!("online mode, but {e}"),
            ));
            report
        }
    }
}

/// [`validate`] for async callers (the reference HISP): runs on tokio's blocking pool, because
/// the HTTP client is blocking. A panic or cancellation ends in a "not evaluated" report.
pub async fn validate_async(
    leaf: Certificate,
    intermediates: Vec<Certificate>,
    anchors: Vec<TrustAnchor>,
    crls: Vec<CertificateList>,
    at: OffsetDateTime,
    options: PathOptions,
) -> PathReport {
    let job = tokio::task::spawn_blocking(move || {
        let input = PathInput {
            leaf: &leaf,
            intermediates: &intermediates,
            anchors: &anchors,
            crls: &crls,
            at,
        };
        validate(&input, &options)
    });
    job.await
        .unwrap_or_else(|e| PathReport::not_evaluated(format!("validation task failed: {e}")))
}

/// As [`validate`], with the caller's fetcher (`None`: offline, whatever `options.online` says).
pub fn validate_with(
    input: &PathInput<'_>,
    options: &PathOptions,
    fetcher: Option<&dyn Fetcher>,
) -> PathReport {
    let fetcher = if options.online { fetcher } else { None };
    let mut v = Validator {
        input,
        options,
        fetcher,
        pool: input
            .intermediates
            .iter()
            .filter(|c| *c != input.leaf)
            .map(|c| (c.clone(), CertSource::Supplied))
            .collect(),
        fetched_aia: HashSet::new(),
        crl_cache: RefCell::new(HashMap::new()),
        fetches: RefCell::new(Vec::new()),
        dead_ends: Vec::new(),
        not_evaluated: RefCell::new(Vec::new()),
        candidates: Vec::new(),
        budget: SEARCH_BUDGET,
    };
    v.run()
}

struct Candidate {
    certs: Vec<(Certificate, CertSource)>,
    anchor: usize,
}

struct Validator<'a, 'i> {
    input: &'a PathInput<'i>,
    options: &'a PathOptions,
    fetcher: Option<&'a dyn Fetcher>,
    pool: Vec<(Certificate, CertSource)>,
    fetched_aia: HashSet<String>,
    crl_cache: RefCell<HashMap<String, Result<CertificateList, String>>>,
    fetches: RefCell<Vec<FetchRecord>>,
    /// 602 findings: issuers that could not be found.
    dead_ends: Vec<TrustCheck>,
    /// 607 findings: what offline mode skipped.
    not_evaluated: RefCell<Vec<String>>,
    candidates: Vec<Candidate>,
    /// Issuer look-ups left: bounds the search when many certificates share a name.
    budget: usize,
}

/// Most issuer look-ups per validation.
const SEARCH_BUDGET: usize = 256;

fn issuer_preference(child: &Certificate, key_id: Option<&[u8]>) -> u8 {
    match (cert::authority_key_id(child), key_id) {
        (Some(aki), Some(ski)) if aki == ski => 0,
        (Some(_), Some(_)) => 2,
        _ => 1,
    }
}

impl Validator<'_, '_> {
    fn run(&mut self) -> PathReport {
        let leaf = self.input.leaf.clone();
        if self.input.anchors.is_empty() {
            return PathReport {
                checks: vec![TrustCheck::new(
                    601,
                    Outcome::NotEvaluated("no trust anchor given".into()),
                    "no anchor",
                )],
                ..PathReport::default()
            };
        }
        // TRUST-03: the certificate may itself be installed as an anchor.
        if let Some(i) = self.input.anchors.iter().position(|a| {
            cert::name_eq(&a.name, leaf.tbs_certificate().subject())
                && a.spki == *leaf.tbs_certificate().subject_public_key_info()
        }) {
            let anchor = &self.input.anchors[i];
            let mut checks = vec![TrustCheck::new(
                601,
                Outcome::Pass,
                format!(
                    "the certificate is itself the configured anchor {}",
                    anchor.label()
                ),
            )];
            checks.push(validity_check(603, &leaf, self.input.at).about(cert::subject(&leaf)));
            return PathReport {
                path: Some(vec![cert::summary(&leaf, CertSource::Anchor)]),
                candidates_tried: 1,
                checks,
                fetches: Vec::new(),
            };
        }
        let mut chain = vec![(leaf, CertSource::Leaf)];
        self.build(&mut chain);

        let mut tried = 0;
        let mut rejected: Vec<TrustCheck> = Vec::new();
        let candidates = std::mem::take(&mut self.candidates);
        for (k, cand) in candidates.iter().enumerate() {
            tried += 1;
            let checks = self.validate_candidate(cand);
            if !checks.iter().any(TrustCheck::is_fail) {
                let mut all = checks;
                all.push(self.sources_check(cand));
                all.extend(self.offline_summary());
                let mut path: Vec<_> = cand
                    .certs
                    .iter()
                    .map(|(c, s)| cert::summary(c, s.clone()))
                    .collect();
                if let Some(ac) = &self.input.anchors[cand.anchor].certificate {
                    path.push(cert::summary(ac, CertSource::Anchor));
                }
                return PathReport {
                    path: Some(path),
                    candidates_tried: tried,
                    checks: all,
                    fetches: self.fetches.take(),
                };
            }
            let label = self.describe(cand);
            for c in checks.into_iter().filter(|c| c.outcome != Outcome::Pass) {
                rejected.push(TrustCheck {
                    detail: format!("candidate {} ({label}): {}", k + 1, c.detail),
                    ..c
                });
            }
        }
        let mut checks = vec![
            TrustCheck::new(
                601,
                Outcome::Fail,
                if tried == 0 {
                    format!(
                        "no path from {} to any of the {} anchor(s)",
                        cert::subject(self.input.leaf),
                        self.input.anchors.len()
                    )
                } else {
                    format!("none of the {tried} candidate path(s) validated")
                },
            )
            .about(cert::subject(self.input.leaf)),
        ];
        checks.extend(rejected);
        checks.extend(std::mem::take(&mut self.dead_ends));
        checks.extend(self.offline_summary());
        PathReport {
            path: None,
            candidates_tried: tried,
            checks,
            fetches: self.fetches.take(),
        }
    }

    fn describe(&self, cand: &Candidate) -> String {
        let mut parts: Vec<String> = cand.certs.iter().map(|(c, _)| cert::subject(c)).collect();
        parts.push(format!(
            "anchor {}",
            self.input.anchors[cand.anchor].label()
        ));
        parts.join(" → ")
    }

    /// Depth-first search for chains ending at an anchor, preferring AKI/SKI matches.
    fn build(&mut self, chain: &mut Vec<(Certificate, CertSource)>) {
        if self.candidates.len() >= self.options.max_candidates || self.budget == 0 {
            return;
        }
        self.budget -= 1;
        let Some((cur, _)) = chain.last().cloned() else {
            return;
        };
        let issuer_name = cur.tbs_certificate().issuer().clone();
        let mut anchors: Vec<usize> = (0..self.input.anchors.len())
            .filter(|i| cert::name_eq(&self.input.anchors[*i].name, &issuer_name))
            .collect();
        anchors.sort_by_key(|i| issuer_preference(&cur, self.input.anchors[*i].key_id.as_deref()));
        let mut issuers = self.issuers_in_pool(&cur, chain);
        // Supplied issuers whose key identifier differs from the AKI (a stale or rolled-over
        // CA in the SignedData) do not stop an online search for the right one.
        let aki = cert::authority_key_id(&cur);
        let only_mismatched = !issuers.is_empty()
            && aki.is_some()
            && issuers
                .iter()
                .all(|(c, _)| cert::subject_key_id(c).is_some_and(|ski| Some(ski) != aki));
        if anchors.is_empty() && (issuers.is_empty() || (only_mismatched && self.fetcher.is_some()))
        {
            self.chase_aia(&cur);
            issuers = self.issuers_in_pool(&cur, chain);
        }
        for a in anchors {
            if self.candidates.len() >= self.options.max_candidates {
                return;
            }
            self.candidates.push(Candidate {
                certs: chain.clone(),
                anchor: a,
            });
        }
        if chain.len() >= self.options.max_depth {
            return;
        }
        for next in issuers {
            chain.push(next);
            self.build(chain);
            chain.pop();
        }
    }

    fn issuers_in_pool(
        &self,
        cur: &Certificate,
        chain: &[(Certificate, CertSource)],
    ) -> Vec<(Certificate, CertSource)> {
        let issuer_name = cur.tbs_certificate().issuer();
        let mut found: Vec<(Certificate, CertSource)> = self
            .pool
            .iter()
            .filter(|(c, _)| cert::name_eq(c.tbs_certificate().subject(), issuer_name))
            // No certificate twice on a path, and no key twice either (cross-certificate loops).
            .filter(|(c, _)| {
                !chain.iter().any(|(p, _)| {
                    p == c
                        || p.tbs_certificate().subject_public_key_info()
                            == c.tbs_certificate().subject_public_key_info()
                })
            })
            .cloned()
            .collect();
        found.sort_by_key(|(c, _)| issuer_preference(cur, cert::subject_key_id(c).as_deref()));
        found
    }

    fn chase_aia(&mut self, cur: &Certificate) {
        let subject = cert::subject(cur);
        let issuer = cur.tbs_certificate().issuer().to_string();
        let urls = cert::ca_issuers_urls(cur).unwrap_or_default();
        let Some(fetcher) = self.fetcher else {
            let detail = format!("issuer {issuer} not among the supplied certificates or anchors");
            if urls.is_empty() {
                self.dead_ends.push(
                    TrustCheck::new(602, Outcome::Fail, format!("{detail}; no AIA caIssuers"))
                        .about(subject),
                );
            } else {
                self.not_evaluated.borrow_mut().push(format!(
                    "602: AIA caIssuers {} of {subject} not fetched",
                    urls.join(", ")
                ));
                self.dead_ends.push(
                    TrustCheck::new(
                        602,
                        Outcome::NotEvaluated("offline: AIA not fetched".into()),
                        format!(
                            "{detail}; AIA caIssuers {} needs the network",
                            urls.join(", ")
                        ),
                    )
                    .about(subject),
                );
            }
            return;
        };
        let mut errors = Vec::new();
        for url in urls.iter() {
            if !self.fetched_aia.insert(url.clone()) {
                continue;
            }
            let got = fetcher.fetch(url, FetchPurpose::CaIssuers);
            let error = got.record.error.clone();
            self.fetches.borrow_mut().push(got.record);
            match (got.body, error) {
                (Some(body), _) => match fetch::parse_certificates(&body) {
                    Ok(certs) => self
                        .pool
                        .extend(certs.into_iter().map(|c| (c, CertSource::Aia(url.clone())))),
                    Err(e) => errors.push(format!("{url}: {e}")),
                },
                (None, e) => {
                    errors.push(format!("{url}: {}", e.unwrap_or_else(|| "no body".into())))
                }
            }
        }
        let any_issuer = self.pool.iter().any(|(c, _)| {
            cert::name_eq(
                c.tbs_certificate().subject(),
                cur.tbs_certificate().issuer(),
            )
        });
        if !any_issuer {
            let how = if urls.is_empty() {
                "no AIA caIssuers".to_string()
            } else if errors.is_empty() {
                format!(
                    "AIA caIssuers {} gave no certificate named {issuer}",
                    urls.join(", ")
                )
            } else {
                format!("AIA fetch failed: {}", errors.join("; "))
            };
            self.dead_ends.push(
                TrustCheck::new(
                    602,
                    Outcome::Fail,
                    format!(
                        "issuer {issuer} not among the supplied certificates or anchors; {how}"
                    ),
                )
                .about(subject),
            );
        }
    }

    fn offline_summary(&self) -> Option<TrustCheck> {
        let skipped = self.not_evaluated.borrow();
        (!skipped.is_empty()).then(|| {
            TrustCheck::new(
                607,
                Outcome::NotEvaluated("offline".into()),
                format!(
                    "offline mode: {} network check(s) not evaluated: {}",
                    skipped.len(),
                    skipped.join("; ")
                ),
            )
        })
    }

    fn sources_check(&self, cand: &Candidate) -> TrustCheck {
        let inter: Vec<String> = cand
            .certs
            .iter()
            .skip(1)
            .map(|(c, s)| match s {
                CertSource::Aia(url) => format!("{} from AIA {url}", cert::subject(c)),
                _ => format!("{} supplied", cert::subject(c)),
            })
            .collect();
        let detail = if inter.is_empty() {
            "no intermediate needed".to_string()
        } else {
            format!("intermediates: {}", inter.join("; "))
        };
        TrustCheck::new(602, Outcome::Pass, detail)
    }

    fn validate_candidate(&self, cand: &Candidate) -> Vec<TrustCheck> {
        let anchor = &self.input.anchors[cand.anchor];
        let at = self.input.at;
        let n = cand.certs.len();
        let certs: Vec<&Certificate> = cand.certs.iter().map(|(c, _)| c).collect();
        let issuer_of = |i: usize| -> CrlIssuer<'_> {
            if i + 1 < n {
                let c = certs[i + 1];
                CrlIssuer {
                    name: c.tbs_certificate().subject(),
                    spki: c.tbs_certificate().subject_public_key_info(),
                    certificate: Some(c),
                }
            } else {
                CrlIssuer {
                    name: &anchor.name,
                    spki: &anchor.spki,
                    certificate: anchor.certificate.as_ref(),
                }
            }
        };
        let mut checks = Vec::new();

        // 601: signatures up to the anchor.
        let mut sig_ok = true;
        for (i, c) in certs.iter().enumerate() {
            let issuer = issuer_of(i);
            if let Err(e) = cert::verify_certificate(c, issuer.spki) {
                sig_ok = false;
                checks.push(
                    TrustCheck::new(
                        601,
                        Outcome::Fail,
                        format!("signature by {} does not verify: {e}", issuer.name),
                    )
                    .about(cert::subject(c)),
                );
            }
        }
        if sig_ok {
            let algs: Vec<String> = certs
                .iter()
                .map(|c| cert::signature_algorithm_name(&c.signature_algorithm().oid))
                .collect();
            checks.push(TrustCheck::new(
                601,
                Outcome::Pass,
                format!(
                    "path {} ; signatures verify ({})",
                    self.describe(cand),
                    algs.join(", ")
                ),
            ));
        }

        // 603: validity of every certificate; the anchor's only warns (it is trusted as given).
        for c in &certs {
            checks.push(validity_check(603, c, at).about(cert::subject(c)));
        }
        if let Some(ac) = &anchor.certificate {
            let mut v = validity_check(603, ac, at).about(cert::subject(ac));
            if v.is_fail() {
                v.outcome = Outcome::Warn;
                v.detail = format!("anchor {}", v.detail);
            }
            checks.push(v);
        }

        // 604: every intermediate is a CA allowed to sign certificates.
        for c in certs.iter().skip(1) {
            checks.push(ca_check(c));
        }

        // 606: path length and name constraints.
        checks.extend(self.constraint_checks(&certs, anchor));

        // 605: revocation.
        for (i, c) in certs.iter().enumerate() {
            checks.push(self.revocation_check(c, &issuer_of(i)));
        }
        checks
    }

    fn constraint_checks(&self, certs: &[&Certificate], anchor: &TrustAnchor) -> Vec<TrustCheck> {
        let mut out = Vec::new();
        // The constraining certificates, from the anchor down: (index, cert); the anchor sits at index n.
        let n = certs.len();
        let mut constraining: Vec<(usize, &Certificate)> = certs
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, c)| (i, *c))
            .collect();
        if let Some(ac) = &anchor.certificate {
            constraining.push((n, ac));
        }
        for (j, ca) in constraining {
            let ca_subject = cert::subject(ca);
            if let Ok(Some(bc)) = cert::basic_constraints(ca)
                && let Some(max) = bc.path_len_constraint
            {
                // Intermediates below `ca` that count: non-self-issued, excluding the leaf.
                let below = (1..j).filter(|i| !cert::is_self_issued(certs[*i])).count();
                if below > usize::from(max) {
                    out.push(
                        TrustCheck::new(
                            606,
                            Outcome::Fail,
                            format!("pathLenConstraint {max} exceeded: {below} intermediate CA certificate(s) below it"),
                        )
                        .about(ca_subject.clone()),
                    );
                }
            }
            match cert::ext::<NameConstraints>(ca) {
                Err(e) => {
                    out.push(TrustCheck::new(606, Outcome::Fail, e).about(ca_subject.clone()))
                }
                Ok(None) => {}
                Ok(Some((_, nc))) => {
                    for (i, c) in certs.iter().enumerate().take(j) {
                        // Self-issued intermediates are exempt (RFC 5280 §6.1.3 b).
                        if i > 0 && cert::is_self_issued(c) {
                            continue;
                        }
                        if let Err(e) = names::check(&nc, c) {
                            out.push(
                                TrustCheck::new(
                                    606,
                                    Outcome::Fail,
                                    format!("{e} (nameConstraints of {ca_subject})"),
                                )
                                .about(cert::subject(c)),
                            );
                        }
                    }
                }
            }
        }
        if out.is_empty() {
            out.push(TrustCheck::new(
                606,
                Outcome::Pass,
                "path length and name constraints respected",
            ));
        }
        out
    }

    fn revocation_check(&self, target: &Certificate, issuer: &CrlIssuer<'_>) -> TrustCheck {
        let at = self.input.at;
        let subject = cert::subject(target);
        let urls = match cert::crl_urls(target) {
            Ok(u) => u,
            Err(e) => return TrustCheck::new(605, Outcome::Fail, e).about(subject),
        };
        let mut problems: Vec<String> = Vec::new();
        let mut matched_supplied = false;
        for crl in self
            .input
            .crls
            .iter()
            .filter(|c| cert::name_eq(&c.tbs_cert_list.issuer, issuer.name))
        {
            matched_supplied = true;
            match crl::check(target, issuer, crl, at) {
                Ok(v) => return verdict_check(v, "a supplied CRL", crl).about(subject),
                Err(e) => problems.push(format!("supplied CRL: {e}")),
            }
        }
        let http: Vec<&String> = urls.iter().filter(|u| u.starts_with("http://")).collect();
        if !http.is_empty() {
            match self.fetcher {
                None => {
                    if !matched_supplied {
                        self.not_evaluated
                            .borrow_mut()
                            .push(format!("605: CRL {} of {subject} not fetched", http[0]));
                        return TrustCheck::new(
                            605,
                            Outcome::NotEvaluated("offline: CRL not fetched".into()),
                            format!(
                                "revocation needs the CRL at {}",
                                http.iter()
                                    .map(|s| s.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                        .about(subject);
                    }
                    problems.push("offline: the CRL DP was not fetched".into());
                }
                Some(fetcher) => {
                    for url in http {
                        match self.fetched_crl(fetcher, url) {
                            Ok(crl) => match crl::check(target, issuer, &crl, at) {
                                Ok(v) => return verdict_check(v, url, &crl).about(subject),
                                Err(e) => problems.push(format!("{url}: {e}")),
                            },
                            Err(e) => problems.push(format!("{url}: {e}")),
                        }
                    }
                }
            }
        }
        if urls.is_empty() && !matched_supplied {
            return TrustCheck::new(
                605,
                Outcome::Info,
                "no CRL distribution point: revocation not checked (CERT-11)",
            )
            .about(subject);
        }
        if problems.is_empty() {
            problems.push(format!(
                "no http CRL distribution point ({})",
                urls.join(", ")
            ));
        }
        let outcome = if self.options.strict_revocation {
            Outcome::Fail
        } else {
            Outcome::Warn
        };
        TrustCheck::new(
            605,
            outcome,
            format!("revocation status unknown: {}", problems.join("; ")),
        )
        .about(subject)
    }

    fn fetched_crl(&self, fetcher: &dyn Fetcher, url: &str) -> Result<CertificateList, String> {
        if let Some(r) = self.crl_cache.borrow().get(url) {
            return r.clone();
        }
        let got = fetcher.fetch(url, FetchPurpose::Crl);
        let error = got.record.error.clone();
        self.fetches.borrow_mut().push(got.record);
        let r = match got.body {
            Some(body) => fetch::parse_crl(&body).map_err(|e| e.to_string()),
            None => Err(error.unwrap_or_else(|| "no body".into())),
        };
        self.crl_cache
            .borrow_mut()
            .insert(url.to_string(), r.clone());
        r
    }
}

fn verdict_check(v: CrlVerdict, source: &str, crl: &CertificateList) -> TrustCheck {
    let tbs = &crl.tbs_cert_list;
    let window = format!(
        "thisUpdate {}, nextUpdate {}",
        cert::fmt_time(cert::to_datetime(&tbs.this_update)),
        tbs.next_update
            .as_ref()
            .map(|t| cert::fmt_time(cert::to_datetime(t)))
            .unwrap_or_else(|| "none".into())
    );
    match v {
        CrlVerdict::NotRevoked => TrustCheck::new(
            605,
            Outcome::Pass,
            format!("not revoked ({source}; {window})"),
        ),
        CrlVerdict::Revoked { date, reason } => TrustCheck::new(
            605,
            Outcome::Fail,
            format!(
                "revoked on {}, reason {} ({source}; {window})",
                cert::fmt_time(date),
                reason.unwrap_or_else(|| "not given".into())
            ),
        ),
    }
}

/// VC-604 for one intermediate.
fn ca_check(c: &Certificate) -> TrustCheck {
    let subject = cert::subject(c);
    let mut problems = Vec::new();
    match cert::basic_constraints(c) {
        Err(e) => problems.push(e),
        Ok(None) => problems.push("no basicConstraints".to_string()),
        Ok(Some(bc)) if !bc.ca => problems.push("basicConstraints cA is false".to_string()),
        Ok(Some(_)) => {}
    }
    match cert::key_usage(c) {
        Err(e) => problems.push(e),
        Ok(Some(ku)) if !ku.key_cert_sign() => {
            problems.push("keyUsage lacks keyCertSign".to_string())
        }
        _ => {}
    }
    if problems.is_empty() {
        TrustCheck::new(604, Outcome::Pass, "CA: cA true, keyCertSign allowed").about(subject)
    } else {
        TrustCheck::new(
            604,
            Outcome::Fail,
            format!("not usable as a CA: {}", problems.join("; ")),
        )
        .about(subject)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::DecodePem;

    fn cert(pem: &str) -> Certificate {
        Certificate::from_pem(pem).expect("fixture certificate")
    }

    fn fixtures() -> (Certificate, Certificate, Certificate, CertificateList) {
        (
            cert(include_str!("testdata/ca.pem")),
            cert(include_str!("testdata/good.pem")),
            cert(include_str!("testdata/bad.pem")),
            CertificateList::from_pem(include_str!("testdata/ca.crl")).expect("fixture CRL"),
        )
    }

    fn run(leaf: &Certificate, anchors: &[TrustAnchor], crls: &[CertificateList]) -> PathReport {
        let input = PathInput {
            leaf,
            intermediates: &[],
            anchors,
            crls,
            at: OffsetDateTime::now_utc(),
        };
        validate(&input, &PathOptions::default())
    }

    #[test]
    fn direct_child_of_the_anchor() {
        let (ca, good, bad, crl) = fixtures();
        let anchors = [TrustAnchor::from_certificate(ca)];
        let r = run(&good, &anchors, std::slice::from_ref(&crl));
        assert!(r.trusted(), "{:?}", r.checks);
        assert_eq!(r.path.as_ref().map(Vec::len), Some(2));
        assert_eq!(
            r.path.as_ref().map(|p| p[0].key.clone()),
            Some("EC P-256".into())
        );
        let r = run(&bad, &anchors, &[crl]);
        assert!(!r.trusted());
        assert!(r.checks.iter().any(|c| c.code == 605 && c.is_fail()));
    }

    #[test]
    fn leaf_installed_as_anchor_and_no_anchor() {
        let (ca, good, _, _) = fixtures();
        let r = run(&good, &[TrustAnchor::from_certificate(good.clone())], &[]);
        assert!(r.trusted());
        let r = run(&good, &[], &[]);
        assert!(!r.trusted());
        assert!(matches!(r.checks[0].outcome, Outcome::NotEvaluated(_)));
        // An anchor that did not issue it: no path, and the report says so.
        let r = run(&ca, &[TrustAnchor::from_certificate(good)], &[]);
        assert!(!r.trusted());
        assert!(r.checks.iter().any(|c| c.code == 601 && c.is_fail()));
    }

    #[test]
    fn offline_crl_dp_absent_is_information() {
        let (ca, good, _, _) = fixtures();
        let r = run(&good, &[TrustAnchor::from_certificate(ca)], &[]);
        assert!(r.trusted());
        assert!(
            r.checks
                .iter()
                .any(|c| c.code == 605 && c.outcome == Outcome::Info)
        );
    }
}
