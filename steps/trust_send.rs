//! The SUT sends (TEST-CATALOGUE §b.2): the harness, as the SUT's edge user, submits through
//! the SUT's submission door; the SUT finds the harness recipient's certificate, signs,
//! encrypts and delivers to the harness backbone, where the tap keeps the bytes. The harness
//! opens what it captured with its own recipient keys and runs the reference validator on it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use cucumber::{then, when};
use direct_conformance::hisp::HispEvent;
use direct_conformance::sut::stimulus::CCDA;
use direct_conformance::sut::submission::{Session, auth_plain};
use direct_conformance::sut::tap::Captured;
use direct_conformance::validate::{Profile, Severity, Status, ValidationOptions};
use x509_cert::Certificate;

use super::context::RunContext;
use super::send::excerpt;
use super::world::{DirectWorld, Sent};

/// The harness's patience per SMTP reply at the submission door, not a verdict window: a
/// loaded machine must not turn a slow reply into a failure.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Harness credentials whose keys open what the SUT sends to the harness destinations.
const HARNESS_KEYS: &[&str] = &[
    "hisp_good",
    "hisp_second",
    "hisp_split_enc",
    "hisp_split_sign",
    "hisp_domain",
    "D1_valA",
    "untrusted_domain",
];

/// A stand-in PDF: a real header and every octet value, so that any re-encoding shows.
fn pdf() -> Vec<u8> {
    let mut v = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    v.extend((0..=255u8).cycle().take(3000));
    v.extend_from_slice(b"\n%%EOF\n");
    v
}

/// What the edge user submitted, and what the SUT sent for it.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// Unique per submission; in the Subject (and the Message-ID when there is one).
    pub token: String,
    pub message_id: Option<String>,
    pub to: Vec<String>,
    pub raw: Vec<u8>,
    /// (file name, SHA-256 hex) of every attachment as submitted.
    pub attachments: Vec<(String, String)>,
    /// Captures already on the tap before the submission (only later ones can be its).
    pub tap_mark: usize,
    pub found: Vec<FoundCopy>,
}

/// One message the SUT sent for a submission, opened by the harness.
#[derive(Debug, Clone)]
pub struct FoundCopy {
    pub captured: Captured,
    /// The harness credential whose key opened it.
    pub opened_with: String,
    /// The message inside (the wrapped one, or the outer header with the signed entity).
    pub inner: Vec<u8>,
    pub wrapped: bool,
    /// Credential names of the RecipientInfos, the SUT's own certificates left out.
    pub ri_set: Vec<String>,
}

#[derive(Debug, Default)]
pub struct TxState {
    pub submissions: Vec<Submission>,
    /// Message-IDs of the MDNs the harness sent back (TX-14).
    pub harness_mdns: Vec<String>,
}

pub fn sha256_hex(data: &[u8]) -> String {
    direct_conformance::hisp::inbound::sha256_hex(data)
}

fn now_rfc2822() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default()
}

/// The kinds of message the rows submit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// A text part and a C-CDA attachment (TX-01).
    Ccda,
    /// PDF and C-CDA attachments (TX-08).
    PdfAndCcda,
    /// An 8bit UTF-8 text part with trailing white space and a 998-octet line (TX-06).
    Awkward,
}

