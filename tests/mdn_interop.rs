//! MDNs built by the library, sealed with `smime::seal`, opened by OpenSSL (`cms -decrypt`,
//! `cms -verify` against the test CA), parsed back with `parse_notification`, and judged by
//! the validator with the recipient's key: no error-level VC-7xx finding.

mod common;

use common::{SAMPLE_MESSAGE, openssl_ok, test_pki};
use direct_conformance::mdn::{
    DispositionKind, MdnSpec, Notification, OriginalMessage, build_mdn, parse_notification,
};
use direct_conformance::smime::{SealOptions, seal};
use direct_conformance::validate::options::RecipientKey;
use direct_conformance::validate::{
    Correlation, Severity, Status, ValidationOptions, validate_message,
};

/// The sample message with a timely-and-reliable request, as alice's HISP sent it.
fn original() -> String {
    SAMPLE_MESSAGE.replace(
        "MIME-Version: 1.0\r\n",
        "Disposition-Notification-To: alice@hisp.direct.test\r\n\
         Disposition-Notification-Options: X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true\r\n\
         MIME-Version: 1.0\r\n",
    )
}

fn sealed_mdn(pki: &common::TestPki, kind: DispositionKind) -> Vec<u8> {
    let original = OriginalMessage::read(original().as_bytes()).expect("original");
    let spec = MdnSpec::answering(
        &original,
        "bob@sut.direct.test",
        kind,
        "sut.direct.test; direct-conformance",
        &direct_conformance::mdn::new_message_id("sut.direct.test"),
        time::OffsetDateTime::now_utc(),
    )
    .expect("answering");
    let plain = build_mdn(&spec).expect("build");
    seal(
        &plain,
        &pki.bob.cert,
        &pki.bob.key,
        std::slice::from_ref(&pki.alice.cert),
        &SealOptions::default(),
    )
    .expect("seal")
}

/// OpenSSL decrypts with alice's key and verifies bob's signature; returns the content.
fn openssl_open(pki: &common::TestPki, sealed: &[u8], stem: &str) -> Vec<u8> {
    let d = pki.dir.path();
    let (msg, dec, out) = (
        format!("{stem}.eml"),
        format!("{stem}-dec.txt"),
        format!("{stem}-content.txt"),
    );
    std::fs::write(d.join(&msg), sealed).expect("write");
    openssl_ok(
        &[
            "cms",
            "-decrypt",
            "-in",
            &msg,
            "-recip",
            "alice.pem",
            "-inkey",
            "alice.key",
            "-out",
            &dec,
        ],
        d,
    );
    let verified = openssl_ok(
        &[
            "cms",
            "-verify",
            "-in",
            &dec,
            "-CAfile",
            "ca.pem",
            "-purpose",
            "smimesign",
            "-out",
            &out,
        ],
        d,
    );
    assert!(
        String::from_utf8_lossy(&verified.stderr).contains("Verification successful"),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    std::fs::read(d.join(&out)).expect("content")
}

fn vc7_errors(pki: &common::TestPki, sealed: &[u8]) -> Vec<String> {
    let options = ValidationOptions {
        recipient_keys: vec![RecipientKey::Key {
            path: pki.alice.key_path.clone(),
            key: direct_conformance::keys::PrivateKey::from_pem_or_der(
                &std::fs::read(&pki.alice.key_path).expect("key"),
            )
            .expect("key parses"),
        }],
        correlation: Some(Correlation::from_original(original().as_bytes())),
        ..ValidationOptions::default()
    };
    let report = validate_message("mdn", sealed, &options);
    let seen: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.id.starts_with("VC-7"))
        .map(|f| f.id)
        .collect();
    assert!(
        seen.contains(&"VC-701") && seen.contains(&"VC-710"),
        "VC-7xx ran: {seen:?}"
    );
    report
        .findings
        .iter()
        .filter(|f| f.id.starts_with("VC-7"))
        .filter(|f| f.status == Status::Failed && f.severity == Severity::Error)
        .map(|f| format!("{} {} {:?}", f.id, f.message, f.evidence))
        .collect()
}

#[test]
fn processed_mdn_sealed_opens_with_openssl_parses_back_and_validates() {
    let pki = test_pki();
    let sealed = sealed_mdn(&pki, DispositionKind::Processed);
    let content = openssl_open(&pki, &sealed, "processed");
    let text = String::from_utf8_lossy(&content);
    assert!(
        text.starts_with("Content-Type: message/rfc822"),
        "wrapped: {text}"
    );
    match parse_notification(&content) {
        Ok(Notification::Mdn(m)) => {
            assert_eq!(m.disposition.kind, DispositionKind::Processed);
            assert_eq!(m.original_message_id, "<interop-1@hisp.direct.test>");
            assert_eq!(m.final_recipient, "bob@sut.direct.test");
            assert!(!m.final_delivery);
        }
        other => panic!("does not parse back: {other:?}\n{text}"),
    }
    assert_eq!(vc7_errors(&pki, &sealed), Vec::<String>::new());
}

#[test]
fn dispatched_and_failed_mdns_validate_when_sealed() {
    let pki = test_pki();
    for kind in [DispositionKind::Dispatched, DispositionKind::Failed] {
        let sealed = sealed_mdn(&pki, kind);
        let content = openssl_open(&pki, &sealed, &format!("{kind:?}"));
        let Ok(Notification::Mdn(m)) = parse_notification(&content) else {
            panic!("{kind:?} does not parse back");
        };
        assert_eq!(m.disposition.kind, kind);
        assert_eq!(m.final_delivery, kind == DispositionKind::Dispatched);
        assert_eq!(vc7_errors(&pki, &sealed), Vec::<String>::new(), "{kind:?}");
    }
}

#[test]
fn sealed_processed_mdn_has_no_error_level_finding_at_all_with_the_anchor() {
    use x509_cert::der::DecodePem;
    let pki = test_pki();
    let sealed = sealed_mdn(&pki, DispositionKind::Processed);
    let ca = x509_cert::Certificate::from_pem(std::fs::read(&pki.ca_path).expect("ca"))
        .expect("ca parses");
    let options = ValidationOptions {
        recipient_keys: vec![RecipientKey::Key {
            path: pki.alice.key_path.clone(),
            key: direct_conformance::keys::PrivateKey::from_pem_or_der(
                &std::fs::read(&pki.alice.key_path).expect("key"),
            )
            .expect("key parses"),
        }],
        anchors: vec![ca],
        correlation: Some(Correlation::from_original(original().as_bytes())),
        ..ValidationOptions::default()
    };
    let errors: Vec<String> = validate_message("mdn", &sealed, &options)
        .findings
        .iter()
        .filter(|f| f.status == Status::Failed && f.severity == Severity::Error)
        .map(|f| format!("{} {}", f.id, f.message))
        .collect();
    assert_eq!(errors, Vec::<String>::new());
}
