//! Shared pieces of the reference-HISP tests: configurations, an SMTP sink, OpenSSL and
//! swaks drivers, and a hand-driven POP3 client. Missing tools fail the tests (never skip).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use direct_conformance::hisp::{HispConfig, Settings};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

pub fn certs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("reference-certs")
}

pub fn cert_pem(name: &str) -> PathBuf {
    certs().join(name).join("cert.pem")
}

pub fn key_pem(name: &str) -> PathBuf {
    certs().join(name).join("key.pem")
}

pub fn root_pem() -> PathBuf {
    certs().join("direct.test_ca_root").join("cert.pem")
}

/// The SUT-side HISP: `sut.direct.test`, recipient@ with password `secret`.
pub fn sut_toml(dir: &Path, statics: &[(&str, SocketAddr)], faults: &[&str]) -> String {
    let statics: Vec<String> = statics
        .iter()
        .map(|(d, a)| format!("\"{d}\" = \"{a}\""))
        .collect();
    let faults: Vec<String> = faults.iter().map(|f| format!("\"{f}\"")).collect();
    format!(
        r#"
hostname = "sut.direct.test"
maildir = "{maildir}"
transcript_dir = "{transcripts}"
audit_log = "{audit}"
faults = [{faults}]
tls = "pki:tls_sut"
crls = ["pki:direct.test_ca_root"]

[listen]
backbone = "127.0.0.1:0"
submission = "127.0.0.1:0"
pop3 = "127.0.0.1:0"

[resolver]
static = {{ {statics} }}

[timeouts]
client_secs = 10
delivery_attempts = 2
retry_delay_ms = 100
tick_ms = 50
trust_fetch_secs = 2

[[domain]]
name = "sut.direct.test"
signing = "pki:sut_domain"
incoming_anchors = ["pki:direct.test_ca_root"]
outgoing_anchors = ["pki:direct.test_ca_root"]

[[address]]
address = "recipient@sut.direct.test"
signing = "pki:sut_recipient"
password = "secret"

[certificates]
"hisp.direct.test" = ["pki:hisp_domain"]
"good@hisp.direct.test" = ["pki:hisp_good"]
"sender@hisp.direct.test" = ["pki:hisp_sender"]
"#,
        maildir = dir.join("maildir").display(),
        audit = dir.join("audit.jsonl").display(),
        transcripts = dir.join("transcripts").display(),
        faults = faults.join(", "),
        statics = statics.join(", "),
    )
}

pub fn settings(text: &str) -> Settings {
    HispConfig::parse(text)
        .expect("config parses")
        .load(Path::new("/"))
        .expect("config loads")
}

/// One message an SMTP sink received.
#[derive(Clone, Debug)]
pub struct Captured {
    pub from: String,
    pub rcpts: Vec<String>,
    pub data: Vec<u8>,
}

/// A plain SMTP server that accepts everything (a stand-in for the other HISP).
pub async fn sink() -> (SocketAddr, Arc<Mutex<Vec<Captured>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind sink");
    let addr = l.local_addr().expect("addr");
    let store = Arc::new(Mutex::new(Vec::new()));
    let s2 = store.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let store = s2.clone();
            tokio::spawn(async move {
                let (r, mut w) = tcp.into_split();
                let mut r = BufReader::new(r);
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                let mut cur = Captured {
                    from: String::new(),
                    rcpts: Vec::new(),
                    data: Vec::new(),
                };
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let up = line.to_ascii_uppercase();
                    let reply: &[u8] = if up.starts_with("EHLO") || up.starts_with("HELO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if up.starts_with("MAIL") {
                        cur.from = line[10..].trim().trim_matches(['<', '>']).to_string();
                        b"250 ok\r\n"
                    } else if up.starts_with("RCPT") {
                        cur.rcpts
                            .push(line[8..].trim().trim_matches(['<', '>']).to_string());
                        b"250 ok\r\n"
                    } else if up.starts_with("DATA") {
                        let _ = w.write_all(b"354 go\r\n").await;
                        let mut data = Vec::new();
                        loop {
                            let mut l = Vec::new();
                            if r.read_until(b'\n', &mut l).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if l == b".\r\n" {
                                break;
                            }
                            let l = l.strip_prefix(b".").map(<[u8]>::to_vec).unwrap_or(l);
                            data.extend_from_slice(&l);
                        }
                        cur.data = data;
                        store.lock().unwrap().push(cur.clone());
                        cur.rcpts.clear();
                        b"250 queued\r\n"
                    } else if up.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = w.write_all(reply).await;
                }
            });
        }
    });
    (addr, store)
}

/// Waits (bounded) until the sink holds `n` messages.
pub async fn sink_wait(
    store: &Arc<Mutex<Vec<Captured>>>,
    n: usize,
    within: Duration,
) -> Vec<Captured> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let got = store.lock().unwrap().clone();
        if got.len() >= n || tokio::time::Instant::now() >= deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} (is it installed?): {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A plain message, CRLF, asking for timely-and-reliable delivery when `request` is set.
pub fn plain_message(from: &str, to: &str, id: &str, subject: &str, request: bool) -> String {
    let req = if request {
        format!(
            "Disposition-Notification-To: {from}\r\nDisposition-Notification-Options: X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true\r\n"
        )
    } else {
        String::new()
    };
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Thu, 26 Nov 2026 03:00:00 +0000\r\nMessage-ID: {id}\r\n{req}MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nHello from the test.\r\n"
    )
}

