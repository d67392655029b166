//! Two reference HISPs exchange a wrapped, signed, encrypted message with an attachment:
//! submitted by swaks (STARTTLS + AUTH) at `hisp.direct.test`, delivered over the backbone to
//! `sut.direct.test` (next hops by static resolver overrides), read there by POP3, answered
//! with processed and dispatched MDNs that settle the sender's tracker; audit lines on both.

mod hisp_common;

use std::time::Duration;

use direct_conformance::hisp::{Hisp, HispEvent};
use hisp_common::*;

const WINDOW: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hisps_exchange_message_and_mdns() {
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    // B first (its backbone address goes into A's routes), then A; then B learns A's.
    let b = Hisp::start(settings(&sut_toml(dir_b.path(), &[], &[])))
        .await
        .expect("start B");
    let text_a = hisp_toml(
        dir_a.path(),
        &[("sut.direct.test", b.backbone.unwrap())],
        &[],
    );
    let a = Hisp::start(settings(&text_a)).await.expect("start A");
    b.set_route("hisp.direct.test", a.backbone.unwrap());

    let msg = dir_a.path().join("msg.eml");
    std::fs::write(
        &msg,
        message_with_attachment(
            "sender@hisp.direct.test",
            "recipient@sut.direct.test",
            "<exchange-1@hisp.direct.test>",
        ),
    )
    .unwrap();
    let out = swaks(
        a.submission.unwrap(),
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
        &msg,
        &[
            "--tls",
            "--auth",
            "PLAIN",
            "--auth-user",
            "sender@hisp.direct.test",
            "--auth-password",
            "secret",
        ],
    );
    let t = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{t}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(t.contains("235 2.7.0"), "{t}");

    // B delivers the unwrapped message with its attachment intact.
    b.wait_for(|e| matches!(e, HispEvent::Delivered { .. }), WINDOW)
        .await
        .expect("B delivered");
    let msgs = pop3_fetch(
        b.pop3.unwrap(),
        "recipient@sut.direct.test",
        "secret",
        false,
    )
    .await;
    assert_eq!(msgs.len(), 1);
    let got = String::from_utf8_lossy(&msgs[0]);
    assert!(
        got.contains("PENsaW5pY2FsRG9jdW1lbnQgeG1sbnM9InVybjpobDctb3JnOnYzIi8+"),
        "{got}"
    );
    assert!(
        got.contains("Message-ID: <exchange-1@hisp.direct.test>"),
        "{got}"
    );

    // A's tracker settles the recipient as delivered (processed + dispatched with the field).
    let settled = a
        .wait_for(|e| matches!(e, HispEvent::Settled { .. }), WINDOW)
        .await
        .expect("A settled");
    let HispEvent::Settled {
        outcome, recipient, ..
    } = settled
    else {
        unreachable!()
    };
    assert_eq!(outcome, "Delivered");
    assert!(recipient.eq_ignore_ascii_case("recipient@sut.direct.test"));
    b.wait_for(
        |e| matches!(e, HispEvent::MdnSent { kind, .. } if kind == "dispatched"),
        WINDOW,
    )
    .await
    .expect("dispatched MDN recorded");
    let kinds: Vec<String> = b
        .events()
        .iter()
        .filter_map(|e| match e {
            HispEvent::MdnSent { kind, .. } => Some(kind.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        vec!["processed".to_string(), "dispatched".to_string()]
    );

    // The MDNs reached the sender's edge mailbox on A, readable by POP3.
    a.wait_for(
        |e| {
            matches!(
                e,
                HispEvent::Delivered {
                    notification: true,
                    ..
                }
            )
        },
        WINDOW,
    )
    .await
    .expect("MDN delivered at A");
    let deadline = tokio::time::Instant::now() + WINDOW;
    let notices = loop {
        let n = pop3_fetch(a.pop3.unwrap(), "sender@hisp.direct.test", "secret", false).await;
        if n.len() >= 2 || tokio::time::Instant::now() > deadline {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(notices.len(), 2, "processed and dispatched reach the edge");
    assert!(
        notices
            .iter()
            .any(|n| String::from_utf8_lossy(n).contains("X-DIRECT-FINAL-DESTINATION-DELIVERY"))
    );

    // Audit lines on both sides, each chain intact.
    let audit_a = std::fs::read_to_string(dir_a.path().join("audit.jsonl")).unwrap();
    let audit_b = std::fs::read_to_string(dir_b.path().join("audit.jsonl")).unwrap();
    for (log, needles) in [
        (
            &audit_a,
            &["outgoing.sent", "mdn.received", "tracking.settled"][..],
        ),
        (
            &audit_b,
            &["incoming.received", "incoming.accepted", "mdn.sent"][..],
        ),
    ] {
        for n in needles {
            assert!(log.contains(n), "{n} missing in:\n{log}");
        }
    }
    for d in [dir_a.path(), dir_b.path()] {
        let report = direct_conformance::audit::verify(d.join("audit.jsonl")).expect("verify");
        assert!(report.broken.is_none(), "{report:?}");
    }
    a.shutdown().await;
    b.shutdown().await;
}

/// Timely and reliable across two instances: B's `processedonly5` never dispatches, so A's
/// tracker times the recipient out and writes one failure DSN to the sender's edge mailbox;
/// B's `noaddressfailure9` answers with a failed MDN that settles at once (MDN-21).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timely_and_reliable_timeout_and_failure_reach_the_edge() {
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let text_b = sut_toml(dir_b.path(), &[], &[]).replace(
        "outgoing_anchors = [\"pki:direct.test_ca_root\"]\n",
        "outgoing_anchors = [\"pki:direct.test_ca_root\"]\nresponders = true\n",
    );
    let b = Hisp::start(settings(&text_b)).await.expect("start B");
    let text_a = hisp_toml(
        dir_a.path(),
        &[("sut.direct.test", b.backbone.unwrap())],
        &[],
    )
    .replace("dispatched_mdn_secs = 30", "dispatched_mdn_secs = 3")
    .replace(
        "[certificates]",
        "[certificates]\n\"sut.direct.test\" = [\"pki:sut_domain\"]",
    );
    let a = Hisp::start(settings(&text_a)).await.expect("start A");
    b.set_route("hisp.direct.test", a.backbone.unwrap());
    for (i, to) in [
        "processedonly5@sut.direct.test",
        "noaddressfailure9@sut.direct.test",
    ]
    .iter()
    .enumerate()
    {
        let msg = dir_a.path().join(format!("m{i}.eml"));
        std::fs::write(
            &msg,
            plain_message(
                "sender@hisp.direct.test",
                to,
                &format!("<tr-{i}@hisp.direct.test>"),
                "timely",
                true,
            ),
        )
        .unwrap();
        let out = swaks(
            a.submission.unwrap(),
            "sender@hisp.direct.test",
            to,
            &msg,
            &[
                "--tls",
                "--auth",
                "PLAIN",
                "--auth-user",
                "sender@hisp.direct.test",
                "--auth-password",
                "secret",
            ],
        );
        assert!(out.status.success());
    }
    let settled = |who: &'static str| move |e: &HispEvent| matches!(e, HispEvent::Settled { recipient, .. } if recipient.starts_with(who));
    let failed = a
        .wait_for(settled("noaddressfailure9"), WINDOW)
        .await
        .expect("failed MDN settles");
    let HispEvent::Settled { outcome, .. } = failed else {
        unreachable!()
    };
    assert!(outcome.starts_with("Failed"), "{outcome}");
    let timed = a
        .wait_for(settled("processedonly5"), WINDOW)
        .await
        .expect("timeout settles");
    let HispEvent::Settled { outcome, .. } = timed else {
        unreachable!()
    };
    assert!(outcome.contains("TimedOut"), "{outcome}");
    let dsn = a
        .wait_for(|e| matches!(e, HispEvent::DsnSent { .. }), WINDOW)
        .await
        .expect("timeout DSN");
    let HispEvent::DsnSent { to, recipients } = dsn else {
        unreachable!()
    };
    assert_eq!(to, "sender@hisp.direct.test");
    assert_eq!(
        recipients,
        vec!["processedonly5@sut.direct.test".to_string()]
    );
    a.shutdown().await;
    b.shutdown().await;
}

/// MDN-18: B's `dupdispatched` sends the same dispatched MDN twice; A settles on the first
/// and keeps the duplicate from the sender's edge mailbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_dispatched_mdn_is_suppressed_at_the_edge() {
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let text_b = sut_toml(dir_b.path(), &[], &[]).replace(
        "outgoing_anchors = [\"pki:direct.test_ca_root\"]\n",
        "outgoing_anchors = [\"pki:direct.test_ca_root\"]\nresponders = true\n",
    );
    let b = Hisp::start(settings(&text_b)).await.expect("start B");
    let text_a = hisp_toml(
        dir_a.path(),
        &[("sut.direct.test", b.backbone.unwrap())],
        &[],
    )
    .replace(
        "[certificates]",
        "[certificates]\n\"sut.direct.test\" = [\"pki:sut_domain\"]",
    );
    let a = Hisp::start(settings(&text_a)).await.expect("start A");
    b.set_route("hisp.direct.test", a.backbone.unwrap());
    let to = "dupdispatched@sut.direct.test";
    let msg = dir_a.path().join("m.eml");
    std::fs::write(
        &msg,
        plain_message(
            "sender@hisp.direct.test",
            to,
            "<dup@hisp.direct.test>",
            "dup",
            true,
        ),
    )
    .unwrap();
    let out = swaks(
        a.submission.unwrap(),
        "sender@hisp.direct.test",
        to,
        &msg,
        &[
            "--tls",
            "--auth",
            "PLAIN",
            "--auth-user",
            "sender@hisp.direct.test",
            "--auth-password",
            "secret",
        ],
    );
    assert!(out.status.success());
    a.wait_for(|e| matches!(e, HispEvent::Settled { .. }), WINDOW)
        .await
        .expect("settled");
    // All three MDNs arrive at A's backbone; wait for B to have sent them all.
    let deadline = tokio::time::Instant::now() + WINDOW;
    while a
        .events()
        .iter()
        .filter(|e| {
            matches!(
                e,
                HispEvent::Received {
                    door: direct_conformance::hisp::Door::Backbone,
                    ..
                }
            )
        })
        .count()
        < 3
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let notices = pop3_fetch(a.pop3.unwrap(), "sender@hisp.direct.test", "secret", false).await;
    assert_eq!(
        notices.len(),
        2,
        "processed and one dispatched reach the edge"
    );
    let audit = std::fs::read_to_string(dir_a.path().join("audit.jsonl")).unwrap();
    assert_eq!(audit.matches("\"mdn.received\"").count(), 3, "{audit}");
    a.shutdown().await;
    b.shutdown().await;
}
