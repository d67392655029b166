//! Each fault switch breaks the behaviour it names, shown against the clean configuration
//! over real sockets (OpenSSL-made messages through swaks, the HISP's own outbound, POP3).

mod hisp_common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use direct_conformance::hisp::{Fault, Hisp, HispEvent, HispHandle};
use direct_conformance::smime::{ContentCipher, DigestAlgorithm};
use hisp_common::*;

const WINDOW: Duration = Duration::from_secs(20);
/// How long a "must not" check waits.
const QUIET: Duration = Duration::from_millis(1500);

struct Inbound {
    hisp: HispHandle,
    mdns: Arc<Mutex<Vec<Captured>>>,
    dir: tempfile::TempDir,
    swaks: String,
}

/// Starts the SUT-side HISP with `faults`, sends it one OpenSSL-made message signed by
/// `signer`, and waits until it delivered or refused.
async fn inbound(
    faults: &[&str],
    signer: &str,
    request: bool,
    tamper: Option<(&str, &str)>,
) -> Inbound {
    let dir = tempfile::tempdir().unwrap();
    let (sink_addr, mdns) = sink().await;
    let hisp = Hisp::start(settings(&sut_toml(
        dir.path(),
        &[("hisp.direct.test", sink_addr)],
        faults,
    )))
    .await
    .expect("start");
    let inner = plain_message(
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
        "<fault-case@hisp.direct.test>",
        "fault case",
        request,
    );
    let enc = openssl_direct_tampered(
        dir.path(),
        &inner,
        signer,
        "sut_recipient",
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
        tamper,
    );
    let out = swaks(
        hisp.backbone.unwrap(),
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
        &enc,
        &[],
    );
    let swaks = String::from_utf8_lossy(&out.stdout).to_string();
    hisp.wait_for(
        |e| matches!(e, HispEvent::Delivered { .. } | HispEvent::Rejected { .. }),
        WINDOW,
    )
    .await
    .expect("a verdict");
    Inbound {
        hisp,
        mdns,
        dir,
        swaks,
    }
}

fn delivered(h: &HispHandle) -> bool {
    h.events()
        .iter()
        .any(|e| matches!(e, HispEvent::Delivered { .. }))
}

/// The MDN kinds the sink received, after a quiet period.
async fn mdn_kinds(case: &Inbound, at_least: usize) -> Vec<String> {
    sink_wait(&case.mdns, at_least, WINDOW).await;
    tokio::time::sleep(QUIET).await;
    case.mdns
        .lock()
        .unwrap()
        .iter()
        .map(|c| {
            // Sealed to the original signer: the sender's certificate, or the untrusted one.
            let opened = ["hisp_sender", "sender_untrusted"]
                .iter()
                .find_map(|k| direct_conformance::smime::open(&c.data, &key(k), None).ok())
                .map(|o| o.message)
                .unwrap_or_else(|| c.data.clone());
            let t = String::from_utf8_lossy(&opened).to_ascii_lowercase();
            if t.contains("; dispatched") {
                "dispatched".to_string()
            } else if t.contains("; processed") {
                "processed".to_string()
            } else {
                "other".to_string()
            }
        })
        .collect()
}

fn key(name: &str) -> direct_conformance::keys::PrivateKey {
    let pem = std::fs::read(key_pem(name)).unwrap();
    direct_conformance::keys::PrivateKey::from_pem_or_der(&pem).unwrap()
}

