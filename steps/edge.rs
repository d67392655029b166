//! The SUT's edge submission door, in the words of a mail-client vendor: STARTTLS, AUTH, and
//! what a server must refuse (TEST-CATALOGUE §d.1).

use std::time::Duration;

use cucumber::{given, then, when};
use direct_conformance::sut::submission::{Reply, Session, auth_plain};

use super::context::RunContext;
use super::world::DirectWorld;

const TIMEOUT: Duration = Duration::from_secs(15);

pub(super) fn session(w: &mut DirectWorld) -> Result<&mut Session, String> {
    w.submission
        .as_mut()
        .ok_or_else(|| "no submission session: start with `Given a session …`".into())
}

pub(super) fn keep(w: &mut DirectWorld, what: &str, r: Reply) {
    w.replies.push((what.to_string(), r));
}

fn credentials(w: &DirectWorld) -> Result<(String, String), String> {
    account(&*w.ctx()?)
}

fn submission_file(
    ctx: &RunContext,
) -> Result<&direct_conformance::sut::config::SubmissionFile, String> {
    ctx.sut
        .submission
        .as_ref()
        .ok_or_else(|| "sut.toml declares no [edge.submission]".to_string())
}

/// Where the SUT's submission door listens (sut.toml `[edge.submission] addr`).
pub(super) fn submission_addr(ctx: &RunContext) -> Result<std::net::SocketAddr, String> {
    submission_file(ctx)?
        .addr
        .parse()
        .map_err(|e| format!("edge.submission.addr: {e}"))
}

/// The edge account of the submission door (user, password).
pub(super) fn account(ctx: &RunContext) -> Result<(String, String), String> {
    let s = submission_file(ctx)?;
    Ok((
        s.user.clone().ok_or("edge.submission.user is needed")?,
        s.password
            .clone()
            .ok_or("edge.submission.password is needed")?,
    ))
}

#[given("a session with the SUT's submission door")]
async fn connect(w: &mut DirectWorld) -> Result<(), String> {
    let addr = submission_addr(&*w.ctx()?)?;
    let mut session = Session::connect(addr, TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    let ehlo = session
        .command("EHLO harness.direct.test", "EHLO harness.direct.test")
        .await
        .map_err(|e| e.to_string())?;
    w.submission = Some(session);
    keep(w, "EHLO in clear", ehlo);
    Ok(())
}

#[when(regex = r"^the SUT's edge user submits a message to ([\w.+-]+@[\w.-]+)$")]
async fn submit(w: &mut DirectWorld, to: String) -> Result<(), String> {
    submit_about(w, "direct-conformance edge submission", &to).await
}

/// As `submit`, with the case tag in the Subject (discovery cases: TEST-CATALOGUE §a.5).
#[when(regex = r#"^the SUT's edge user submits a message about "([^"]+)" to ([\w.+-]+@[\w.-]+)$"#)]
async fn submit_tagged(w: &mut DirectWorld, tag: String, to: String) -> Result<(), String> {
    submit_about(w, &format!("direct-conformance {tag}"), &to).await
}

/// E submits a plain message with a fresh Message-ID and `subject` to `to` through the SUT's
/// submission door (STARTTLS, AUTH PLAIN); `w.sent` then names it.
pub async fn submit_about(w: &mut DirectWorld, subject: &str, to: &str) -> Result<(), String> {
    let to = to.to_string();
    w.submission = None;
    connect(w).await?;
    secure(w).await?;
    let (user, password) = credentials(w)?;
    // Unique per submission (a case may submit more than once, D16).
    let n = w.evidence.iter().filter(|e| e.kind == "message").count();
    let id = if n == 0 {
        format!("<{}@edge.sut.direct.test>", w.correlation_id)
    } else {
        format!("<{}.{n}@edge.sut.direct.test>", w.correlation_id)
    };
    let message = format!(
        "From: {user}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: {id}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nA message submitted by the harness as the SUT's edge user.\r\n",
        date = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc2822)
            .unwrap_or_default(),
    );
    let s = session(w)?;
    let steps: [(String, &str); 3] = [
        (
            format!("AUTH PLAIN {}", auth_plain(&user, &password)),
            "AUTH",
        ),
        (format!("MAIL FROM:<{user}>"), "MAIL"),
        (format!("RCPT TO:<{to}>"), "RCPT"),
    ];
    for (line, what) in steps {
        let shown = if what == "AUTH" {
            "AUTH PLAIN ********".to_string()
        } else {
            line.clone()
        };
        let r = s.command(&line, &shown).await.map_err(|e| e.to_string())?;
        if r.code / 100 != 2 {
            record_transcript(w);
            return Err(format!("the SUT refused {what}: {} {}", r.code, r.text));
        }
    }
    let r = s
        .data(message.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let _ = s.command("QUIT", "QUIT").await;
    record_transcript(w);
    if r.code / 100 != 2 {
        return Err(format!(
            "the SUT refused the message: {} {}",
            r.code, r.text
        ));
    }
    w.record("message", "submitted by the edge user", message);
    w.sent = Some(super::world::Sent {
        message_id: id,
        recipients: vec![to],
        smtp: Default::default(),
        elapsed: Duration::ZERO,
        at: std::time::Instant::now(),
    });
    Ok(())
}

#[then("a failure notice for the message reaches the edge user")]
async fn failure_notice(w: &mut DirectWorld) -> Result<(), String> {
    let within = w.ctx()?.sut.windows.accept;
    failure_notice_within(w, within).await
}

/// A timeout notice (TEST-CATALOGUE §c.3 MT4, MT26): it must come once the SUT's deadline has
/// passed, not before (1 s tolerance), and within W_acc after the last deadline allowed.
#[then(
    regex = r"^a failure notice for the message reaches the edge user at the (processed|dispatched|processed or dispatched) deadline$"
)]
async fn failure_notice_at_deadline(w: &mut DirectWorld, which: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let win = &ctx.sut.windows;
    let earliest = if which == "dispatched" {
        win.dispatched_timeout
    } else {
        win.processed_timeout
    };
    let latest = match which.as_str() {
        "processed" => win.processed_timeout,
        "dispatched" => win.dispatched_timeout,
        _ => win.dispatched_timeout.max(win.processed_timeout),
    };
    let at = w.sent()?.at;
    let within = (latest + win.accept).saturating_sub(at.elapsed());
    failure_notice_within(w, within).await?;
    let took = at.elapsed();
    let tolerance = Duration::from_secs(1);
    if took + tolerance < earliest {
        return Err(format!(
            "the failure notice came {took:.1?} after the submission, before the {which} deadline \
             ({earliest:?}): a timeout notice must wait for the deadline"
        ));
    }
    Ok(())
}

