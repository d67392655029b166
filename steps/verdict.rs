//! What must (or must not) come out of the SUT's doors: the recipient's mailbox (edge
//! retrieval), MDNs at the harness HISP, and the SUT's audit log. Every wait has a deadline
//! from sut.toml's windows; "must not" checks wait the whole silence window and say so.

use std::time::Duration;

use cucumber::then;
use direct_conformance::hisp::HispEvent;
use direct_conformance::mdn::{DispositionKind, Notification, parse_notification};
use direct_conformance::sut::stimulus::CCDA;
use direct_conformance::sut::{Retrieval, imap, pop3, read_maildir};

use super::send::excerpt;
use super::world::DirectWorld;

/// Message-IDs compared without brackets, any case.
fn same_id(a: &str, b: &str) -> bool {
    let bare = |s: &str| s.trim().trim_matches(['<', '>']).to_ascii_lowercase();
    bare(a) == bare(b)
}

/// The messages in `role`'s mailbox whose Message-ID is `id`, read through the SUT's
/// retrieval door (and the door's transcript).
async fn retrieve(w: &DirectWorld, role: &str, id: &str) -> Result<(Vec<Vec<u8>>, String), String> {
    retrieve_any(w, role, &[id]).await
}

/// As `retrieve`, for any of `ids` (one read: POP3 polls return only new messages).
async fn retrieve_any(
    w: &DirectWorld,
    role: &str,
    ids: &[&str],
) -> Result<(Vec<Vec<u8>>, String), String> {
    let ctx = w.ctx()?;
    let r = ctx
        .sut
        .recipient(role)
        .ok_or_else(|| format!("no recipients.{role}"))?;
    let (all, transcript) = match &ctx.sut.retrieval {
        Some(Retrieval::Pop3(addr)) => {
            // New messages only (fetch remembers what earlier polls read).
            let password = r.password.clone().unwrap_or_default();
            let m = pop3::fetch(*addr, &r.user, &password, Duration::from_secs(10))
                .await
                .map_err(|e| format!("{e}\n{}", e.transcript))?;
            (m.messages, m.transcript)
        }
        Some(Retrieval::Imap(addr)) => {
            // Read-only (EXAMINE, BODY.PEEK[]); new messages only, as for POP3.
            let password = r.password.clone().unwrap_or_default();
            let m = imap::fetch(*addr, &r.user, &password, Duration::from_secs(10))
                .await
                .map_err(|e| format!("{e}\n{}", e.transcript))?;
            (m.messages, m.transcript)
        }
        Some(Retrieval::Maildir(root)) => (
            read_maildir(root, &r.address),
            format!("read Maildir {}", root.display()),
        ),
        None => return Err("sut.toml declares no edge retrieval door".into()),
    };
    let parser = mail_parser::MessageParser::default();
    let mine = all
        .into_iter()
        .filter(|m| {
            parser
                .parse(m)
                .and_then(|p| p.message_id().map(|x| ids.iter().any(|id| same_id(x, id))))
                .unwrap_or(false)
        })
        .collect();
    Ok((mine, transcript))
}

/// Polls `role`'s mailbox for the whole of `within` (SILENCE): the first message carrying
/// one of `ids`, if any arrives, and the retrieval transcript.
pub(super) async fn wait_for_any(
    w: &DirectWorld,
    role: &str,
    ids: &[String],
    within: Duration,
) -> Result<(Option<Vec<u8>>, String), String> {
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (found, transcript) = retrieve_any(w, role, &ids).await?;
        if let Some(m) = found.into_iter().next() {
            return Ok((Some(m), transcript));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok((None, transcript));
        }
        tokio::time::sleep_until(
            (tokio::time::Instant::now() + Duration::from_millis(200)).min(deadline),
        )
        .await;
    }
}

