//! The reference HISP as a publisher (`[publish]`) and its POP3 door, over real sockets: the
//! clean HISP passes every hosting check H1–H8 of the discovery library against its own DNS
//! server and LDAP directory, and each publishing fault switch fails the case it aims at; each
//! POP3 fault switch breaks the behaviour it names.

mod hisp_common;

use std::time::Duration;

use direct_conformance::discovery::{DiscoveryConfig, HostingChecker, HostingReport, Timeouts};
use direct_conformance::hisp::{Hisp, HispHandle};
use direct_conformance::sut::pop3::{Session, Status, harness_connector};
use direct_conformance::trust::TrustAnchor;
use hisp_common::*;

const PUBLISH: &str = r#"
[publish]
dns = "127.0.0.1:0"
ldap = "127.0.0.1:0"
expired = ["pki:D1_invC", "pki:D1_invB"]
weak = ["pki:sender_rsa1024"]
"#;

const ADDRESS: &str = "recipient@sut.direct.test";
const DOMAIN: &str = "sut.direct.test";

async fn publisher(dir: &std::path::Path, faults: &[&str]) -> HispHandle {
    let text = format!("{}{PUBLISH}", sut_toml(dir, &[], faults));
    Hisp::start(settings(&text)).await.expect("start")
}

fn checker(h: &HispHandle) -> HostingChecker {
    let dns = h
        .published
        .as_ref()
        .and_then(|p| p.dns)
        .expect("the DNS server of [publish]");
    let root = direct_conformance::pki::ReferencePki::load_default()
        .expect("pki")
        .anchor()
        .expect("anchor")
        .certificate
        .clone();
    let mut c = DiscoveryConfig::new(dns, vec![TrustAnchor::from_certificate(root)]);
    c.timeouts = Timeouts {
        dns: Duration::from_secs(2),
        dns_attempts: 2,
        ldap_connect: Duration::from_secs(2),
        ldap_operation: Duration::from_secs(2),
        http: Duration::from_secs(2),
        total: Duration::from_secs(10),
    };
    HostingChecker::new(c).expect("resolver")
}

fn explain(r: &HostingReport) -> String {
    serde_json::to_string_pretty(r).unwrap_or_default()
}

/// H1–H4 in order.
async fn found(h: &HostingChecker) -> Vec<HostingReport> {
    vec![
        h.dns("H1", ADDRESS).await,
        h.dns("H2", DOMAIN).await,
        h.ldap("H3", ADDRESS).await,
        h.ldap("H4", DOMAIN).await,
    ]
}

