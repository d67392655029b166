//! Timely and reliable, as the edge user sees it (TEST-CATALOGUE §c.2, §c.3, §c.6): the
//! notices that reach the user who sent a message — how many, of which kind, when — and the
//! DSNs among them judged by the validator (MN14). A positive final notice is a
//! dispatched MDN; a failure notice is a failed (error, denied) MDN or a DSN block with
//! `Action: failed`; processed and displayed MDNs are neither.

use std::time::{Duration, Instant};

use cucumber::{then, when};
use direct_conformance::hisp::HispEvent;
use direct_conformance::mdn::{
    DispositionKind, DsnAction, Notification, normalise_message_id, parse_notification,
};
use direct_conformance::sut::{Retrieval, pop3, read_maildir};

use super::send::excerpt;
use super::world::DirectWorld;

const POLL: Duration = Duration::from_millis(200);

/// What a notice says about one recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Positive,
    Failure,
    /// Processed, displayed, deleted, or about another recipient.
    Other,
}

fn about(field: &str, recipient: Option<&str>) -> bool {
    recipient.is_none_or(|r| field.to_ascii_lowercase().contains(&r.to_ascii_lowercase()))
}

fn kind(n: &Notification, recipient: Option<&str>) -> Kind {
    match n {
        Notification::Mdn(m) if !about(&m.final_recipient, recipient) => Kind::Other,
        Notification::Mdn(m) if m.disposition.is_failure() => Kind::Failure,
        Notification::Mdn(m) if m.disposition.kind == DispositionKind::Dispatched => Kind::Positive,
        Notification::Mdn(_) => Kind::Other,
        Notification::Dsn(d) => {
            if d.per_recipient
                .iter()
                .any(|b| b.action == DsnAction::Failed && about(&b.final_recipient, recipient))
            {
                Kind::Failure
            } else {
                Kind::Other
            }
        }
    }
}

pub(super) fn same_id(a: &str, b: &str) -> bool {
    normalise_message_id(a).is_some() && normalise_message_id(a) == normalise_message_id(b)
}

/// The notices for the scenario's message in the edge user's mailbox, as read now.
pub(super) struct Seen {
    pub notices: Vec<(Vec<u8>, Notification)>,
    pub transcript: String,
}

impl Seen {
    fn count(&self, k: Kind, recipient: Option<&str>) -> usize {
        self.notices
            .iter()
            .filter(|(_, n)| kind(n, recipient) == k)
            .count()
    }

    fn finals(&self, recipient: Option<&str>) -> usize {
        self.count(Kind::Positive, recipient) + self.count(Kind::Failure, recipient)
    }