/// Polls the mailbox until the message shows up or the deadline passes (POP3 has no push).
pub(super) async fn wait_for_delivery(
    w: &DirectWorld,
    role: &str,
    id: &str,
    within: Duration,
) -> Result<(Option<Vec<u8>>, String), String> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (found, transcript) = retrieve(w, role, id).await?;
        if let Some(m) = found.into_iter().next() {
            return Ok((Some(m), transcript));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok((None, transcript));
        }
        tokio::time::sleep_until(
            (tokio::time::Instant::now() + Duration::from_millis(150)).min(deadline),
        )
        .await;
    }
}

/// A notice (MDN or DSN) that the harness HISP took in: (raw decrypted notice, parsed).
pub(super) fn delivered_notice(event: &HispEvent) -> Option<(Vec<u8>, Notification)> {
    let HispEvent::Delivered {
        notification: true,
        path,
        ..
    } = event
    else {
        return None;
    };
    let raw = std::fs::read(path).ok()?;
    let n = parse_notification(&raw).ok()?;
    Some((raw, n))
}

/// A notice that reached the harness HISP for `id`: (raw decrypted notice, parsed).
pub(super) fn notice(event: &HispEvent, id: &str) -> Option<(Vec<u8>, Notification)> {
    let (raw, n) = delivered_notice(event)?;
    n.original_message_id()
        .is_some_and(|o| same_id(o, id))
        .then_some((raw, n))
}

fn is_kind(n: &Notification, kind: DispositionKind) -> bool {
    matches!(n, Notification::Mdn(m) if m.disposition.kind == kind)
}

/// Waits for an MDN of `kind` (and, for dispatched, with or without the extension field).
async fn wait_mdn(
    w: &DirectWorld,
    kind: DispositionKind,
    extension: Option<bool>,
    within: Duration,
) -> Result<Option<(Vec<u8>, Notification)>, String> {
    let ctx = w.ctx()?;
    let id = w.sent()?.message_id.clone();
    let pred = |e: &HispEvent| {
        notice(e, &id).is_some_and(|(_, n)| {
            is_kind(&n, kind)
                && extension
                    .is_none_or(|x| matches!(&n, Notification::Mdn(m) if m.final_delivery == x))
        })
    };
    Ok(ctx
        .peer
        .wait_for(pred, within)
        .await
        .and_then(|e| notice(&e, &id)))
}

/// What the harness HISP refused during the scenario (an unsigned MDN, a SHA-1 one …).
pub(super) fn peer_refusals(w: &mut DirectWorld) {
    let Ok(ctx) = w.ctx() else { return };
    let lines: Vec<String> = ctx
        .peer
        .events()
        .into_iter()
        .filter_map(|e| match e {
            HispEvent::Rejected { recipients, reason } => {
                Some(format!("{}: {reason}", recipients.join(", ")))
            }
            _ => None,
        })
        .collect();
    if !lines.is_empty() {
        w.record(
            "hisp-events",
            "messages the harness HISP refused during the run",
            lines.join("\n"),
        );
    }
}

fn describe_smtp(w: &DirectWorld) -> String {
    match &w.sent {
        Some(s) => match (&s.smtp.data_reply, &s.smtp.error) {
            (Some((c, t)), _) => format!("the SUT answered {c} {t} to DATA"),
            (None, Some(e)) => format!("the SMTP session ended: {e}"),
            (None, None) => "no SMTP reply".into(),
        },
        None => "nothing sent".into(),
    }
}

#[then(regex = r"^the SUT's (\w+) recipient receives the message with its attachment intact$")]
async fn delivered(w: &mut DirectWorld, role: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let sent = w.sent()?.clone();
    if !sent.smtp.accepted() {
        return Err(format!(
            "the SUT did not accept the message: {}",
            describe_smtp(w)
        ));
    }
    let window = ctx.sut.windows.accept;
    let (found, transcript) = wait_for_delivery(w, &role, &sent.message_id, window).await?;
    w.record(
        "pop3",
        format!("edge retrieval for the {role} recipient"),
        transcript,
    );
    let Some(m) = found else {
        return Err(format!(
            "the message {} did not reach the {role} recipient within {window:?}",
            sent.message_id
        ));
    };
    w.record("message", "as retrieved by the recipient", excerpt(&m));
    let parsed = mail_parser::MessageParser::default()
        .parse(&m)
        .ok_or("the retrieved message does not parse")?;
    let intact = parsed.attachments().any(|a| a.contents() == CCDA);
    if !intact {
        return Err("the C-CDA attachment is missing or altered at the recipient".into());
    }
    Ok(())
}

