//! The SUT's SMTP servers as a client meets them (TEST-CATALOGUE §d.1): a session with the
//! submission door (TLS and the edge account) or, when `sut.toml` sets `smtp.test_backbone`,
//! with the backbone door (as the harness HISP); a transaction ready for DATA on either; the
//! expectations a case checked; and the SILENCE check for what the SUT must not deliver.
//! SMTP9 (the valid command set) lives here too.

use std::time::Duration;

use cucumber::{given, then, when};
use direct_conformance::sut::SutModel;
use direct_conformance::sut::submission::{Reply, Session, auth_plain};
use x509_cert::Certificate;

use super::context::RunContext;
use super::edge::{account, keep, record_transcript, submission_addr};
use super::send::{SENDER, excerpt};
use super::world::DirectWorld;

/// The harness's patience per reply: not a verdict window.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Where the harness's submissions go (a harness mailbox the SUT can reach).
const OUTSIDE: &str = "good@hisp.direct.test";
/// The tag of the backbone examples (skipped unless `smtp.test_backbone`).
pub const BACKBONE_TAG: &str = "backbone-door";

/// Which SMTP server of the SUT a case talks to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Door {
    #[default]
    Submission,
    Backbone,
}

/// The SMTP cases' part of a scenario's state.
#[derive(Debug, Default)]
pub struct SmtpState {
    pub door: Door,
    /// Message-IDs the harness sent that the SUT must not deliver.
    pub must_not_arrive: Vec<String>,
    /// Captures already on the tap before the case's sessions.
    pub tap_mark: usize,
    /// (what was expected, what went wrong if it did).
    pub checks: Vec<(String, Option<String>)>,
    /// (file name, SHA-256) of each attachment sent (SMTP25–29).
    pub attachments: Vec<(String, String)>,
    /// When the SUT went quiet after the 354, how long its close took (SMTP13).
    pub closed_after: Option<Option<Duration>>,
}

/// Why a scenario cannot run against this SUT (the runner reports it skipped): backbone
/// examples without `smtp.test_backbone`, SMTP13 without `smtp.idle_timeout`.
pub fn not_applicable(sut: &SutModel, tags: &[&String]) -> Option<String> {
    let has = |x: &str| tags.iter().any(|t| t.trim_start_matches('@') == x);
    if has(BACKBONE_TAG) && !sut.smtp.test_backbone {
        return Some("sut.toml does not set smtp.test_backbone".into());
    }
    if has("SMTP13") && sut.smtp.idle_timeout.is_none() {
        return Some("sut.toml declares no smtp.idle_timeout".into());
    }
    None
}

pub(super) fn expect(w: &mut DirectWorld, what: impl Into<String>, problem: Option<String>) {
    w.smtp.checks.push((what.into(), problem));
}

/// The summary of the expectations, and the failure naming each one that was not met.
pub(super) fn judge(w: &mut DirectWorld) -> Result<(), String> {
    let checks = w.smtp.checks.clone();
    super::verdict::judge_expectations(w, "SMTP", checks)
}

fn door_addr(ctx: &RunContext, door: Door) -> Result<std::net::SocketAddr, String> {
    match door {
        Door::Submission => submission_addr(ctx),
        Door::Backbone => Ok(ctx.sut.backbone),
    }
}

