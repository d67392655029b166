//! The SUT's audit log (TEST-CATALOGUE §e): events in the §e.1 vocabulary, matched to a
//! scenario's message by Message-ID (or Original-Message-ID) and by time (the scenario's
//! start minus the allowed skew, up to now plus the skew). Every wait ends at W_audit past
//! the point where the event must exist.

use std::collections::BTreeMap;
use std::time::Duration;

use cucumber::{given, then, when};
use direct_conformance::sut::audit::AuditLine;
use direct_conformance::sut::smtp;
use direct_conformance::sut::stimulus::{CCDA, Stimulus};
use time::OffsetDateTime;
use x509_cert::Certificate;

use super::send::SENDER;
use super::world::{DirectWorld, Sent};

/// Clock skew allowed between the harness and the SUT's audit times (§e.1 default).
const SKEW: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
pub struct AuState {
    /// A random marker put in body and attachment (AU-09).
    pub canary: Option<String>,
    /// SHA-256 (hex) of the content the harness signed (AU-10).
    pub digest: Option<String>,
    /// Message-IDs of a batch of messages (AU-11).
    pub batch: Vec<String>,
    /// When the scenario began (events before it, less the skew, are not its).
    pub started: Option<OffsetDateTime>,
}

fn started(w: &mut DirectWorld) -> OffsetDateTime {
    *w.au.started.get_or_insert_with(OffsetDateTime::now_utc)
}

fn in_time(l: &AuditLine, from: OffsetDateTime) -> bool {
    let Some(t) = l
        .value
        .as_ref()
        .and_then(|v| v.get("time"))
        .and_then(|v| v.as_str())
        .and_then(|t| {
            OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        })
    else {
        return false;
    };
    let skew = time::Duration::seconds(SKEW.as_secs() as i64);
    t >= from - skew && t <= OffsetDateTime::now_utc() + skew
}

fn field<'a>(l: &'a AuditLine, name: &str) -> Option<&'a str> {
    l.value.as_ref()?.get(name)?.as_str()
}

/// Polls the audit source until `pred` holds for some line about `id` in the scenario's time,
/// or `within` passes. Returns the matching line, and records the lines about `id`.
async fn wait_event(
    w: &mut DirectWorld,
    id: &str,
    within: Duration,
    what: &str,
    pred: impl Fn(&AuditLine) -> bool,
) -> Result<AuditLine, String> {
    let ctx = w.ctx()?;
    let path = ctx
        .sut
        .audit
        .clone()
        .ok_or("sut.toml declares no audit source")?;
    let from = started(w);
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let lines = direct_conformance::sut::audit::read(&path);
        let mine: Vec<&AuditLine> = lines
            .iter()
            .filter(|l| l.about(id) && in_time(l, from))
            .collect();
        let hit = mine.iter().find(|l| pred(l)).map(|l| (*l).clone());
        if hit.is_some() || tokio::time::Instant::now() >= deadline {
            let text: String = mine.iter().map(|l| format!("{}\n", l.text)).collect();
            w.record("audit", format!("the SUT's audit lines about {id}"), text);
            return hit.ok_or_else(|| {
                if mine.is_empty() {
                    format!("no audit line about {id} within {within:?}")
                } else {
                    format!("no {what} audit line about {id} within {within:?}")
                }
            });
        }
        tokio::time::sleep_until(
            (tokio::time::Instant::now() + Duration::from_millis(100)).min(deadline),
        )
        .await;
    }
}

/// W_acc + W_audit: an event about a delivery is written once the delivery ends (the next
/// hop answered DATA), which the harness sees only through the log; the wait ends at the event.
fn after_delivery(ctx: &super::context::RunContext) -> Duration {
    ctx.sut.windows.accept + ctx.sut.windows.audit
}

fn names(l: &AuditLine, addr: &str) -> bool {
    l.recipients().iter().any(|r| r.eq_ignore_ascii_case(addr))
}

fn role_address(w: &DirectWorld, role: &str) -> Result<String, String> {
    Ok(w.ctx()?
        .sut
        .recipient(role)
        .ok_or_else(|| format!("sut.toml declares no recipients.{role}"))?
        .address
        .clone())
}

#[given("the audit case starts")]
fn audit_start(w: &mut DirectWorld) {
    let t = started(w);
    let text = format!(
        "events count for this scenario from {} (less a {SKEW:?} clock skew)",
        direct_conformance::audit::event::rfc3339(t)
    );
    w.record("note", "audit time window", text);
}