#[then(regex = r"^the SUT's (\w+) recipient does not receive the message$")]
async fn not_delivered(w: &mut DirectWorld, role: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let id = w.sent()?.message_id.clone();
    let window = ctx.sut.windows.silence;
    let (found, transcript) = wait_for_delivery(w, &role, &id, window).await?;
    w.record(
        "pop3",
        format!("edge retrieval for the {role} recipient"),
        transcript,
    );
    if let Some(m) = found {
        w.record("message", "delivered although it must not be", excerpt(&m));
        return Err(format!("the message reached the {role} recipient"));
    }
    w.record(
        "note",
        "silence window",
        format!("waited {window:?}: nothing reached the {role} recipient"),
    );
    Ok(())
}

#[then("the SUT answered the SMTP transaction within the lookup allowance")]
fn answered_within(w: &mut DirectWorld) -> Result<(), String> {
    let allowance = w.ctx()?.sut.windows.lookup_allowance;
    let secs = allowance.as_secs();
    let sent = w.sent()?;
    let took = sent.elapsed;
    let line = format!("the SMTP session took {took:?}");
    let late = took > allowance || sent.smtp.data_reply.is_none();
    w.record("note", "decision time", line.clone());
    if late {
        return Err(format!(
            "{line}; the end of DATA was not answered within {secs} s"
        ));
    }
    Ok(())
}

#[then("the SUT refuses the message")]
async fn refused(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let id = w.sent()?.message_id.clone();
    let window = ctx.sut.windows.silence;
    let roles = w.roles.clone();
    w.record("note", "SMTP outcome", describe_smtp(w));
    // REJECT(W): for the whole window, no delivery and no processed MDN (both watched at once).
    let mdn = wait_mdn(w, DispositionKind::Processed, None, window);
    let mailbox = async {
        let mut found = None;
        for role in &roles {
            if let Ok((Some(m), _)) = wait_for_delivery(w, role, &id, window).await {
                found = Some((role.clone(), m));
                break;
            }
        }
        found
    };
    let (mdn, mailbox) = tokio::join!(mdn, mailbox);
    if let Some((role, m)) = mailbox {
        w.record(
            "message",
            format!("delivered to the {role} recipient"),
            excerpt(&m),
        );
        return Err(format!("the message reached the {role} recipient"));
    }
    if let Some((raw, _)) = mdn? {
        w.record("mdn", "processed MDN from the SUT", excerpt(&raw));
        return Err("the SUT sent a processed MDN for a message it had to refuse".into());
    }
    w.record(
        "note",
        "silence window",
        format!("waited {window:?}: nothing reached the recipient and no processed MDN arrived"),
    );
    Ok(())
}

/// The MDN as the SUT put it on the wire (from the tap), run through the validator with the
/// harness keys and the root; returns the error-level failures.
async fn validate_wire(w: &mut DirectWorld, decrypted: &[u8]) -> Result<Vec<String>, String> {
    use direct_conformance::validate::{Severity, Status};
    let report = validate_wire_report(w, decrypted).await?;
    let mut text = String::new();
    let mut errors = Vec::new();
    for f in &report.findings {
        if f.status == Status::Passed {
            continue;
        }
        text.push_str(&format!(
            "{} {:?} {:?} {}: {}\n",
            f.id, f.status, f.severity, f.part_path, f.message
        ));
        if f.status == Status::Failed && f.severity == Severity::Error {
            errors.push(format!("{} {}", f.id, f.message));
        }
    }
    w.record(
        "findings",
        "validator findings on the MDN (passed checks omitted)",
        text,
    );
    Ok(errors)
}

