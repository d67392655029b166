//! The SUT as edge client (TEST-CATALOGUE §c.5, SMTP8/15, POP19-27; `@needs-edge-client`): the
//! harness runs its own edge server, edge.direct.test, and makes the SUT's mail client talk to
//! it through the trigger `sut.toml [edge_client]` declares. Verdicts come from what the
//! harness's server saw, never from what the client says of itself.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

use cucumber::{given, then, when};
use direct_conformance::mdn::build::{MdnSpec, OriginalMessage, build_mdn, new_message_id};
use direct_conformance::mdn::disposition::DispositionKind;
use direct_conformance::sut::edge_server::pop3::{Pop3EdgeServer, Pop3Session, Script};
use direct_conformance::sut::edge_server::smtp::{Account, SmtpEdgeServer, SmtpSession};
use direct_conformance::sut::edge_server::{EDGE_HOST, ServerCert, acceptor};
use direct_conformance::sut::edge_trigger;

use super::world::DirectWorld;

/// How long the harness waits for the client's sessions to end after its job returned.
pub(super) const SETTLE: Duration = Duration::from_secs(10);

/// The edge-client cases' state in one scenario.
#[derive(Default)]
pub struct EcState {
    pub(super) cert: Option<ServerCert>,
    account: Option<Account>,
    smtp: Option<SmtpEdgeServer>,
    pop3: Option<Pop3EdgeServer>,
    mailbox: Vec<Vec<u8>>,
    script: Script,
    /// Message numbers the script refuses for good or for a first try.
    refused_once: BTreeSet<usize>,
    /// The SUT's jobs run so far.
    jobs: usize,
    /// The IMAP cases' part.
    pub(super) imap: super::edge_client_imap::ImapState,
}

impl std::fmt::Debug for EcState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcState")
            .field("cert", &self.cert)
            .field("jobs", &self.jobs)
            .finish()
    }
}

pub(super) fn account(w: &mut DirectWorld) -> Account {
    let corr = w.correlation_id.clone();
    w.ec.account
        .get_or_insert_with(|| Account {
            user: "edgeuser@edge.direct.test".into(),
            password: format!("pw-{corr}"),
        })
        .clone()
}

/// Where the harness edge server listens: the harness backbone's address (what the SUT can
/// reach), loopback when that is unspecified.
pub(super) fn bind(w: &DirectWorld) -> Result<IpAddr, String> {
    let ip = w.ctx()?.sut.harness_backbone.ip();
    Ok(if ip.is_unspecified() {
        IpAddr::from([127, 0, 0, 1])
    } else {
        ip
    })
}

pub(super) fn cert(text: &str) -> Result<ServerCert, String> {
    ServerCert::parse(text).ok_or_else(|| {
        format!("unknown certificate {text:?}: good, expired, wrongly named or self-signed")
    })
}

pub(super) fn tls(w: &DirectWorld) -> Result<tokio_rustls::TlsAcceptor, String> {
    let pki = w.ctx()?.pki.clone();
    acceptor(&pki, w.ec.cert.unwrap_or(ServerCert::Good)).map_err(|e| e.to_string())
}

/// Runs one job of the SUT's edge client against `server`, and records what it printed.
pub(super) async fn trigger(
    w: &mut DirectWorld,
    server: std::net::SocketAddr,
    mut vars: Vec<(String, String)>,
) -> Result<(), String> {
    let ctx = w.ctx()?;
    let t = ctx.sut.edge_client.clone().ok_or(
        "sut.toml has no [edge_client] command: the harness cannot make the SUT's edge client act",
    )?;
    let acc = account(w);
    let anchor = ctx.pki.dir.join("HARNESS-TRUST-ANCHOR.pem");
    vars.extend([
        ("DC_EDGE_SERVER".to_string(), server.to_string()),
        ("DC_EDGE_TLS_NAME".to_string(), EDGE_HOST.to_string()),
        ("DC_EDGE_CA".to_string(), anchor.display().to_string()),
        ("DC_EDGE_USER".to_string(), acc.user),
        ("DC_EDGE_PASSWORD".to_string(), acc.password),
    ]);
    let done = edge_trigger::run(&t, &vars).await;
    w.ec.jobs += 1;
    let n = w.ec.jobs;
    w.record(
        "edge-client",
        format!("the SUT's edge client, job {n}: `{}`", t.command),
        done.evidence(&vars),
    );
    if let Some(p) = done.problem {
        return Err(format!("the SUT's edge client job did not run: {p}"));
    }
    Ok(())
}