#[test]
fn faults_command_lists_every_switch() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_direct-conformance"))
        .arg("faults")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), Fault::ALL.len());
    for (_, name, _) in Fault::ALL {
        assert!(text.lines().any(|l| l.starts_with(name)), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_untrusted_sender() {
    assert!(!delivered(
        &inbound(&[], "sender_untrusted", false, None).await.hisp
    ));
    assert!(delivered(
        &inbound(
            &["accept-untrusted-sender"],
            "sender_untrusted",
            false,
            None
        )
        .await
        .hisp
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_signature_check() {
    let t = Some(("Hello from the test.", "Hello from the TEST."));
    let clean = inbound(&[], "hisp_sender", false, t).await;
    assert!(!delivered(&clean.hisp), "{}", clean.swaks);
    assert!(clean.swaks.contains("554 5.7.7"), "{}", clean.swaks);
    assert!(delivered(
        &inbound(&["skip-signature-check"], "hisp_sender", false, t)
            .await
            .hisp
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_expired() {
    assert!(!delivered(
        &inbound(&[], "sender_expired", false, None).await.hisp
    ));
    let broken = inbound(&["accept-expired"], "sender_expired", false, None).await;
    assert!(delivered(&broken.hisp), "{:?}", broken.hisp.events());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignore_revocation() {
    let clean = inbound(&[], "sender_revoked", false, None).await;
    assert!(!delivered(&clean.hisp), "{:?}", clean.hisp.events());
    let broken = inbound(&["ignore-revocation"], "sender_revoked", false, None).await;
    assert!(delivered(&broken.hisp), "{:?}", broken.hisp.events());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignore_address_binding() {
    let clean = inbound(&[], "sender_wrong_address", false, None).await;
    assert!(!delivered(&clean.hisp));
    assert!(clean.swaks.contains("SIG-11"), "{}", clean.swaks);
    assert!(delivered(
        &inbound(
            &["ignore-address-binding"],
            "sender_wrong_address",
            false,
            None
        )
        .await
        .hisp
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_processed_mdn() {
    let clean = inbound(&[], "hisp_sender", false, None).await;
    assert_eq!(mdn_kinds(&clean, 1).await, vec!["processed"]);
    let broken = inbound(&["no-processed-mdn"], "hisp_sender", false, None).await;
    assert!(delivered(&broken.hisp));
    assert!(mdn_kinds(&broken, 0).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_mdn() {
    let clean = inbound(&[], "hisp_sender", false, None).await;
    let got = sink_wait(&clean.mdns, 1, WINDOW).await;
    assert!(String::from_utf8_lossy(&got[0].data).contains("application/pkcs7-mime"));
    let broken = inbound(&["unsigned-mdn"], "hisp_sender", false, None).await;
    let got = sink_wait(&broken.mdns, 1, WINDOW).await;
    let text = String::from_utf8_lossy(&got[0].data).to_string();
    assert!(
        !text.contains("application/pkcs7-mime") && text.contains("multipart/report"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_dispatched_mdn() {
    let clean = inbound(&[], "hisp_sender", true, None).await;
    assert_eq!(mdn_kinds(&clean, 2).await, vec!["processed", "dispatched"]);
    let broken = inbound(&["no-dispatched-mdn"], "hisp_sender", true, None).await;
    assert_eq!(mdn_kinds(&broken, 1).await, vec!["processed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatched_without_request() {
    let clean = inbound(&[], "hisp_sender", false, None).await;
    assert_eq!(mdn_kinds(&clean, 1).await, vec!["processed"]);
    let broken = inbound(&["dispatched-without-request"], "hisp_sender", false, None).await;
    assert_eq!(mdn_kinds(&broken, 2).await, vec!["processed", "dispatched"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mdn_for_untrusted() {
    let clean = inbound(&[], "sender_untrusted", false, None).await;
    assert!(mdn_kinds(&clean, 0).await.is_empty());
    let broken = inbound(&["mdn-for-untrusted"], "sender_untrusted", false, None).await;
    assert!(!delivered(&broken.hisp));
    assert_eq!(mdn_kinds(&broken, 1).await, vec!["processed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_audit_and_audit_without_recipient() {
    let clean = inbound(&[], "hisp_sender", false, None).await;
    let log = std::fs::read_to_string(clean.dir.path().join("audit.jsonl")).unwrap();
    assert!(
        log.contains("\"to\":[\"recipient@sut.direct.test\"]"),
        "{log}"
    );
    let none = inbound(&["no-audit"], "hisp_sender", false, None).await;
    let log = std::fs::read_to_string(none.dir.path().join("audit.jsonl")).unwrap_or_default();
    assert!(log.is_empty(), "{log}");
    let anon = inbound(&["audit-without-recipient"], "hisp_sender", false, None).await;
    let log = std::fs::read_to_string(anon.dir.path().join("audit.jsonl")).unwrap();
    assert!(
        !log.is_empty() && !log.contains("\"to\"") && !log.contains("final_recipient"),
        "{log}"
    );
}

// ---- outbound and submission ----

struct Outbound {
    hisp: HispHandle,
    captured: Arc<Mutex<Vec<Captured>>>,
    dir: tempfile::TempDir,
}

async fn outbound_hisp(faults: &[&str], extra_toml: &str) -> Outbound {
    let dir = tempfile::tempdir().unwrap();
    let (sink_addr, captured) = sink().await;
    let text = format!(
        "{}{extra_toml}",
        hisp_toml(dir.path(), &[("sut.direct.test", sink_addr)], faults)
    );
    let hisp = Hisp::start(settings(&text)).await.expect("start");
    Outbound {
        hisp,
        captured,
        dir,
    }
}

fn submit(o: &Outbound, to: &str, tls: bool, password: &str) -> String {
    let msg = o.dir.path().join("submit.eml");
    std::fs::write(
        &msg,
        plain_message(
            "sender@hisp.direct.test",
            to,
            "<out-1@hisp.direct.test>",
            "out",
            false,
        ),
    )
    .unwrap();
    let mut extra = vec![
        "--auth",
        "PLAIN",
        "--auth-user",
        "sender@hisp.direct.test",
        "--auth-password",
        password,
    ];
    if tls {
        extra.push("--tls");
    }
    let out = swaks(
        o.hisp.submission.unwrap(),
        "sender@hisp.direct.test",
        to,
        &msg,
        &extra,
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn open_captured(c: &Captured) -> direct_conformance::smime::OpenedMessage {
    direct_conformance::smime::open(&c.data, &key("sut_recipient"), None)
        .expect("sealed to sut_recipient")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_sha1_and_encrypt_3des() {
    let clean = outbound_hisp(&[], "").await;
    let t = submit(&clean, "recipient@sut.direct.test", true, "secret");
    assert!(t.contains("250 2.0.0 Queued"), "{t}");
    let got = sink_wait(&clean.captured, 1, WINDOW).await;
    let o = open_captured(&got[0]);
    assert_eq!(o.decrypted.info.cipher, Some(ContentCipher::Aes128Cbc));
    assert_eq!(
        o.signature.verified_signer().unwrap().digest,
        Some(DigestAlgorithm::Sha256)
    );
    assert!(o.wrapped);

    let broken = outbound_hisp(&["sign-sha1", "encrypt-3des"], "").await;
    submit(&broken, "recipient@sut.direct.test", true, "secret");
    let got = sink_wait(&broken.captured, 1, WINDOW).await;
    let o = open_captured(&got[0]);
    assert_eq!(o.decrypted.info.cipher, Some(ContentCipher::DesEde3Cbc));
    assert_eq!(
        o.signature.verified_signer().unwrap().digest,
        Some(DigestAlgorithm::Sha1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypt_to_all_found() {
    // A second, wrongly bound and untrusted candidate: only the good one is used when clean.
    for (faults, expected) in [(&[][..], 1usize), (&["encrypt-to-all-found"][..], 2usize)] {
        let dir = tempfile::tempdir().unwrap();
        let (sink_addr, captured) = sink().await;
        let text = hisp_toml(dir.path(), &[("sut.direct.test", sink_addr)], faults).replace(
            "\"recipient@sut.direct.test\" = [\"pki:sut_recipient\"]",
            "\"recipient@sut.direct.test\" = [\"pki:sut_recipient\", \"pki:untrusted_domain\"]",
        );
        let hisp = Hisp::start(settings(&text)).await.expect("start");
        let o = Outbound {
            hisp,
            captured,
            dir,
        };
        submit(&o, "recipient@sut.direct.test", true, "secret");
        let got = sink_wait(&o.captured, 1, WINDOW).await;
        let (_, body) = direct_conformance::smime::entity::split_header_body(&got[0].data);
        let der = direct_conformance::smime::entity::decode_base64(body).unwrap();
        let info = direct_conformance::smime::inspect_envelope(&der).unwrap();
        assert_eq!(info.recipients.len(), expected, "faults {faults:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_dsn_when_no_certificate_and_no_timeout_dsn() {
    // Clean: no certificate for the recipient → one failure DSN in the sender's mailbox.
    let clean = outbound_hisp(&[], "").await;
    submit(&clean, "nobody@nocert.direct.test", true, "secret");
    clean
        .hisp
        .wait_for(|e| matches!(e, HispEvent::DsnSent { .. }), WINDOW)
        .await
        .expect("DSN");
    let box_ = pop3_fetch(
        clean.hisp.pop3.unwrap(),
        "sender@hisp.direct.test",
        "secret",
        false,
    )
    .await;
    assert_eq!(box_.len(), 1);
    let dsn = String::from_utf8_lossy(&box_[0]).to_string();
    assert!(
        dsn.contains("delivery-status") && dsn.contains("Action: failed"),
        "{dsn}"
    );
    assert!(dsn.contains("nobody@nocert.direct.test"), "{dsn}");

    // Timely and reliable with a sink that never answers: timeout DSN, unless switched off.
    for (faults, expect_dsn) in [(&[][..], true), (&["no-timeout-dsn"][..], false)] {
        let dir = tempfile::tempdir().unwrap();
        let (sink_addr, captured) = sink().await;
        let toml = hisp_toml(dir.path(), &[("sut.direct.test", sink_addr)], faults)
            .replace("processed_mdn_secs = 30", "processed_mdn_secs = 1");
        let hisp = Hisp::start(settings(&toml)).await.expect("start");
        let o = Outbound {
            hisp,
            captured,
            dir,
        };
        submit(&o, "recipient@sut.direct.test", true, "secret");
        sink_wait(&o.captured, 1, WINDOW).await;
        let dsn = o
            .hisp
            .wait_for(
                |e| matches!(e, HispEvent::DsnSent { .. }),
                Duration::from_secs(4),
            )
            .await;
        assert_eq!(
            dsn.is_some(),
            expect_dsn,
            "faults {faults:?}: {:?}",
            o.hisp.events()
        );
        assert!(
            o.hisp
                .events()
                .iter()
                .any(|e| matches!(e, HispEvent::Settled { .. }))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_bad_auth() {
    let clean = outbound_hisp(&[], "").await;
    let t = submit(&clean, "recipient@sut.direct.test", true, "wrong");
    assert!(t.contains("535 5.7.8"), "{t}");
    assert!(!t.contains("Queued"), "{t}");
    let broken = outbound_hisp(&["accept-bad-auth"], "").await;
    let t = submit(&broken, "recipient@sut.direct.test", true, "wrong");
    assert!(t.contains("235 2.7.0") && t.contains("Queued"), "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_auth_without_tls() {
    let clean = outbound_hisp(&[], "").await;
    let t = submit(&clean, "recipient@sut.direct.test", false, "secret");
    assert!(!t.contains("235 2.7.0") && !t.contains("Queued"), "{t}");
    // Without TLS the server does not advertise AUTH and refuses MAIL.
    let r = smtp_script(
        clean.hisp.submission.unwrap(),
        &[
            b"EHLO c\r\n",
            b"AUTH PLAIN AHNlbmRlckBoaXNwLmRpcmVjdC50ZXN0AHNlY3JldA==\r\n",
            b"MAIL FROM:<sender@hisp.direct.test>\r\n",
        ],
    )
    .await;
    assert!(!r[1].contains("AUTH"), "{r:?}");
    assert!(r[2].starts_with("538"), "{r:?}");
    assert!(r[3].starts_with("530"), "{r:?}");
    let broken = outbound_hisp(&["plain-auth-without-tls"], "").await;
    let t = submit(&broken, "recipient@sut.direct.test", false, "secret");
    assert!(t.contains("235 2.7.0") && t.contains("Queued"), "{t}");
}

/// Submits to `to` through a HISP whose static source knows domain1's certificates (DCDT
/// layout: D1_valA address-bound valid, D5_invA address-bound expired, D2_valB domain-bound
/// valid); returns what reached domain1's sink.
async fn domain1_case(faults: &[&str], to: &str) -> (Vec<Captured>, HispHandle) {
    let dir = tempfile::tempdir().unwrap();
    let (sink_addr, captured) = sink().await;
    let text = hisp_toml(dir.path(), &[("domain1.direct.test", sink_addr)], faults).replace(
        "[certificates]",
        "[certificates]\n\"d1@domain1.direct.test\" = [\"pki:D1_valA\"]\n\"d5@domain1.direct.test\" = [\"pki:D5_invA\"]\n\"domain1.direct.test\" = [\"pki:D2_valB\"]",
    );
    let hisp = Hisp::start(settings(&text)).await.expect("start");
    let o = Outbound {
        hisp,
        captured,
        dir,
    };
    let t = submit(&o, to, true, "secret");
    assert!(t.contains("Queued"), "{t}");
    o.hisp
        .wait_for(
            |e| matches!(e, HispEvent::Sent { .. } | HispEvent::DeliveryFailed { .. }),
            WINDOW,
        )
        .await
        .expect("an outcome");
    let got = o.captured.lock().unwrap().clone();
    (got, o.hisp)
}

fn opens_with(c: &Captured, name: &str) -> bool {
    direct_conformance::smime::open(&c.data, &key(name), None).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_to_domain_after_invalid() {
    let (got, hisp) = domain1_case(&[], "d5@domain1.direct.test").await;
    assert!(got.is_empty(), "no fallback to D2_valB (DISC-16)");
    assert!(
        hisp.events()
            .iter()
            .any(|e| matches!(e, HispEvent::DeliveryFailed { .. }))
    );
    let (got, _) = domain1_case(
        &["fallback-to-domain-after-invalid"],
        "d5@domain1.direct.test",
    )
    .await;
    assert_eq!(got.len(), 1);
    assert!(opens_with(&got[0], "D2_valB"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain_bound_before_address_bound() {
    let (got, _) = domain1_case(&[], "d1@domain1.direct.test").await;
    assert!(opens_with(&got[0], "D1_valA") && !opens_with(&got[0], "D2_valB"));
    let (got, _) = domain1_case(
        &["domain-bound-before-address-bound"],
        "d1@domain1.direct.test",
    )
    .await;
    assert!(opens_with(&got[0], "D2_valB") && !opens_with(&got[0], "D1_valA"));
}

// ---- trust-send and audit switches (TX-02, TX-04, TX-07/TX-12, TX-14, AU-09) ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_wrap_rewrite_from_and_drop_message_id() {
    let header = |data: &[u8], name: &str| {
        direct_conformance::smime::entity::header_text(data, name).unwrap_or_default()
    };
    let clean = outbound_hisp(&[], "").await;
    submit(&clean, "recipient@sut.direct.test", true, "secret");
    let got = sink_wait(&clean.captured, 1, WINDOW).await;
    let o = open_captured(&got[0]);
    assert!(o.wrapped);
    assert!(header(&o.message, "From").contains("sender@hisp.direct.test"));
    assert!(header(&got[0].data, "Message-ID").contains("out-1@hisp.direct.test"));
    assert!(header(&o.message, "Message-ID").contains("out-1@hisp.direct.test"));

    let broken = outbound_hisp(&["no-wrap", "rewrite-from", "drop-message-id"], "").await;
    submit(&broken, "recipient@sut.direct.test", true, "secret");
    let got = sink_wait(&broken.captured, 1, WINDOW).await;
    let o = open_captured(&got[0]);
    assert!(!o.wrapped);
    assert!(
        header(&o.message, "From").contains("postmaster@"),
        "{}",
        header(&o.message, "From")
    );
    assert!(header(&got[0].data, "Message-ID").is_empty());
    assert!(header(&o.message, "Message-ID").is_empty());
    // Still signed by the sender's own certificate.
    assert!(o.signature.verified_signer().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_clinical_content() {
    let clean = inbound(&[], "hisp_sender", false, None).await;
    let log = std::fs::read_to_string(clean.dir.path().join("audit.jsonl")).unwrap();
    assert!(log.contains("incoming.accepted"), "{log}");
    assert!(!log.contains("Hello from the test."), "{log}");
    let leaky = inbound(&["audit-clinical-content"], "hisp_sender", false, None).await;
    let log = std::fs::read_to_string(leaky.dir.path().join("audit.jsonl")).unwrap();
    assert!(log.contains("Hello from the test."), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mdn_for_mdn() {
    use direct_conformance::mdn::{Disposition, DispositionKind, MdnSpec, build_mdn};
    for (faults, answered) in [(&[][..], false), (&["mdn-for-mdn"][..], true)] {
        let dir = tempfile::tempdir().unwrap();
        let (sink_addr, mdns) = sink().await;
        let hisp = Hisp::start(settings(&sut_toml(
            dir.path(),
            &[("hisp.direct.test", sink_addr)],
            faults,
        )))
        .await
        .expect("start");
        let spec = MdnSpec {
            from: "sender@hisp.direct.test".into(),
            to: "recipient@sut.direct.test".into(),
            subject: "Processed: an earlier message".into(),
            message_id: "<mdn-in@hisp.direct.test>".into(),
            date: time::OffsetDateTime::now_utc(),
            original_message_id: "<never-sent@sut.direct.test>".into(),
            reporting_ua: "hisp.direct.test; test".into(),
            original_recipient: None,
            final_recipient: "sender@hisp.direct.test".into(),
            disposition: Disposition::automatic(DispositionKind::Processed),
            final_delivery: false,
            failure: None,
            human_text: None,
        };
        let inner = String::from_utf8(build_mdn(&spec).unwrap()).unwrap();
        let enc = openssl_direct(
            dir.path(),
            &inner,
            "hisp_sender",
            "sut_recipient",
            "sender@hisp.direct.test",
            "recipient@sut.direct.test",
        );
        swaks(
            hisp.backbone.unwrap(),
            "sender@hisp.direct.test",
            "recipient@sut.direct.test",
            &enc,
            &[],
        );
        hisp.wait_for(|e| matches!(e, HispEvent::Delivered { .. }), WINDOW)
            .await
            .expect("the MDN is delivered");
        let got = if answered {
            sink_wait(&mdns, 1, WINDOW).await
        } else {
            tokio::time::sleep(QUIET).await;
            mdns.lock().unwrap().clone()
        };
        assert_eq!(!got.is_empty(), answered, "faults {faults:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_signer_drop_attachments_long_base64_lines_and_drop_notification_request() {
    let send = |o: &Outbound| {
        let msg = o.dir.path().join("attach.eml");
        std::fs::write(
            &msg,
            message_with_attachment(
                "sender@hisp.direct.test",
                "recipient@sut.direct.test",
                "<out-2@hisp.direct.test>",
            ),
        )
        .unwrap();
        let out = swaks(
            o.hisp.submission.unwrap(),
            "sender@hisp.direct.test",
            "recipient@sut.direct.test",
            &msg,
            &[
                "--auth",
                "PLAIN",
                "--auth-user",
                "sender@hisp.direct.test",
                "--auth-password",
                "secret",
                "--tls",
            ],
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("250 2.0.0 Queued"));
    };
    let longest = |data: &[u8]| {
        let (_, body) = direct_conformance::smime::entity::split_header_body(data);
        String::from_utf8_lossy(body)
            .lines()
            .map(str::len)
            .max()
            .unwrap_or(0)
    };
    let issuer_is_subject = |o: &direct_conformance::smime::OpenedMessage| {
        let c = o.signer().expect("verified signer");
        c.tbs_certificate().issuer() == c.tbs_certificate().subject()
    };
    let clean = outbound_hisp(&[], "").await;
    send(&clean);
    let got = sink_wait(&clean.captured, 1, WINDOW).await;
    let o = open_captured(&got[0]);
    assert!(!issuer_is_subject(&o));
    assert!(
        o.message
            .to_ascii_lowercase()
            .windows(11)
            .any(|w| w == b"attachment;")
    );
    assert!(longest(&got[0].data) <= 76);
    let dn = |m: &[u8]| {
        direct_conformance::smime::entity::header_text(m, "Disposition-Notification-To").is_some()
    };
    assert!(dn(&o.message));

    let broken = outbound_hisp(
        &[
            "self-signed-signer",
            "drop-attachments",
            "long-base64-lines",
            "drop-notification-request",
        ],
        "",
    )
    .await;
    send(&broken);
    let got = sink_wait(&broken.captured, 1, WINDOW).await;
    let o = open_captured(&got[0]);
    assert!(issuer_is_subject(&o), "the signer is self-signed");
    assert!(
        !o.message
            .to_ascii_lowercase()
            .windows(11)
            .any(|w| w == b"attachment;")
    );
    assert!(longest(&got[0].data) > 76);
    assert!(!dn(&o.message));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_7bit_conversion() {
    for (faults, eight_bit_signed) in [(&[][..], false), (&["no-7bit-conversion"][..], true)] {
        let o = outbound_hisp(faults, "").await;
        let msg = o.dir.path().join("8bit.eml");
        std::fs::write(
            &msg,
            "From: sender@hisp.direct.test\r\nTo: recipient@sut.direct.test\r\nSubject: 8bit\r\nDate: Thu, 26 Nov 2026 03:00:00 +0000\r\nMessage-ID: <out-8bit@hisp.direct.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nCaf\u{e9} cr\u{e8}me\r\n",
        )
        .unwrap();
        swaks(
            o.hisp.submission.unwrap(),
            "sender@hisp.direct.test",
            "recipient@sut.direct.test",
            &msg,
            &[
                "--auth",
                "PLAIN",
                "--auth-user",
                "sender@hisp.direct.test",
                "--auth-password",
                "secret",
                "--tls",
            ],
        );
        let got = sink_wait(&o.captured, 1, WINDOW).await;
        let opened = open_captured(&got[0]);
        assert_eq!(
            opened.signed_content.iter().any(|b| *b > 127),
            eight_bit_signed,
            "faults {faults:?}"
        );
    }
}