/// The validator's report on the MDN whose decrypted form is `decrypted`, as the SUT sent it.
pub(super) async fn validate_wire_report(
    w: &mut DirectWorld,
    decrypted: &[u8],
) -> Result<direct_conformance::validate::MessageReport, String> {
    use direct_conformance::validate::{Correlation, ValidationOptions, validate_message};
    let ctx = w.ctx()?;
    let parsed = mail_parser::MessageParser::default().parse(decrypted);
    let Some(mdn_id) = parsed
        .as_ref()
        .and_then(|p| p.message_id())
        .map(str::to_string)
    else {
        return Err("the MDN has no Message-ID".into());
    };
    let wire = ctx
        .tap
        .wait_for(
            |c| {
                mail_parser::MessageParser::default()
                    .parse_headers(&c.data)
                    .and_then(|p| p.message_id().map(|x| same_id(x, &mdn_id)))
                    .unwrap_or(false)
            },
            Duration::from_secs(2),
        )
        .await
        .ok_or_else(|| format!("the MDN <{mdn_id}> was not seen on the harness backbone"))?;
    w.record(
        "mdn",
        "as the SUT sent it on the backbone",
        excerpt(&wire.data),
    );
    use direct_conformance::validate::options::RecipientKey;
    let mut keys = Vec::new();
    for name in [w.signer.as_str(), "hisp_sender"] {
        if let Some(c) = ctx.pki.credential(name) {
            keys.push(RecipientKey::Key {
                path: format!("pki:{name}").into(),
                key: c.key.clone(),
            });
        }
    }
    let anchors = ctx
        .pki
        .anchor()
        .map(|a| vec![a.certificate.clone()])
        .unwrap_or_default();
    let sent = w.sent()?.clone();
    let requested = w.stimulus.as_ref().map(|s| s.request_notifications);
    let options = ValidationOptions {
        recipient_keys: keys,
        anchors,
        correlation: Some(Correlation {
            message_ids: vec![sent.message_id.clone()],
            notify_to: vec![super::send::SENDER.to_string()],
            final_delivery_requested: requested,
        }),
        ..ValidationOptions::default()
    };
    let data = wire.data.clone();
    tokio::task::spawn_blocking(move || validate_message("mdn", &data, &options))
        .await
        .map_err(|e| format!("validator: {e}"))
}

#[then(regex = r"^a (processed|dispatched) MDN for the message reaches the harness$")]
async fn mdn_arrives(w: &mut DirectWorld, kind: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let (k, ext) = if kind == "processed" {
        (DispositionKind::Processed, None)
    } else {
        (DispositionKind::Dispatched, None)
    };
    let window = ctx.sut.windows.accept;
    match wait_mdn(w, k, ext, window).await? {
        Some((raw, n)) => {
            w.record(
                "mdn",
                format!("{kind} MDN, decrypted and verified by the harness HISP"),
                excerpt(&raw),
            );
            w.record("mdn", "parsed", format!("{n:#?}"));
            let errors = validate_wire(w, &raw).await?;
            if errors.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "the {kind} MDN has error-level validator findings: {}",
                    errors.join("; ")
                ))
            }
        }
        None => {
            peer_refusals(w);
            Err(format!(
                "no signed and encrypted {kind} MDN for {} reached the harness within {window:?}",
                w.sent()?.message_id
            ))
        }
    }
}

#[then("the dispatched MDN carries the final-delivery extension field")]
async fn dispatched_extension(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    if wait_mdn(
        w,
        DispositionKind::Dispatched,
        Some(true),
        ctx.sut.windows.accept,
    )
    .await?
    .is_none()
    {
        return Err("the dispatched MDN lacks X-DIRECT-FINAL-DESTINATION-DELIVERY".into());
    }
    Ok(())
}