/// A fresh session with `door`, greeted with EHLO: the session and the EHLO reply.
pub(super) async fn open(ctx: &RunContext, door: Door) -> Result<(Session, Reply), String> {
    let addr = door_addr(ctx, door)?;
    let mut s = Session::connect(addr, TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    let helo = match door {
        Door::Submission => "EHLO harness.direct.test",
        Door::Backbone => "EHLO hisp.direct.test",
    };
    let ehlo = s.command(helo, helo).await.map_err(|e| e.to_string())?;
    if ehlo.code != 250 {
        return Err(format!("EHLO was answered {} {}", ehlo.code, ehlo.text));
    }
    Ok((s, ehlo))
}

/// STARTTLS (verifying the SUT's certificate for its domain), then EHLO again.
pub(super) async fn secure(ctx: &RunContext, s: &mut Session) -> Result<Reply, String> {
    let roots: Vec<Vec<u8>> = ctx
        .pki
        .anchor()
        .map(|a| vec![a.certificate_der.clone()])
        .unwrap_or_default();
    let connector = direct_conformance::hisp::tls::connector(&roots).map_err(|e| e.to_string())?;
    let r = s
        .starttls(&connector, &ctx.sut.domain)
        .await
        .map_err(|e| e.to_string())?;
    if r.code != 220 {
        return Err(format!("STARTTLS refused: {} {}", r.code, r.text));
    }
    let ehlo = s
        .command("EHLO harness.direct.test", "EHLO harness.direct.test")
        .await
        .map_err(|e| e.to_string())?;
    Ok(ehlo)
}

/// A session at the point where DATA may be sent: on submission TLS, AUTH, MAIL from the edge
/// user and RCPT to a harness mailbox; on the backbone MAIL from the harness sender and RCPT
/// to the SUT's primary recipient. Returns the session and the last EHLO reply.
pub(super) async fn transaction(ctx: &RunContext, door: Door) -> Result<(Session, Reply), String> {
    let (mut s, mut ehlo) = open(ctx, door).await?;
    let (from, to) = match door {
        Door::Submission => {
            ehlo = secure(ctx, &mut s).await?;
            let (user, password) = account(ctx)?;
            let r = s
                .command(
                    &format!("AUTH PLAIN {}", auth_plain(&user, &password)),
                    "AUTH PLAIN ********",
                )
                .await
                .map_err(|e| e.to_string())?;
            if r.code != 235 {
                return Err(format!("AUTH was answered {} {}", r.code, r.text));
            }
            (user, OUTSIDE.to_string())
        }
        Door::Backbone => (SENDER.to_string(), primary(ctx)?),
    };
    for line in [format!("MAIL FROM:<{from}>"), format!("RCPT TO:<{to}>")] {
        let r = s.command(&line, &line).await.map_err(|e| e.to_string())?;
        if r.code / 100 != 2 {
            return Err(format!("{line} was answered {} {}", r.code, r.text));
        }
    }
    Ok((s, ehlo))
}

fn primary(ctx: &RunContext) -> Result<String, String> {
    ctx.sut
        .recipient("primary")
        .map(|r| r.address.clone())
        .ok_or_else(|| "sut.toml declares no recipients.primary".into())
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default()
}

/// The case's next Message-ID (unique per message of the scenario).
pub(super) fn next_id(w: &mut DirectWorld, label: &str) -> String {
    let n = w.smtp.must_not_arrive.len() + w.smtp.checks.len();
    format!("<{}.{label}.{n}@harness.direct.test>", w.correlation_id)
}

/// The content for a transaction on `door`: plain mail from the edge user on submission, a
/// Direct message (signed by the harness sender, encrypted to the primary recipient) on the
/// backbone. `body_lines` are added to the text (long lines, filler).
pub(super) async fn content(
    w: &DirectWorld,
    door: Door,
    id: &str,
    body_lines: &[String],
    filler: usize,
) -> Result<Vec<u8>, String> {
    let ctx = w.ctx()?;
    let subject = format!("direct-conformance {}", w.correlation_id);
    match door {
        Door::Submission => {
            let (user, _) = account(&ctx)?;
            let mut m = format!(
                "From: {user}\r\nTo: {OUTSIDE}\r\nSubject: {subject}\r\nDate: {}\r\nMessage-ID: {id}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nA message the SUT must not deliver.\r\n",
                now()
            );
            for l in body_lines {
                m.push_str(l);
                m.push_str("\r\n");
            }
            let line = "0123456789".repeat(7);
            let mut left = filler;
            while left > 0 {
                m.push_str(&line);
                m.push_str("\r\n");
                left = left.saturating_sub(line.len() + 2);
            }
            Ok(m.into_bytes())
        }
        Door::Backbone => {
            let to = primary(&ctx)?;
            let mut stim = direct_conformance::sut::stimulus::Stimulus::new(
                SENDER,
                std::slice::from_ref(&to),
                id,
            );
            stim.subject = subject;
            stim.filler = filler;
            let signer = ctx
                .pki
                .credential("hisp_sender")
                .ok_or("the reference PKI has no hisp_sender")?
                .clone();
            let chain: Vec<Certificate> = ctx
                .pki
                .chain("hisp_sender")
                .map(|v| {
                    v.iter()
                        .skip(1)
                        .filter(|c| !c.entry.is_self_signed())
                        .map(|c| c.certificate.clone())
                        .collect()
                })
                .unwrap_or_default();
            let reference = ctx
                .sut
                .recipient("primary")
                .map(|r| r.certificate.clone())
                .unwrap_or_default();
            let recipient = super::trust_send::certificate_of(&ctx, &reference)?;
            let mut data = tokio::task::spawn_blocking(move || {
                stim.build((&signer.certificate, &signer.key, &chain), &[recipient])
            })
            .await
            .map_err(|e| format!("building the message: {e}"))?
            .map_err(|e| e.to_string())?;
            // Extra lines go in the outer header, outside the signature: a server that cuts
            // them still has a message it can open and deliver.
            if !body_lines.is_empty() {
                let mut head: Vec<u8> = body_lines
                    .iter()
                    .flat_map(|l| format!("X-Harness-Line: {l}\r\n").into_bytes())
                    .collect();
                head.extend_from_slice(&data);
                data = head;
            }
            Ok(data)
        }
    }
}

/// `message` with CRLF line ends and dot-stuffing, without the end marker.
pub(super) fn stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    let crlf = direct_conformance::smime::canonical::to_crlf(message);
    for line in crlf.split_inclusive(|b| *b == b'\n') {
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Whether a session error means the server closed or reset the connection.
pub(super) fn closed(e: &str) -> bool {
    let e = e.to_ascii_lowercase();
    ["closed", "reset", "broken pipe", "aborted"]
        .iter()
        .any(|k| e.contains(k))
}

/// DATA, the message and its end marker, and the final reply. A server may answer (552, say)
/// and close before the harness has written everything: the reply it left is still read.
pub(super) async fn send_data(s: &mut Session, message: &[u8]) -> Result<Reply, String> {
    let r = s.command("DATA", "DATA").await.map_err(|e| e.to_string())?;
    if r.code != 354 {
        return Ok(r);
    }
    let mut bytes = stuffed(message);
    bytes.extend_from_slice(b".\r\n");
    let shown = format!("<{} octets of message content>, then .", message.len());
    match s.write_raw(&bytes, &shown).await {
        Ok(()) => s.reply_within(TIMEOUT).await.map_err(|e| e.to_string())?,
        Err(e) => s
            .reply_within(Duration::from_secs(2))
            .await
            .ok()
            .flatten()
            .ok_or_else(|| e.to_string())
            .map(Some)?,
    }
    .ok_or_else(|| format!("no reply to the end of DATA within {TIMEOUT:?}"))
}

/// SILENCE(W_sil) for every message in `must_not_arrive`: nothing with their ids reaches the
/// harness (submission: decrypted off the tap) or the primary recipient (backbone).
pub(super) async fn nothing_delivered(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let ids = w.smtp.must_not_arrive.clone();
    if ids.is_empty() {
        return Err("no message was sent that could be delivered".into());
    }
    let window = ctx.sut.windows.silence;
    let found = match w.smtp.door {
        Door::Backbone => {
            let (found, transcript) =
                super::verdict::wait_for_any(w, "primary", &ids, window).await?;
            w.record(
                "pop3",
                "edge retrieval for the primary recipient",
                transcript,
            );
            found
        }
        Door::Submission => {
            let tokens: Vec<String> = ids
                .iter()
                .map(|i| i.trim_matches(['<', '>']).to_string())
                .collect();
            let deadline = tokio::time::Instant::now() + window;
            let mut examined = w.smtp.tap_mark;
            let mut found = None;
            while found.is_none() {
                let all = ctx.tap.captured();
                for c in all.iter().skip(examined) {
                    let head = String::from_utf8_lossy(
                        direct_conformance::smime::entity::split_header_body(&c.data).0,
                    )
                    .to_string();
                    let ours = |text: &str| tokens.iter().any(|t| text.contains(t.as_str()));
                    if ours(&head) {
                        found = Some(c.data.clone());
                        break;
                    }
                    if let Some((_, opened)) = super::trust_send::open_capture(&ctx, c).await
                        && ours(&String::from_utf8_lossy(&opened.message))
                    {
                        found = Some(opened.message.clone());
                        break;
                    }
                }
                examined = all.len();
                if tokio::time::Instant::now() >= deadline {
                    break;
                }
                tokio::time::sleep_until(
                    (tokio::time::Instant::now() + Duration::from_millis(200)).min(deadline),
                )
                .await;
            }
            found
        }
    };
    let place = match w.smtp.door {
        Door::Backbone => "the SUT's primary recipient",
        Door::Submission => "the harness",
    };
    if let Some(m) = found {
        w.record(
            "message",
            "delivered although it had to be refused",
            excerpt(&m),
        );
        return Err(format!(
            "a message the SUT had to refuse reached {place} within {window:?}"
        ));
    }
    w.record(
        "note",
        "silence window",
        format!(
            "waited {window:?}: none of {} reached {place}",
            ids.join(", ")
        ),
    );
    Ok(())
}

#[given("a session with the SUT's backbone door")]
async fn backbone_session(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let (s, ehlo) = open(&ctx, Door::Backbone).await?;
    w.submission = Some(s);
    w.smtp.door = Door::Backbone;
    keep(w, "EHLO in clear", ehlo);
    Ok(())
}

/// SMTP9: each command of RFC 5321 §4.5.1's minimum set, with the replies §4.2 and §4.3 give.
#[when(
    "the harness secures the session, authenticates, and sends NOOP, RSET, VRFY, MAIL, RCPT, DATA and QUIT"
)]
async fn command_set(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let (user, password) = account(&ctx)?;
    let ehlo = super::edge::last(w, "EHLO in clear")?;
    expect(
        w,
        "EHLO is answered 250",
        (ehlo.code != 250).then(|| format!("{} {}", ehlo.code, ehlo.text)),
    );
    let mut s = w
        .submission
        .take()
        .ok_or("no submission session: start with `Given a session …`")?;
    let result = async {
        let tls_ehlo = secure(&ctx, &mut s).await?;
        let mut got = vec![("EHLO after STARTTLS", tls_ehlo, &[250u16][..])];
        let auth = s
            .command(
                &format!("AUTH PLAIN {}", auth_plain(&user, &password)),
                "AUTH PLAIN ********",
            )
            .await
            .map_err(|e| e.to_string())?;
        got.push(("AUTH PLAIN", auth, &[235]));
        let id = format!("<{}.smtp9@harness.direct.test>", w.correlation_id);
        let steps: [(&str, String, &[u16]); 5] = [
            ("NOOP", "NOOP".into(), &[250]),
            ("RSET", "RSET".into(), &[250]),
            ("VRFY", format!("VRFY {user}"), &[250, 251, 252]),
            ("MAIL", format!("MAIL FROM:<{user}>"), &[250]),
            ("RCPT", format!("RCPT TO:<{OUTSIDE}>"), &[250, 251]),
        ];
        for (what, line, codes) in steps {
            let r = s.command(&line, &line).await.map_err(|e| e.to_string())?;
            got.push((what, r, codes));
        }
        let message = format!(
            "From: {user}\r\nTo: {OUTSIDE}\r\nSubject: direct-conformance SMTP9 {}\r\nDate: {}\r\nMessage-ID: {id}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nThe valid command set, end to end.\r\n",
            w.correlation_id,
            now()
        );
        let data = s.command("DATA", "DATA").await.map_err(|e| e.to_string())?;
        let go_on = data.code == 354;
        got.push(("DATA", data, &[354]));
        if go_on {
            s.write_raw(&stuffed(message.as_bytes()), "<the message>")
                .await
                .map_err(|e| e.to_string())?;
            let end = s
                .command(".", ".")
                .await
                .map_err(|e| e.to_string())?;
            got.push(("end of DATA", end, &[250]));
        }
        let quit = s.command("QUIT", "QUIT").await.map_err(|e| e.to_string())?;
        got.push(("QUIT", quit, &[221]));
        Ok::<_, String>(got)
    }
    .await;
    w.record("smtp", "harness → SUT submission", s.transcript.clone());
    for (what, r, codes) in result? {
        let want: Vec<String> = codes.iter().map(u16::to_string).collect();
        let problem = (!codes.contains(&r.code)).then(|| format!("answered {} {}", r.code, r.text));
        expect(
            w,
            format!("{what} is answered {}", want.join(" or ")),
            problem,
        );
    }
    Ok(())
}

