//! The backbone door over real sockets: a Direct message made by `openssl cms` and sent by
//! `swaks` is decrypted, verified, trusted, unwrapped, delivered to the Maildir, read back
//! over POP3, and answered with a processed MDN that `openssl cms` decrypts and verifies;
//! untrusted mail is refused without an MDN; RFC 5321 edge cases are answered as it says.

mod hisp_common;

use std::time::Duration;

use direct_conformance::hisp::{Hisp, HispEvent};
use hisp_common::*;

const WINDOW: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_swaks_message_reaches_pop3_and_yields_processed_mdn() {
    let dir = tempfile::tempdir().unwrap();
    let (sink_addr, captured) = sink().await;
    let s = settings(&sut_toml(
        dir.path(),
        &[("hisp.direct.test", sink_addr)],
        &[],
    ));
    let hisp = Hisp::start(s).await.expect("start");
    let backbone = hisp.backbone.unwrap();

    let inner = plain_message(
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
        "<swaks-1@hisp.direct.test>",
        "openssl and swaks",
        false,
    );
    let enc = openssl_direct(
        dir.path(),
        &inner,
        "hisp_sender",
        "sut_recipient",
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
    );
    let out = swaks(
        backbone,
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
        &enc,
        &["--tls"],
    );
    let transcript = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "swaks failed:\n{transcript}");
    assert!(transcript.contains("250 2.0.0 Accepted"), "{transcript}");

    let delivered = hisp
        .wait_for(|e| matches!(e, HispEvent::Delivered { .. }), WINDOW)
        .await
        .expect("delivered");
    let HispEvent::Delivered { path, .. } = delivered else {
        unreachable!()
    };
    assert!(path.to_string_lossy().contains("/new/"), "{path:?}");

    // POP3 gives back the unwrapped inner message.
    let msgs = pop3_fetch(
        hisp.pop3.unwrap(),
        "recipient@sut.direct.test",
        "secret",
        true,
    )
    .await;
    assert_eq!(msgs.len(), 1);
    let text = String::from_utf8_lossy(&msgs[0]);
    assert!(text.contains("Subject: openssl and swaks"), "{text}");
    assert!(text.contains("Hello from the test."), "{text}");
    // DELE then QUIT emptied the mailbox.
    assert!(
        pop3_fetch(
            hisp.pop3.unwrap(),
            "recipient@sut.direct.test",
            "secret",
            false
        )
        .await
        .is_empty()
    );

    // The processed MDN reached the sender's HISP (the sink), sealed: OpenSSL opens it.
    let got = sink_wait(&captured, 1, WINDOW).await;
    assert_eq!(
        got.len(),
        1,
        "one processed MDN, no dispatched (not requested)"
    );
    assert_eq!(got[0].rcpts, vec!["sender@hisp.direct.test".to_string()]);
    let content = openssl_open(dir.path(), &got[0].data, "hisp_sender");
    assert!(content.contains("disposition-notification"), "{content}");
    assert!(
        content.to_ascii_lowercase().contains("processed"),
        "{content}"
    );
    assert!(content.contains("<swaks-1@hisp.direct.test>"), "{content}");

    // The session transcript and audit lines are kept.
    let t = hisp.transcripts();
    assert!(t.iter().any(|t| t.text().contains("[TLS established]")));
    // ... and written out as files (evidence), credentials never in them.
    let files: Vec<String> = std::fs::read_dir(dir.path().join("transcripts"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        files
            .iter()
            .any(|f| f.contains("C: STARTTLS") && f.contains("octets of message data")),
        "{files:?}"
    );
    assert!(
        files.iter().any(|f| f.contains("C: PASS [hidden]")),
        "{files:?}"
    );
    assert!(!files.iter().any(|f| f.contains("secret")), "{files:?}");
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(
        audit.contains("incoming.accepted") || audit.contains("accepted"),
        "{audit}"
    );
    assert!(audit.contains("mdn"), "{audit}");
    hisp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_signer_is_refused_without_mdn() {
    let dir = tempfile::tempdir().unwrap();
    let (sink_addr, captured) = sink().await;
    let s = settings(&sut_toml(
        dir.path(),
        &[("hisp.direct.test", sink_addr)],
        &[],
    ));
    let hisp = Hisp::start(s).await.expect("start");
    let inner = plain_message(
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
        "<untrusted-1@hisp.direct.test>",
        "untrusted",
        true,
    );
    let enc = openssl_direct(
        dir.path(),
        &inner,
        "sender_untrusted",
        "sut_recipient",
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
    );
    let out = swaks(
        hisp.backbone.unwrap(),
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
        &enc,
        &[],
    );
    let transcript = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(transcript.contains("554 5.7.1"), "{transcript}");
    let rejected = hisp
        .wait_for(|e| matches!(e, HispEvent::Rejected { .. }), WINDOW)
        .await
        .expect("rejected");
    let HispEvent::Rejected { reason, .. } = rejected else {
        unreachable!()
    };
    assert!(reason.contains("not trusted"), "{reason}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        captured.lock().unwrap().is_empty(),
        "no MDN for untrusted mail (MDN-03)"
    );
    assert!(
        !hisp
            .events()
            .iter()
            .any(|e| matches!(e, HispEvent::Delivered { .. }))
    );
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(
        audit.contains("not trusted"),
        "the reason is logged: {audit}"
    );
    hisp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc5321_sequences_sizes_and_line_ends() {
    let dir = tempfile::tempdir().unwrap();
    let text = sut_toml(dir.path(), &[], &[]).replace(
        "[timeouts]",
        "[limits]\nmax_message_bytes = 2048\n\n[timeouts]",
    );
    let hisp = Hisp::start(settings(&text)).await.expect("start");
    let b = hisp.backbone.unwrap();
    let r = smtp_script(
        b,
        &[
            b"MAIL FROM:<a@x.test>\r\n",
            b"EHLO client.test\r\n",
            b"RCPT TO:<recipient@sut.direct.test>\r\n",
            b"DATA\r\n",
            b"STARTTLS now\r\n",
            b"MAIL FROM:<a@x.test> SIZE=999999\r\n",
            b"MAIL FROM:<a@x.test>\r\n",
            b"MAIL FROM:<b@x.test>\r\n",
            b"RCPT TO:<nobody@sut.direct.test>\r\n",
            b"RCPT TO:<someone@elsewhere.test>\r\n",
            b"RCPT TO:<recipient@sut.direct.test>\r\n",
            b"DATA\r\n",
            b"Subject: bare\nLF line\r\n.\r\n",
            b"NOOP\n",
            b"VRFY x\r\n",
            b"QUIT\r\n",
        ],
    )
    .await;
    assert!(r[0].starts_with("220 "), "{r:?}");
    assert!(r[1].starts_with("503"), "MAIL before EHLO: {r:?}");
    assert!(
        r[2].contains("SIZE 2048") && r[2].contains("STARTTLS"),
        "{r:?}"
    );
    assert!(r[3].starts_with("503"), "RCPT before MAIL: {r:?}");
    assert!(r[4].starts_with("503"), "DATA before MAIL: {r:?}");
    assert!(r[5].starts_with("501"), "STARTTLS with a parameter: {r:?}");
    assert!(
        r[6].starts_with("552"),
        "declared SIZE over the limit: {r:?}"
    );
    assert!(r[7].starts_with("250"), "{r:?}");
    assert!(r[8].starts_with("503"), "nested MAIL: {r:?}");
    assert!(
        r[9].starts_with("550 5.1.1"),
        "unknown local mailbox: {r:?}"
    );
    assert!(r[10].starts_with("550 5.7.1"), "no relaying: {r:?}");
    assert!(r[11].starts_with("250"), "{r:?}");
    assert!(r[12].starts_with("354"), "{r:?}");
    assert!(
        r[13].starts_with("550 5.6.0"),
        "bare LF in DATA refused: {r:?}"
    );
    assert!(r[14].starts_with("500"), "bare LF command line: {r:?}");
    assert!(r[15].starts_with("252"), "{r:?}");
    assert!(r[16].starts_with("221"), "{r:?}");

    // A message over the size limit is refused after DATA, and nothing is delivered.
    let big = format!(
        "Subject: big\r\n\r\n{}\r\n.\r\n",
        "x".repeat(100)
            .repeat(30)
            .chars()
            .collect::<Vec<_>>()
            .chunks(100)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("\r\n")
    );
    let long = format!("Subject: long\r\n\r\n{}\r\n.\r\n", "y".repeat(1200));
    let r = smtp_script(
        b,
        &[
            b"EHLO c\r\n",
            b"MAIL FROM:<a@x.test>\r\n",
            b"RCPT TO:<recipient@sut.direct.test>\r\n",
            b"DATA\r\n",
            big.as_bytes(),
            b"MAIL FROM:<a@x.test>\r\n",
            b"RCPT TO:<recipient@sut.direct.test>\r\n",
            b"DATA\r\n",
            long.as_bytes(),
            b"RSET\r\n",
            b"QUIT\r\n",
        ],
    )
    .await;
    assert!(r[5].starts_with("552"), "message over the limit: {r:?}");
    assert!(
        r[9].starts_with("500 5.5.6"),
        "text line over 1000 octets: {r:?}"
    );
    assert!(r[10].starts_with("250"), "{r:?}");
    assert!(
        !hisp
            .events()
            .iter()
            .any(|e| matches!(e, HispEvent::Delivered { .. }))
    );
    hisp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_session_times_out_with_421() {
    let dir = tempfile::tempdir().unwrap();
    let text = sut_toml(dir.path(), &[], &[]).replace("[timeouts]", "[timeouts]\ncommand_secs = 1");
    let hisp = Hisp::start(settings(&text)).await.expect("start");
    let r = smtp_script(hisp.backbone.unwrap(), &[b"EHLO c\r\n"]).await;
    assert!(r[1].starts_with("250"));
    let mut tcp = tokio::net::TcpStream::connect(hisp.backbone.unwrap())
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let mut all = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        use tokio::io::AsyncReadExt;
        loop {
            let n = tcp.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    let text = String::from_utf8_lossy(&all);
    assert!(text.contains("421 4.4.2"), "{text}");
    hisp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3_states_and_errors() {
    use direct_conformance::sut::pop3::{Session, harness_connector};
    let dir = tempfile::tempdir().unwrap();
    let hisp = Hisp::start(settings(&sut_toml(dir.path(), &[], &[])))
        .await
        .expect("start");
    let mut s = Session::connect(hisp.pop3.unwrap(), WINDOW).await.unwrap();
    let say = async |s: &mut Session, cmd: &str| s.command(cmd, cmd).await.unwrap().text;
    assert!(s.greeting.ok);
    assert!(
        say(&mut s, "STAT").await.starts_with("-ERR"),
        "STAT before login"
    );
    // With a TLS identity, credentials only after STLS (SEC-01).
    let caps = s.capa().await.unwrap();
    assert!(caps.contains(&"STLS".to_string()), "{caps:?}");
    assert!(!caps.contains(&"USER".to_string()), "{caps:?}");
    assert!(
        say(&mut s, "USER recipient@sut.direct.test")
            .await
            .starts_with("-ERR"),
        "USER in clear"
    );
    let st = s
        .stls(&harness_connector().unwrap(), "localhost")
        .await
        .unwrap();
    assert!(st.ok);
    let caps = s.capa().await.unwrap();
    assert!(caps.contains(&"USER".to_string()), "{caps:?}");
    assert!(caps.contains(&"SASL PLAIN".to_string()), "{caps:?}");
    assert!(!caps.contains(&"STLS".to_string()), "{caps:?}");
    assert!(
        say(&mut s, "PASS secret").await.starts_with("-ERR"),
        "PASS before USER"
    );
    assert!(
        say(&mut s, "USER recipient@sut.direct.test")
            .await
            .starts_with("+OK")
    );
    assert!(
        say(&mut s, "PASS wrong").await.starts_with("-ERR"),
        "bad password"
    );
    let plain =
        direct_conformance::sut::submission::auth_plain("recipient@sut.direct.test", "wrong");
    assert!(
        say(&mut s, &format!("AUTH PLAIN {plain}"))
            .await
            .starts_with("-ERR")
    );
    let plain =
        direct_conformance::sut::submission::auth_plain("recipient@sut.direct.test", "secret");
    assert!(
        say(&mut s, &format!("AUTH PLAIN {plain}"))
            .await
            .starts_with("+OK")
    );
    assert_eq!(say(&mut s, "STAT").await, "+OK 0 0");
    assert!(
        say(&mut s, "RETR 1").await.starts_with("-ERR"),
        "no such message"
    );
    assert!(say(&mut s, "DELE x").await.starts_with("-ERR"));
    assert!(say(&mut s, "BOGUS").await.starts_with("-ERR"));
    assert!(
        say(&mut s, "USER x").await.starts_with("-ERR"),
        "USER after login"
    );
    assert!(say(&mut s, "NOOP").await.starts_with("+OK"));
    assert!(say(&mut s, "RSET").await.starts_with("+OK"));
    assert!(say(&mut s, "QUIT").await.starts_with("+OK"));
    hisp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrapped_message_goes_only_to_recipients_its_signed_header_names() {
    let dir = tempfile::tempdir().unwrap();
    let (sink_addr, _captured) = sink().await;
    let s = settings(&sut_toml(
        dir.path(),
        &[("hisp.direct.test", sink_addr)],
        &[],
    ));
    let hisp = Hisp::start(s).await.expect("start");
    let inner = plain_message(
        "sender@hisp.direct.test",
        "someone-else@sut.direct.test",
        "<msg16@hisp.direct.test>",
        "routing tamper",
        false,
    );
    let enc = openssl_direct(
        dir.path(),
        &inner,
        "hisp_sender",
        "sut_recipient",
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
    );
    let out = swaks(
        hisp.backbone.unwrap(),
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
        &enc,
        &[],
    );
    let t = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(t.contains("554 5.7.1"), "{t}");
    let r = hisp
        .wait_for(|e| matches!(e, HispEvent::Rejected { .. }), WINDOW)
        .await
        .expect("rejected");
    let HispEvent::Rejected { reason, .. } = r else {
        unreachable!()
    };
    assert!(reason.contains("MSG-16"), "{reason}");
    assert!(
        !hisp
            .events()
            .iter()
            .any(|e| matches!(e, HispEvent::Delivered { .. }))
    );
    hisp.shutdown().await;
}

/// MDN-12: trust passed but the mailbox cannot be written: processed, then failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mailbox_failure_after_processed_sends_failed_mdn() {
    let dir = tempfile::tempdir().unwrap();
    let (sink_addr, captured) = sink().await;
    let s = settings(&sut_toml(
        dir.path(),
        &[("hisp.direct.test", sink_addr)],
        &[],
    ));
    // A file where the recipient's Maildir folder should be.
    std::fs::create_dir_all(dir.path().join("maildir")).unwrap();
    std::fs::write(
        dir.path().join("maildir").join("recipient@sut.direct.test"),
        b"not a folder",
    )
    .unwrap();
    let hisp = Hisp::start(s).await.expect("start");
    let inner = plain_message(
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
        "<mdn12@hisp.direct.test>",
        "mailbox broken",
        true,
    );
    let enc = openssl_direct(
        dir.path(),
        &inner,
        "hisp_sender",
        "sut_recipient",
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
    );
    let _ = swaks(
        hisp.backbone.unwrap(),
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
        &enc,
        &[],
    );
    let got = sink_wait(&captured, 2, WINDOW).await;
    assert_eq!(got.len(), 2);
    let last = openssl_open(dir.path(), &got[1].data, "hisp_sender").to_ascii_lowercase();
    assert!(last.contains("; failed"), "{last}");
    assert!(last.contains("failure:"), "{last}");
    let first = openssl_open(dir.path(), &got[0].data, "hisp_sender").to_ascii_lowercase();
    assert!(first.contains("; processed"), "{first}");
    hisp.shutdown().await;
}

/// MSG-01 and undecryptable mail: refused, logged, never answered with an MDN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_and_undecryptable_messages_are_refused_without_mdn() {
    let dir = tempfile::tempdir().unwrap();
    let (sink_addr, captured) = sink().await;
    let s = settings(&sut_toml(
        dir.path(),
        &[("hisp.direct.test", sink_addr)],
        &[],
    ));
    let hisp = Hisp::start(s).await.expect("start");
    let plain = plain_message(
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
        "<plain@hisp.direct.test>",
        "in clear",
        true,
    );
    let data = format!("{plain}.\r\n");
    let r = smtp_script(
        hisp.backbone.unwrap(),
        &[
            b"EHLO c\r\n",
            b"MAIL FROM:<sender@hisp.direct.test>\r\n",
            b"RCPT TO:<recipient@sut.direct.test>\r\n",
            b"DATA\r\n",
            data.as_bytes(),
        ],
    )
    .await;
    assert!(
        r[5].starts_with("554 5.7.5") && r[5].contains("MSG-01"),
        "{r:?}"
    );
    // Encrypted for somebody else (good@hisp.direct.test): no local key opens it.
    let enc = openssl_direct(
        dir.path(),
        &plain,
        "hisp_sender",
        "hisp_good",
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
    );
    let out = swaks(
        hisp.backbone.unwrap(),
        "sender@hisp.direct.test",
        "recipient@sut.direct.test",
        &enc,
        &[],
    );
    let t = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(t.contains("554 5.7.5") && t.contains("no local key"), "{t}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(captured.lock().unwrap().is_empty(), "no MDN (MDN-03)");
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert_eq!(audit.matches("incoming.rejected").count(), 2, "{audit}");
    hisp.shutdown().await;
}

/// Garbage on the wire gets error replies, never a crash; the session stays usable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_commands_get_error_replies() {
    let dir = tempfile::tempdir().unwrap();
    let hisp = Hisp::start(settings(&sut_toml(dir.path(), &[], &[])))
        .await
        .expect("start");
    let long = format!("{}\r\n", "A".repeat(2000));
    let r = smtp_script(
        hisp.backbone.unwrap(),
        &[
            b"\xff\xfe\x00\x01\r\n",
            "EHLO \u{e9}\u{e9}\r\n".as_bytes(),
            long.as_bytes(),
            b"MAIL FROM:<<<>>>\r\n",
            b"RCPT\r\n",
            b"AUTH PLAIN\r\n",
            b"NOOP\r\n",
        ],
    )
    .await;
    assert!(r[1].starts_with('5'), "{r:?}");
    assert!(r[3].starts_with("500 5.5.2"), "over-long line: {r:?}");
    assert!(
        r[4].starts_with('5') && r[5].starts_with('5') && r[6].starts_with('5'),
        "{r:?}"
    );
    assert!(r[7].starts_with("250"), "still alive: {r:?}");
    hisp.shutdown().await;
}