#[then(
    "the SUT's audit log records outgoing.sent for the submitted message with its From and every recipient"
)]
async fn outgoing_sent(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let id = super::trust_send::sent_id(w)?;
    let from = ctx
        .sut
        .submission
        .as_ref()
        .and_then(|s| s.user.clone())
        .unwrap_or_default();
    let to =
        w.tx.submissions
            .first()
            .map(|s| s.to.clone())
            .unwrap_or_default();
    wait_event(
        w,
        &id,
        after_delivery(&ctx),
        "outgoing.sent with From and every recipient",
        |l| {
            l.event() == Some("outgoing.sent")
                && field(l, "from").is_some_and(|f| f.eq_ignore_ascii_case(&from))
                && to.iter().all(|t| names(l, t))
        },
    )
    .await
    .map(|_| ())
}

#[then(
    regex = r"^the SUT's audit log records incoming.accepted for the message naming the (\w+) recipient$"
)]
async fn incoming_accepted(w: &mut DirectWorld, role: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let id = w.sent()?.message_id.clone();
    let addr = role_address(w, &role)?;
    wait_event(
        w,
        &id,
        ctx.sut.windows.accept,
        "incoming.accepted naming the recipient",
        |l| l.event() == Some("incoming.accepted") && names(l, &addr),
    )
    .await
    .map(|_| ())
}

/// Words that place a refusal reason in a class (§e.2 AU-03).
fn reason_words(class: &str) -> &'static [&'static str] {
    match class {
        "signature" => &["signature", "digest"],
        "validity" => &[
            "expired",
            "validity",
            "not yet valid",
            "notafter",
            "notbefore",
        ],
        "trust" => &["trust", "anchor", "path", "chain"],
        _ => &["decrypt", "recipientinfo", "key"],
    }
}

#[then(
    regex = r"^the SUT's audit log records the refusal of the message with a reason about (signature|validity|trust|decryption)$"
)]
async fn incoming_rejected(w: &mut DirectWorld, class: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let id = w.sent()?.message_id.clone();
    let words = reason_words(&class);
    let hit = wait_event(
        w,
        &id,
        ctx.sut.windows.silence + ctx.sut.windows.audit,
        &format!("refusal with a {class} reason"),
        |l| {
            matches!(
                l.event(),
                Some("incoming.rejected") | Some("incoming.recipient_rejected")
            ) && l.reason().is_some_and(|r| {
                let r = r.to_ascii_lowercase();
                words.iter().any(|k| r.contains(k))
            })
        },
    )
    .await?;
    w.record(
        "note",
        "reason class",
        format!(
            "{class}: the reason {:?} holds one of {words:?}",
            hit.reason().unwrap_or_default()
        ),
    );
    Ok(())
}

#[then(
    regex = r"^the SUT's audit log records outgoing.recipient_rejected naming ([\w.+-]+@[\w.-]+)$"
)]
async fn outgoing_recipient_rejected(w: &mut DirectWorld, addr: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let id = super::trust_send::sent_id(w)?;
    wait_event(
        w,
        &id,
        ctx.sut.windows.accept,
        "outgoing.recipient_rejected naming the recipient",
        |l| l.event() == Some("outgoing.recipient_rejected") && names(l, &addr),
    )
    .await
    .map(|_| ())
}

#[then(
    regex = r"^the SUT's audit log records mdn.sent for the message with disposition (processed|dispatched), its Original-Message-ID and the (\w+) recipient as Final-Recipient$"
)]
async fn mdn_sent(w: &mut DirectWorld, kind: String, role: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let id = w.sent()?.message_id.clone();
    let addr = role_address(w, &role)?;
    let bare = |s: &str| s.trim().trim_matches(['<', '>']).to_ascii_lowercase();
    wait_event(
        w,
        &id,
        ctx.sut.windows.accept,
        &format!("mdn.sent ({kind}) with Original-Message-ID and Final-Recipient"),
        |l| {
            l.event() == Some("mdn.sent")
                && field(l, "disposition").is_some_and(|d| d.to_ascii_lowercase().contains(&kind))
                && field(l, "original_message_id").is_some_and(|o| bare(o) == bare(&id))
                && field(l, "final_recipient").is_some_and(|f| f.eq_ignore_ascii_case(&addr))
        },
    )
    .await
    .map(|_| ())
}