async fn failure_notice_within(w: &mut DirectWorld, within: Duration) -> Result<(), String> {
    use direct_conformance::mdn::{DispositionKind, DsnAction, Notification, parse_notification};
    let ctx = w.ctx()?;
    let id = w.sent()?.message_id.clone();
    let to = w.sent()?.recipients.clone();
    let (user, password) = credentials(w)?;
    use direct_conformance::sut::Retrieval;
    let retrieval = ctx.sut.retrieval.clone();
    if !matches!(retrieval, Some(Retrieval::Pop3(_) | Retrieval::Imap(_))) {
        return Err(
            "this case reads the edge user's notices by POP3 or IMAP; sut.toml declares neither"
                .into(),
        );
    }
    let same = |a: &str| {
        a.trim_matches(['<', '>'])
            .eq_ignore_ascii_case(id.trim_matches(['<', '>']))
    };
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let mailbox = match retrieval {
            Some(Retrieval::Imap(addr)) => {
                direct_conformance::sut::imap::fetch(addr, &user, &password, TIMEOUT)
                    .await
                    .map_err(|e| e.to_string())?
            }
            Some(Retrieval::Pop3(addr)) => {
                direct_conformance::sut::pop3::fetch(addr, &user, &password, TIMEOUT)
                    .await
                    .map_err(|e| e.to_string())?
            }
            _ => return Err("no POP3 or IMAP retrieval door".into()),
        };
        let found = mailbox
            .messages
            .iter()
            .find(|m| match parse_notification(m) {
                Ok(n @ Notification::Dsn(_)) | Ok(n @ Notification::Mdn(_)) => {
                    n.original_message_id().is_some_and(same)
                        && match &n {
                            Notification::Dsn(d) => d.per_recipient.iter().any(|r| {
                                r.action == DsnAction::Failed
                                    && to.iter().any(|t| {
                                        r.final_recipient
                                            .to_ascii_lowercase()
                                            .contains(&t.to_ascii_lowercase())
                                    })
                            }),
                            Notification::Mdn(m) => matches!(
                                m.disposition.kind,
                                DispositionKind::Failed
                                    | DispositionKind::Error
                                    | DispositionKind::Denied
                            ),
                        }
                }
                Err(_) => false,
            });
        if let Some(m) = found {
            w.record("pop3", "the edge user's mailbox", mailbox.transcript);
            w.record("message", "failure notice", super::send::excerpt(m));
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            w.record("pop3", "the edge user's mailbox", mailbox.transcript);
            return Err(format!(
                "no failure notice for {id} reached the edge user within {within:?}"
            ));
        }
        tokio::time::sleep_until(
            (tokio::time::Instant::now() + Duration::from_millis(200)).min(deadline),
        )
        .await;
    }
}