/// Builds the RFC 5322 message the edge user submits.
pub fn build_message(
    from: &str,
    to: &[String],
    token: &str,
    message_id: Option<&str>,
    body: Body,
    canary: Option<&str>,
) -> (Vec<u8>, Vec<(String, String)>) {
    let boundary = format!("=_dc_{token}");
    let id = message_id
        .map(|i| format!("Message-ID: {i}\r\n"))
        .unwrap_or_default();
    let canary_text = canary.map(|c| format!(" {c}")).unwrap_or_default();
    let mut out = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: direct-conformance edge submission {token}\r\nDate: {date}\r\n{id}Disposition-Notification-To: {from}\r\nDisposition-Notification-Options: X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n",
        to = to.join(", "),
        date = now_rfc2822(),
    )
    .into_bytes();
    let mut attachments = Vec::new();
    let mut part = |header: &str, content: &[u8]| {
        out.extend_from_slice(format!("--{boundary}\r\n{header}\r\n").as_bytes());
        out.extend_from_slice(content);
        out.extend_from_slice(b"\r\n");
    };
    match body {
        Body::Awkward => {
            let long = "x".repeat(998);
            let text = format!(
                "Caf\u{e9} cr\u{e8}me: an 8bit UTF-8 line.{canary_text}\r\nA line with trailing white space   \t\r\n{long}\r\nThe end."
            );
            part(
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n",
                text.as_bytes(),
            );
        }
        _ => part(
            "Content-Type: text/plain; charset=us-ascii\r\n",
            format!("A message submitted by the harness as the SUT's edge user.{canary_text}")
                .as_bytes(),
        ),
    }
    let mut ccda = CCDA.to_vec();
    if let Some(c) = canary {
        ccda.extend_from_slice(format!("<!-- {c} -->\r\n").as_bytes());
    }
    let mut files: Vec<(&str, &str, Vec<u8>)> = Vec::new();
    if body == Body::PdfAndCcda {
        files.push(("report.pdf", "application/pdf", pdf()));
    }
    if body != Body::Awkward {
        files.push(("ccda.xml", "application/xml", ccda));
    }
    for (name, mt, content) in files {
        let b64 = direct_conformance::smime::entity::base64_lines(&content);
        part(
            &format!(
                "Content-Type: {mt}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n"
            ),
            b64.strip_suffix(b"\r\n").unwrap_or(&b64),
        );
        attachments.push((name.to_string(), sha256_hex(&content)));
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (out, attachments)
}

fn credentials(ctx: &RunContext) -> Result<(String, String, std::net::SocketAddr), String> {
    let (user, password) = super::edge::account(ctx)?;
    Ok((user, password, super::edge::submission_addr(ctx)?))
}

/// One authenticated submission session: STARTTLS, AUTH, MAIL, RCPT…, DATA. Returns the
/// transcript, or what the SUT refused.
pub(super) async fn submit_raw(
    ctx: &RunContext,
    to: &[String],
    message: &[u8],
) -> Result<String, String> {
    let (user, password, addr) = credentials(ctx)?;
    let mut s = Session::connect(addr, TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    let result = async {
        s.command("EHLO harness.direct.test", "EHLO harness.direct.test")
            .await
            .map_err(|e| e.to_string())?;
        let roots: Vec<Vec<u8>> = ctx
            .pki
            .anchor()
            .map(|a| vec![a.certificate_der.clone()])
            .unwrap_or_default();
        let connector =
            direct_conformance::hisp::tls::connector(&roots).map_err(|e| e.to_string())?;
        let r = s
            .starttls(&connector, &ctx.sut.domain)
            .await
            .map_err(|e| e.to_string())?;
        if r.code != 220 {
            return Err(format!("STARTTLS refused: {} {}", r.code, r.text));
        }
        s.command("EHLO harness.direct.test", "EHLO harness.direct.test")
            .await
            .map_err(|e| e.to_string())?;
        let mut lines = vec![
            (
                format!("AUTH PLAIN {}", auth_plain(&user, &password)),
                "AUTH PLAIN ********".to_string(),
            ),
            (format!("MAIL FROM:<{user}>"), format!("MAIL FROM:<{user}>")),
        ];
        for t in to {
            lines.push((format!("RCPT TO:<{t}>"), format!("RCPT TO:<{t}>")));
        }
        for (line, shown) in lines {
            let r = s.command(&line, &shown).await.map_err(|e| e.to_string())?;
            if r.code / 100 != 2 {
                return Err(format!("the SUT refused {shown}: {} {}", r.code, r.text));
            }
        }
        let r = s.data(message).await.map_err(|e| e.to_string())?;
        if r.code / 100 != 2 {
            return Err(format!(
                "the SUT refused the message: {} {}",
                r.code, r.text
            ));
        }
        let _ = s.command("QUIT", "QUIT").await;
        Ok(())
    }
    .await;
    let transcript = s.transcript.clone();
    result
        .map(|()| transcript.clone())
        .map_err(|e| format!("{e}\n{transcript}"))
}

fn addresses(list: &str) -> Vec<String> {
    list.split(" and ")
        .flat_map(|p| p.split(','))
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect()
}

/// Submits one message as the edge user and keeps what it was.
pub async fn submit(
    w: &mut DirectWorld,
    to: Vec<String>,
    body: Body,
    with_id: bool,
    canary: Option<&str>,
) -> Result<(), String> {
    let ctx = w.ctx()?;
    let (user, _, _) = credentials(&ctx)?;
    let n = w.tx.submissions.len() + 1;
    let token = format!("{}-s{n}", w.correlation_id);
    let id = with_id.then(|| format!("<{token}@edge.sut.direct.test>"));
    let (raw, attachments) = build_message(&user, &to, &token, id.as_deref(), body, canary);
    let tap_mark = ctx.tap.captured().len();
    let outcome = submit_raw(&ctx, &to, &raw).await;
    match &outcome {
        Ok(t) => w.record("smtp", format!("edge submission {n}"), t.clone()),
        Err(e) => w.record("smtp", format!("edge submission {n}, refused"), e.clone()),
    }
    w.record(
        "message",
        format!("submitted by the edge user ({n})"),
        excerpt(&raw),
    );
    outcome.map_err(|e| e.lines().next().unwrap_or_default().to_string())?;
    if w.sent.is_none() {
        w.sent = Some(Sent {
            message_id: id
                .clone()
                .unwrap_or_else(|| format!("<{token}@no-message-id>")),
            recipients: to.clone(),
            smtp: Default::default(),
            elapsed: Duration::ZERO,
            at: std::time::Instant::now(),
        });
    }
    w.tx.submissions.push(Submission {
        token,
        message_id: id,
        to,
        raw,
        attachments,
        tap_mark,
        found: Vec::new(),
    });
    Ok(())
}

#[when(
    regex = r"^the SUT's edge user submits a message with (a C-CDA attachment|PDF and C-CDA attachments|an 8bit text part, trailing white space and a 998-octet line|Disposition-Notification-To and Disposition-Notification-Options) to (.+)$"
)]
async fn submit_step(w: &mut DirectWorld, what: String, to: String) -> Result<(), String> {
    let body = match what.as_str() {
        "PDF and C-CDA attachments" => Body::PdfAndCcda,
        "an 8bit text part, trailing white space and a 998-octet line" => Body::Awkward,
        _ => Body::Ccda,
    };
    submit(w, addresses(&to), body, true, None).await
}