/// A Direct message made by OpenSSL alone: wrapped, signed by `signer` (reference-PKI name),
/// encrypted to `recipient` (reference-PKI name), outer header added.
pub fn openssl_direct(
    dir: &Path,
    inner: &str,
    signer: &str,
    recipient: &str,
    from: &str,
    to: &str,
) -> PathBuf {
    openssl_direct_tampered(dir, inner, signer, recipient, from, to, None)
}

/// As `openssl_direct`, replacing `tamper.0` by `tamper.1` in the signed entity after signing
/// (a signature that no longer verifies).
pub fn openssl_direct_tampered(
    dir: &Path,
    inner: &str,
    signer: &str,
    recipient: &str,
    from: &str,
    to: &str,
    tamper: Option<(&str, &str)>,
) -> PathBuf {
    openssl_direct_algorithms(
        dir, inner, signer, recipient, from, to, tamper, "sha256", "-aes128",
    )
}

/// As `openssl_direct_tampered`, with the digest (`sha1`, `sha256`) and cipher flag
/// (`-aes128`, `-des3`) chosen.
#[allow(clippy::too_many_arguments)]
pub fn openssl_direct_algorithms(
    dir: &Path,
    inner: &str,
    signer: &str,
    recipient: &str,
    from: &str,
    to: &str,
    tamper: Option<(&str, &str)>,
    digest: &str,
    cipher: &str,
) -> PathBuf {
    let wrapped = dir.join("wrapped.eml");
    std::fs::write(
        &wrapped,
        format!("Content-Type: message/rfc822\r\n\r\n{inner}"),
    )
    .expect("write");
    let signed = dir.join("signed.eml");
    run(Command::new("openssl")
        .args(["cms", "-sign", "-md", digest, "-in"])
        .arg(&wrapped)
        .arg("-signer")
        .arg(cert_pem(signer))
        .arg("-inkey")
        .arg(key_pem(signer))
        .arg("-out")
        .arg(&signed));
    if let Some((a, b)) = tamper {
        let text = std::fs::read_to_string(&signed).expect("read signed");
        assert!(text.contains(a), "nothing to tamper with");
        std::fs::write(&signed, text.replace(a, b)).expect("write");
    }
    let enc = dir.join("enc.eml");
    run(Command::new("openssl")
        .args(["cms", "-encrypt", cipher, "-in"])
        .arg(&signed)
        .arg("-from")
        .arg(from)
        .arg("-to")
        .arg(to)
        .arg("-subject")
        .arg("direct")
        .arg("-out")
        .arg(&enc)
        .arg(cert_pem(recipient)));
    // swaks sends the file as is: make the line ends CRLF.
    let bytes = std::fs::read(&enc).expect("read");
    let text = String::from_utf8_lossy(&bytes)
        .replace("\r\n", "\n")
        .replace('\n', "\r\n");
    std::fs::write(&enc, text).expect("write");
    enc
}

/// swaks to the backbone (plain) or with STARTTLS and AUTH.
pub fn swaks(
    server: SocketAddr,
    from: &str,
    to: &str,
    data: &Path,
    extra: &[&str],
) -> std::process::Output {
    let mut c = Command::new("swaks");
    c.args([
        "--server",
        &server.ip().to_string(),
        "--port",
        &server.port().to_string(),
    ])
    .args(["--from", from, "--to", to, "--data"])
    .arg(data)
    .args(["--timeout", "30"])
    .args(extra);
    c.output()
        .unwrap_or_else(|e| panic!("cannot run swaks (is it installed?): {e}"))
}

/// Reads every message of a POP3 mailbox (STLS when offered, USER/PASS, STAT, RETR each,
/// QUIT), deleting each when `dele`.
pub async fn pop3_fetch(addr: SocketAddr, user: &str, pass: &str, dele: bool) -> Vec<Vec<u8>> {
    use direct_conformance::sut::pop3::{Session, harness_connector};
    let mut s = Session::connect(addr, Duration::from_secs(10))
        .await
        .expect("pop3 connect");
    let caps = s.capa().await.expect("CAPA");
    if caps.iter().any(|c| c == "STLS") {
        let c = harness_connector().expect("harness anchor");
        let st = s.stls(&c, "localhost").await.expect("STLS");
        assert!(st.ok, "{}", s.transcript);
    }
    let st = s.login(user, pass).await.expect("login");
    assert!(st.ok, "{}", s.transcript);
    let stat = s.command("STAT", "STAT").await.expect("STAT");
    let n: usize = stat
        .text
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap();
    let mut out = Vec::new();
    for i in 1..=n {
        let (st, m) = s
            .multiline(&format!("RETR {i}"), &format!("RETR {i}"))
            .await
            .expect("RETR");
        assert!(st.ok, "{}", s.transcript);
        out.push(m);
        if dele {
            let st = s
                .command(&format!("DELE {i}"), &format!("DELE {i}"))
                .await
                .expect("DELE");
            assert!(st.ok, "{}", s.transcript);
        }
    }
    let st = s.command("QUIT", "QUIT").await.expect("QUIT");
    assert!(st.ok, "{}", s.transcript);
    out
}