    fn summary(&self) -> String {
        if self.notices.is_empty() {
            return "none".into();
        }
        self.notices
            .iter()
            .map(|(_, n)| match n {
                Notification::Mdn(m) => format!(
                    "MDN {} for {}",
                    m.disposition.kind.as_str(),
                    m.final_recipient
                ),
                Notification::Dsn(d) => format!(
                    "DSN for {}",
                    d.per_recipient
                        .iter()
                        .map(|b| format!("{} ({:?})", b.final_recipient, b.action))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Reads the edge user's mailbox (the submission account) through the SUT's retrieval door.
pub(super) async fn read_edge(w: &DirectWorld, id: &str) -> Result<Seen, String> {
    let ctx = w.ctx()?;
    let (user, password) = super::edge::account(&ctx)?;
    let (messages, transcript) = match &ctx.sut.retrieval {
        Some(Retrieval::Pop3(addr)) => {
            let m = pop3::fetch(*addr, &user, &password, Duration::from_secs(15))
                .await
                .map_err(|e| e.to_string())?;
            (m.messages, m.transcript)
        }
        Some(Retrieval::Maildir(root)) => (
            read_maildir(root, &user),
            format!("read Maildir {}", root.display()),
        ),
        None => return Err("sut.toml declares no edge retrieval door".into()),
    };
    let notices = messages
        .into_iter()
        .filter_map(|m| {
            let n = parse_notification(&m).ok()?;
            n.original_message_id()
                .is_some_and(|o| same_id(o, id))
                .then_some((m, n))
        })
        .collect();
    Ok(Seen {
        notices,
        transcript,
    })
}

/// Polls the edge mailbox until `done` holds or `until` passes; the last reading either way.
pub(super) async fn watch(
    w: &DirectWorld,
    until: Instant,
    done: impl Fn(&Seen) -> bool,
) -> Result<(Seen, bool), String> {
    let id = w.sent()?.message_id.clone();
    loop {
        let seen = read_edge(w, &id).await?;
        if done(&seen) {
            return Ok((seen, true));
        }
        if Instant::now() >= until {
            return Ok((seen, false));
        }
        tokio::time::sleep(POLL.min(until.saturating_duration_since(Instant::now()))).await;
    }
}

pub(super) fn record_seen(w: &mut DirectWorld, title: &str, seen: &Seen) {
    w.record("pop3", "the edge user's mailbox", seen.transcript.clone());
    w.record("note", title.to_string(), seen.summary());
    for (raw, _) in &seen.notices {
        w.record("message", "notice for the message", excerpt(raw));
    }
}

async fn exactly_one_positive(w: &mut DirectWorld, to: Option<String>) -> Result<(), String> {
    let ctx = w.ctx()?;
    let to = to.as_deref();
    let win = &ctx.sut.windows;
    let start = Instant::now();
    let (seen, found) = watch(w, start + win.accept, |s| s.count(Kind::Positive, to) > 0).await?;
    if !found {
        record_seen(w, "notices within the acceptance window", &seen);
        return Err(format!(
            "no positive final notice (dispatched MDN) reached the edge user within {:?}",
            win.accept
        ));
    }
    // Exactly one: nothing more for this recipient during W_sil after the first.
    let until = Instant::now() + win.silence;
    let (seen, extra) = watch(w, until, |s| s.finals(to) > 1).await?;
    record_seen(w, "notices after the silence window", &seen);
    if extra || seen.finals(to) != 1 {
        return Err(format!(
            "the edge user received {} positive and {} failure notices, one positive expected: {}",
            seen.count(Kind::Positive, to),
            seen.count(Kind::Failure, to),
            seen.summary()
        ));
    }
    Ok(())
}

#[then(
    regex = r"^exactly one positive final notice for the message(?: to ([\w.+-]+@[\w.-]+))? reaches the edge user$"
)]
async fn one_positive(w: &mut DirectWorld, to: String) -> Result<(), String> {
    exactly_one_positive(w, Some(to).filter(|t| !t.is_empty())).await
}

/// Until a silence window after the dispatched deadline, measured from the submission.
fn after_deadline(w: &DirectWorld) -> Result<Instant, String> {
    let ctx = w.ctx()?;
    let win = &ctx.sut.windows;
    Ok(w.sent()?.at + win.dispatched_timeout.max(win.processed_timeout) + win.silence)
}

#[then(
    regex = r"^no failure notice for the message(?: to ([\w.+-]+@[\w.-]+))? reaches the edge user, even after the dispatched deadline$"
)]
async fn no_failure(w: &mut DirectWorld, to: String) -> Result<(), String> {
    let to = Some(to).filter(|t| !t.is_empty());
    let until = after_deadline(w)?;
    let (seen, hit) = watch(w, until, |s| s.count(Kind::Failure, to.as_deref()) > 0).await?;
    record_seen(
        w,
        "notices up to a silence window after the deadline",
        &seen,
    );
    if hit {
        return Err(format!(
            "a failure notice reached the edge user: {}",
            seen.summary()
        ));
    }
    Ok(())
}

#[then(
    regex = r"^no further notice for the message(?: to ([\w.+-]+@[\w.-]+))? reaches the edge user, even after the dispatched deadline$"
)]
async fn no_further(w: &mut DirectWorld, to: String) -> Result<(), String> {
    let to = Some(to).filter(|t| !t.is_empty());
    let until = after_deadline(w)?;
    let (seen, hit) = watch(w, until, |s| s.finals(to.as_deref()) > 1).await?;
    record_seen(
        w,
        "notices up to a silence window after the deadline",
        &seen,
    );
    if hit {
        return Err(format!(
            "more than one final notice reached the edge user: {}",
            seen.summary()
        ));
    }
    Ok(())
}