async fn secure(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let roots: Vec<Vec<u8>> = ctx
        .pki
        .anchor()
        .map(|a| vec![a.certificate_der.clone()])
        .unwrap_or_default();
    let connector = direct_conformance::hisp::tls::connector(&roots).map_err(|e| e.to_string())?;
    let name = ctx.sut.domain.clone();
    let s = session(w)?;
    let r = s
        .starttls(&connector, &name)
        .await
        .map_err(|e| e.to_string())?;
    if r.code != 220 {
        return Err(format!("STARTTLS refused: {} {}", r.code, r.text));
    }
    s.command("EHLO harness.direct.test", "EHLO harness.direct.test")
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

#[when(regex = r"^the harness authenticates after STARTTLS with (the right|a wrong) password$")]
async fn auth_after_tls(w: &mut DirectWorld, which: String) -> Result<(), String> {
    secure(w).await?;
    let (user, mut password) = credentials(w)?;
    if which == "a wrong" {
        password.push_str("-wrong");
    }
    let r = session(w)?
        .command(
            &format!("AUTH PLAIN {}", auth_plain(&user, &password)),
            "AUTH PLAIN ********",
        )
        .await
        .map_err(|e| e.to_string())?;
    keep(w, "AUTH", r);
    Ok(())
}

#[when("the harness tries AUTH PLAIN in clear with the right password")]
async fn auth_in_clear(w: &mut DirectWorld) -> Result<(), String> {
    let (user, password) = credentials(w)?;
    let r = session(w)?
        .command(
            &format!("AUTH PLAIN {}", auth_plain(&user, &password)),
            "AUTH PLAIN ********",
        )
        .await
        .map_err(|e| e.to_string())?;
    keep(w, "AUTH", r);
    Ok(())
}

pub(super) fn last(w: &DirectWorld, what: &str) -> Result<Reply, String> {
    w.replies
        .iter()
        .rev()
        .find(|(k, _)| k == what)
        .map(|(_, r)| r.clone())
        .ok_or_else(|| format!("no {what} reply recorded"))
}

pub(super) fn record_transcript(w: &mut DirectWorld) {
    if let Some(s) = &w.submission {
        let t = s.transcript.clone();
        w.record("smtp", "harness → SUT submission", t);
    }
}

#[then(regex = r"^the SUT (accepts|refuses) the authentication$")]
fn auth_verdict(w: &mut DirectWorld, how: String) -> Result<(), String> {
    record_transcript(w);
    let r = last(w, "AUTH")?;
    match (how.as_str(), r.code) {
        ("accepts", 235) => Ok(()),
        ("refuses", c) if (500..600).contains(&c) => Ok(()),
        _ => Err(format!(
            "the SUT answered {} {} to AUTH; expected {}",
            r.code,
            r.text,
            if how == "accepts" {
                "235"
            } else {
                "a 5xx refusal"
            }
        )),
    }
}

#[then("the SUT neither offers nor accepts AUTH before STARTTLS")]
fn no_clear_auth(w: &mut DirectWorld) -> Result<(), String> {
    record_transcript(w);
    let ehlo = last(w, "EHLO in clear")?;
    let offered = ehlo
        .text
        .lines()
        .any(|l| l.to_ascii_uppercase().starts_with("AUTH"));
    let r = last(w, "AUTH")?;
    if r.code / 100 == 2 || r.code == 334 {
        return Err(format!(
            "AUTH in clear was accepted ({} {}){}",
            r.code,
            r.text,
            if offered {
                "; AUTH was offered before STARTTLS"
            } else {
                ""
            }
        ));
    }
    if offered {
        return Err("AUTH is offered in the EHLO reply before STARTTLS".into());
    }
    Ok(())
}

#[then("a message to an outside address is refused")]
async fn no_relay(w: &mut DirectWorld) -> Result<(), String> {
    let s = session(w)?;
    let m = s
        .command(
            "MAIL FROM:<nobody@sut.direct.test>",
            "MAIL FROM:<nobody@sut.direct.test>",
        )
        .await
        .map_err(|e| e.to_string())?;
    let r = if m.code / 100 == 2 {
        Some(
            s.command(
                "RCPT TO:<someone@outside.direct.test>",
                "RCPT TO:<someone@outside.direct.test>",
            )
            .await
            .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };
    record_transcript(w);
    match r {
        Some(r) if r.code / 100 == 2 => Err(format!(
            "an unauthenticated session could address an outside recipient ({} {})",
            r.code, r.text
        )),
        _ => Ok(()),
    }
}