/// Decrypts with `recipient`'s key and verifies against the root with OpenSSL; returns the
/// signed content.
pub fn openssl_open(dir: &Path, sealed: &[u8], recipient: &str) -> String {
    let inp = dir.join("sealed-in.eml");
    std::fs::write(&inp, sealed).expect("write");
    let dec = dir.join("decrypted.eml");
    run(Command::new("openssl")
        .args(["cms", "-decrypt", "-in"])
        .arg(&inp)
        .arg("-recip")
        .arg(cert_pem(recipient))
        .arg("-inkey")
        .arg(key_pem(recipient))
        .arg("-out")
        .arg(&dec));
    let ver = dir.join("verified.eml");
    run(Command::new("openssl")
        .args(["cms", "-verify", "-in"])
        .arg(&dec)
        .arg("-CAfile")
        .arg(root_pem())
        .arg("-out")
        .arg(&ver));
    String::from_utf8_lossy(&std::fs::read(&ver).expect("read")).to_string()
}

/// A hand-driven SMTP session: sends each line, returns each reply (multi-line joined).
pub async fn smtp_script(addr: SocketAddr, lines: &[&[u8]]) -> Vec<String> {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let (r, mut w) = tcp.into_split();
    let mut r = BufReader::new(r);
    async fn reply(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> String {
        let mut all = String::new();
        loop {
            let mut l = String::new();
            let n = tokio::time::timeout(Duration::from_secs(10), r.read_line(&mut l))
                .await
                .map(|x| x.unwrap_or(0))
                .unwrap_or(0);
            if n == 0 {
                return all;
            }
            all.push_str(&l);
            if l.as_bytes().get(3) != Some(&b'-') {
                return all;
            }
        }
    }
    let mut out = vec![reply(&mut r).await];
    for l in lines {
        w.write_all(l).await.expect("write");
        out.push(reply(&mut r).await);
    }
    out
}

/// The harness-side HISP: `hisp.direct.test`, sender@ with password `secret`.
pub fn hisp_toml(dir: &Path, statics: &[(&str, SocketAddr)], faults: &[&str]) -> String {
    let statics: Vec<String> = statics
        .iter()
        .map(|(d, a)| format!("\"{d}\" = \"{a}\""))
        .collect();
    let faults: Vec<String> = faults.iter().map(|f| format!("\"{f}\"")).collect();
    format!(
        r#"
hostname = "hisp.direct.test"
maildir = "{maildir}"
audit_log = "{audit}"
faults = [{faults}]
tls = "pki:tls_hisp"
crls = ["pki:direct.test_ca_root"]

[listen]
backbone = "127.0.0.1:0"
submission = "127.0.0.1:0"
pop3 = "127.0.0.1:0"

[resolver]
static = {{ {statics} }}

[timeouts]
client_secs = 10
delivery_attempts = 2
retry_delay_ms = 100
tick_ms = 50
trust_fetch_secs = 2
processed_mdn_secs = 30
dispatched_mdn_secs = 30

[[domain]]
name = "hisp.direct.test"
signing = "pki:hisp_domain"
incoming_anchors = ["pki:direct.test_ca_root"]
outgoing_anchors = ["pki:direct.test_ca_root"]

[[address]]
address = "sender@hisp.direct.test"
signing = "pki:hisp_sender"
password = "secret"

[[address]]
address = "good@hisp.direct.test"
signing = "pki:hisp_good"
password = "secret"

[certificates]
"recipient@sut.direct.test" = ["pki:sut_recipient"]
"untrusted.direct.test" = ["pki:untrusted_domain"]
"#,
        maildir = dir.join("maildir").display(),
        audit = dir.join("audit.jsonl").display(),
        faults = faults.join(", "),
        statics = statics.join(", "),
    )
}

/// A message with a PDF-like attachment (multipart/mixed), asking for timely and reliable.
pub fn message_with_attachment(from: &str, to: &str, id: &str) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: with attachment\r\nDate: Thu, 26 Nov 2026 03:00:00 +0000\r\nMessage-ID: {id}\r\nDisposition-Notification-To: {from}\r\nDisposition-Notification-Options: X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nSee the attached document.\r\n--b1\r\nContent-Type: application/octet-stream; name=\"ccda.xml\"\r\nContent-Disposition: attachment; filename=\"ccda.xml\"\r\nContent-Transfer-Encoding: base64\r\n\r\nPENsaW5pY2FsRG9jdW1lbnQgeG1sbnM9InVybjpobDctb3JnOnYzIi8+\r\n--b1--\r\n"
    )
}