#[when(
    regex = r"^the SUT's edge user submits three messages to ([\w.+-]+@[\w.-]+), the second without a Message-ID$"
)]
async fn submit_three(w: &mut DirectWorld, to: String) -> Result<(), String> {
    for with_id in [true, false, true] {
        submit(w, vec![to.clone()], Body::Ccda, with_id, None).await?;
    }
    Ok(())
}

fn header_has_token(data: &[u8], token: &str) -> bool {
    let (head, _) = direct_conformance::smime::entity::split_header_body(data);
    String::from_utf8_lossy(head).contains(token)
}

/// Opens a capture with the first harness key that can (each key only tries the
/// RecipientInfos naming its certificate, so a miss costs no RSA operation).
async fn open_capture(
    ctx: &Arc<RunContext>,
    c: &Captured,
) -> Option<(String, direct_conformance::smime::OpenedMessage)> {
    let creds: Vec<(String, direct_conformance::keys::PrivateKey, Certificate)> = HARNESS_KEYS
        .iter()
        .filter_map(|n| {
            ctx.pki
                .credential(n)
                .map(|c| (n.to_string(), c.key.clone(), c.certificate.clone()))
        })
        .collect();
    let data = c.data.clone();
    tokio::task::spawn_blocking(move || {
        creds.iter().find_map(|(n, k, cert)| {
            direct_conformance::smime::open(&data, k, Some(cert))
                .ok()
                .map(|o| (n.clone(), o))
        })
    })
    .await
    .ok()
    .flatten()
}

/// The RecipientInfos as credential names, the SUT's own certificates left out.
fn ri_set(ctx: &RunContext, opened: &direct_conformance::smime::OpenedMessage) -> Vec<String> {
    use direct_conformance::smime::identity::recipient_matches;
    let own: Vec<Certificate> = ctx
        .sut
        .recipients
        .values()
        .filter_map(|r| certificate_of(ctx, &r.certificate).ok())
        .collect();
    let mut out = Vec::new();
    for r in &opened.decrypted.info.recipients {
        let Some(rid) = &r.rid else {
            out.push(format!("unknown ({})", r.rid_text));
            continue;
        };
        if own.iter().any(|c| recipient_matches(rid, c)) {
            continue;
        }
        let name = ctx
            .pki
            .credentials()
            .find(|c| recipient_matches(rid, &c.certificate))
            .map(|c| c.name.clone())
            .unwrap_or_else(|| format!("unknown ({})", r.rid_text));
        out.push(name);
    }
    out
}

