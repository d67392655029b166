//! The SUT as receiving HISP, beyond processed and dispatched (TEST-CATALOGUE §c.4, §c.6):
//! the failure it owes for a message it cannot deliver (MT41), the DSN it must not answer
//! (MN3), and the validator's MDN checks over every MDN it sent for a message (MN5).

use cucumber::{given, then};
use direct_conformance::hisp::HispEvent;
use direct_conformance::mdn::{
    DsnAction, DsnRecipientSpec, DsnSpec, Notification, OriginalMessage, STATUS_BAD_MAILBOX,
    build_dsn,
};
use direct_conformance::validate::{Severity, Status};

use super::send::excerpt;
use super::world::DirectWorld;

/// Waits for a failed MDN carrying a Failure field, or a failure DSN, for the message at the
/// harness HISP.
#[then("a failed MDN with a Failure field, or a failure DSN, for the message reaches the harness")]
async fn failure_at_harness(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let id = w.sent()?.message_id.clone();
    let failure = |e: &HispEvent| -> Option<(Vec<u8>, Notification)> {
        let (raw, n) = super::verdict::notice(e, &id)?;
        let ok = match &n {
            Notification::Mdn(m) => m.disposition.is_failure() && m.failure.is_some(),
            Notification::Dsn(d) => d
                .per_recipient
                .iter()
                .any(|b| b.action == DsnAction::Failed),
        };
        ok.then_some((raw, n))
    };
    let window = ctx.sut.windows.accept;
    match ctx
        .peer
        .wait_for(|e| failure(e).is_some(), window)
        .await
        .and_then(|e| failure(&e))
    {
        Some((raw, n)) => {
            w.record(
                "mdn",
                "failure notice, decrypted and verified by the harness HISP",
                excerpt(&raw),
            );
            w.record("mdn", "parsed", format!("{n:#?}"));
            Ok(())
        }
        None => {
            super::verdict::peer_refusals(w);
            Err(format!(
                "no failed MDN with a Failure field and no failure DSN for {id} reached the harness within {window:?}"
            ))
        }
    }
}

/// Every notification for the message that reached the harness HISP, decrypted.
fn harness_notices(w: &DirectWorld) -> Result<Vec<Vec<u8>>, String> {
    let ctx = w.ctx()?;
    let id = w.sent()?.message_id.clone();
    Ok(ctx
        .peer
        .events()
        .into_iter()
        .filter_map(|e| super::verdict::notice(&e, &id).map(|(raw, _)| raw))
        .collect())
}

/// MN5: the validator's VC-7xx checks over every MDN the SUT sent for the message, as it
/// put them on the wire.
#[then(
    regex = r"^every MDN the SUT sent for the message passes the validator's (VC-7\d\d to VC-7\d\d) checks$"
)]
async fn mdn_format(w: &mut DirectWorld, checks: String) -> Result<(), String> {
    let ranges = super::trust_send::check_ranges(&checks)?;
    let notices = harness_notices(w)?;
    if notices.is_empty() {
        return Err("no MDN for the message reached the harness to judge".into());
    }
    let mut problems = Vec::new();
    for raw in notices {
        let report = super::verdict::validate_wire_report(w, &raw).await?;
        problems.extend(judge(w, &report, &ranges, &checks));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("error-level findings: {}", problems.join("; ")))
    }
}

/// Records the findings in `ranges` and returns the error-level failures.
pub(super) fn judge(
    w: &mut DirectWorld,
    report: &direct_conformance::validate::MessageReport,
    ranges: &[(u16, u16)],
    checks: &str,
) -> Vec<String> {
    let mut text = String::new();
    let mut problems = Vec::new();
    let mut passed = 0usize;
    for f in report
        .findings
        .iter()
        .filter(|f| super::trust_send::in_ranges(f.id, ranges))
    {
        if f.status == Status::Passed {
            passed += 1;
            continue;
        }
        text.push_str(&format!(
            "{} {:?} {:?} {}: {}\n",
            f.id, f.status, f.severity, f.part_path, f.message
        ));
        if f.status == Status::Failed && f.severity == Severity::Error {
            problems.push(format!("{} {}", f.id, f.message));
        }
    }
    text.push_str(&format!(
        "({passed} {checks} findings passed, not listed)\n"
    ));
    if passed == 0 && problems.is_empty() {
        problems.push(format!("none of {checks} could be evaluated"));
    }
    w.record("findings", format!("validator findings ({checks})"), text);
    problems
}

#[given("the message is a failure DSN for a message the SUT never sent")]
fn is_dsn(w: &mut DirectWorld) -> Result<(), String> {
    let stim = w.stimulus_mut()?;
    let never = format!("<never-sent-{}>", stim.message_id.trim_matches(['<', '>']));
    let original = OriginalMessage::read(
        format!(
            "From: {}\r\nTo: {}\r\nMessage-ID: {never}\r\nSubject: an earlier message\r\n\r\n",
            stim.from,
            stim.to.first().cloned().unwrap_or_default()
        )
        .as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let mut spec = DsnSpec::failure(
        &original,
        "hisp.direct.test",
        vec![DsnRecipientSpec {
            final_recipient: "nobody@hisp.direct.test".into(),
            status: STATUS_BAD_MAILBOX,
            diagnostic: Some("550 5.1.1 no such user".into()),
        }],
        &stim.message_id,
        time::OffsetDateTime::now_utc(),
    )
    .map_err(|e| e.to_string())?;
    // The DSN travels as a Direct message from the harness sender, whose certificate binds it.
    spec.from = stim.from.clone();
    spec.to = stim.to.first().cloned().unwrap_or_default();
    stim.body = Some(build_dsn(&spec).map_err(|e| format!("cannot build the DSN: {e}"))?);
    Ok(())
}

/// MN3: the notification was taken (so that the silence that follows means something).
#[then("the SUT takes the message")]
fn takes(w: &mut DirectWorld) -> Result<(), String> {
    let sent = w.sent()?;
    let reply = match (&sent.smtp.data_reply, &sent.smtp.error) {
        (Some((c, t)), _) => format!("{c} {t}"),
        (None, Some(e)) => format!("the session ended: {e}"),
        (None, None) => "no reply".into(),
    };
    let accepted = sent.smtp.accepted();
    w.record("note", "SMTP outcome", reply.clone());
    if accepted {
        Ok(())
    } else {
        Err(format!("the SUT did not take the message: {reply}"))
    }
}
