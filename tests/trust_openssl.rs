//! Path validation and the certificate profile against a PKI made by `openssl ca`, with
//! `openssl verify -crl_check_all` as the oracle for the path verdicts, and AIA/CRL fetching
//! against a local HTTP server.

mod common;
mod trust_common;

use std::time::Duration;

use direct_conformance::trust::{
    self, FetchPurpose, Outcome, PathInput, PathOptions, PathReport, Role, TrustAnchor, TrustCheck,
};
use time::OffsetDateTime;
use trust_common::{Pki, pki, read_crl};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;

fn intermediates(p: &Pki) -> Vec<Certificate> {
    [&p.inter, &p.inter2, &p.badca, &p.plen0, &p.sub, &p.ncca]
        .iter()
        .map(|c| c.cert.clone())
        .collect()
}

fn all_crls(p: &Pki) -> Vec<CertificateList> {
    p.crls.values().map(|path| read_crl(path)).collect()
}

fn root_anchor(p: &Pki) -> Vec<TrustAnchor> {
    vec![TrustAnchor::from_certificate(p.root.cert.clone())]
}

fn run(
    leaf: &Certificate,
    inter: &[Certificate],
    anchors: &[TrustAnchor],
    crls: &[CertificateList],
    opts: &PathOptions,
) -> PathReport {
    let input = PathInput {
        leaf,
        intermediates: inter,
        anchors,
        crls,
        at: OffsetDateTime::now_utc(),
    };
    trust::validate(&input, opts)
}

fn with_code(checks: &[TrustCheck], code: u16) -> Vec<&TrustCheck> {
    checks.iter().filter(|c| c.code == code).collect()
}

fn fails(checks: &[TrustCheck], code: u16) -> bool {
    checks
        .iter()
        .any(|c| c.code == code && c.outcome == Outcome::Fail)
}