/// `pki:NAME` or a certificate file.
pub fn certificate_of(ctx: &RunContext, reference: &str) -> Result<Certificate, String> {
    if let Some(c) = reference
        .strip_prefix("pki:")
        .and_then(|n| ctx.pki.credential(n))
    {
        return Ok(c.certificate.clone());
    }
    let bytes = std::fs::read(reference).map_err(|e| format!("{reference}: {e}"))?;
    direct_conformance::trust::fetch::parse_certificates(&bytes)
        .map_err(|e| format!("{reference}: {e}"))?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{reference}: no certificate"))
}

/// Waits (bounded) until the SUT's copies of submission `i` cover all its recipients.
async fn find_sent(w: &mut DirectWorld, i: usize) -> Result<(), String> {
    let ctx = w.ctx()?;
    let sub = w.tx.submissions[i].clone();
    let wanted: BTreeSet<String> = sub.to.iter().map(|t| t.to_ascii_lowercase()).collect();
    let deadline = tokio::time::Instant::now() + ctx.sut.windows.accept;
    let mut examined = sub.tap_mark;
    let mut found: Vec<FoundCopy> = Vec::new();
    loop {
        let all = ctx.tap.captured();
        for c in all.iter().skip(examined) {
            let addressed = c
                .recipients
                .iter()
                .any(|r| wanted.contains(&r.to_ascii_lowercase()));
            if !addressed && !header_has_token(&c.data, &sub.token) {
                continue;
            }
            let Some((name, opened)) = open_capture(&ctx, c).await else {
                continue;
            };
            if !String::from_utf8_lossy(&opened.message).contains(&sub.token) {
                continue;
            }
            found.push(FoundCopy {
                captured: c.clone(),
                opened_with: name,
                inner: opened.message.clone(),
                wrapped: opened.wrapped,
                ri_set: ri_set(&ctx, &opened),
            });
        }
        examined = all.len();
        let covered: BTreeSet<String> = found
            .iter()
            .flat_map(|f| f.captured.recipients.iter().map(|r| r.to_ascii_lowercase()))
            .collect();
        if wanted.is_subset(&covered) || tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep_until(
            (tokio::time::Instant::now() + Duration::from_millis(100)).min(deadline),
        )
        .await;
    }
    for f in &found {
        w.record(
            "message",
            format!(
                "the SUT sent, MAIL FROM:<{}> RCPT TO:{:?} (opened with {})",
                f.captured.from, f.captured.recipients, f.opened_with
            ),
            excerpt(&f.captured.data),
        );
        w.record(
            "message",
            "the same, decrypted by the harness",
            excerpt(&f.inner),
        );
    }
    let covered: BTreeSet<String> = found
        .iter()
        .flat_map(|f| f.captured.recipients.iter().map(|r| r.to_ascii_lowercase()))
        .collect();
    w.tx.submissions[i].found = found;
    let missing: Vec<&String> = wanted.difference(&covered).collect();
    if !missing.is_empty() {
        super::verdict::peer_refusals(w);
        return Err(format!(
            "within {:?} the SUT sent no message for {} that the harness could open",
            ctx.sut.windows.accept,
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(())
}

#[then(regex = r"^the SUT sends (?:the message|all three messages) on the backbone$")]
async fn sends(w: &mut DirectWorld) -> Result<(), String> {
    if w.tx.submissions.is_empty() {
        return Err(
            "nothing was submitted: a `When the SUT's edge user submits …` step is missing".into(),
        );
    }
    for i in 0..w.tx.submissions.len() {
        find_sent(w, i).await?;
    }
    Ok(())
}

/// The check ids a phrase like "VC-1xx to VC-6xx", "VC-311 and VC-312" or
/// "VC-102 to VC-106 and VC-115" names, as inclusive ranges.
pub(super) fn check_ranges(text: &str) -> Result<Vec<(u16, u16)>, String> {
    let bound = |t: &str, high: bool| -> Result<u16, String> {
        let t = t.trim().trim_start_matches("VC-");
        if let Some(h) = t.strip_suffix("xx") {
            let h: u16 = h.parse().map_err(|_| format!("bad check {t:?}"))?;
            Ok(h * 100 + if high { 99 } else { 0 })
        } else {
            t.parse().map_err(|_| format!("bad check {t:?}"))
        }
    };
    let mut out = Vec::new();
    for item in text.split(" and ").flat_map(|p| p.split(',')) {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        match item.split_once(" to ") {
            Some((a, b)) => out.push((bound(a, false)?, bound(b, true)?)),
            None => out.push((bound(item, false)?, bound(item, true)?)),
        }
    }
    Ok(out)
}

pub(super) fn in_ranges(id: &str, ranges: &[(u16, u16)]) -> bool {
    id.trim_start_matches("VC-")
        .parse::<u16>()
        .is_ok_and(|n| ranges.iter().any(|(a, b)| (*a..=*b).contains(&n)))
}

/// The validator's report on one copy, with the opening credential's key and certificate,
/// the SUT's declared anchors and the reference CRLs.
async fn validate_copy(
    ctx: &Arc<RunContext>,
    f: &FoundCopy,
) -> Result<direct_conformance::validate::MessageReport, String> {
    use direct_conformance::validate::options::RecipientKey;
    let cred = ctx
        .pki
        .credential(&f.opened_with)
        .ok_or_else(|| format!("no credential {}", f.opened_with))?;
    let mut anchors = Vec::new();
    for a in &ctx.sut.anchors {
        anchors.push(certificate_of(ctx, a)?);
    }
    let crls: Vec<Vec<u8>> = ["direct.test_ca_root", "direct.test_ca_intermediate1"]
        .iter()
        .filter_map(|ca| ctx.pki.crl_der(ca).map(<[u8]>::to_vec))
        .collect();
    let options = ValidationOptions {
        recipient_keys: vec![RecipientKey::Key {
            path: format!("pki:{}", f.opened_with).into(),
            key: cred.key.clone(),
        }],
        recipient_certs: vec![cred.certificate.clone()],
        anchors,
        crls,
        profile: if ctx.sut.profile == "ats-1.2" {
            Profile::Ats12
        } else {
            Profile::Ds13
        },
        ..ValidationOptions::default()
    };
    let data = f.captured.data.clone();
    tokio::task::spawn_blocking(move || {
        direct_conformance::validate::validate_owned("captured", data, &options)
    })
    .await
    .map_err(|e| format!("validator: {e}"))
}

#[then(regex = r"^the messages? the SUT sent pass(?:es)? the validator's (.+) checks$")]
async fn passes_checks(w: &mut DirectWorld, checks: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let ranges = check_ranges(&checks)?;
    let copies: Vec<FoundCopy> =
        w.tx.submissions
            .iter()
            .flat_map(|s| s.found.iter().cloned())
            .collect();
    if copies.is_empty() {
        return Err("no message from the SUT to judge".into());
    }
    let mut problems = Vec::new();
    for f in &copies {
        let report = validate_copy(&ctx, f).await?;
        let mut text = String::new();
        let mut passed = 0usize;
        for x in report.findings.iter().filter(|x| in_ranges(x.id, &ranges)) {
            if x.status == Status::Passed {
                passed += 1;
                continue;
            }
            text.push_str(&format!(
                "{} {:?} {:?} {}: {}\n",
                x.id, x.status, x.severity, x.part_path, x.message
            ));
            for e in &x.evidence {
                text.push_str(&format!("    {e}\n"));
            }
            if x.status == Status::Failed && x.severity == Severity::Error {
                problems.push(format!("{} {}", x.id, x.message));
            }
        }
        text.push_str(&format!(
            "({passed} {checks} findings passed, not listed)\n"
        ));
        w.record(
            "findings",
            format!(
                "validator findings ({checks}) on the copy for {}",
                f.captured.recipients.join(", ")
            ),
            text,
        );
        if passed == 0 {
            problems.push(format!(
                "none of {checks} could be evaluated on the copy for {}",
                f.captured.recipients.join(", ")
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "error-level validator findings: {}",
            problems.join("; ")
        ))
    }
}

#[then("the message the SUT sent is wrapped, with a complete inner message")]
async fn wrapped(w: &mut DirectWorld) -> Result<(), String> {
    let unwrapped: Vec<String> =
        w.tx.submissions
            .iter()
            .flat_map(|s| &s.found)
            .filter(|f| !f.wrapped)
            .map(|f| f.captured.recipients.join(", "))
            .collect();
    w.record(
        "note",
        "wrapping",
        if unwrapped.is_empty() {
            "every copy is a message/rfc822 wrapper".to_string()
        } else {
            format!("not wrapped: the copies for {}", unwrapped.join("; "))
        },
    );
    if !unwrapped.is_empty() {
        return Err(format!(
            "the SUT signed the content without a message/rfc822 wrapper (copies for {})",
            unwrapped.join("; ")
        ));
    }
    passes_checks(w, "VC-311 and VC-312".into()).await
}

fn copy_for<'a>(w: &'a DirectWorld, addr: &str) -> Result<&'a FoundCopy, String> {
    w.tx.submissions
        .iter()
        .flat_map(|s| &s.found)
        .find(|f| {
            f.captured
                .recipients
                .iter()
                .any(|r| r.eq_ignore_ascii_case(addr))
        })
        .ok_or_else(|| format!("the SUT sent no copy for {addr}"))
}

#[then(
    regex = r#"^the copy for ([\w.+-]+@[\w.-]+) opens with "([\w.-]+)" and is encrypted to no certificate but (.+)$"#
)]
async fn ri_step(
    w: &mut DirectWorld,
    addr: String,
    key: String,
    allowed: String,
) -> Result<(), String> {
    let allowed: Vec<String> = allowed
        .split(" and ")
        .flat_map(|p| p.split(','))
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let f = copy_for(w, &addr)?.clone();
    let line = format!(
        "RI-set of the copy for {addr} (the SUT's own certificates left out): {:?}; opened with {}",
        f.ri_set, f.opened_with
    );
    w.record("note", "RI-set", line);
    // Opened with the expected key: another RecipientInfo may have been tried first, so
    // check that the expected certificate is named at all.
    if !f.ri_set.iter().any(|r| r == &key) {
        return Err(format!(
            "the copy for {addr} has no RecipientInfo for {key}: {:?}",
            f.ri_set
        ));
    }
    let ctx = w.ctx()?;
    let cred = ctx
        .pki
        .credential(&key)
        .ok_or_else(|| format!("no credential {key}"))?;
    // RSA on the blocking pool: the embedded SUT shares this runtime.
    let (data, k, c) = (
        f.captured.data.clone(),
        cred.key.clone(),
        cred.certificate.clone(),
    );
    tokio::task::spawn_blocking(move || {
        direct_conformance::smime::open(&data, &k, Some(&c)).map(|_| ())
    })
    .await
    .map_err(|e| format!("decryption task: {e}"))?
    .map_err(|e| format!("the copy for {addr} does not open with {key}: {e}"))?;
    let extra: Vec<&String> = f.ri_set.iter().filter(|r| !allowed.contains(r)).collect();
    if !extra.is_empty() {
        return Err(format!(
            "the copy for {addr} is also encrypted to {extra:?} (allowed: {allowed:?})"
        ));
    }
    Ok(())
}

