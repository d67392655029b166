//! Outbound next hops through a real MX lookup: hickory-resolver asks a tiny authoritative
//! DNS responder (UDP, hickory-proto messages) for the MX of `sut.direct.test`, then the A of
//! the exchange, and the message reaches the second HISP there. Also: NXDOMAIN ends in a
//! failure DSN to the sender's edge mailbox.

mod hisp_common;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use direct_conformance::hisp::{Hisp, HispEvent};
use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, MX};
use hickory_resolver::proto::rr::{Name, RData, Record};
use hisp_common::*;

const WINDOW: Duration = Duration::from_secs(30);

/// Answers A and MX queries from `zone`; NXDOMAIN for names it does not hold.
async fn tiny_dns(zone: Vec<(&'static str, RData)>) -> SocketAddr {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        while let Ok((n, peer)) = sock.recv_from(&mut buf).await {
            let Ok(q) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut r = Message::response(q.metadata.id, q.metadata.op_code);
            r.metadata.authoritative = true;
            r.metadata.recursion_desired = q.metadata.recursion_desired;
            r.add_queries(q.queries.clone());
            let mut known = false;
            for query in &q.queries {
                let qname = query
                    .name()
                    .to_ascii()
                    .trim_end_matches('.')
                    .to_ascii_lowercase();
                for (name, rdata) in &zone {
                    if *name == qname {
                        known = true;
                        if rdata.record_type() == query.query_type() {
                            r.add_answer(Record::from_rdata(
                                query.name().clone(),
                                60,
                                rdata.clone(),
                            ));
                        }
                    }
                }
            }
            if !known {
                r.metadata.response_code = ResponseCode::NXDomain;
            }
            if let Ok(bytes) = r.to_vec() {
                let _ = sock.send_to(&bytes, peer).await;
            }
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_follows_mx_then_a_records() {
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let b = Hisp::start(settings(&sut_toml(dir_b.path(), &[], &[])))
        .await
        .expect("B");
    let port = b.backbone.unwrap().port();
    // As in the harness world: the domain's MX is the domain itself (TEST-CATALOGUE §0.4),
    // so that the STARTTLS certificate (tls_sut: sut.direct.test) matches the MX name.
    let dns = tiny_dns(vec![
        (
            "sut.direct.test",
            RData::MX(MX::new(10, Name::from_ascii("sut.direct.test.").unwrap())),
        ),
        ("sut.direct.test", RData::A(A(Ipv4Addr::LOCALHOST))),
    ])
    .await;
    let text = hisp_toml(dir_a.path(), &[], &[]).replace(
        "[resolver]",
        &format!("[resolver]\nserver = \"{dns}\"\nsmtp_port = {port}"),
    );
    let a = Hisp::start(settings(&text)).await.expect("A");
    let msg = dir_a.path().join("m.eml");
    std::fs::write(
        &msg,
        plain_message(
            "sender@hisp.direct.test",
            "recipient@sut.direct.test",
            "<mx-1@hisp.direct.test>",
            "via MX",
            false,
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
            "LOGIN",
            "--auth-user",
            "sender@hisp.direct.test",
            "--auth-password",
            "secret",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let sent = a
        .wait_for(|e| matches!(e, HispEvent::Sent { .. }), WINDOW)
        .await
        .expect("sent");
    let HispEvent::Sent { host, .. } = sent else {
        unreachable!()
    };
    assert_eq!(host, SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    b.wait_for(|e| matches!(e, HispEvent::Delivered { .. }), WINDOW)
        .await
        .expect("delivered at B");
    // The backbone hop used STARTTLS, verified against the root (tls_sut is issued by it).
    // (The transcript is kept when the session ends, just after the delivery.)
    let deadline = tokio::time::Instant::now() + WINDOW;
    while b.transcripts().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let t: Vec<String> = b.transcripts().iter().map(|t| t.text()).collect();
    assert!(t.iter().any(|t| t.contains("[TLS established]")), "{t:?}");

    // A domain the DNS does not know: one failure DSN at the sender's edge.
    std::fs::write(
        &msg,
        plain_message(
            "sender@hisp.direct.test",
            "someone@nonexistent.direct.test",
            "<mx-2@hisp.direct.test>",
            "nowhere",
            false,
        ),
    )
    .unwrap();
    let text = text.replace(
        "[certificates]",
        "[certificates]\n\"nonexistent.direct.test\" = [\"pki:sut_domain\"]",
    );
    drop(a);
    let dir_c = tempfile::tempdir().unwrap();
    let c = Hisp::start(settings(&text.replace(
        &dir_a.path().display().to_string(),
        &dir_c.path().display().to_string(),
    )))
    .await
    .expect("C");
    let _ = swaks(
        c.submission.unwrap(),
        "sender@hisp.direct.test",
        "someone@nonexistent.direct.test",
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
    let failed = c
        .wait_for(|e| matches!(e, HispEvent::DeliveryFailed { .. }), WINDOW)
        .await
        .expect("delivery failed");
    let HispEvent::DeliveryFailed { reason, .. } = failed else {
        unreachable!()
    };
    assert!(reason.contains("nonexistent.direct.test"), "{reason}");
    c.wait_for(|e| matches!(e, HispEvent::DsnSent { .. }), WINDOW)
        .await
        .expect("DSN to the edge");
    b.shutdown().await;
    c.shutdown().await;
}
