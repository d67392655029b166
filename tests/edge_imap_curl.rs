//! The harness IMAP edge server (EDGE-SRV, IMAP19-27) read by an independent client, `curl`
//! (a missing curl fails the test): STARTTLS with the harness certificate, AUTHENTICATE PLAIN,
//! LIST, SELECT and EXAMINE of mixed-case folders, UID FETCH of the exact octets, UID SEARCH,
//! UID STORE, NOOP.

use std::net::IpAddr;
use std::process::Command;
use std::time::Duration;

use direct_conformance::pki::ReferencePki;
use direct_conformance::sut::edge_server::imap::{Folder, ImapEdgeServer, Script};
use direct_conformance::sut::edge_server::smtp::Account;
use direct_conformance::sut::edge_server::{ServerCert, acceptor};

fn curl(args: &[&str]) -> std::process::Output {
    Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("`curl` must be installed for this test: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_reads_the_harness_imap_server_over_starttls() {
    direct_conformance::trust::fetch::install_crypto_provider();
    let pki = ReferencePki::load_default().expect("reference PKI");
    let account = Account {
        user: "imaptesting@edge.direct.test".into(),
        password: "pw-curl".into(),
    };
    let message = b"Subject: one\r\nMessage-ID: <1@edge>\r\n\r\nfirst body\r\n".to_vec();
    let other = b"Subject: two\r\n\r\nin folder2\r\n".to_vec();
    let server = ImapEdgeServer::start(
        IpAddr::from([127, 0, 0, 1]),
        acceptor(&pki, ServerCert::Good).expect("acceptor"),
        account.clone(),
        vec![
            Folder {
                name: "INBOX".into(),
                messages: vec![message.clone(), b"Subject: 2\r\n\r\nx\r\n".to_vec()],
            },
            Folder {
                name: "folder2".into(),
                messages: vec![other.clone()],
            },
        ],
        Script::default(),
    )
    .await
    .expect("server starts");
    let port = server.addr.port();
    let anchor = pki.dir.join("HARNESS-TRUST-ANCHOR.pem");
    let base = format!("imap://edge.direct.test:{port}");
    let resolve = format!("edge.direct.test:{port}:127.0.0.1");
    let user = format!("{}:{}", account.user, account.password);

    let outs = tokio::task::spawn_blocking(move || {
        let a = anchor.display().to_string();
        let common = [
            "--ssl-reqd",
            "--cacert",
            &a,
            "--resolve",
            &resolve,
            "-u",
            &user,
        ];
        let run = |extra: &[&str]| {
            let mut args: Vec<&str> = common.to_vec();
            args.extend_from_slice(extra);
            curl(&args)
        };
        vec![
            run(&[&format!("{base}/")]),
            run(&[&format!("{base}/INBOX;UID=1")]),
            run(&[&format!("{base}/folder2;UID=1")]),
            run(&["-X", "UID SEARCH ALL", &format!("{base}/inbox")]),
            run(&[
                "-X",
                "UID STORE 2 +FLAGS (\\Flagged)",
                &format!("{base}/INBOX"),
            ]),
            run(&["-X", "NOOP", &format!("{base}/INBOX")]),
            run(&["-X", "EXAMINE folder2", &format!("{base}/")]),
        ]
    })
    .await
    .expect("curl runs");
    for o in &outs {
        assert!(
            o.status.success(),
            "curl failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let list = String::from_utf8_lossy(&outs[0].stdout);
    assert!(
        list.contains("\"INBOX\"") && list.contains("\"folder2\""),
        "{list}"
    );
    assert_eq!(outs[1].stdout, message);
    assert_eq!(outs[2].stdout, other);
    let search = String::from_utf8_lossy(&outs[3].stdout);
    assert!(search.contains("* SEARCH 1 2"), "{search}");

    let store = String::from_utf8_lossy(&outs[4].stdout);
    assert!(
        store.contains("* 2 FETCH (UID 2 FLAGS (\\Flagged))"),
        "{store}"
    );
    let examine = String::from_utf8_lossy(&outs[6].stdout);
    assert!(
        examine.contains("* 1 EXISTS") && examine.contains("UIDVALIDITY"),
        "{examine}"
    );

    let sessions = server.settle(7, Duration::from_secs(10)).await;
    assert_eq!(sessions.len(), 7);
    for s in &sessions {
        assert!(
            s.tls && s.authenticated && !s.credentials_in_clear,
            "{}",
            s.transcript
        );
        assert_eq!(s.mechanism.as_deref(), Some("PLAIN"), "{}", s.transcript);
    }
    assert!(
        sessions
            .iter()
            .any(|s| s.fetched.contains(&("folder2".into(), 1)))
    );
    assert!(
        sessions
            .iter()
            .any(|s| s.fetched.contains(&("INBOX".into(), 1)))
    );
}