#[then("the SUT addressed nobody else")]
fn nobody_else(w: &mut DirectWorld) -> Result<(), String> {
    let mut extra = Vec::new();
    for s in &w.tx.submissions {
        for f in &s.found {
            for r in &f.captured.recipients {
                if !s.to.iter().any(|t| t.eq_ignore_ascii_case(r)) {
                    extra.push(r.clone());
                }
            }
        }
    }
    let envelopes: Vec<String> =
        w.tx.submissions
            .iter()
            .flat_map(|s| &s.found)
            .map(|f| format!("RCPT TO {:?}", f.captured.recipients))
            .collect();
    w.record("note", "SMTP envelopes of the copies", envelopes.join("\n"));
    if extra.is_empty() {
        Ok(())
    } else {
        Err(format!("the SUT also addressed {extra:?}"))
    }
}

#[then("every attachment the harness decrypts is byte-identical to what the edge user submitted")]
fn attachments_intact(w: &mut DirectWorld) -> Result<(), String> {
    use mail_parser::MimeHeaders as _;
    let parser = mail_parser::MessageParser::default();
    let mut text = String::new();
    let mut problems = Vec::new();
    for s in &w.tx.submissions {
        for f in &s.found {
            let parsed = parser
                .parse(&f.inner)
                .ok_or("the decrypted message does not parse")?;
            let got: Vec<(String, String)> = parsed
                .attachments()
                .map(|a| {
                    (
                        a.attachment_name().unwrap_or("?").to_string(),
                        sha256_hex(a.contents()),
                    )
                })
                .collect();
            for (name, hash) in &s.attachments {
                let seen = got.iter().find(|(n, _)| n == name).map(|(_, h)| h.clone());
                text.push_str(&format!(
                    "{name}: submitted {hash}, decrypted {}\n",
                    seen.as_deref().unwrap_or("(missing)")
                ));
                if seen.as_deref() != Some(hash.as_str()) {
                    problems.push(format!(
                        "{name} for {} {}",
                        f.captured.recipients.join(", "),
                        if seen.is_some() { "altered" } else { "missing" }
                    ));
                }
            }
        }
    }
    w.record("note", "SHA-256 of each attachment", text);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("attachments not intact: {}", problems.join("; ")))
    }
}