async fn smtp_server(w: &mut DirectWorld) -> Result<std::net::SocketAddr, String> {
    if let Some(s) = &w.ec.smtp {
        return Ok(s.addr);
    }
    let acc = account(w);
    let s = SmtpEdgeServer::start(bind(w)?, tls(w)?, acc)
        .await
        .map_err(|e| e.to_string())?;
    let addr = s.addr;
    w.ec.smtp = Some(s);
    Ok(addr)
}

async fn smtp_sessions(w: &mut DirectWorld) -> Result<Vec<SmtpSession>, String> {
    let s =
        w.ec.smtp
            .as_ref()
            .ok_or("the SUT's edge client was never asked to send")?;
    Ok(s.settle(1, SETTLE).await)
}

async fn pop3_sessions(w: &mut DirectWorld) -> Result<Vec<Pop3Session>, String> {
    let s =
        w.ec.pop3
            .as_ref()
            .ok_or("the SUT's edge client was never asked to retrieve")?;
    Ok(s.settle(1, SETTLE).await)
}

#[given(
    regex = r"^the harness edge server offers STARTTLS with an? (.+) certificate and AUTH PLAIN only$"
)]
async fn given_smtp(w: &mut DirectWorld, certificate: String) -> Result<(), String> {
    w.ec.cert = Some(cert(&certificate)?);
    Ok(())
}

#[when(
    regex = r"^the SUT's edge client sends (\d+) messages? (asking for timely and reliable delivery )?to (\S+)(?: and (\S+))? through it$"
)]
async fn when_send(
    w: &mut DirectWorld,
    count: usize,
    notify: String,
    to: String,
    also: String,
) -> Result<(), String> {
    let server = smtp_server(w).await?;
    let from = account(w).user;
    let mut rcpts = vec![to];
    if !also.is_empty() {
        rcpts.push(also);
    }
    let before = w.ec.smtp.as_ref().map(|s| s.sessions().len()).unwrap_or(0);
    trigger(
        w,
        server,
        vec![
            ("DC_EDGE_ACTION".into(), "send".into()),
            ("DC_EDGE_PROTOCOL".into(), "smtp".into()),
            ("DC_EDGE_FROM".into(), from),
            ("DC_EDGE_TO".into(), rcpts.join(",")),
            ("DC_EDGE_COUNT".into(), count.to_string()),
            ("DC_EDGE_NOTIFY".into(), (!notify.is_empty()).to_string()),
            (
                "DC_EDGE_SUBJECT".into(),
                format!("Referral {}", w.correlation_id),
            ),
        ],
    )
    .await?;
    let sessions = match &w.ec.smtp {
        Some(s) => s.settle(before + 1, SETTLE).await,
        None => Vec::new(),
    };
    for (i, s) in sessions.iter().enumerate().skip(before) {
        w.record(
            "smtp",
            format!("harness edge server: SMTP session {}", i + 1),
            s.transcript.clone(),
        );
    }
    Ok(())
}

#[then("the edge client secured the session with STARTTLS before it sent credentials")]
async fn then_starttls_first(w: &mut DirectWorld) -> Result<(), String> {
    let sessions = smtp_sessions(w).await?;
    if sessions.is_empty() {
        return Err("the SUT's edge client never connected to the harness edge server".into());
    }
    for (i, s) in sessions.iter().enumerate() {
        if s.credentials_in_clear {
            return Err(format!(
                "session {}: the client sent AUTH before STARTTLS (its credentials crossed the network in clear)",
                i + 1
            ));
        }
        if !s.tls {
            return Err(format!("session {}: the client never started TLS", i + 1));
        }
    }
    Ok(())
}