#[then(
    regex = r"^the SUT's audit log records mdn.received for the harness's (processed|dispatched) MDN$"
)]
async fn mdn_received(w: &mut DirectWorld, kind: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let id = super::trust_send::sent_id(w)?;
    wait_event(
        w,
        &id,
        after_delivery(&ctx),
        &format!("mdn.received ({kind})"),
        |l| {
            l.event() == Some("mdn.received")
                && field(l, "disposition").is_some_and(|d| d.to_ascii_lowercase().contains(&kind))
        },
    )
    .await
    .map(|_| ())
}

#[then(
    "the SUT's audit log records dsn.sent for the submitted message once its processed deadline passed"
)]
async fn dsn_sent(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let id = super::trust_send::sent_id(w)?;
    let windows = ctx.sut.windows;
    // T_p, then W_acc standing in for the grace (§0.3), then W_audit: the wait ends at the
    // event, so a generous bound costs a passing SUT nothing.
    let within = windows.processed_timeout + windows.accept + windows.audit;
    wait_event(w, &id, within, "dsn.sent", |l| {
        l.event() == Some("dsn.sent")
    })
    .await
    .map(|_| ())
}

#[then(
    regex = r"^the SUT's audit log records incoming.recipient_rejected for the (\w+) recipient and not for the (\w+) recipient$"
)]
async fn per_recipient(w: &mut DirectWorld, refused: String, kept: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let id = w.sent()?.message_id.clone();
    let refused_addr = role_address(w, &refused)?;
    let kept_addr = role_address(w, &kept)?;
    wait_event(
        w,
        &id,
        ctx.sut.windows.accept,
        "incoming.recipient_rejected naming the refused recipient",
        |l| l.event() == Some("incoming.recipient_rejected") && names(l, &refused_addr),
    )
    .await?;
    // The accepted recipient's delivery is logged too; no rejection may name it.
    wait_event(
        w,
        &id,
        after_delivery(&ctx),
        "incoming.accepted for the kept recipient",
        |l| l.event() == Some("incoming.accepted") && names(l, &kept_addr),
    )
    .await?;
    let path = ctx.sut.audit.clone().ok_or("no audit source")?;
    let from = started(w);
    let wrong: Vec<String> = direct_conformance::sut::audit::read(&path)
        .into_iter()
        .filter(|l| l.about(&id) && in_time(l, from))
        .filter(|l| {
            matches!(
                l.event(),
                Some("incoming.rejected") | Some("incoming.recipient_rejected")
            ) && names(l, &kept_addr)
        })
        .map(|l| l.text)
        .collect();
    if !wrong.is_empty() {
        return Err(format!(
            "a rejection names the {kept} recipient: {}",
            wrong.join(" | ")
        ));
    }
    Ok(())
}

fn canary(w: &mut DirectWorld) -> String {
    let id = w.correlation_id.clone();
    w.au.canary
        .get_or_insert_with(|| {
            let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
            format!("CANARY-{id}-{nanos:x}")
        })
        .clone()
}

/// The default inner message with the canary in its body and in an extra attachment; the
/// C-CDA stays as it is, so that delivery checks still hold.
fn canary_inner(stim: &Stimulus, canary: &str) -> Vec<u8> {
    use direct_conformance::smime::entity::base64_lines;
    let b = "=_dc_canary";
    let date = OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    let mut out = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: {id}\r\nDisposition-Notification-To: {from}\r\nDisposition-Notification-Options: X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{b}\"\r\n\r\n--{b}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nPatient note {canary}.\r\n--{b}\r\nContent-Type: application/xml; name=\"ccda.xml\"\r\nContent-Disposition: attachment; filename=\"ccda.xml\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        from = stim.from,
        to = stim.to.join(", "),
        subject = stim.subject,
        id = stim.message_id,
    )
    .into_bytes();
    out.extend_from_slice(&base64_lines(CCDA));
    out.extend_from_slice(format!("\r\n--{b}\r\nContent-Type: text/plain; name=\"note.txt\"\r\nContent-Disposition: attachment; filename=\"note.txt\"\r\n\r\nDiagnosis {canary}\r\n--{b}--\r\n").as_bytes());
    out
}