async fn profile(h: &HostingChecker, reports: &[HostingReport]) -> HostingReport {
    let certs: Vec<_> = reports
        .iter()
        .flat_map(|r| r.certificates.iter().map(|c| c.certificate.clone()))
        .collect();
    h.profile("H6", ADDRESS, &certs).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clean_publication_passes_h1_to_h8() {
    let dir = tempfile::tempdir().unwrap();
    let hisp = publisher(dir.path(), &[]).await;
    let h = checker(&hisp);
    let reports = found(&h).await;
    for r in &reports {
        assert!(r.passed, "{}", explain(r));
        assert_eq!(r.certificates.len(), 1, "{}", explain(r));
    }
    let r = h.ldap_no_entry("H5", "nobody@sut.direct.test").await;
    assert!(r.passed, "{}", explain(&r));
    let r = profile(&h, &reports).await;
    assert!(r.passed, "{}", explain(&r));
    for name in ["recipient.sut.direct.test", DOMAIN] {
        let r = h.cert_transport("H7", name).await;
        assert!(r.passed, "{}", explain(&r));
        // An RSA-2048 certificate does not fit 512 octets: TC without EDNS0.
        assert!(r.notes[0].contains("TC"), "{:?}", r.notes);
    }
    let r = h.mx("H8", DOMAIN).await;
    assert!(r.passed, "{}", explain(&r));
    hisp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_expired_cert_fails_h1_to_h4_and_h6() {
    let dir = tempfile::tempdir().unwrap();
    let hisp = publisher(dir.path(), &["publish-expired-cert"]).await;
    let h = checker(&hisp);
    let reports = found(&h).await;
    for r in &reports {
        assert!(!r.passed, "{}", explain(r));
        assert!(!r.certificates.is_empty(), "{}", explain(r));
    }
    let r = profile(&h, &reports).await;
    assert!(!r.passed, "{}", explain(&r));
    hisp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_weak_key_fails_h6_only() {
    let dir = tempfile::tempdir().unwrap();
    let hisp = publisher(dir.path(), &["publish-weak-key"]).await;
    let h = checker(&hisp);
    let reports = found(&h).await;
    for r in &reports {
        assert!(r.passed, "{}", explain(r));
    }
    let r = profile(&h, &reports).await;
    assert!(!r.passed, "{}", explain(&r));
    hisp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ldap_error_for_unknown_fails_h5() {
    let dir = tempfile::tempdir().unwrap();
    let hisp = publisher(dir.path(), &["ldap-error-for-unknown"]).await;
    let h = checker(&hisp);
    let r = h.ldap_no_entry("H5", "nobody@sut.direct.test").await;
    assert!(!r.passed, "{}", explain(&r));
    let r = h.ldap("H3", ADDRESS).await;
    assert!(r.passed, "known addresses still answer: {}", explain(&r));
    hisp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_no_truncation_fails_h7() {
    let dir = tempfile::tempdir().unwrap();
    let hisp = publisher(dir.path(), &["dns-no-truncation"]).await;
    let h = checker(&hisp);
    let r = h.cert_transport("H7", "recipient.sut.direct.test").await;
    assert!(!r.passed, "{}", explain(&r));
    hisp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_mx_fails_h8() {
    let dir = tempfile::tempdir().unwrap();
    let hisp = publisher(dir.path(), &["no-mx"]).await;
    let h = checker(&hisp);
    let r = h.mx("H8", DOMAIN).await;
    assert!(!r.passed, "{}", explain(&r));
    hisp.shutdown().await;
}

// ---- POP3 fault switches ----

const WINDOW: Duration = Duration::from_secs(10);

async fn pop3_hisp(dir: &std::path::Path, faults: &[&str]) -> HispHandle {
    std::fs::create_dir_all(dir).unwrap();
    Hisp::start(settings(&sut_toml(dir, &[], faults)))
        .await
        .expect("start")
}

async fn open(h: &HispHandle) -> Session {
    Session::connect(h.pop3.unwrap(), WINDOW).await.unwrap()
}

async fn secured(h: &HispHandle) -> Session {
    let mut s = open(h).await;
    let st = s
        .stls(&harness_connector().unwrap(), "localhost")
        .await
        .unwrap();
    assert!(st.ok, "{}", s.transcript);
    s
}

async fn logged_in(h: &HispHandle) -> Session {
    let mut s = secured(h).await;
    let st = s
        .login("recipient@sut.direct.test", "secret")
        .await
        .unwrap();
    assert!(st.ok, "{}", s.transcript);
    s
}

async fn cmd(s: &mut Session, c: &str) -> Status {
    s.command(c, c).await.unwrap()
}

fn deliver(h: &HispHandle, n: usize) {
    for i in 0..n {
        h.core
            .maildir
            .deliver(
                "recipient@sut.direct.test",
                format!("Message-ID: <m{i}@x>\r\n\r\nbody {i}\r\n").as_bytes(),
            )
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3_no_stls() {
    let dir = tempfile::tempdir().unwrap();
    let h = pop3_hisp(dir.path(), &["pop3-no-stls"]).await;
    let mut s = open(&h).await;
    assert!(!s.capa().await.unwrap().contains(&"STLS".to_string()));
    assert!(!cmd(&mut s, "STLS").await.ok);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3_user_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    for (faults, accepted) in [(&[][..], false), (&["pop3-user-in-clear"][..], true)] {
        let h = pop3_hisp(dir.path(), faults).await;
        let mut s = open(&h).await;
        let st = s
            .login("recipient@sut.direct.test", "secret")
            .await
            .unwrap();
        assert_eq!(st.ok, accepted, "{faults:?}: {}", s.transcript);
        h.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3_no_rset() {
    let dir = tempfile::tempdir().unwrap();
    for (faults, undone) in [(&[][..], true), (&["pop3-no-rset"][..], false)] {
        let h = pop3_hisp(&dir.path().join(faults.len().to_string()), faults).await;
        deliver(&h, 2);
        let mut s = logged_in(&h).await;
        assert!(cmd(&mut s, "DELE 1").await.ok);
        assert!(cmd(&mut s, "RSET").await.ok);
        let stat = cmd(&mut s, "STAT").await;
        assert_eq!(
            stat.text.starts_with("+OK 2 "),
            undone,
            "{faults:?}: {}",
            s.transcript
        );
        h.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3_no_noop() {
    let dir = tempfile::tempdir().unwrap();
    for (faults, ok) in [(&[][..], true), (&["pop3-no-noop"][..], false)] {
        let h = pop3_hisp(dir.path(), faults).await;
        let mut s = logged_in(&h).await;
        assert_eq!(cmd(&mut s, "NOOP").await.ok, ok, "{faults:?}");
        h.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3_unstable_uidl() {
    let dir = tempfile::tempdir().unwrap();
    for (faults, stable) in [(&[][..], true), (&["pop3-unstable-uidl"][..], false)] {
        let h = pop3_hisp(&dir.path().join(faults.len().to_string()), faults).await;
        deliver(&h, 1);
        let mut uids = Vec::new();
        for _ in 0..2 {
            let mut s = logged_in(&h).await;
            uids.push(cmd(&mut s, "UIDL 1").await.text);
            let _ = cmd(&mut s, "QUIT").await;
        }
        assert_eq!(uids[0] == uids[1], stable, "{faults:?}: {uids:?}");
        h.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3_accept_bad_password() {
    let dir = tempfile::tempdir().unwrap();
    for (faults, accepted) in [(&[][..], false), (&["pop3-accept-bad-password"][..], true)] {
        let h = pop3_hisp(dir.path(), faults).await;
        let mut s = secured(&h).await;
        let st = s.login("recipient@sut.direct.test", "wrong").await.unwrap();
        assert_eq!(st.ok, accepted, "{faults:?}");
        h.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3_lenient_commands() {
    let dir = tempfile::tempdir().unwrap();
    for (faults, lenient) in [(&[][..], false), (&["pop3-lenient-commands"][..], true)] {
        let h = pop3_hisp(dir.path(), faults).await;
        let mut s = secured(&h).await;
        assert_eq!(cmd(&mut s, "RETR 1").await.ok, lenient, "{faults:?}");
        assert_eq!(cmd(&mut s, "XYZZY").await.ok, lenient, "{faults:?}");
        h.shutdown().await;
    }
}

// ---- third-party clients against the publication ----

async fn tool(name: &str, args: &[String]) -> String {
    let mut cmd = tokio::process::Command::new(name);
    cmd.args(args).kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(20), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{name} {args:?} did not finish in time"))
        .unwrap_or_else(|e| panic!("cannot run {name} ({e}); install it with scripts/setup"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dig_and_ldapsearch_read_the_publication() {
    let dir = tempfile::tempdir().unwrap();
    let hisp = publisher(dir.path(), &[]).await;
    let p = hisp.published.as_ref().unwrap();
    let (dns, ldap) = (p.dns.unwrap(), p.ldap.unwrap());
    let dig = |q: &[&str]| {
        let mut a = vec![
            "@127.0.0.1".to_string(),
            "-p".into(),
            dns.port().to_string(),
            "+time=3".into(),
            "+tries=1".into(),
        ];
        a.extend(q.iter().map(|s| s.to_string()));
        a
    };
    let srv = tool(
        "dig",
        &dig(&["+short", "SRV", "_ldap._tcp.sut.direct.test"]),
    )
    .await;
    assert_eq!(
        srv.trim(),
        format!("0 0 {} ldap.sut.direct.test.", ldap.port())
    );
    let mx = tool("dig", &dig(&["+short", "MX", "sut.direct.test"])).await;
    assert_eq!(mx.trim(), "10 sut.direct.test.");
    // Without EDNS0 the CERT answer does not fit: dig sees TC and retries over TCP itself.
    let cert = tool(
        "dig",
        &dig(&["+noedns", "CERT", "recipient.sut.direct.test"]),
    )
    .await;
    assert!(cert.contains("Truncated, retrying in TCP mode"), "{cert}");
    assert!(cert.contains("IN\tCERT\tPKIX"), "{cert}");
    let nx = tool("dig", &dig(&["A", "nobody.sut.direct.test"])).await;
    assert!(nx.contains("status: NXDOMAIN"), "{nx}");
    let url = format!("ldap://127.0.0.1:{}", ldap.port());
    let found = tool(
        "ldapsearch",
        &[
            "-x",
            "-LLL",
            "-H",
            &url,
            "-b",
            "ou=sut.direct.test",
            "(mail=recipient@sut.direct.test)",
            "userCertificate;binary",
        ]
        .map(String::from),
    )
    .await;
    assert!(
        found.contains("dn: cn=recipient@sut.direct.test,ou=sut.direct.test"),
        "{found}"
    );
    assert!(found.contains("userCertificate;binary:: MII"), "{found}");
    let root = tool(
        "ldapsearch",
        &[
            "-x",
            "-LLL",
            "-H",
            &url,
            "-s",
            "base",
            "-b",
            "",
            "namingContexts",
        ]
        .map(String::from),
    )
    .await;
    assert!(
        root.contains("namingContexts: ou=sut.direct.test"),
        "{root}"
    );
    hisp.shutdown().await;
}