#[then("the edge client authenticated with PLAIN")]
async fn then_plain(w: &mut DirectWorld) -> Result<(), String> {
    for (i, s) in smtp_sessions(w).await?.iter().enumerate() {
        match (&s.mechanism, s.authenticated) {
            (Some(m), true) if m == "PLAIN" => {}
            (m, ok) => {
                return Err(format!(
                    "session {}: mechanism {m:?}, authenticated {ok}: expected AUTH PLAIN accepted",
                    i + 1
                ));
            }
        }
    }
    Ok(())
}

#[then(
    regex = r"^the harness edge server received (\d+) messages? for (\S+)(?: in (\d+) sessions)?$"
)]
async fn then_received(
    w: &mut DirectWorld,
    count: usize,
    to: String,
    sessions_wanted: String,
) -> Result<(), String> {
    let sessions = smtp_sessions(w).await?;
    let with: Vec<usize> = sessions
        .iter()
        .map(|s| {
            s.messages
                .iter()
                .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(&to)))
                .count()
        })
        .collect();
    let total: usize = with.iter().sum();
    if total != count {
        return Err(format!(
            "{total} message(s) for {to} arrived, expected {count} (per session: {with:?})"
        ));
    }
    if let Ok(n) = sessions_wanted.parse::<usize>() {
        let used = with.iter().filter(|c| **c > 0).count();
        if used != n {
            return Err(format!(
                "the messages came in {used} session(s), the case sent them in {n}"
            ));
        }
    }
    Ok(())
}

#[then("the harness edge server received no message")]
async fn then_received_none(w: &mut DirectWorld) -> Result<(), String> {
    let n: usize = smtp_sessions(w)
        .await?
        .iter()
        .map(|s| s.messages.len())
        .sum();
    if n > 0 {
        return Err(format!(
            "{n} message(s) arrived over a session the client should have abandoned"
        ));
    }
    Ok(())
}

#[then("the edge client abandoned the session before it sent credentials")]
async fn then_abandoned(w: &mut DirectWorld) -> Result<(), String> {
    let (smtp, pop3) = (w.ec.smtp.is_some(), w.ec.pop3.is_some());
    let mut seen = 0;
    if smtp {
        for (i, s) in smtp_sessions(w).await?.iter().enumerate() {
            seen += 1;
            if s.credentials_in_clear || s.authenticated || s.mechanism.is_some() {
                return Err(format!(
                    "SMTP session {}: the client sent its credentials to a server whose certificate it should have refused",
                    i + 1
                ));
            }
        }
    }
    if pop3 {
        for (i, s) in pop3_sessions(w).await?.iter().enumerate() {
            seen += 1;
            if s.credentials_in_clear || s.authenticated {
                return Err(format!(
                    "POP3 session {}: the client sent its credentials to a server whose certificate it should have refused",
                    i + 1
                ));
            }
        }
    }
    seen += super::edge_client_imap::abandoned(w).await?;
    if seen == 0 {
        return Err("the SUT's edge client never connected, so its refusal was not seen".into());
    }
    Ok(())
}

/// The Message-IDs of every captured message, in order.
async fn message_ids(w: &mut DirectWorld) -> Result<Vec<Option<String>>, String> {
    Ok(smtp_sessions(w)
        .await?
        .iter()
        .flat_map(|s| s.messages.iter())
        .map(|m| header(&m.data, "Message-ID"))
        .collect())
}

fn header(message: &[u8], name: &str) -> Option<String> {
    let parsed = mail_parser::MessageParser::default().parse(message)?;
    parsed
        .header_raw(name)
        .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// `<local@domain>` per RFC 5322 §3.6.4 (dot-atom or quoted local part, dot-atom or literal
/// domain), compared after unfolding.
fn well_formed_id(v: &str) -> bool {
    let Some(inner) = v.trim().strip_prefix('<').and_then(|r| r.strip_suffix('>')) else {
        return false;
    };
    let Some((l, d)) = inner.rsplit_once('@') else {
        return false;
    };
    let atom = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c))
            })
    };
    (atom(l) || (l.starts_with('"') && l.ends_with('"') && l.len() >= 2))
        && (atom(d) || (d.starts_with('[') && d.ends_with(']')))
}

