//! The mock discovery world driven by third-party clients over real sockets: `dig` (bind9-
//! dnsutils), `ldapsearch` (ldap-utils) and `curl`. A missing tool fails the test (run
//! `scripts/setup`), it never skips.

use std::net::SocketAddr;
use std::process::Output;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine;
use der::Decode;
use direct_conformance::env::{EventKind, Transport, World, WorldConfig, WorldHandle};
use direct_conformance::pki::ReferencePki;

/// No client call may hang a test run.
const TOOL_TIMEOUT: Duration = Duration::from_secs(20);

fn pki() -> Arc<ReferencePki> {
    static PKI: OnceLock<Arc<ReferencePki>> = OnceLock::new();
    PKI.get_or_init(|| Arc::new(ReferencePki::load_default().expect("test PKI")))
        .clone()
}

fn der(name: &str) -> Vec<u8> {
    pki()
        .credential(name)
        .unwrap_or_else(|| panic!("no credential {name}"))
        .certificate_der
        .clone()
}

async fn world() -> WorldHandle {
    let config = WorldConfig {
        pki: Some(pki()),
        ..WorldConfig::ephemeral()
    };
    World::start(config).await.expect("world starts")
}

async fn run(tool: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new(tool);
    cmd.args(args).kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.output();
    match tokio::time::timeout(TOOL_TIMEOUT, child).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => panic!("cannot run {tool} ({e}); install it with scripts/setup"),
        Err(_) => panic!("{tool} {args:?} did not finish within {TOOL_TIMEOUT:?}"),
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn dig(w: &WorldHandle, extra: &[&str]) -> String {
    let port = w.dns.port().to_string();
    let mut args = vec!["@127.0.0.1", "-p", port.as_str(), "+time=3", "+tries=1"];
    args.extend_from_slice(extra);
    let out = run("dig", &args, &[]).await;
    assert!(
        out.status.success(),
        "dig {extra:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out)
}

/// The certificates of `+short CERT` output lines (`PKIX tag alg base64 with spaces`).
fn short_certs(text: &str) -> Vec<Vec<u8>> {
    text.lines()
        .filter(|l| l.starts_with("PKIX "))
        .map(|l| {
            let b64: String = l.split_whitespace().skip(3).collect();
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("base64 certificate")
        })
        .collect()
}

fn flags_line(text: &str) -> String {
    text.lines()
        .find(|l| l.starts_with(";; flags:"))
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cert_over_udp_is_truncated_and_complete_over_tcp() {
    let w = world().await;
    for (owner, cred) in [("d1.domain1", "D1_valA"), ("d14.domain1", "D14_valA")] {
        let name = format!("{owner}.direct.test");
        for edns in ["+edns=0", "+noedns"] {
            let udp = dig(&w, &[edns, "+ignore", "CERT", &name]).await;
            let flags = flags_line(&udp);
            assert!(flags.contains(" tc"), "{name} {edns} over UDP: {flags}");
            assert!(flags.contains(" aa"), "{flags}");
        }
        let tcp = dig(&w, &["+tcp", "+short", "CERT", &name]).await;
        assert_eq!(short_certs(&tcp), vec![der(cred)], "{name} over TCP");
        // dig's own retry: UDP truncated, then TCP with the full answer
        let retried = dig(&w, &["+short", "CERT", &name]).await;
        assert_eq!(short_certs(&retried), vec![der(cred)]);
    }
    let events = w.log.snapshot();
    let dns: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Dns(d) if d.name.starts_with("d14.") => Some(d),
            _ => None,
        })
        .collect();
    assert!(
        dns.iter()
            .any(|d| d.transport == Transport::Udp && d.truncated && d.qtype == "CERT")
    );
    // without EDNS0 as well as with it
    let udp_tc = |with_edns: bool| {
        dns.iter().any(|d| {
            d.transport == Transport::Udp && d.truncated && d.edns_payload.is_some() == with_edns
        })
    };
    assert!(udp_tc(false) && udp_tc(true));
    assert!(
        dns.iter()
            .any(|d| d.transport == Transport::Tcp && d.answers == 1 && d.rcode == "NOERROR")
    );
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn srv_mx_a_cname_and_negative_answers() {
    let w = world().await;
    let l1 = w.ldap_addr("L1").expect("L1").port();
    let l2 = w.ldap_addr("L2").expect("L2").port();
    let srv = dig(&w, &["+short", "SRV", "_ldap._tcp.domain2.direct.test"]).await;
    let mut lines: Vec<_> = srv.lines().map(str::to_string).collect();
    lines.sort();
    assert_eq!(
        lines,
        vec![
            format!("0 0 {l1} ldap.direct.test."),
            format!("1 0 {l2} ldap.direct.test.")
        ]
    );
    let srv5 = dig(&w, &["+short", "SRV", "_ldap._tcp.domain5.direct.test"]).await;
    let l3 = w.ldap_addr("L3").expect("L3").port();
    assert!(
        srv5.contains(&format!("0 100 {l3} ldap.direct.test.")),
        "{srv5}"
    );

    let mx = dig(&w, &["+short", "MX", "domain4.direct.test"]).await;
    assert_eq!(mx.trim(), "10 domain4.direct.test.");
    let a = dig(&w, &["+short", "A", "ldap.direct.test"]).await;
    assert_eq!(a.trim(), "127.0.0.1");

    // D29: the CNAME and the certificate behind it
    let cname = dig(
        &w,
        &[
            "+tcp",
            "+noall",
            "+answer",
            "CERT",
            "d29.domain21.direct.test",
        ],
    )
    .await;
    let first = cname.lines().next().unwrap_or_default();
    assert!(
        first.contains("CNAME") && first.ends_with("certs.domain21.direct.test."),
        "{cname}"
    );
    let short = dig(&w, &["+tcp", "+short", "CERT", "d29.domain21.direct.test"]).await;
    assert_eq!(short_certs(&short), vec![der("D29_valA")]);

    // D28: mixed case finds the same records
    let mixed = dig(&w, &["+tcp", "+short", "CERT", "D28.Domain20.Direct.Test"]).await;
    assert_eq!(short_certs(&mixed), vec![der("D28_valA")]);

    // added zones: NXDOMAIN; DCDT zones: NOERROR, empty, SOA in authority
    let nx = dig(&w, &["CERT", "d31.domain23.direct.test"]).await;
    assert!(nx.contains("status: NXDOMAIN"), "{nx}");
    let dcdt = dig(&w, &["CERT", "d2.domain1.direct.test"]).await;
    assert!(dcdt.contains("status: NOERROR"), "{dcdt}");
    assert!(dcdt.contains("ANSWER: 0, AUTHORITY: 1"), "{dcdt}");
    assert!(dcdt.contains("IN\tSOA\tns1.direct.test."), "{dcdt}");
    let unavailable = dig(&w, &["A", "ldap-unavailable.direct.test"]).await;
    assert!(unavailable.contains("status: NOERROR") && unavailable.contains("ANSWER: 0"));
    let outside = dig(&w, &["A", "example.org"]).await;
    assert!(outside.contains("status: REFUSED"), "{outside}");

    // added zones honour EDNS0: a 4096-byte buffer takes the certificate whole over UDP
    let edns = dig(
        &w,
        &[
            "+bufsize=4096",
            "+ignore",
            "CERT",
            "d28.domain20.direct.test",
        ],
    )
    .await;
    let flags = flags_line(&edns);
    assert!(
        !flags.contains(" tc") && edns.contains("ANSWER: 1,"),
        "{edns}"
    );

    // D23: IPKIX carries the URL with the actual HTTP port
    let ipkix = dig(&w, &["+short", "CERT", "d23.domain15.direct.test"]).await;
    let b64: String = ipkix.split_whitespace().skip(3).collect();
    let url = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("b64");
    assert_eq!(
        String::from_utf8_lossy(&url),
        format!(
            "http://pki.direct.test:{}/ipkix/D23_valA.cer",
            w.http.port()
        )
    );
    w.shutdown().await;
}

async fn ldapsearch(addr: SocketAddr, args: &[&str]) -> Output {
    let url = format!("ldap://{addr}");
    let mut all = vec![
        "-x",
        "-LLL",
        "-o",
        "ldif-wrap=no",
        "-o",
        "nettimeout=2",
        "-H",
        url.as_str(),
    ];
    all.extend_from_slice(args);
    run("ldapsearch", &all, &[("LDAPTIMEOUT", "2")]).await
}

/// Values of `attr:: base64` lines.
fn binary_values(text: &str, attr: &str) -> Vec<Vec<u8>> {
    let prefix = format!("{attr}:: ");
    text.lines()
        .filter_map(|l| l.strip_prefix(prefix.as_str()))
        .map(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .expect("base64")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ldap_root_dse_and_search_through_srv() {
    let w = world().await;
    // D3: the server that _ldap._tcp.domain2 names first
    let srv = dig(&w, &["+short", "SRV", "_ldap._tcp.domain2.direct.test"]).await;
    let port: u16 = srv
        .lines()
        .find(|l| l.starts_with("0 "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|p| p.parse().ok())
        .expect("priority 0 SRV");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let dse = ldapsearch(addr, &["-b", "", "-s", "base", "namingContexts"]).await;
    assert!(dse.status.success(), "{dse:?}");
    assert!(
        stdout(&dse).contains("namingContexts: ou=dcdt"),
        "{}",
        stdout(&dse)
    );

    let filter = "(&(mail=d3@domain2.direct.test)(|(userCertificate;binary=*)(userCertificate=*)))";
    let found = ldapsearch(
        addr,
        &[
            "-b",
            "ou=dcdt",
            "-s",
            "sub",
            filter,
            "userCertificate;binary",
        ],
    )
    .await;
    assert!(found.status.success(), "{found:?}");
    let text = stdout(&found);
    assert_eq!(
        binary_values(&text, "userCertificate;binary"),
        vec![der("D3_valC")],
        "{text}"
    );
    assert!(!text.contains("\nmail:"), "attribute selection: {text}");
    // the bare form and the plain attribute name
    let bare = ldapsearch(
        addr,
        &[
            "-b",
            "ou=dcdt",
            "(mail=d3@domain2.direct.test)",
            "userCertificate",
        ],
    )
    .await;
    assert_eq!(
        binary_values(&stdout(&bare), "userCertificate"),
        vec![der("D3_valC")]
    );

    // D32: three naming contexts, one denied, one empty
    let l6 = w.ldap_addr("L6").expect("L6");
    let dse6 = stdout(&ldapsearch(l6, &["-b", "", "-s", "base", "namingContexts"]).await);
    let contexts: Vec<_> = dse6
        .lines()
        .filter_map(|l| l.strip_prefix("namingContexts: "))
        .collect();
    assert_eq!(contexts, ["ou=denied", "ou=empty", "ou=dcdt"]);
    let mail = "(mail=d32@domain24.direct.test)";
    let denied = ldapsearch(l6, &["-b", "ou=denied", mail]).await;
    assert_eq!(
        denied.status.code(),
        Some(50),
        "insufficientAccessRights: {denied:?}"
    );
    let empty = ldapsearch(l6, &["-b", "ou=empty", mail]).await;
    assert!(
        empty.status.success() && stdout(&empty).trim().is_empty(),
        "{empty:?}"
    );
    let hit = ldapsearch(l6, &["-b", "ou=dcdt", mail, "userCertificate;binary"]).await;
    assert_eq!(
        binary_values(&stdout(&hit), "userCertificate;binary"),
        vec![der("D32_valC")]
    );

    // D26: an entry with mail and no certificate
    let l4 = w.ldap_addr("L4").expect("L4");
    let nocert =
        stdout(&ldapsearch(l4, &["-b", "ou=dcdt", "(mail=d26@domain18.direct.test)"]).await);
    assert!(
        nocert.contains("cn: D26_noCert") && !nocert.contains("userCertificate"),
        "{nocert}"
    );

    let searches = w
        .log
        .snapshot()
        .into_iter()
        .filter(|e| matches!(&e.kind, EventKind::Ldap(l) if l.server == "L6" && matches!(l.op, direct_conformance::env::LdapOpKind::Search { .. })))
        .count();
    assert_eq!(searches, 4, "root DSE + three contexts logged");
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_port_refuses_and_tarpit_times_out() {
    let w = world().await;
    let closed = w.ldap_addr("closed").expect("closed");
    let started = std::time::Instant::now();
    let refused = ldapsearch(closed, &["-b", "", "-s", "base"]).await;
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("Can't contact LDAP server"),
        "{refused:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refusal is immediate"
    );

    let tarpit = w.ldap_addr("tarpit").expect("tarpit");
    let started = std::time::Instant::now();
    let timed_out = ldapsearch(tarpit, &["-b", "", "-s", "base"]).await;
    assert!(!timed_out.status.success());
    assert!(
        String::from_utf8_lossy(&timed_out.stderr).contains("Timed out"),
        "{timed_out:?}"
    );
    assert!(started.elapsed() >= Duration::from_secs(2));
    let connected = w.log.snapshot().iter().any(|e| {
        matches!(&e.kind, EventKind::Ldap(l) if l.server == "tarpit" && l.op == direct_conformance::env::LdapOpKind::Connect)
    });
    assert!(connected, "the tarpit accepted the connection");
    w.shutdown().await;
}

async fn curl(w: &WorldHandle, path: &str, dir: &std::path::Path) -> (String, Vec<u8>) {
    let url = format!("http://{}{path}", w.http);
    let file = dir.join("body");
    let file_s = file.to_string_lossy().to_string();
    let out = run(
        "curl",
        &[
            "-s",
            "--max-time",
            "5",
            "-o",
            &file_s,
            "-w",
            "%{http_code} %{content_type}",
            &url,
        ],
        &[],
    )
    .await;
    assert!(out.status.success(), "curl {url}: {out:?}");
    let body = std::fs::read(&file).unwrap_or_default();
    let _ = std::fs::remove_file(&file);
    (stdout(&out), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pki_http_serves_crls_certificates_and_404s() {
    let w = world().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (status, body) = curl(&w, "/direct.test_ca_root.crl", dir.path()).await;
    assert_eq!(status, "200 application/pkix-crl");
    let crl: x509_cert::crl::CertificateList = der::Decode::from_der(&body).expect("CRL parses");
    let revoked = crl.tbs_cert_list.revoked_certificates.unwrap_or_default();
    assert!(revoked.len() >= 3, "D17_invB, D17_invC, D34_invA at least");

    let (status, body) = curl(&w, "/direct.test_ca_intermediate1.cer", dir.path()).await;
    assert_eq!(status, "200 application/pkix-cert");
    assert_eq!(body, der("direct.test_ca_intermediate1"));
    let (status, body) = curl(&w, "/ipkix/D23_valA.cer", dir.path()).await;
    assert_eq!(status, "200 application/pkix-cert");
    assert_eq!(body, der("D23_valA"));
    let (status, body) = curl(&w, "/direct.test_ca_intermediate2.p7c", dir.path()).await;
    assert_eq!(status, "200 application/pkcs7-mime");
    let info = cms::content_info::ContentInfo::from_der(&body).expect("p7c parses");
    assert_eq!(info.content_type, const_oid::db::rfc5911::ID_SIGNED_DATA);
    let (status, _) = curl(&w, "/bundles/direct-test.p7b", dir.path()).await;
    assert_eq!(status, "200 application/pkcs7-mime");
    for missing in ["/missing.cer", "/nothing-here", "/direct.test_ca_root.pem"] {
        let (status, _) = curl(&w, missing, dir.path()).await;
        assert!(status.starts_with("404"), "{missing}: {status}");
    }
    let http: Vec<_> = w
        .log
        .snapshot()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Http(h) => Some((h.path, h.status)),
            _ => None,
        })
        .collect();
    assert!(http.contains(&("/direct.test_ca_root.crl".to_string(), 200)));
    assert!(http.contains(&("/missing.cer".to_string(), 404)));
    w.shutdown().await;
}

/// Garbage on every port: the servers log or drop it and go on answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_input_never_stops_a_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let w = world().await;
    let junk: Vec<Vec<u8>> = vec![
        vec![],
        vec![0xff; 3],
        vec![
            0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
        ],
        // a header claiming 65535 questions
        vec![
            0x12, 0x34, 0x01, 0x00, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 3, b'f', b'o', b'o',
        ],
        (0..=255u8).cycle().take(4000).collect(),
    ];
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("udp");
    for j in &junk {
        let _ = udp.send_to(j, w.dns).await;
    }
    for target in [w.dns, w.http, w.ldap_addr("L1").expect("L1")] {
        for j in &junk {
            if let Ok(mut s) = tokio::net::TcpStream::connect(target).await {
                let _ = s.write_all(j).await;
                let _ = s.shutdown().await;
                let mut sink = Vec::new();
                let _ =
                    tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut sink)).await;
            }
        }
    }
    // an LDAP message far over the codec's limit
    if let Ok(mut s) = tokio::net::TcpStream::connect(w.ldap_addr("L1").expect("L1")).await {
        let mut big = vec![0x30, 0x84, 0x00, 0x10, 0x00, 0x00];
        big.extend(std::iter::repeat_n(0u8, 70_000));
        let _ = s.write_all(&big).await;
    }
    let tcp = dig(&w, &["+tcp", "+short", "CERT", "d1.domain1.direct.test"]).await;
    assert_eq!(short_certs(&tcp), vec![der("D1_valA")]);
    let a = dig(&w, &["+short", "A", "domain1.direct.test"]).await;
    assert_eq!(a.trim(), "127.0.0.1");
    let dse = ldapsearch(
        w.ldap_addr("L1").expect("L1"),
        &["-b", "", "-s", "base", "namingContexts"],
    )
    .await;
    assert!(dse.status.success(), "{dse:?}");
    let dir = tempfile::tempdir().expect("tempdir");
    let (status, _) = curl(&w, "/direct.test_ca_root.cer", dir.path()).await;
    assert_eq!(status, "200 application/pkix-cert");
    w.shutdown().await;
}