#[then(
    regex = r"^(?:each command gets the reply RFC 5321 gives it|each ending is refused with a 5xx reply or a closed session|each is refused with 500, 501, 552 or 554|the SUT refuses the old and weak offers and accepts the modern ones)$"
)]
fn judged(w: &mut DirectWorld) -> Result<(), String> {
    match (w.smtp.door, &w.submission) {
        (Door::Backbone, Some(s)) => {
            let t = s.transcript.clone();
            w.record("smtp", "harness → SUT backbone", t);
        }
        _ => record_transcript(w),
    }
    judge(w)
}

#[then("nothing the harness sent in those sessions is delivered")]
async fn silence(w: &mut DirectWorld) -> Result<(), String> {
    nothing_delivered(w).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backbone_examples_and_smtp13_need_their_declarations() {
        let example = include_str!("../examples/sut.toml");
        let model = |text: &str| {
            direct_conformance::sut::SutFile::parse(text)
                .unwrap()
                .check(std::path::Path::new("/"), "t")
                .unwrap()
        };
        let m = model(example);
        let (backbone, smtp13, other) = (
            "@backbone-door".to_string(),
            "@SMTP13".to_string(),
            "@SMTP10".to_string(),
        );
        assert!(not_applicable(&m, &[&other, &backbone]).is_some());
        assert!(not_applicable(&m, &[&smtp13]).is_none());
        assert!(not_applicable(&m, &[&other]).is_none());
        let m = model(&example.replace("idle_timeout = 300\n", ""));
        assert!(not_applicable(&m, &[&smtp13]).is_some());
        let m = model(&example.replace("test_backbone = false", "test_backbone = true"));
        assert!(not_applicable(&m, &[&other, &backbone]).is_none());
    }

    #[test]
    fn stuffing_keeps_lines_and_adds_no_end_marker() {
        assert_eq!(stuffed(b"a\n.b\r\nc"), b"a\r\n..b\r\nc\r\n".to_vec());
    }
}
