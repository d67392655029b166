//! The reference HISP's IMAP door against an independent client: curl's IMAP (libcurl, with
//! OpenSSL) logs in after STARTTLS, lists, selects and fetches a message by UID; the bytes
//! equal what the Maildir holds. Skipped, with a message, where curl is not installed.

mod hisp_common;

use std::process::Command;

use direct_conformance::hisp::Hisp;
use hisp_common::*;

fn curl_present() -> bool {
    Command::new("curl").arg("--version").output().is_ok()
}

/// curl with STARTTLS required, the reference root as its only anchor, and the door's port
/// reached under the certificate's name.
fn curl(port: u16, url_path: &str, extra: &[&str]) -> std::process::Output {
    let mut cmd = Command::new("curl");
    cmd.args(["--silent", "--show-error", "--max-time", "20", "--ssl-reqd"])
        .arg("--cacert")
        .arg(root_pem())
        .arg("--resolve")
        .arg(format!("sut.direct.test:{port}:127.0.0.1"))
        .args(["--user", "recipient@sut.direct.test:secret"])
        .args(extra)
        .arg(format!("imap://sut.direct.test:{port}/{url_path}"));
    cmd.output().expect("run curl")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_reads_a_message_over_starttls() {
    if !curl_present() {
        eprintln!("SKIPPED: curl is not installed (apt-get install curl)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = sut_toml(dir.path(), &[], &[]).replace(
        "pop3 = \"127.0.0.1:0\"",
        "pop3 = \"127.0.0.1:0\"\nimap = \"127.0.0.1:0\"",
    );
    let hisp = Hisp::start(settings(&text)).await.expect("start");
    let port = hisp.imap.expect("imap door").port();
    let message = b"From: a@hisp.direct.test\r\nTo: recipient@sut.direct.test\r\nSubject: curl\r\nMessage-ID: <curl-1@hisp.direct.test>\r\n\r\nfirst\r\n";
    hisp.core
        .maildir
        .deliver("recipient@sut.direct.test", message)
        .unwrap();
    hisp.core
        .maildir
        .deliver(
            "recipient@sut.direct.test",
            b"Subject: two\r\n\r\nsecond\r\n",
        )
        .unwrap();

    // Blocking curl off the runtime's workers: the door runs on them.
    let (listing, fetched, search, wrong) = tokio::task::spawn_blocking(move || {
        (
            curl(port, "", &[]),
            curl(port, "INBOX;UID=1", &[]),
            curl(port, "INBOX?UNSEEN", &[]),
            Command::new("curl")
                .args(["--silent", "--max-time", "20", "--ssl-reqd", "--cacert"])
                .arg(root_pem())
                .arg("--resolve")
                .arg(format!("sut.direct.test:{port}:127.0.0.1"))
                .args(["--user", "recipient@sut.direct.test:wrong"])
                .arg(format!("imap://sut.direct.test:{port}/INBOX;UID=1"))
                .output()
                .expect("run curl"),
        )
    })
    .await
    .unwrap();
    let show = |o: &std::process::Output| {
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    assert!(listing.status.success(), "LIST: {}", show(&listing));
    assert!(
        String::from_utf8_lossy(&listing.stdout).contains("INBOX"),
        "{}",
        show(&listing)
    );
    assert!(fetched.status.success(), "FETCH: {}", show(&fetched));
    assert_eq!(fetched.stdout, message, "{}", show(&fetched));
    assert!(search.status.success(), "SEARCH: {}", show(&search));
    // Message 1 was read (BODY[] sets \Seen); message 2 was not.
    assert!(
        String::from_utf8_lossy(&search.stdout).trim_end() == "* SEARCH 2",
        "{}",
        show(&search)
    );
    assert!(!wrong.status.success(), "a wrong password must fail");

    // Every session went through STARTTLS before its credentials.
    let transcripts: Vec<String> = hisp
        .transcripts()
        .into_iter()
        .filter(|t| t.door == direct_conformance::hisp::Door::Imap)
        .map(|t| t.text())
        .collect();
    assert_eq!(transcripts.len(), 4, "{transcripts:#?}");
    for t in &transcripts {
        let tls = t.find("[TLS established]").expect("STARTTLS");
        let creds = t
            .find(" LOGIN ")
            .or_else(|| t.find(" AUTHENTICATE "))
            .expect("a login");
        assert!(tls < creds, "{t}");
        assert!(!t.contains("secret"), "password in the transcript: {t}");
    }
    hisp.shutdown().await;
}