async fn failure_within(
    w: &mut DirectWorld,
    to: Option<&str>,
    within: Duration,
) -> Result<(), String> {
    let at = w.sent()?.at;
    let (seen, found) = watch(w, at + within, |s| s.count(Kind::Failure, to) > 0).await?;
    record_seen(w, "notices", &seen);
    if !found {
        return Err(format!(
            "no failure notice reached the edge user within {within:?} of the submission"
        ));
    }
    Ok(())
}

/// MDN-21: a failed MDN settles at once, so its notice comes well before the SUT's own
/// dispatched deadline (half of it, or W_acc if that is shorter).
#[then(
    regex = r"^a failure notice for the message(?: to ([\w.+-]+@[\w.-]+))? reaches the edge user long before the dispatched deadline$"
)]
async fn failure_early(w: &mut DirectWorld, to: String) -> Result<(), String> {
    let win = w.ctx()?.sut.windows;
    let within = win.accept.min(win.dispatched_timeout / 2);
    failure_within(w, Some(to.as_str()).filter(|t| !t.is_empty()), within).await
}

/// MT28, MN13: the harness's late MDN leaves after the SUT's timeout notice; once it has
/// reached the SUT, W_sil passes with still one final notice, a failure.
#[then(regex = r"^the late (dispatched|failed) MDN from the harness does not reach the edge user$")]
async fn late_not_forwarded(w: &mut DirectWorld, which: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let win = ctx.sut.windows;
    let sent = w.sent()?.clone();
    let id = sent.message_id.clone();
    let wait =
        (win.dispatched_timeout + win.late_delay + win.accept).saturating_sub(sent.at.elapsed());
    let left = ctx
        .peer
        .wait_for(
            |e| matches!(e, HispEvent::MdnSent { kind, original_message_id, .. } if *kind == which && same_id(original_message_id, &id)),
            wait,
        )
        .await;
    let Some(e) = left else {
        return Err(format!(
            "the harness's late {which} MDN did not leave (the SUT's backbone did not take it?)"
        ));
    };
    w.record(
        "hisp-events",
        format!("the harness's late {which} MDN"),
        format!("{e:?}"),
    );
    let until = Instant::now() + win.silence;
    let (seen, _) = watch(w, until, |s| s.finals(None) > 1).await?;
    record_seen(w, "notices a silence window after the late MDN", &seen);
    if seen.count(Kind::Positive, None) > 0 || seen.finals(None) != 1 {
        return Err(format!(
            "one failure notice expected and nothing after it, the edge user has: {}",
            seen.summary()
        ));
    }
    Ok(())
}

#[then("no positive final notice for the message reaches the edge user")]
async fn no_positive(w: &mut DirectWorld) -> Result<(), String> {
    let win = w.ctx()?.sut.windows;
    let (seen, hit) = watch(w, Instant::now() + win.silence, |s| {
        s.count(Kind::Positive, None) > 0
    })
    .await?;
    record_seen(w, "notices", &seen);
    if hit {
        return Err(format!(
            "a positive notice reached the edge user although the recipient never dispatched: {}",
            seen.summary()
        ));
    }
    Ok(())
}