#[then("their Message-IDs are well-formed and distinct")]
async fn then_ids(w: &mut DirectWorld) -> Result<(), String> {
    let ids = message_ids(w).await?;
    let mut seen = BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        let Some(id) = id else {
            return Err(format!("message {} has no Message-ID", i + 1));
        };
        if !well_formed_id(id) {
            return Err(format!(
                "message {}: Message-ID {id:?} is not <local@domain>",
                i + 1
            ));
        }
        if !seen.insert(id.to_ascii_lowercase()) {
            return Err(format!(
                "message {}: Message-ID {id} was used before",
                i + 1
            ));
        }
    }
    w.record(
        "edge-client",
        "Message-IDs of the captured messages",
        ids.iter()
            .map(|i| i.clone().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n"),
    );
    Ok(())
}

#[then("each message asks for timely and reliable delivery correctly")]
async fn then_request(w: &mut DirectWorld) -> Result<(), String> {
    let sessions = smtp_sessions(w).await?;
    let messages: Vec<&Vec<u8>> = sessions
        .iter()
        .flat_map(|s| s.messages.iter().map(|m| &m.data))
        .collect();
    if messages.is_empty() {
        return Err("no message arrived".into());
    }
    for (i, m) in messages.iter().enumerate() {
        let options = header(m, "Disposition-Notification-Options");
        let Some(options) = options else {
            return Err(format!(
                "message {}: no Disposition-Notification-Options header",
                i + 1
            ));
        };
        if !direct_conformance::validate::checks::headers::requests_final_delivery(&options) {
            return Err(format!(
                "message {}: Disposition-Notification-Options {options:?} does not parse to X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true",
                i + 1
            ));
        }
        if header(m, "Disposition-Notification-To").is_none() {
            return Err(format!("message {}: no Disposition-Notification-To", i + 1));
        }
    }
    Ok(())
}

// ---- POP3 ----

/// A small plain message for the edge user's mailbox.
pub(super) fn plain(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: <sender@hisp.direct.test>\r\nTo: <edgeuser@edge.direct.test>\r\nSubject: {subject}\r\nMessage-ID: {}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{body}\r\n",
        new_message_id("hisp.direct.test")
    )
    .into_bytes()
}

