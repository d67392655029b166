//! Algorithm profiles on receipt (ENC-02, SIG-03): under ds-1.3 3DES content encryption and
//! SHA-1 signatures are refused; under ats-1.2 they are accepted.

mod hisp_common;

use std::time::Duration;

use direct_conformance::hisp::{Hisp, HispEvent};
use hisp_common::*;

async fn verdict(profile: &str, digest: &str, cipher: &str) -> (bool, String) {
    verdict_signed_by(profile, "hisp_sender", digest, cipher).await
}

async fn verdict_signed_by(
    profile: &str,
    signer: &str,
    digest: &str,
    cipher: &str,
) -> (bool, String) {
    verdict_with_faults(profile, signer, digest, cipher, &[]).await
}

async fn verdict_with_faults(
    profile: &str,
    signer: &str,
    digest: &str,
    cipher: &str,
    faults: &[&str],
) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let text = sut_toml(dir.path(), &[], faults).replace(
        "hostname = \"sut.direct.test\"",
        &format!("hostname = \"sut.direct.test\"\nprofile = \"{profile}\""),
    );
    let hisp = Hisp::start(settings(&text)).await.expect("start");
    let inner = plain_message(
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
        "<profile@hisp.direct.test>",
        "profile",
        false,
    );
    let enc = openssl_direct_algorithms(
        dir.path(),
        &inner,
        signer,
        "sut_recipient",
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
        None,
        digest,
        cipher,
    );
    let _ = swaks(
        hisp.backbone.unwrap(),
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
        &enc,
        &[],
    );
    let e = hisp
        .wait_for(
            |e| matches!(e, HispEvent::Delivered { .. } | HispEvent::Rejected { .. }),
            Duration::from_secs(20),
        )
        .await
        .expect("a verdict");
    hisp.shutdown().await;
    match e {
        HispEvent::Delivered { .. } => (true, String::new()),
        HispEvent::Rejected { reason, .. } => (false, reason),
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_algorithms_by_profile() {
    assert!(verdict("ds-1.3", "sha256", "-aes128").await.0);
    let (ok, why) = verdict("ds-1.3", "sha256", "-des3").await;
    assert!(!ok && why.contains("3DES"), "{why}");
    let (ok, why) = verdict("ds-1.3", "sha1", "-aes128").await;
    assert!(!ok && why.contains("SHA-1"), "{why}");
    assert!(verdict("ats-1.2", "sha256", "-des3").await.0);
    assert!(verdict("ats-1.2", "sha1", "-aes128").await.0);
}

/// The signer's certificate profile (RX-27, RX-31): a subject emailAddress that differs from
/// the SAN is refused in both profiles; a SHA-1-signed certificate under ds-1.3 only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signer_certificate_profile_by_profile() {
    let (ok, why) = verdict_signed_by("ds-1.3", "sender_sha1_signed", "sha256", "-aes128").await;
    assert!(!ok && why.contains("VC-507"), "{why}");
    let (ok, why) = verdict_signed_by("ats-1.2", "sender_sha1_signed", "sha256", "-aes128").await;
    assert!(ok, "{why}");
    let (ok, why) = verdict_signed_by("ds-1.3", "sender_email_mismatch", "sha256", "-aes128").await;
    assert!(!ok && why.contains("VC-504"), "{why}");
    // The ignore-signer-profile switch lets both through.
    for signer in ["sender_sha1_signed", "sender_email_mismatch"] {
        let (ok, why) = verdict_with_faults(
            "ds-1.3",
            signer,
            "sha256",
            "-aes128",
            &["ignore-signer-profile"],
        )
        .await;
        assert!(ok, "{signer} refused despite the switch: {why}");
    }
}