/// MN10's outcomes, by style.
/// MN10's outcomes, by style: a notice without a Disposition is no notice, so the recipient
/// times out at the first deadline the SUT applies (processed, or dispatched).
#[then(regex = r"^the edge user is told of (one delivery|a failure at a deadline)$")]
async fn told_of(w: &mut DirectWorld, what: String) -> Result<(), String> {
    if what == "one delivery" {
        return exactly_one_positive(w, None).await;
    }
    let win = w.ctx()?.sut.windows;
    let at = w.sent()?.at;
    let first = win.processed_timeout.min(win.dispatched_timeout);
    failure_within(w, None, win.dispatched_timeout.max(first) + win.accept).await?;
    let took = at.elapsed();
    if took + Duration::from_secs(1) < first {
        return Err(format!(
            "the failure notice came {took:.1?} after the submission, before the SUT's first deadline ({first:?})"
        ));
    }
    Ok(())
}

/// MT22: the message the SUT sent was taken by the destination.
#[then(regex = r"^the message reaches ([\w.+-]+@[\w.-]+)$")]
async fn reaches(w: &mut DirectWorld, to: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let id = w.sent()?.message_id.clone();
    let hit = ctx
        .peer
        .wait_for(
            |e| matches!(e, HispEvent::Delivered { recipient, message_id: Some(m), notification: false, .. } if recipient.eq_ignore_ascii_case(&to) && same_id(m, &id)),
            ctx.sut.windows.accept,
        )
        .await;
    match hit {
        Some(e) => {
            w.record(
                "hisp-events",
                "delivered at the harness HISP",
                format!("{e:?}"),
            );
            Ok(())
        }
        None => {
            super::verdict::peer_refusals(w);
            Err(format!(
                "the message {id} did not reach {to} within {:?}",
                ctx.sut.windows.accept
            ))
        }
    }
}

/// MT22, MN11 (information): what reached the edge user, recorded, never judged.
#[then("the notices the edge user receives for the message are recorded")]
async fn recorded(w: &mut DirectWorld) -> Result<(), String> {
    let win = w.ctx()?.sut.windows;
    let (seen, _) = watch(w, Instant::now() + win.silence, |_| false).await?;
    record_seen(w, "notices (information only)", &seen);
    Ok(())
}

#[when(
    regex = r"^the SUT's edge user submits a message whose Disposition-Notification-Options reads (.+) to ([\w.+-]+@[\w.-]+)$"
)]
async fn submit_with_options(w: &mut DirectWorld, value: String, to: String) -> Result<(), String> {
    use super::trust_send::{Body, Submission, build_message, submit_raw};
    let ctx = w.ctx()?;
    let (user, _) = super::edge::account(&ctx)?;
    let token = format!("{}-s1", w.correlation_id);
    let id = format!("<{token}@edge.sut.direct.test>");
    let recipients = vec![to];
    let (raw, attachments) = build_message(&user, &recipients, &token, Some(&id), Body::Ccda, None);
    let raw = String::from_utf8_lossy(&raw)
        .replacen(
            "Disposition-Notification-Options: X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true",
            &format!("Disposition-Notification-Options: {value}"),
            1,
        )
        .into_bytes();
    let tap_mark = ctx.tap.captured().len();
    let outcome = submit_raw(&ctx, &recipients, &raw).await;
    w.record("message", "submitted by the edge user", excerpt(&raw));
    let transcript = outcome.map_err(|e| {
        w.record("smtp", "edge submission, refused", e.clone());
        e.lines().next().unwrap_or_default().to_string()
    })?;
    w.record("smtp", "edge submission", transcript);
    w.sent = Some(super::world::Sent {
        message_id: id.clone(),
        recipients: recipients.clone(),
        smtp: Default::default(),
        elapsed: Duration::ZERO,
        at: Instant::now(),
    });
    w.tx.submissions.push(Submission {
        token,
        message_id: Some(id),
        to: recipients,
        raw,
        attachments,
        tap_mark,
        found: Vec::new(),
    });
    Ok(())
}