/// One multipart message with the given attachments (name, type, bytes), base64 encoded.
fn with_attachments(subject: &str, parts: &[(&str, &str, Vec<u8>)]) -> Vec<u8> {
    use base64::Engine;
    let boundary = "=_edge_content_variety";
    let mut m = format!(
        "From: <sender@hisp.direct.test>\r\nTo: <edgeuser@edge.direct.test>\r\nSubject: {subject}\r\nMessage-ID: {}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSee the attachments.\r\n",
        new_message_id("hisp.direct.test")
    );
    for (name, ctype, bytes) in parts {
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        m.push_str(&format!(
            "--{boundary}\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        ));
        for chunk in b64.as_bytes().chunks(76) {
            m.push_str(&String::from_utf8_lossy(chunk));
            m.push_str("\r\n");
        }
    }
    m.push_str(&format!("--{boundary}--\r\n"));
    m.into_bytes()
}

/// IHE XDM, C-CDA, XHTML and PDF shapes as NIST-EP IMAP/POP 27 lists them: small, synthetic,
/// and one message above 256 KiB.
pub(super) fn content_variety() -> Vec<Vec<u8>> {
    let ccda = br#"<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="CDA.xsl"?><ClinicalDocument xmlns="urn:hl7-org:v3"><title>Referral</title></ClinicalDocument>"#.to_vec();
    let bad_style = br#"<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="http://nowhere.invalid/missing.xsl"?><ClinicalDocument xmlns="urn:hl7-org:v3"/>"#.to_vec();
    let bad_xhtml = b"<html><body><p>unclosed <b>tags</body>".to_vec();
    // An empty ZIP archive (end-of-central-directory record only): the XDM media type matters
    // here, not its content.
    let mut zip = b"PK\x05\x06".to_vec();
    zip.extend_from_slice(&[0u8; 18]);
    let pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".to_vec();
    let large: Vec<u8> = (0..300 * 1024).map(|i| (i % 251) as u8).collect();
    vec![
        with_attachments(
            "C-CDA",
            &[("referral.xml", "application/xml", ccda.clone())],
        ),
        with_attachments("XDM", &[("xdm.zip", "application/zip", zip.clone())]),
        with_attachments(
            "several attachments",
            &[
                ("referral.xml", "text/xml", ccda),
                ("summary.pdf", "application/pdf", pdf),
                ("xdm.zip", "application/octet-stream", zip),
            ],
        ),
        with_attachments("bad stylesheet", &[("ccda.xml", "text/xml", bad_style)]),
        with_attachments(
            "bad XHTML",
            &[("note.html", "application/xhtml+xml", bad_xhtml)],
        ),
        with_attachments("large", &[("scan.bin", "application/octet-stream", large)]),
    ]
}

#[given(
    regex = r"^the harness POP3 server holds (\d+|the content-variety) messages? for the edge user behind STLS with an? (.+) certificate$"
)]
async fn given_pop3(w: &mut DirectWorld, count: String, certificate: String) -> Result<(), String> {
    w.ec.cert = Some(cert(&certificate)?);
    w.ec.mailbox = match count.parse::<usize>() {
        Ok(n) => (1..=n)
            .map(|i| plain(&format!("Result {i}"), "Lab result for the edge user."))
            .collect(),
        Err(_) => content_variety(),
    };
    Ok(())
}

#[given(
    regex = r"^the harness POP3 server answers UIDL and the first RETR of message (\d+) with -ERR$"
)]
async fn given_script(w: &mut DirectWorld, n: usize) -> Result<(), String> {
    w.ec.script.refuse.insert("UIDL".into());
    w.ec.script.fail_first_retr_of = Some(n);
    w.ec.refused_once.insert(n);
    Ok(())
}

#[when("the SUT's edge client retrieves its mail over POP3")]
async fn when_retrieve(w: &mut DirectWorld) -> Result<(), String> {
    let server = match &w.ec.pop3 {
        Some(s) => s.addr,
        None => {
            let acc = account(w);
            let s = Pop3EdgeServer::start(
                bind(w)?,
                tls(w)?,
                acc,
                w.ec.mailbox.clone(),
                w.ec.script.clone(),
            )
            .await
            .map_err(|e| e.to_string())?;
            let a = s.addr;
            w.ec.pop3 = Some(s);
            a
        }
    };
    trigger(
        w,
        server,
        vec![
            ("DC_EDGE_ACTION".into(), "retrieve".into()),
            ("DC_EDGE_PROTOCOL".into(), "pop3".into()),
        ],
    )
    .await?;
    for (i, s) in pop3_sessions(w).await?.iter().enumerate() {
        w.record(
            "pop3",
            format!("harness edge server: POP3 session {}", i + 1),
            s.transcript.clone(),
        );
    }
    Ok(())
}