fn dump(r: &PathReport) -> String {
    r.checks
        .iter()
        .map(|c| {
            format!(
                "  {} {:?} {} [{}]",
                c.code,
                c.outcome,
                c.detail,
                c.subject.clone().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn offline_path_verdicts_agree_with_openssl_verify() {
    let p = pki();
    let inter = intermediates(p);
    let crls = all_crls(p);
    let anchors = root_anchor(p);
    let chain_paths: Vec<&std::path::Path> =
        [&p.inter, &p.inter2, &p.badca, &p.plen0, &p.sub, &p.ncca]
            .iter()
            .map(|c| c.cert_path.as_path())
            .collect();
    let crl_paths: Vec<&std::path::Path> = p.crls.values().map(|c| c.as_path()).collect();
    // (leaf, trusted, the code that must fail when not trusted)
    let cases: &[(&str, bool, Option<u16>)] = &[
        ("valid", true, None),
        ("expired", false, Some(603)),
        ("notyet", false, Some(603)),
        ("revoked", false, Some(605)),
        ("wrongku", true, None),
        ("sha1", true, None),
        ("rsa1024", true, None),
        ("p256", true, None),
        ("nodp", true, None),
        ("under_badca", false, Some(604)),
        ("under_sub", false, Some(606)),
        ("nc_ok", true, None),
        ("nc_bad", false, Some(606)),
        ("nc_dns_bad", false, Some(606)),
        ("ldapdp", true, None),
        ("untrusted", false, Some(601)),
    ];
    for (name, trusted, code) in cases {
        let leaf = p.leaf(name);
        let r = run(&leaf.cert, &inter, &anchors, &crls, &PathOptions::default());
        assert_eq!(r.trusted(), *trusted, "{name}: ours\n{}", dump(&r));
        let oracle = trust_common::openssl_verify(p, &leaf.path, &chain_paths, &crl_paths);
        assert_eq!(
            oracle, *trusted,
            "{name}: openssl verify disagrees with the expectation"
        );
        match code {
            Some(c) => assert!(
                fails(&r.checks, *c),
                "{name}: expected a {c} failure\n{}",
                dump(&r)
            ),
            None => {
                assert!(
                    r.failures().next().is_none(),
                    "{name}: unexpected failure\n{}",
                    dump(&r)
                );
                for c in [601, 602, 603, 604, 605, 606] {
                    assert!(
                        !with_code(&r.checks, c).is_empty(),
                        "{name}: no {c} finding\n{}",
                        dump(&r)
                    );
                }
            }
        }
        assert!(r.fetches.is_empty(), "offline must not fetch");
    }
}

#[test]
fn noisy_bags_do_not_confuse_the_builder() {
    let p = pki();
    // The bag holds the leaf itself, the root, duplicates and unrelated CAs.
    let mut bag = vec![
        p.leaf("valid").cert.clone(),
        p.root.cert.clone(),
        p.other_root.cert.clone(),
    ];
    bag.extend(intermediates(p));
    bag.extend(intermediates(p));
    let r = run(
        &p.leaf("valid").cert,
        &bag,
        &root_anchor(p),
        &all_crls(p),
        &PathOptions::default(),
    );
    assert!(r.trusted(), "{}", dump(&r));
    assert_eq!(r.candidates_tried, 1);
    // Two anchors, one unrelated: the right one is found.
    let anchors = vec![
        TrustAnchor::from_certificate(p.other_root.cert.clone()),
        TrustAnchor::from_certificate(p.root.cert.clone()),
    ];
    let r = run(
        &p.leaf("valid").cert,
        &bag,
        &anchors,
        &all_crls(p),
        &PathOptions::default(),
    );
    assert!(r.trusted(), "{}", dump(&r));
    // No anchors at all: not evaluated.
    let r = run(
        &p.leaf("valid").cert,
        &bag,
        &[],
        &[],
        &PathOptions::default(),
    );
    assert!(!r.trusted());
    assert!(matches!(r.checks[0].outcome, Outcome::NotEvaluated(_)));
    // The DSA-keyed leaf still chains (the key is judged by VC-506, not here).
    let r = run(
        &p.leaf("dsa").cert,
        &bag,
        &root_anchor(p),
        &all_crls(p),
        &PathOptions::default(),
    );
    assert!(r.trusted(), "{}", dump(&r));
}

#[test]
fn revoked_reports_reason_and_date() {
    let p = pki();
    let r = run(
        &p.leaf("revoked").cert,
        &intermediates(p),
        &root_anchor(p),
        &all_crls(p),
        &PathOptions::default(),
    );
    let f = r
        .checks
        .iter()
        .find(|c| c.code == 605 && c.outcome == Outcome::Fail)
        .expect("605 failure");
    assert!(
        f.detail.contains("KeyCompromise") && f.detail.contains("revoked on"),
        "{}",
        f.detail
    );
    assert!(f.subject.as_deref().is_some_and(|s| s.contains("revoked")));
    assert!(
        f.detail.contains("candidate 1"),
        "the rejection names the candidate: {}",
        f.detail
    );
}

#[test]
fn sha1_signed_path_reports_the_algorithm() {
    let p = pki();
    let r = run(
        &p.leaf("sha1").cert,
        &intermediates(p),
        &root_anchor(p),
        &all_crls(p),
        &PathOptions::default(),
    );
    let path = r.path.expect("sha1 path validates");
    assert_eq!(path[0].signature_algorithm, "sha1WithRSAEncryption");
    assert_eq!(path.len(), 3, "leaf, intermediate, anchor");
}

#[test]
fn offline_without_crls_or_intermediates_reports_not_evaluated() {
    let p = pki();
    let r = run(
        &p.leaf("valid").cert,
        &intermediates(p),
        &root_anchor(p),
        &[],
        &PathOptions::default(),
    );
    assert!(r.trusted(), "{}", dump(&r));
    assert!(
        with_code(&r.checks, 605)
            .iter()
            .all(|c| matches!(c.outcome, Outcome::NotEvaluated(_))),
        "{}",
        dump(&r)
    );
    assert!(
        with_code(&r.checks, 607)
            .iter()
            .any(|c| matches!(c.outcome, Outcome::NotEvaluated(_)))
    );

    let r = run(
        &p.leaf("valid").cert,
        &[],
        &root_anchor(p),
        &[],
        &PathOptions::default(),
    );
    assert!(!r.trusted());
    assert!(
        with_code(&r.checks, 602).iter().any(
            |c| matches!(c.outcome, Outcome::NotEvaluated(_)) && c.detail.contains("inter.cer")
        ),
        "{}",
        dump(&r)
    );
    assert!(!with_code(&r.checks, 607).is_empty());
    assert!(r.fetches.is_empty());
}

#[test]
fn crl_from_the_wrong_issuer_or_stale_is_not_used() {
    let p = pki();
    // Only the root's CRL: it does not cover the leaf (issued by inter): unknown → warning.
    let root_crl = read_crl(&p.crls["root"]);
    let r = run(
        &p.leaf("revoked").cert,
        &intermediates(p),
        &root_anchor(p),
        &[root_crl],
        &PathOptions::default(),
    );
    assert!(r.trusted(), "{}", dump(&r));
    let leaf_605 = r
        .checks
        .iter()
        .find(|c| c.code == 605 && c.subject.as_deref().is_some_and(|s| s.contains("revoked")))
        .expect("605");
    assert!(
        matches!(leaf_605.outcome, Outcome::NotEvaluated(_)),
        "{}",
        dump(&r)
    );
    // A CRL checked at a time past its nextUpdate is unusable: warning, or failure when strict.
    let crls = all_crls(p);
    let later = OffsetDateTime::now_utc() + time::Duration::days(3);
    let inter = intermediates(p);
    let anchors = root_anchor(p);
    let input = PathInput {
        leaf: &p.leaf("valid").cert,
        intermediates: &inter,
        anchors: &anchors,
        crls: &crls,
        at: later,
    };
    let r = trust::validate(&input, &PathOptions::default());
    assert!(r.trusted());
    assert!(
        with_code(&r.checks, 605)
            .iter()
            .any(|c| c.outcome == Outcome::Warn && c.detail.contains("nextUpdate")),
        "{}",
        dump(&r)
    );
    let strict = PathOptions {
        strict_revocation: true,
        ..PathOptions::default()
    };
    let r = trust::validate(&input, &strict);
    assert!(!r.trusted());
}

#[test]
fn an_intermediate_can_be_the_anchor() {
    let p = pki();
    let anchors = vec![TrustAnchor::from_certificate(p.inter.cert.clone())];
    let r = run(
        &p.leaf("valid").cert,
        &[],
        &anchors,
        &all_crls(p),
        &PathOptions::default(),
    );
    assert!(r.trusted(), "{}", dump(&r));
    assert_eq!(r.path.as_ref().map(Vec::len), Some(2));
    // A name-and-key anchor without a certificate works too.
    let tbs = p.inter.cert.tbs_certificate();
    let anchors = vec![TrustAnchor::from_name_and_key(
        tbs.subject().clone(),
        tbs.subject_public_key_info().clone(),
    )];
    let r = run(
        &p.leaf("valid").cert,
        &[],
        &anchors,
        &all_crls(p),
        &PathOptions::default(),
    );
    assert!(r.trusted(), "{}", dump(&r));
    // A wrong key under the right name is rejected on the signature.
    let other = p
        .other_root
        .cert
        .tbs_certificate()
        .subject_public_key_info()
        .clone();
    let anchors = vec![TrustAnchor::from_name_and_key(tbs.subject().clone(), other)];
    let r = run(
        &p.leaf("valid").cert,
        &[],
        &anchors,
        &[],
        &PathOptions::default(),
    );
    assert!(!r.trusted());
    assert!(fails(&r.checks, 601), "{}", dump(&r));
}

fn online(timeout: Duration) -> PathOptions {
    PathOptions {
        online: true,
        fetch_timeout: timeout,
        ..PathOptions::default()
    }
}

#[test]
fn online_fetches_intermediate_by_aia_and_crls() {
    let p = pki();
    let r = run(
        &p.leaf("valid").cert,
        &[],
        &root_anchor(p),
        &[],
        &online(Duration::from_secs(5)),
    );
    assert!(r.trusted(), "{}", dump(&r));
    let urls: Vec<&str> = r.fetches.iter().map(|f| f.url.as_str()).collect();
    assert!(
        urls.contains(&p.server.url("/inter.cer").as_str()),
        "{urls:?}"
    );
    assert!(
        urls.contains(&p.server.url("/inter.crl").as_str()),
        "{urls:?}"
    );
    assert!(
        urls.contains(&p.server.url("/root.crl").as_str()),
        "{urls:?}"
    );
    assert!(
        r.fetches
            .iter()
            .all(|f| f.status == Some(200) && f.error.is_none() && f.bytes > 0)
    );
    assert!(
        r.fetches
            .iter()
            .any(|f| f.purpose == FetchPurpose::CaIssuers)
    );
    assert!(
        with_code(&r.checks, 602)
            .iter()
            .any(|c| c.detail.contains("from AIA")),
        "{}",
        dump(&r)
    );
    assert!(
        with_code(&r.checks, 605)
            .iter()
            .all(|c| c.outcome == Outcome::Pass),
        "{}",
        dump(&r)
    );
    assert!(with_code(&r.checks, 607).is_empty());
}

#[test]
fn online_reads_a_p7c_from_aia() {
    let p = pki();
    let r = run(
        &p.leaf("p7c").cert,
        &[],
        &root_anchor(p),
        &[],
        &online(Duration::from_secs(5)),
    );
    assert!(r.trusted(), "{}", dump(&r));
    assert!(
        r.fetches
            .iter()
            .any(|f| f.url.ends_with("/inter2.p7c") && f.status == Some(200))
    );
}

#[test]
fn online_revocation_from_a_fetched_crl() {
    let p = pki();
    let r = run(
        &p.leaf("revoked").cert,
        &[],
        &root_anchor(p),
        &[],
        &online(Duration::from_secs(5)),
    );
    assert!(!r.trusted());
    assert!(
        r.checks
            .iter()
            .any(|c| c.code == 605 && c.is_fail() && c.detail.contains("KeyCompromise")),
        "{}",
        dump(&r)
    );
}

#[test]
fn dead_aia_404_is_logged_and_rejects() {
    let p = pki();
    let r = run(
        &p.leaf("deadaia").cert,
        &[],
        &root_anchor(p),
        &[],
        &online(Duration::from_secs(5)),
    );
    assert!(!r.trusted());
    let f = r
        .fetches
        .iter()
        .find(|f| f.url.ends_with("/missing.cer"))
        .expect("fetch logged");
    assert_eq!(f.status, Some(404));
    assert!(f.error.is_some());
    assert!(
        r.checks
            .iter()
            .any(|c| c.code == 602 && c.is_fail() && c.detail.contains("404")),
        "{}",
        dump(&r)
    );
}

#[test]
fn hanging_aia_times_out_within_bounds() {
    let p = pki();
    let start = std::time::Instant::now();
    let r = run(
        &p.leaf("hangaia").cert,
        &[],
        &root_anchor(p),
        &[],
        &online(Duration::from_millis(800)),
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    assert!(!r.trusted());
    let f = r
        .fetches
        .iter()
        .find(|f| f.url.ends_with("/hang"))
        .expect("fetch logged");
    assert_eq!(f.status, None);
    assert!(f.error.is_some());
    assert!(f.duration_ms >= 700, "{}", f.duration_ms);
    assert!(p.server.hits("/hang") >= 1);
}

#[test]
fn unreachable_crl_warns_and_fails_when_strict() {
    let p = pki();
    let inter = intermediates(p);
    let r = run(
        &p.leaf("crl503").cert,
        &inter,
        &root_anchor(p),
        &[],
        &online(Duration::from_secs(5)),
    );
    assert!(r.trusted(), "{}", dump(&r));
    assert!(
        r.checks
            .iter()
            .any(|c| c.code == 605 && c.outcome == Outcome::Warn && c.detail.contains("503")),
        "{}",
        dump(&r)
    );
    assert!(
        r.fetches
            .iter()
            .any(|f| f.url.ends_with("/gone.crl") && f.status == Some(503))
    );
    let strict = PathOptions {
        strict_revocation: true,
        ..online(Duration::from_secs(5))
    };
    let r = run(
        &p.leaf("crl503").cert,
        &inter,
        &root_anchor(p),
        &[],
        &strict,
    );
    assert!(!r.trusted());
    assert!(fails(&r.checks, 605));
}

// ---------------------------------------------------------------- profile

fn profile(name: &str, role: Role, address: Option<&str>) -> Vec<TrustCheck> {
    trust::evaluate(
        &pki().leaf(name).cert,
        role,
        address,
        OffsetDateTime::now_utc(),
    )
}

fn outcome(checks: &[TrustCheck], code: u16) -> &TrustCheck {
    checks
        .iter()
        .find(|c| c.code == code)
        .unwrap_or_else(|| panic!("no {code}"))
}

#[test]
fn profile_of_a_good_address_certificate_is_clean() {
    let checks = profile("valid", Role::Signer, Some("Valid@HISP.direct.test"));
    for c in &checks {
        assert!(!c.is_fail(), "{} {}", c.code, c.detail);
    }
    for code in 501..=514 {
        assert!(checks.iter().any(|c| c.code == code), "missing {code}");
    }
    assert_eq!(outcome(&checks, 502).outcome, Outcome::Pass);
    assert!(outcome(&checks, 506).detail.contains("2048"));
    assert_eq!(outcome(&checks, 513).outcome, Outcome::Info);
    assert_eq!(
        trust::binding(&pki().leaf("valid").cert, "valid@hisp.direct.test"),
        trust::Binding::Address
    );
}

#[test]
fn profile_firing_cases() {
    assert!(
        outcome(
            &profile("valid", Role::Signer, Some("other@hisp.direct.test")),
            502
        )
        .is_fail()
    );
    assert!(outcome(&profile("expired", Role::Signer, None), 505).is_fail());
    assert!(outcome(&profile("notyet", Role::Signer, None), 505).is_fail());
    let rsa = profile("rsa1024", Role::Signer, None);
    assert!(outcome(&rsa, 506).is_fail() && outcome(&rsa, 506).detail.contains("1024"));
    let ec = profile("p256", Role::Signer, None);
    assert_eq!(outcome(&ec, 509).outcome, Outcome::Pass);
    assert!(outcome(&ec, 509).detail.contains("allows emailProtection"));
    let ldap = profile("ldapdp", Role::Signer, None);
    assert!(
        ldap.iter()
            .any(|c| c.code == 514 && c.is_fail() && c.detail.contains("ldap://"))
    );
    assert_eq!(outcome(&ec, 506).outcome, Outcome::Pass);
    assert!(outcome(&ec, 506).detail.contains("P-256"));
    assert!(outcome(&profile("sha1", Role::Signer, None), 507).is_fail());
    assert!(outcome(&profile("wrongku", Role::Signer, None), 508).is_fail());
    assert_eq!(
        outcome(&profile("wrongku", Role::Recipient, None), 508).outcome,
        Outcome::Pass
    );

    let dsa = profile("dsa", Role::Signer, None);
    assert!(outcome(&dsa, 506).is_fail() && outcome(&dsa, 506).detail.contains("DSA"));
    assert!(outcome(&profile("nosubject", Role::Signer, None), 501).is_fail());
    let ku = outcome(&profile("wrongku", Role::Signer, None), 508)
        .detail
        .clone();
    assert!(
        ku.contains("keyEncipherment") && ku.contains("lacks digitalSignature"),
        "{ku}"
    );

    let odd = profile("oddities", Role::Signer, Some("odd@hisp.direct.test"));
    assert_eq!(outcome(&odd, 502).outcome, Outcome::Pass);
    for code in [503, 504, 509, 510, 511, 512] {
        assert!(
            outcome(&odd, code).is_fail(),
            "{code}: {}",
            outcome(&odd, code).detail
        );
    }
    assert!(outcome(&odd, 503).detail.contains("bad_name.test"));
    assert!(outcome(&odd, 513).detail.contains("DirectTrust"));
    let pointers: Vec<&TrustCheck> = odd.iter().filter(|c| c.code == 514).collect();
    assert!(
        pointers.iter().all(|c| c.outcome == Outcome::Info),
        "no CRL DP or AIA: information"
    );
}

#[test]
fn profile_domain_binding_and_ca_role() {
    let p = pki();
    let nodp = trust::evaluate(
        &p.leaf("nodp").cert,
        Role::Recipient,
        Some("anyone@hisp.direct.test"),
        OffsetDateTime::now_utc(),
    );
    assert!(outcome(&nodp, 502).detail.contains("dNSName"));
    assert_eq!(
        trust::binding(&p.leaf("nodp").cert, "a@HISP.direct.test"),
        trust::Binding::Domain
    );
    assert_eq!(
        trust::binding(&p.leaf("nodp").cert, "a@other.direct.test"),
        trust::Binding::Mismatch
    );
    assert_eq!(
        trust::binding(&p.root.cert, "a@hisp.direct.test"),
        trust::Binding::NoSan
    );
    let root = trust::evaluate(&p.root.cert, Role::Ca, None, OffsetDateTime::now_utc());
    for c in &root {
        assert!(!c.is_fail(), "{} {}", c.code, c.detail);
    }
    assert!(outcome(&profile("valid", Role::Ca, None), 512).is_fail());
    assert!(outcome(&profile("valid", Role::Ca, None), 508).is_fail());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_wrapper_runs_online_validation_from_tokio() {
    let p = pki();
    let r = trust::validate_async(
        p.leaf("valid").cert.clone(),
        Vec::new(),
        root_anchor(p),
        Vec::new(),
        OffsetDateTime::now_utc(),
        online(Duration::from_secs(5)),
    )
    .await;
    assert!(r.trusted(), "{}", dump(&r));
    assert_eq!(r.fetches.len(), 3);
}

#[test]
fn a_stale_issuer_in_the_bag_does_not_stop_aia_chasing() {
    let p = pki();
    let bag = vec![p.stale_inter.cert.clone()];
    let offline = run(
        &p.leaf("valid").cert,
        &bag,
        &root_anchor(p),
        &[],
        &PathOptions::default(),
    );
    assert!(!offline.trusted());
    assert!(fails(&offline.checks, 601), "{}", dump(&offline));
    let r = run(
        &p.leaf("valid").cert,
        &bag,
        &root_anchor(p),
        &[],
        &online(Duration::from_secs(5)),
    );
    assert!(r.trusted(), "{}", dump(&r));
    assert!(r.fetches.iter().any(|f| f.url.ends_with("/inter.cer")));
}