#[then("no dispatched MDN with the final-delivery extension field reaches the harness")]
async fn no_dispatched(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let window = ctx.sut.windows.silence;
    if let Some((raw, _)) = wait_mdn(w, DispositionKind::Dispatched, Some(true), window).await? {
        w.record(
            "mdn",
            "dispatched MDN that was not asked for",
            excerpt(&raw),
        );
        return Err("the SUT sent a dispatched MDN with the extension field although the message did not ask for timely and reliable delivery".into());
    }
    w.record(
        "note",
        "silence window",
        format!("waited {window:?}: no such MDN"),
    );
    Ok(())
}

#[then("no MDN for the message reaches the harness")]
async fn no_mdn(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let id = w.sent()?.message_id.clone();
    let window = ctx.sut.windows.silence;
    let found = ctx
        .peer
        .wait_for(|e| notice(e, &id).is_some(), window)
        .await
        .and_then(|e| notice(&e, &id));
    if let Some((raw, _)) = found {
        w.record("mdn", "notification that must not exist", excerpt(&raw));
        return Err("the SUT answered with a notification".into());
    }
    w.record(
        "note",
        "silence window",
        format!("waited {window:?}: no notification arrived"),
    );
    Ok(())
}

#[then(
    regex = r"^the SUT's audit log records the (refusal|delivery) with the recipient(?: and a reason)?$"
)]
async fn audit(w: &mut DirectWorld, what: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let Some(path) = ctx.sut.audit.clone() else {
        return Err("sut.toml declares no audit source".into());
    };
    let id = w.sent()?.message_id.clone();
    let recipients = w.sent()?.recipients.clone();
    let wanted: &[&str] = if what == "refusal" {
        &["incoming.rejected", "incoming.recipient_rejected"]
    } else {
        &["incoming.accepted"]
    };
    let deadline = tokio::time::Instant::now() + ctx.sut.windows.audit;
    loop {
        let lines = direct_conformance::sut::audit::read(&path);
        let mine: Vec<_> = lines.iter().filter(|l| l.about(&id)).collect();
        let hit = mine.iter().find(|l| {
            l.event().is_some_and(|e| wanted.contains(&e))
                && (what == "delivery" || l.reason().is_some_and(|r| !r.trim().is_empty()))
                && recipients
                    .iter()
                    .all(|r| l.recipients().iter().any(|x| x.eq_ignore_ascii_case(r)))
        });
        if hit.is_some() || tokio::time::Instant::now() >= deadline {
            let text: String = mine.iter().map(|l| format!("{}\n", l.text)).collect();
            w.record("audit", format!("audit lines about {id}"), text);
            return match hit {
                Some(_) => Ok(()),
                None if mine.is_empty() => Err(format!("no audit line about {id}")),
                None => Err(format!(
                    "no {} audit line naming {} {}",
                    wanted.join(" or "),
                    recipients.join(", "),
                    if what == "refusal" {
                        "with a reason"
                    } else {
                        ""
                    }
                )),
            };
        }
        tokio::time::sleep_until(
            (tokio::time::Instant::now() + Duration::from_millis(100)).min(deadline),
        )
        .await;
    }
}

/// A door area's expectations (what was expected, what went wrong if it did): recorded as one
/// finding, and the step fails with those not met.
pub(super) fn judge_expectations(
    w: &mut DirectWorld,
    area: &str,
    checks: Vec<(String, Option<String>)>,
) -> Result<(), String> {
    if checks.is_empty() {
        return Err(format!("no {area} exchange was checked"));
    }
    let summary: String = checks
        .iter()
        .map(|(what, p)| match p {
            None => format!("met:    {what}\n"),
            Some(why) => format!("FAILED: {what}: {why}\n"),
        })
        .collect();
    w.record("findings", format!("{area} expectations"), summary);
    let failed: Vec<String> = checks
        .iter()
        .filter_map(|(what, p)| p.as_ref().map(|why| format!("{what}: {why}")))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}