#[when(
    "the harness puts a dispatched notice for the first recipient and a failure notice for the second into the edge user's mailbox"
)]
async fn when_notices(w: &mut DirectWorld) -> Result<(), String> {
    let sessions = smtp_sessions(w).await?;
    let sent = sessions
        .iter()
        .flat_map(|s| s.messages.iter())
        .next()
        .ok_or("the SUT's edge client sent nothing to answer")?;
    if sent.to.len() < 2 {
        return Err(format!(
            "the message went to {:?}; the case needs both recipients in one message",
            sent.to
        ));
    }
    let original = OriginalMessage::read(&sent.data).map_err(|e| e.to_string())?;
    let now = time::OffsetDateTime::now_utc();
    let ua = "edge.direct.test; direct-conformance";
    let dispatched = MdnSpec::answering(
        &original,
        &sent.to[0],
        DispositionKind::Dispatched,
        ua,
        &new_message_id("edge.direct.test"),
        now,
    )
    .map_err(|e| e.to_string())?;
    let mut failed = MdnSpec::answering(
        &original,
        &sent.to[1],
        DispositionKind::Failed,
        ua,
        &new_message_id("edge.direct.test"),
        now,
    )
    .map_err(|e| e.to_string())?;
    failed.failure = Some("recipient mailbox does not exist".into());
    w.ec.mailbox = vec![
        build_mdn(&dispatched).map_err(|e| e.to_string())?,
        build_mdn(&failed).map_err(|e| e.to_string())?,
    ];
    w.ec.cert = Some(ServerCert::Good);
    Ok(())
}

fn pop3_all(sessions: &[Pop3Session]) -> BTreeSet<usize> {
    sessions
        .iter()
        .flat_map(|s| s.retrieved.iter().copied())
        .collect()
}

#[then("the edge client secured the session with STLS before it sent credentials")]
async fn then_stls_first(w: &mut DirectWorld) -> Result<(), String> {
    let sessions = pop3_sessions(w).await?;
    if sessions.is_empty() {
        return Err("the SUT's edge client never connected to the harness POP3 server".into());
    }
    for (i, s) in sessions.iter().enumerate() {
        if s.credentials_in_clear {
            return Err(format!(
                "session {}: the client sent USER/PASS or AUTH before STLS",
                i + 1
            ));
        }
        if !s.tls {
            return Err(format!("session {}: the client never started TLS", i + 1));
        }
    }
    Ok(())
}

#[then(regex = r"^the edge client retrieved (every message|both notices)$")]
async fn then_retrieved_all(w: &mut DirectWorld) -> Result<(), String> {
    let sessions = pop3_sessions(w).await?;
    let got = pop3_all(&sessions);
    let want: BTreeSet<usize> = (1..=w.ec.mailbox.len()).collect();
    let missing: Vec<usize> = want.difference(&got).copied().collect();
    if !missing.is_empty() {
        return Err(format!(
            "message(s) {missing:?} of {} were never retrieved whole",
            want.len()
        ));
    }
    Ok(())
}

#[then("the edge client retrieved no message")]
async fn then_retrieved_none(w: &mut DirectWorld) -> Result<(), String> {
    let got = pop3_all(&pop3_sessions(w).await?);
    if !got.is_empty() {
        return Err(format!(
            "message(s) {got:?} were retrieved over a refused server"
        ));
    }
    Ok(())
}

#[then(
    "the edge client carried on after the -ERR answers, retrieved every other message and ended with QUIT"
)]
async fn then_carried_on(w: &mut DirectWorld) -> Result<(), String> {
    let sessions = pop3_sessions(w).await?;
    let got = pop3_all(&sessions);
    let want: BTreeSet<usize> = (1..=w.ec.mailbox.len())
        .filter(|n| !w.ec.refused_once.contains(n))
        .collect();
    let missing: Vec<usize> = want.difference(&got).copied().collect();
    if sessions.iter().all(|s| s.scripted_errors == 0) {
        return Err("the client never met a scripted -ERR, so the case saw nothing".into());
    }
    if !missing.is_empty() {
        return Err(format!(
            "after the -ERR answers the client left message(s) {missing:?} behind"
        ));
    }
    if !sessions.iter().any(|s| s.quit) {
        return Err("the client dropped the connection instead of ending with QUIT".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_shapes() {
        assert!(well_formed_id("<a.b@c.d>"));
        assert!(well_formed_id("<\"a b\"@[1.2.3.4]>"));
        assert!(!well_formed_id("a@b"));
        assert!(!well_formed_id("<ab>"));
        assert!(!well_formed_id("<a..b@c>"));
    }
}