#[given("the message carries a random canary in its body and in an attachment")]
fn canary_in_message(w: &mut DirectWorld) -> Result<(), String> {
    let c = canary(w);
    let stim = w.stimulus_mut()?;
    stim.body = Some(canary_inner(stim, &c));
    w.record("note", "canary", c);
    Ok(())
}

#[when(
    regex = r"^the SUT's edge user submits a message with the canary in its body and attachment to ([\w.+-]+@[\w.-]+)$"
)]
async fn submit_canary(w: &mut DirectWorld, to: String) -> Result<(), String> {
    let c = canary(w);
    super::trust_send::submit(w, vec![to], super::trust_send::Body::Ccda, true, Some(&c)).await
}

#[then("no line of the SUT's audit log contains the canary")]
async fn no_canary(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let c = w.au.canary.clone().ok_or("no canary was placed")?;
    // The events about both messages must be written before the search means anything.
    let rx = w.sent.as_ref().map(|s| s.message_id.clone());
    if let Some(id) = rx {
        wait_event(w, &id, after_delivery(&ctx), "incoming.accepted", |l| {
            l.event() == Some("incoming.accepted")
        })
        .await?;
    }
    if !w.tx.submissions.is_empty() {
        let id = super::trust_send::sent_id(w)?;
        wait_event(w, &id, after_delivery(&ctx), "outgoing.sent", |l| {
            l.event() == Some("outgoing.sent")
        })
        .await?;
    }
    let path = ctx.sut.audit.clone().ok_or("no audit source")?;
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let hits: Vec<&str> = text.lines().filter(|l| l.contains(&c)).collect();
    w.record(
        "note",
        "canary search",
        format!(
            "searched {} audit lines for {c}: {} hit(s)",
            text.lines().count(),
            hits.len()
        ),
    );
    if !hits.is_empty() {
        w.record("audit", "audit lines holding the canary", hits.join("\n"));
        return Err(format!(
            "{} audit line(s) hold the clinical content (the canary)",
            hits.len()
        ));
    }
    Ok(())
}

#[given("the harness keeps the SHA-256 of the content it signs")]
fn keep_digest(w: &mut DirectWorld) -> Result<(), String> {
    let stim = w.stimulus_mut()?;
    if !stim.wrap || stim.wrapper_type.is_some() {
        return Err("the digest case needs the default wrapped message".into());
    }
    // Fixed inner bytes: what `build` signs is exactly the wrapper around them.
    let inner = stim.inner();
    stim.body = Some(inner.clone());
    let signed = direct_conformance::smime::wrap::wrap(
        &direct_conformance::smime::canonical::to_crlf(&inner),
    );
    let digest = super::trust_send::sha256_hex(&signed);
    w.record("note", "SHA-256 of the signed content", digest.clone());
    w.au.digest = Some(digest);
    Ok(())
}

#[then("the SUT's audit log records the digest of the signed content for the message")]
async fn digest_logged(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let id = w.sent()?.message_id.clone();
    let want = w.au.digest.clone().ok_or("no digest was kept")?;
    let hit = wait_event(
        w,
        &id,
        ctx.sut.windows.accept,
        "event with the signed content's digest",
        |l| field(l, "digest").is_some_and(|d| d.eq_ignore_ascii_case(&want)),
    )
    .await;
    if hit.is_err() {
        let path = ctx.sut.audit.clone().ok_or("no audit source")?;
        let seen: Vec<String> = direct_conformance::sut::audit::read(&path)
            .iter()
            .filter(|l| l.about(&id))
            .filter_map(|l| field(l, "digest").map(str::to_string))
            .collect();
        return Err(format!(
            "no audit line about {id} holds the digest {want}; digests logged: {seen:?}"
        ));
    }
    Ok(())
}

