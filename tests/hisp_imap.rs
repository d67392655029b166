//! The reference HISP's IMAP door against an independent client: curl's IMAP (libcurl, with
//! OpenSSL) logs in after STARTTLS, lists, selects and fetches a message by UID; the bytes
//! equal what the Maildir holds. Skipped, with a message, where curl is not installed.

mod hisp_common;

use std::process::Command;

use std::time::Duration;

use direct_conformance::hisp::Hisp;
use hisp_common::*;

const WINDOW: Duration = Duration::from_secs(20);

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

fn imap_config(dir: &std::path::Path, command_secs: u64) -> String {
    sut_toml(dir, &[], &[])
        .replace(
            "pop3 = \"127.0.0.1:0\"",
            "pop3 = \"127.0.0.1:0\"\nimap = \"127.0.0.1:0\"",
        )
        .replace(
            "[timeouts]\n",
            &format!("[timeouts]\ncommand_secs = {command_secs}\n"),
        )
}

/// The door's own answers, driven by the harness client: literals, states, flags, SEARCH,
/// EXPUNGE, UIDs across a restart of the HISP, and the idle timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn states_literals_flags_and_uids_across_restarts() {
    use direct_conformance::sut::imap::Session;
    use direct_conformance::sut::pop3::harness_connector;
    const USER: &str = "recipient@sut.direct.test";
    let dir = tempfile::tempdir().unwrap();
    let hisp = Hisp::start(settings(&imap_config(dir.path(), 2)))
        .await
        .expect("start");
    for n in 1..=3 {
        let m = format!("Subject: {n}\r\nMessage-ID: <{n}@x.test>\r\n\r\nbody {n}\r\n");
        hisp.core.maildir.deliver(USER, m.as_bytes()).unwrap();
    }
    let addr = hisp.imap.unwrap();
    let mut s = Session::connect(addr, WINDOW).await.unwrap();
    let caps = s.capabilities().await.unwrap();
    assert!(caps.contains(&"LOGINDISABLED".into()), "{caps:?}");
    let r = s.login(USER, "secret").await.unwrap();
    assert!(r.is("NO"), "{}", r.text);
    assert!(
        s.starttls(&harness_connector().unwrap(), "localhost")
            .await
            .unwrap()
            .ok()
    );
    // LOGIN with a synchronising literal for the password.
    s.send(&format!("L1 LOGIN {USER} {{6}}"), "L1 LOGIN … {6}")
        .await
        .unwrap();
    let cont = s.until("L1").await.unwrap();
    assert_eq!(cont.status, "+", "{}", s.transcript);
    s.send("secret", "******").await.unwrap();
    let r = s.until("L1").await.unwrap();
    assert!(r.ok(), "{}", s.transcript);
    let r = s.command("SELECT inbox").await.unwrap();
    assert_eq!(r.count("EXISTS"), Some(3));
    assert_eq!(r.count("RECENT"), Some(3));
    let validity = r.code_number("UIDVALIDITY").unwrap();
    assert_eq!(r.code_number("UIDNEXT"), Some(4));
    let r = s
        .command("FETCH 2 (UID FLAGS RFC822.SIZE ENVELOPE BODY.PEEK[TEXT])")
        .await
        .unwrap();
    let f = &r.fetched()[0];
    assert_eq!((f.uid, f.size), (Some(2), Some(46)), "{}", s.transcript);
    assert_eq!(f.body.as_ref().unwrap().1, b"body 2\r\n");
    assert!(
        r.untagged[0].text.contains("ENVELOPE (NIL \"2\""),
        "{}",
        r.untagged[0].text
    );
    assert!(
        s.command("FETCH 4 FLAGS").await.unwrap().is("BAD"),
        "no message 4"
    );
    assert!(s.command("FETCH 1 BODYSTRUCTURE").await.unwrap().is("NO"));
    let r = s.command("STORE 1 +FLAGS (\\Seen)").await.unwrap();
    assert!(r.untagged[0].text.contains("\\Seen"), "{}", s.transcript);
    assert_eq!(
        s.command("SEARCH UNSEEN").await.unwrap().search(),
        vec![2, 3]
    );
    assert_eq!(
        s.command("UID SEARCH SEEN").await.unwrap().search(),
        vec![1]
    );
    assert!(
        s.command("UID STORE 2 +FLAGS.SILENT (\\Deleted)")
            .await
            .unwrap()
            .untagged
            .is_empty()
    );
    let r = s.command("EXPUNGE").await.unwrap();
    assert_eq!(r.untagged.len(), 1, "{}", s.transcript);
    assert_eq!(r.count("EXPUNGE"), Some(2));
    let r = s.command("LIST \"\" \"*\"").await.unwrap();
    assert!(
        r.untagged[0].text.ends_with("\"INBOX\""),
        "{}",
        s.transcript
    );
    assert!(s.command("CREATE other").await.unwrap().is("NO"));
    assert!(s.command("LOGOUT").await.unwrap().ok());
    hisp.shutdown().await;

    // A new HISP on the same Maildir: same UIDVALIDITY and UIDs, new mail above them.
    let hisp = Hisp::start(settings(&imap_config(dir.path(), 2)))
        .await
        .expect("restart");
    hisp.core
        .maildir
        .deliver(USER, b"Subject: 4\r\n\r\nbody 4\r\n")
        .unwrap();
    let mut s = Session::connect(hisp.imap.unwrap(), WINDOW).await.unwrap();
    assert!(
        s.starttls(&harness_connector().unwrap(), "localhost")
            .await
            .unwrap()
            .ok()
    );
    assert!(
        s.authenticate_plain(USER, "secret", false)
            .await
            .unwrap()
            .ok()
    );
    let r = s.command("EXAMINE INBOX").await.unwrap();
    assert_eq!(r.code_number("UIDVALIDITY"), Some(validity));
    let r = s.command("UID FETCH 1:* (UID FLAGS)").await.unwrap();
    let uids: Vec<u32> = r.fetched().iter().filter_map(|f| f.uid).collect();
    assert_eq!(uids, vec![1, 3, 4], "{}", s.transcript);
    assert!(r.fetched()[0].seen(), "\\Seen kept in the Maildir");
    assert!(
        s.command("STORE 1 -FLAGS (\\Seen)").await.unwrap().is("NO"),
        "read-only"
    );
    // Idle past command_secs: BYE, then the connection closes.
    let bye = s.response().await.unwrap();
    assert!(bye.text.starts_with("* BYE"), "{}", bye.text);
    assert!(s.closed(Duration::from_secs(5)).await);
    hisp.shutdown().await;
}