/// MN14: the validator's DSN checks over every failure DSN the edge user received for the
/// message (plain DSNs written by the SUT: only the VC-8xx findings count).
#[then(
    regex = r"^every failure DSN the edge user received for the message passes the validator's (VC-8\d\d to VC-8\d\d) checks$"
)]
async fn dsn_format(w: &mut DirectWorld, checks: String) -> Result<(), String> {
    use direct_conformance::validate::{Correlation, ValidationOptions, validate_owned};
    let ranges = super::trust_send::check_ranges(&checks)?;
    let sent = w.sent()?.clone();
    let seen = read_edge(w, &sent.message_id).await?;
    let dsns: Vec<Vec<u8>> = seen
        .notices
        .iter()
        .filter(|(_, n)| matches!(n, Notification::Dsn(_)))
        .map(|(raw, _)| raw.clone())
        .collect();
    if dsns.is_empty() {
        record_seen(w, "notices", &seen);
        return Err("the edge user received no DSN for the message to judge".into());
    }
    let mut problems = Vec::new();
    for raw in dsns {
        w.record("message", "failure DSN", excerpt(&raw));
        let options = ValidationOptions {
            correlation: Some(Correlation {
                message_ids: vec![sent.message_id.clone()],
                notify_to: Vec::new(),
                final_delivery_requested: None,
            }),
            ..ValidationOptions::default()
        };
        let report = tokio::task::spawn_blocking(move || validate_owned("dsn", raw, &options))
            .await
            .map_err(|e| format!("validator: {e}"))?;
        problems.extend(super::mdn_receive::judge(w, &report, &ranges, &checks));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("error-level findings: {}", problems.join("; ")))
    }
}

#[then("a failure notice for the message reaches the edge user within the acceptance window")]
async fn failure_in_window(w: &mut DirectWorld) -> Result<(), String> {
    let win = w.ctx()?.sut.windows;
    failure_within(w, None, win.accept).await
}

/// MT28: `delaydispatched<N>` with N = T_d + δ, so that the dispatched MDN comes late.
#[when(
    "the SUT's edge user submits a timely-and-reliable message to the mailbox that dispatches after the SUT's dispatched deadline"
)]
async fn submit_to_late(w: &mut DirectWorld) -> Result<(), String> {
    let win = w.ctx()?.sut.windows;
    let n = (win.dispatched_timeout + win.late_delay).as_secs();
    let to = format!("delaydispatched{n}@hisp.direct.test");
    w.record(
        "note",
        "destination",
        format!("{to}: dispatched {n} s after delivery (dispatched deadline plus δ)"),
    );
    super::trust_send::submit(w, vec![to], super::trust_send::Body::Ccda, true, None).await
}

#[cfg(test)]
mod tests {
    use super::super::send::undeclared_role;
    use cucumber::gherkin::{Feature, GherkinEnv};

    const FEATURE: &str = "Feature: f\n\n  Scenario: MT41\n    Given a Direct message from the harness to the SUT's undeliverable recipient\n\n  Scenario: RX-01\n    Given a Direct message from the harness to the SUT's primary recipient\n";

    fn model(roles: &[&str]) -> direct_conformance::sut::SutModel {
        use direct_conformance::sut::embedded;
        let any = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
        let doors = embedded::Doors {
            backbone: any,
            submission: None,
            pop3: any,
            audit: None,
            published_dns: None,
        };
        let mut m = embedded::model(doors, any, any, "test".into());
        m.recipients
            .retain(|role, _| roles.contains(&role.as_str()));
        m
    }

    #[test]
    fn a_scenario_naming_an_undeclared_optional_role_is_skipped() {
        let f = Feature::parse(FEATURE, GherkinEnv::default()).unwrap();
        let (mt41, rx01) = (&f.scenarios[0], &f.scenarios[1]);
        let without = model(&["primary"]);
        assert_eq!(
            undeclared_role(&without, mt41).as_deref(),
            Some("sut.toml declares no `recipients.undeliverable`")
        );
        assert_eq!(undeclared_role(&without, rx01), None);
        assert_eq!(
            undeclared_role(&model(&["primary", "undeliverable"]), mt41),
            None
        );
    }
}
