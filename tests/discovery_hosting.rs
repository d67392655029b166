//! The hosting checks H1–H8 against the mock world over real sockets: the fixture publishes
//! the embedded SUT's certificates (zone `sut.direct.test`, LDAP server L7), on which every
//! case passes; DCDT's own decoys (expired, wrongly bound, missing) make each case fail.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use direct_conformance::discovery::{DiscoveryConfig, HostingChecker, HostingReport, Timeouts};
use direct_conformance::env::{World, WorldConfig, WorldHandle};
use direct_conformance::pki::ReferencePki;
use direct_conformance::trust::TrustAnchor;

fn pki() -> Arc<ReferencePki> {
    static PKI: OnceLock<Arc<ReferencePki>> = OnceLock::new();
    PKI.get_or_init(|| Arc::new(ReferencePki::load_default().expect("test PKI")))
        .clone()
}

async fn world() -> WorldHandle {
    let config = WorldConfig {
        pki: Some(pki()),
        ..WorldConfig::ephemeral()
    };
    World::start(config).await.expect("world starts")
}

fn checker(w: &WorldHandle) -> HostingChecker {
    let root = pki().anchor().expect("anchor").certificate.clone();
    let mut c = DiscoveryConfig::new(w.dns, vec![TrustAnchor::from_certificate(root)]);
    c.http_hosts
        .insert(format!("pki.direct.test:{}", w.fixture.http_port), w.http);
    c.timeouts = Timeouts {
        dns: Duration::from_secs(2),
        dns_attempts: 2,
        ldap_connect: Duration::from_secs(2),
        ldap_operation: Duration::from_secs(2),
        http: Duration::from_secs(5),
        total: Duration::from_secs(12),
    };
    HostingChecker::new(c).expect("resolver")
}

fn explain(r: &HostingReport) -> String {
    serde_json::to_string_pretty(r).unwrap_or_default()
}

fn credential(name: &str) -> x509_cert::Certificate {
    pki()
        .credential(name)
        .unwrap_or_else(|| panic!("no credential {name}"))
        .certificate
        .clone()
}

#[tokio::test]
async fn every_hosting_case_passes_on_the_published_sut() {
    let w = world().await;
    let h = checker(&w);
    let address = "recipient@sut.direct.test";
    let domain = "sut.direct.test";
    let h1 = h.dns("H1", address).await;
    assert!(h1.passed, "{}", explain(&h1));
    let h2 = h.dns("H2", domain).await;
    assert!(h2.passed, "{}", explain(&h2));
    let h3 = h.ldap("H3", address).await;
    assert!(h3.passed, "{}", explain(&h3));
    let h4 = h.ldap("H4", domain).await;
    assert!(h4.passed, "{}", explain(&h4));
    let h5 = h.ldap_no_entry("H5", "no-such-user@sut.direct.test").await;
    assert!(h5.passed, "{}", explain(&h5));
    let found: Vec<_> = [&h1, &h2, &h3, &h4]
        .iter()
        .flat_map(|r| r.certificates.iter().map(|c| c.certificate.clone()))
        .collect();
    let h6 = h.profile("H6", address, &found).await;
    assert!(h6.passed, "{}", explain(&h6));
    let h7 = h.cert_transport("H7", "recipient.sut.direct.test").await;
    assert!(h7.passed, "{}", explain(&h7));
    let h8 = h.mx("H8", domain).await;
    assert!(h8.passed, "{}", explain(&h8));
    w.shutdown().await;
}

#[tokio::test]
async fn each_hosting_case_fails_on_a_broken_publication() {
    let w = world().await;
    let h = checker(&w);
    // H1/H2: only an expired certificate is published (DCDT D5, D6).
    let r = h.dns("H1", "d5@domain1.direct.test").await;
    assert!(!r.passed, "{}", explain(&r));
    assert_eq!(r.certificates.len(), 1, "{}", explain(&r));
    let r = h.dns("H2", "domain4.direct.test").await;
    assert!(!r.passed, "{}", explain(&r));
    // H1: nothing published at all.
    let r = h.dns("H1", "nobody@domain23.direct.test").await;
    assert!(!r.passed && r.certificates.is_empty(), "{}", explain(&r));
    // H3: the LDAP entry holds an expired certificate (D7 on L1).
    let r = h.ldap("H3", "d7@domain2.direct.test").await;
    assert!(!r.passed, "{}", explain(&r));
    // H5: an address that exists is found, so "no entry" fails.
    let r = h.ldap_no_entry("H5", "d3@domain2.direct.test").await;
    assert!(!r.passed, "{}", explain(&r));
    // H6: a 1024-bit key, a SHA-1 signature, an untrusted issuer.
    for name in ["sender_rsa1024", "sender_sha1_signed", "sender_untrusted"] {
        let r = h
            .profile("H6", "sender@hisp.direct.test", &[credential(name)])
            .await;
        assert!(!r.passed, "{name}: {}", explain(&r));
    }
    // H7: a name without CERT records.
    let r = h.cert_transport("H7", "nothing-here.sut.direct.test").await;
    assert!(!r.passed, "{}", explain(&r));
    // H8: a name without MX.
    let r = h.mx("H8", "d31.domain23.direct.test").await;
    assert!(!r.passed, "{}", explain(&r));
    w.shutdown().await;
}

#[tokio::test]
async fn cert_transport_sees_truncation_then_tcp() {
    let w = world().await;
    let h = checker(&w);
    // DCDT zones answer UDP within 512 bytes: the certificate arrives truncated, then whole
    // over TCP (D14's RSA-4096 certificate is the largest).
    let r = h.cert_transport("H7", "d14.domain1.direct.test").await;
    assert!(r.passed, "{}", explain(&r));
    assert!(r.notes[0].contains("TC"), "{:?}", r.notes);
    w.shutdown().await;
}