/// The harness's read-only mailbox reader (retrieval kind `imap`): every message, over
/// STARTTLS, without marking anything seen; a second poll reads only what is new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harness_reader_leaves_the_mailbox_as_it_was() {
    const USER: &str = "recipient@sut.direct.test";
    let dir = tempfile::tempdir().unwrap();
    let hisp = Hisp::start(settings(&imap_config(dir.path(), 30)))
        .await
        .expect("start");
    let addr = hisp.imap.unwrap();
    let empty = direct_conformance::sut::imap::fetch(addr, USER, "secret", WINDOW)
        .await
        .unwrap();
    assert!(empty.messages.is_empty(), "{}", empty.transcript);
    hisp.core
        .maildir
        .deliver(USER, b"Subject: a\r\n\r\none\r\n")
        .unwrap();
    hisp.core
        .maildir
        .deliver(USER, b"Subject: b\r\n\r\ntwo\r\n")
        .unwrap();
    let m = direct_conformance::sut::imap::fetch(addr, USER, "secret", WINDOW)
        .await
        .unwrap();
    assert_eq!(m.messages.len(), 2, "{}", m.transcript);
    assert_eq!(m.messages[1], b"Subject: b\r\n\r\ntwo\r\n");
    assert!(
        m.transcript.contains("# TLS established"),
        "{}",
        m.transcript
    );
    assert!(!m.transcript.contains("secret"), "{}", m.transcript);
    let again = direct_conformance::sut::imap::fetch(addr, USER, "secret", WINDOW)
        .await
        .unwrap();
    assert_eq!(again.messages, m.messages);
    assert!(
        again
            .transcript
            .contains("2 message(s) read by an earlier poll"),
        "{}",
        again.transcript
    );
    // Nothing was marked seen and the messages are still new (EXAMINE, BODY.PEEK).
    for stored in hisp.core.maildir.list(USER).unwrap() {
        assert!(
            direct_conformance::hisp::maildir::is_new(&stored),
            "{stored:?}"
        );
    }
    let wrong = direct_conformance::sut::imap::fetch(addr, USER, "wrong", WINDOW).await;
    assert!(wrong.unwrap_err().to_string().contains("LOGIN"));
    hisp.shutdown().await;
}
