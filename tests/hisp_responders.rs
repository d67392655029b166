//! The responder mailboxes of TEST-CATALOGUE §c.1, selected by local part on a domain with
//! `responders = true`: the MDNs each one sends, as the sender's sink receives them.

mod hisp_common;

use std::time::{Duration, Instant};

use direct_conformance::hisp::Hisp;
use direct_conformance::mdn::{Notification, parse_notification};
use hisp_common::*;

const WINDOW: Duration = Duration::from_secs(20);

/// Sends one timely-and-reliable message to `local@sut.direct.test` and returns the
/// dispositions of the MDNs that come back, with their arrival times.
async fn answers(local: &str, expect: usize) -> (Vec<String>, Vec<Duration>, Vec<Vec<u8>>) {
    let (kinds, times, captured) = capture(local, expect).await;
    (kinds, times, captured.into_iter().map(|c| c.data).collect())
}

/// As `answers`, with the captured envelopes; a report that does not parse is `unparsed`.
async fn capture(local: &str, expect: usize) -> (Vec<String>, Vec<Duration>, Vec<Captured>) {
    let dir = tempfile::tempdir().unwrap();
    let (sink_addr, captured) = sink().await;
    let text = sut_toml(dir.path(), &[("hisp.direct.test", sink_addr)], &[]).replace(
        "outgoing_anchors = [\"pki:direct.test_ca_root\"]\n",
        "outgoing_anchors = [\"pki:direct.test_ca_root\"]\nresponders = true\n",
    );
    let hisp = Hisp::start(settings(&text)).await.expect("start");
    let to = format!("{local}@sut.direct.test");
    let inner = plain_message(
        "sender@hisp.direct.test",
        &to,
        "<resp-1@hisp.direct.test>",
        "responder",
        true,
    );
    let enc = openssl_direct(
        dir.path(),
        &inner,
        "hisp_sender",
        "sut_domain",
        "sender@hisp.direct.test",
        &to,
    );
    let start = Instant::now();
    let out = swaks(
        hisp.backbone.unwrap(),
        "sender@hisp.direct.test",
        &to,
        &enc,
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let mut times = Vec::new();
    let mut seen = 0;
    let deadline = Instant::now() + WINDOW;
    while Instant::now() < deadline && seen < expect {
        let n = captured.lock().unwrap().len();
        if n > seen {
            times.extend(std::iter::repeat_n(start.elapsed(), n - seen));
            seen = n;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let key = direct_conformance::keys::PrivateKey::from_pem_or_der(
        &std::fs::read(key_pem("hisp_sender")).unwrap(),
    )
    .unwrap();
    let mut kinds = Vec::new();
    let mut raws = Vec::new();
    for c in captured.lock().unwrap().iter() {
        let opened = direct_conformance::smime::open(&c.data, &key, None).expect("sealed MDN");
        match parse_notification(&opened.message) {
            Ok(Notification::Mdn(m)) => {
                assert_eq!(m.final_recipient.to_ascii_lowercase(), to);
                kinds.push(m.disposition.kind.as_str().to_string());
            }
            Ok(Notification::Dsn(_)) => kinds.push("dsn".into()),
            Err(_) => kinds.push("unparsed".into()),
        }
        let mut c = c.clone();
        // Keep the opened inner MDN after the sealed bytes, for style checks.
        c.data.extend_from_slice(b"\r\n--INNER--\r\n");
        c.data.extend_from_slice(&opened.message);
        raws.push(c);
    }
    hisp.shutdown().await;
    (kinds, times, raws)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responder_mailboxes_answer_as_catalogued() {
    assert_eq!(answers("processedonly5", 1).await.0, ["processed"]);
    assert_eq!(
        answers("processeddispatched6", 2).await.0,
        ["processed", "dispatched"]
    );
    assert!(answers("nomdn8", 0).await.0.is_empty());
    assert_eq!(answers("noaddressfailure9", 1).await.0, ["failed"]);
    assert_eq!(
        answers("processedfailure", 2).await.0,
        ["processed", "failed"]
    );
    assert_eq!(
        answers("errordisposition", 2).await.0,
        ["processed", "error"]
    );
    let (kinds, _, raws) = answers("dupdispatched", 3).await;
    assert_eq!(kinds, ["processed", "dispatched", "dispatched"]);
    assert_eq!(raws[1], raws[2], "the same dispatched MDN twice");
    let (kinds, times, _) = answers("delaydispatched2", 2).await;
    assert_eq!(kinds, ["processed", "dispatched"]);
    assert!(times[1] >= Duration::from_secs(2), "{times:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_mdn_responders_write_their_style() {
    let inner = |c: &Captured| {
        let t = String::from_utf8_lossy(&c.data).to_string();
        t.split("--INNER--\r\n").nth(1).unwrap_or("").to_string()
    };
    // The library's parser tolerates the white-space and folding styles (MDN-22).
    for (local, marker) in [
        ("white_space_mdn", "Disposition :   "),
        ("extra_line_break_mdn", "rfc822;\r\n "),
        ("extra_space_disposition", "automatic-action /  "),
    ] {
        let (kinds, _, got) = capture(local, 2).await;
        assert_eq!(kinds, ["processed", "dispatched"], "{local}");
        assert!(
            inner(&got[0]).contains(marker),
            "{local}: {}",
            inner(&got[0])
        );
    }
    let (kinds, _, got) = capture("missing_disposition", 2).await;
    assert_eq!(kinds, ["unparsed", "unparsed"]);
    assert!(!inner(&got[0]).contains("Disposition:"));
    let (kinds, _, got) = capture("null_sender", 2).await;
    assert_eq!(kinds, ["processed", "dispatched"]);
    assert!(
        got.iter().all(|c| c.from.is_empty()),
        "{:?}",
        got.iter().map(|c| &c.from).collect::<Vec<_>>()
    );
    let (_, _, got) = capture("different_sender", 2).await;
    assert!(inner(&got[0]).contains("Sender: postmaster@sut.direct.test"));
    let (_, _, got) = capture("different_msgid", 2).await;
    let outer = direct_conformance::smime::entity::header_text(&got[0].data, "Message-ID").unwrap();
    let inner_id =
        direct_conformance::smime::entity::header_text(inner(&got[0]).as_bytes(), "Message-ID")
            .unwrap();
    assert_ne!(outer, inner_id);
}