#[when(
    regex = r"^the harness delivers (\d+) default messages to the SUT's (\w+) recipient, (\d+) at a time$"
)]
async fn deliver_batch(
    w: &mut DirectWorld,
    count: usize,
    role: String,
    at_once: usize,
) -> Result<(), String> {
    let ctx = w.ctx()?;
    started(w);
    let r = ctx
        .sut
        .recipient(&role)
        .ok_or_else(|| format!("sut.toml declares no recipients.{role}"))?
        .clone();
    let recipient_cert: Certificate = super::trust_send::certificate_of(&ctx, &r.certificate)?;
    let signer = ctx
        .pki
        .credential("hisp_sender")
        .ok_or("no credential hisp_sender")?
        .clone();
    let mut built = Vec::new();
    for i in 1..=count {
        let id = format!("<{}-b{i}@hisp.direct.test>", w.correlation_id);
        let stim = Stimulus::new(SENDER, std::slice::from_ref(&r.address), &id);
        let (cert, key, rc) = (
            signer.certificate.clone(),
            signer.key.clone(),
            recipient_cert.clone(),
        );
        let data = tokio::task::spawn_blocking(move || {
            let chain: Vec<Certificate> = Vec::new();
            stim.build((&cert, &key, &chain), &[rc])
        })
        .await
        .map_err(|e| format!("building message {i}: {e}"))?
        .map_err(|e| e.to_string())?;
        built.push((id, data));
    }
    let mut log = String::new();
    let mut refused = Vec::new();
    for chunk in built.chunks(at_once.max(1)) {
        let mut set = tokio::task::JoinSet::new();
        for (id, data) in chunk.iter().cloned() {
            let (backbone, to, patience) = (
                ctx.sut.backbone,
                r.address.clone(),
                ctx.sut.windows.accept.max(Duration::from_secs(30)),
            );
            set.spawn(async move {
                let o = smtp::send(
                    backbone,
                    "hisp.direct.test",
                    SENDER,
                    std::slice::from_ref(&to),
                    &data,
                    patience,
                )
                .await;
                (id, o)
            });
        }
        while let Some(j) = set.join_next().await {
            let (id, o) = j.map_err(|e| format!("send task: {e}"))?;
            log.push_str(&format!("{id}: {:?}\n", o.data_reply));
            if !o.accepted() {
                refused.push(id.clone());
            }
        }
    }
    w.record(
        "smtp",
        format!("{count} messages, {at_once} at a time: the SUT's answers to DATA"),
        log,
    );
    w.au.batch = built.into_iter().map(|(id, _)| id).collect();
    w.sent = w.au.batch.first().map(|id| Sent {
        message_id: id.clone(),
        recipients: vec![r.address.clone()],
        smtp: Default::default(),
        elapsed: Duration::ZERO,
        at: std::time::Instant::now(),
    });
    if !refused.is_empty() {
        return Err(format!("the SUT did not accept {refused:?}"));
    }
    Ok(())
}

#[then(
    regex = r"^the SUT's audit log records exactly one incoming.accepted for each of the (\d+) messages$"
)]
async fn batch_accepted(w: &mut DirectWorld, count: usize) -> Result<(), String> {
    let ctx = w.ctx()?;
    let path = ctx
        .sut
        .audit
        .clone()
        .ok_or("sut.toml declares no audit source")?;
    let ids = w.au.batch.clone();
    if ids.len() != count {
        return Err(format!("{} messages were sent, not {count}", ids.len()));
    }
    let from = started(w);
    let deadline = tokio::time::Instant::now() + ctx.sut.windows.accept + ctx.sut.windows.audit;
    loop {
        let lines = direct_conformance::sut::audit::read(&path);
        let mut counts: BTreeMap<&str, usize> = ids.iter().map(|i| (i.as_str(), 0)).collect();
        let mut mine = String::new();
        for l in lines
            .iter()
            .filter(|l| l.event() == Some("incoming.accepted") && in_time(l, from))
        {
            if let Some(id) = ids.iter().find(|i| l.about(i)) {
                *counts.entry(id.as_str()).or_default() += 1;
                mine.push_str(&format!("{}\n", l.text));
            }
        }
        let missing: Vec<&str> = counts
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(i, _)| *i)
            .collect();
        let doubled: Vec<String> = counts
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(i, n)| format!("{i} ×{n}"))
            .collect();
        if (missing.is_empty() && doubled.is_empty()) || tokio::time::Instant::now() >= deadline {
            w.record("audit", "incoming.accepted lines of the batch", mine);
            if missing.is_empty() && doubled.is_empty() {
                return Ok(());
            }
            return Err(format!(
                "{} of {count} messages have no incoming.accepted line{}; duplicated: {doubled:?}",
                missing.len(),
                if missing.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", missing.join(", "))
                }
            ));
        }
        tokio::time::sleep_until(
            (tokio::time::Instant::now() + Duration::from_millis(150)).min(deadline),
        )
        .await;
    }
}