fn header_of(data: &[u8], name: &str) -> Option<String> {
    direct_conformance::smime::entity::header_text(data, name)
}

#[then("the three messages carry distinct, valid Message-IDs, inside and outside")]
fn distinct_ids(w: &mut DirectWorld) -> Result<(), String> {
    let mut text = String::new();
    let mut ids: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    for (i, s) in w.tx.submissions.iter().enumerate() {
        let Some(f) = s.found.first() else {
            problems.push(format!("submission {} was not sent", i + 1));
            continue;
        };
        let outer = header_of(&f.captured.data, "Message-ID");
        let inner = header_of(&f.inner, "Message-ID");
        text.push_str(&format!(
            "submission {} ({}): outer {:?}, inner {:?}\n",
            i + 1,
            if s.message_id.is_some() {
                "with a Message-ID"
            } else {
                "without a Message-ID"
            },
            outer,
            inner
        ));
        let valid = |v: &Option<String>| {
            v.as_deref()
                .and_then(direct_conformance::mdn::normalise_message_id)
        };
        match (valid(&outer), valid(&inner)) {
            (Some(o), Some(n)) if o == n => ids.push(o),
            (Some(o), Some(n)) => problems.push(format!(
                "submission {}: outer {o} and inner {n} differ",
                i + 1
            )),
            _ => problems.push(format!(
                "submission {}: no valid Message-ID on the backbone",
                i + 1
            )),
        }
    }
    let distinct: BTreeSet<&String> = ids.iter().collect();
    if distinct.len() != ids.len() {
        problems.push(format!("Message-IDs repeat: {ids:?}"));
    }
    w.record("note", "Message-IDs on the backbone", text);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[then(
    "the message on the backbone carries Disposition-Notification-To and Disposition-Notification-Options as submitted"
)]
fn dn_headers(w: &mut DirectWorld) -> Result<(), String> {
    let norm = |v: Option<String>| v.map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "));
    let mut problems = Vec::new();
    let mut text = String::new();
    for s in &w.tx.submissions {
        for f in &s.found {
            for h in [
                "Disposition-Notification-To",
                "Disposition-Notification-Options",
            ] {
                let submitted = norm(header_of(&s.raw, h));
                let carried = norm(header_of(&f.inner, h));
                text.push_str(&format!(
                    "{h}: submitted {submitted:?}, on the backbone {carried:?}\n"
                ));
                if submitted != carried {
                    problems.push(format!("{h} is {carried:?}, submitted {submitted:?}"));
                }
            }
        }
    }
    w.record("note", "notification request headers", text);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The first submission's Message-ID as the SUT sent it (it may have added one).
pub fn sent_id(w: &DirectWorld) -> Result<String, String> {
    let s = w.tx.submissions.first().ok_or("nothing was submitted")?;
    s.found
        .first()
        .and_then(|f| header_of(&f.inner, "Message-ID"))
        .or_else(|| s.message_id.clone())
        .and_then(|v| direct_conformance::mdn::normalise_message_id(&v))
        .ok_or_else(|| "the message has no Message-ID".into())
}

#[then("the harness answers it with processed and dispatched MDNs")]
async fn harness_answers(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let id = sent_id(w)?;
    let same = |a: &str| direct_conformance::mdn::normalise_message_id(a).is_some_and(|a| a == id);
    let mut kinds = Vec::new();
    for kind in ["processed", "dispatched"] {
        let e = ctx
            .peer
            .wait_for(
                |e| matches!(e, HispEvent::MdnSent { kind: k, original_message_id, .. } if k == kind && same(original_message_id)),
                ctx.sut.windows.accept,
            )
            .await;
        match e {
            Some(e) => kinds.push(format!("{e:?}")),
            None => {
                w.record("hisp-events", "MDNs the harness sent", kinds.join("\n"));
                return Err(format!(
                    "the harness HISP did not send a {kind} MDN for {id}: did the message reach it intact?"
                ));
            }
        }
    }
    // The harness's MDN Message-IDs, from its own audit log (TX-14 matches replies to them).
    if let Some(path) = ctx.peer.audit_path() {
        let lines = direct_conformance::sut::audit::read(&path);
        w.tx.harness_mdns = lines
            .iter()
            .filter(|l| l.event() == Some("mdn.sent") && l.about(&id))
            .filter_map(|l| {
                l.value
                    .as_ref()
                    .and_then(|v| v.get("message_id"))
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
            .collect();
    }
    w.record(
        "hisp-events",
        "MDNs the harness sent for the message",
        format!(
            "{}\nMDN Message-IDs: {:?}",
            kinds.join("\n"),
            w.tx.harness_mdns
        ),
    );
    Ok(())
}

#[then("the SUT answers none of the harness's MDNs within the silence window")]
async fn no_mdn_for_mdn(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let mdns = w.tx.harness_mdns.clone();
    if mdns.is_empty() {
        return Err("the harness's MDN Message-IDs are unknown (its audit log has none)".into());
    }
    let answers = |e: &HispEvent| -> Option<String> {
        let (raw, n) = super::verdict::delivered_notice(e)?;
        let o = n.original_message_id()?;
        let o = direct_conformance::mdn::normalise_message_id(o)?;
        mdns.iter()
            .any(|m| direct_conformance::mdn::normalise_message_id(m).as_deref() == Some(&o))
            .then(|| String::from_utf8_lossy(&raw).to_string())
    };
    let window = ctx.sut.windows.silence;
    let found = ctx
        .peer
        .wait_for(|e| answers(e).is_some(), window)
        .await
        .and_then(|e| answers(&e));
    if let Some(raw) = found {
        w.record(
            "mdn",
            "the SUT's answer to a harness MDN",
            excerpt(raw.as_bytes()),
        );
        return Err("the SUT answered the harness's MDN with an MDN of its own".into());
    }
    w.record(
        "note",
        "silence window",
        format!("waited {window:?}: no notification answered the harness's MDNs {mdns:?}"),
    );
    Ok(())
}

#[then(regex = r"^the SUT sends nothing toward ([\w.-]+) within the silence window$")]
async fn nothing_toward(w: &mut DirectWorld, domain: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let mark = w.tx.submissions.first().map(|s| s.tap_mark).unwrap_or(0);
    let suffix = format!("@{}", domain.to_ascii_lowercase());
    let toward = |c: &Captured| {
        c.recipients
            .iter()
            .any(|r| r.to_ascii_lowercase().ends_with(&suffix))
    };
    let window = ctx.sut.windows.silence;
    let deadline = tokio::time::Instant::now() + window;
    loop {
        let hit = ctx
            .tap
            .captured()
            .into_iter()
            .skip(mark)
            .find(|c| toward(c));
        if let Some(c) = hit {
            w.record(
                "message",
                format!("sent toward {domain} although it must not be"),
                excerpt(&c.data),
            );
            return Err(format!(
                "the SUT delivered a message to {:?} at {domain}",
                c.recipients
            ));
        }
        if tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep_until(
            (tokio::time::Instant::now() + Duration::from_millis(100)).min(deadline),
        )
        .await;
    }
    w.record(
        "note",
        "silence window",
        format!("waited {window:?}: nothing reached the harness backbone for {domain}"),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_phrases() {
        assert_eq!(check_ranges("VC-1xx to VC-6xx").unwrap(), vec![(100, 699)]);
        assert_eq!(
            check_ranges("VC-102 to VC-106 and VC-115").unwrap(),
            vec![(102, 106), (115, 115)]
        );
        assert_eq!(
            check_ranges("VC-402, VC-403 and VC-409").unwrap(),
            vec![(402, 402), (403, 403), (409, 409)]
        );
        assert!(in_ranges("VC-311", &[(300, 399)]));
        assert!(!in_ranges("VC-701", &[(100, 699)]));
    }
}
