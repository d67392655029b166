//! The reference HISP's submission door as an independent client (swaks) sees it, clean and
//! with the SMTP10 and SMTP12 fault switches on: a DATA ended by `LF . LF` is refused (clean)
//! or taken and sent on (accept-bare-line-ends); a 1100-octet text line is refused (clean) or
//! cut to fit and sent on (no-line-limit). What the harness's own client judges in SMTP10 and
//! SMTP12 is what another client meets.

mod hisp_common;

use std::time::Duration;

use direct_conformance::hisp::Hisp;
use hisp_common::*;

/// One submission through swaks with STARTTLS and AUTH PLAIN, the data sent as written
/// (`--no-data-fixup`: no line-end repair, no end marker added). Returns swaks' transcript
/// and what reached the next hop.
async fn submit(faults: &[&str], data: &[u8]) -> (String, Vec<Captured>) {
    let dir = tempfile::tempdir().unwrap();
    let (sink_addr, store) = sink().await;
    let hisp = Hisp::start(settings(&sut_toml(
        dir.path(),
        &[("hisp.direct.test", sink_addr)],
        faults,
    )))
    .await
    .expect("start");
    let file = dir.path().join("data.eml");
    std::fs::write(&file, data).unwrap();
    let submission = hisp.submission.expect("submission door");
    let out = tokio::task::spawn_blocking(move || {
        swaks(
            submission,
            "recipient@sut.direct.test",
            "good@hisp.direct.test",
            &file,
            &[
                "--tls",
                "--auth",
                "PLAIN",
                "--auth-user",
                "recipient@sut.direct.test",
                "--auth-password",
                "secret",
                "--no-data-fixup",
            ],
        )
    })
    .await
    .unwrap();
    let transcript = String::from_utf8_lossy(&out.stdout).to_string();
    let got = sink_wait(&store, 1, Duration::from_secs(5)).await;
    // Dropping the handle stops the HISP.
    drop(hisp);
    (transcript, got)
}

fn key(name: &str) -> direct_conformance::keys::PrivateKey {
    let pem = std::fs::read(key_pem(name)).unwrap();
    direct_conformance::keys::PrivateKey::from_pem_or_der(&pem).unwrap()
}

fn message(extra_line: &str) -> String {
    format!(
        "From: recipient@sut.direct.test\r\nTo: good@hisp.direct.test\r\nSubject: swaks edge case\r\nMessage-ID: <swaks-edge@sut.direct.test>\r\n\r\nHello.\r\n{extra_line}"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bare_lf_ending_is_refused_clean_and_taken_by_the_fault() {
    // The message, a bare-LF "ending", then a proper one.
    let data = format!("{}\n.\n\r\n.\r\n", message(""));
    let (clean, sent) = submit(&[], data.as_bytes()).await;
    assert!(clean.contains("550 5.6.0 Bare CR or LF"), "{clean}");
    assert!(sent.is_empty(), "the clean HISP sent it on:\n{clean}");

    let (faulted, sent) = submit(&["accept-bare-line-ends"], data.as_bytes()).await;
    assert!(faulted.contains("250 2.0.0 Queued"), "{faulted}");
    assert_eq!(sent.len(), 1, "{faulted}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_text_line_is_refused_clean_and_delivered_cut_by_the_fault() {
    let long = "y".repeat(1098);
    let data = format!("{}\r\n.\r\n", message(&format!("{long}\r\nlast line")));
    let (clean, sent) = submit(&[], data.as_bytes()).await;
    assert!(
        clean.contains("500 5.5.6 Text line over 1000 octets"),
        "{clean}"
    );
    assert!(sent.is_empty(), "the clean HISP sent it on:\n{clean}");

    let (faulted, sent) = submit(&["no-line-limit"], data.as_bytes()).await;
    assert!(faulted.contains("250 2.0.0 Queued"), "{faulted}");
    assert_eq!(sent.len(), 1, "{faulted}");
    // Opened by the recipient: the line arrived cut to 998 octets (the EDGE-08 breach).
    let opened = direct_conformance::smime::open(&sent[0].data, &key("hisp_good"), None)
        .expect("the recipient opens it");
    let text = String::from_utf8_lossy(&opened.message).to_string();
    assert!(
        text.contains(&format!("\r\n{}\r\n", "y".repeat(998))),
        "{text}"
    );
    assert!(!text.contains(&long), "the long line arrived whole");
}
