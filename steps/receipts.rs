//! Read receipts (displayed MDNs), which the catalogue lacks (issue 6): one the SUT's edge
//! user sends must leave the SUT signed and encrypted (MN15); one the destination sends for
//! the edge user's message must reach the edge user, even after the message settled (MN16:
//! a read receipt is no late delivery notice, MDN-18).

use std::time::{Duration, Instant};

use cucumber::{then, when};
use direct_conformance::hisp::HispEvent;
use direct_conformance::mdn::{
    ActionMode, Disposition, DispositionKind, MdnSpec, Notification, SendingMode, build_mdn,
};
use direct_conformance::sut::stimulus::Stimulus;

use super::notices::{Seen, record_seen, same_id, watch};
use super::send::excerpt;
use super::world::DirectWorld;

fn displayed(
    from: &str,
    to: &str,
    original_message_id: &str,
    message_id: &str,
) -> Result<Vec<u8>, String> {
    let mut disposition = Disposition::automatic(DispositionKind::Displayed);
    disposition.action_mode = ActionMode::Manual;
    disposition.sending_mode = SendingMode::Manual;
    build_mdn(&MdnSpec {
        from: from.into(),
        to: to.into(),
        subject: "Displayed: your message".into(),
        message_id: message_id.into(),
        date: time::OffsetDateTime::now_utc(),
        original_message_id: original_message_id.into(),
        reporting_ua: "edge.direct.test; direct-conformance mail client".into(),
        original_recipient: None,
        final_recipient: from.into(),
        disposition,
        final_delivery: false,
        failure: None,
        human_text: Some("The message was displayed to the recipient.".into()),
    })
    .map_err(|e| format!("cannot build the displayed MDN: {e}"))
}

/// MN15: the SUT's edge user's mail client answers the harness's message with a read receipt,
/// through the submission door.
#[when("the SUT's edge user answers it with a displayed MDN")]
async fn edge_displayed(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let (user, _) = super::edge::account(&ctx)?;
    let original = w.sent()?.message_id.clone();
    let to = super::send::SENDER.to_string();
    let id = format!("<{}.displayed@edge.sut.direct.test>", w.correlation_id);
    let raw = displayed(&user, &to, &original, &id)?;
    w.record(
        "mdn",
        "displayed MDN submitted by the edge user",
        excerpt(&raw),
    );
    let transcript = super::trust_send::submit_raw(&ctx, std::slice::from_ref(&to), &raw)
        .await
        .map_err(|e| {
            w.record("smtp", "edge submission, refused", e.clone());
            e.lines().next().unwrap_or_default().to_string()
        })?;
    w.record("smtp", "edge submission of the displayed MDN", transcript);
    Ok(())
}

#[when(regex = r"^a processed MDN for the message reaches the edge user$")]
async fn processed_at_edge(w: &mut DirectWorld) -> Result<(), String> {
    let win = w.ctx()?.sut.windows;
    let processed = |s: &Seen| {
        s.notices.iter().any(|(_, n)| {
            matches!(n, Notification::Mdn(m) if m.disposition.kind == DispositionKind::Processed)
        })
    };
    let (seen, found) = watch(w, Instant::now() + win.accept, processed).await?;
    record_seen(w, "notices", &seen);
    if found {
        Ok(())
    } else {
        Err(format!(
            "no processed MDN for the message reached the edge user within {:?}",
            win.accept
        ))
    }
}

/// MN16: the harness, as the destination's mail client, sends a read receipt for the edge
/// user's message: a Direct message signed by the destination address's certificate.
#[when(
    regex = r#"^the harness answers it with a displayed MDN from ([\w.+-]+@[\w.-]+), signed with the "([\w.-]+)" certificate$"#
)]
async fn harness_displayed(
    w: &mut DirectWorld,
    from: String,
    signer: String,
) -> Result<(), String> {
    let ctx = w.ctx()?;
    let (user, _) = super::edge::account(&ctx)?;
    let original = w.sent()?.message_id.clone();
    let id = format!("<{}.displayed@hisp.direct.test>", w.correlation_id);
    let raw = displayed(&from, &user, &original, &id)?;
    let mut stim = Stimulus::new(&from, std::slice::from_ref(&user), &id);
    stim.body = Some(raw);
    let cred = ctx
        .pki
        .credential(&signer)
        .ok_or_else(|| format!("the reference PKI has no credential {signer:?}"))?
        .clone();
    let chain: Vec<x509_cert::Certificate> = ctx
        .pki
        .chain(&signer)
        .map(|v| {
            v.iter()
                .skip(1)
                .filter(|c| !c.entry.is_self_signed())
                .map(|c| c.certificate.clone())
                .collect()
        })
        .unwrap_or_default();
    // Encrypted to the edge user's certificate: the declared recipient with that address,
    // else the primary recipient's.
    let role = ctx
        .sut
        .recipients
        .values()
        .find(|r| r.address.eq_ignore_ascii_case(&user))
        .or_else(|| ctx.sut.recipient("primary"))
        .ok_or("sut.toml declares no recipients.primary")?;
    let cert = super::trust_send::certificate_of(&ctx, &role.certificate)?;
    let build = stim.clone();
    let data = tokio::task::spawn_blocking(move || {
        build.build((&cred.certificate, &cred.key, &chain), &[cert])
    })
    .await
    .map_err(|e| format!("building the MDN: {e}"))?
    .map_err(|e| e.to_string())?;
    w.record("mdn", "displayed MDN sent by the harness", excerpt(&data));
    let outcome = direct_conformance::sut::smtp::send(
        ctx.sut.backbone,
        "hisp.direct.test",
        &from,
        &[user],
        &data,
        ctx.sut.windows.accept.max(Duration::from_secs(30)),
    )
    .await;
    w.record("smtp", "harness → SUT backbone", outcome.transcript.clone());
    if !outcome.accepted() {
        return Err(format!(
            "the SUT did not take the displayed MDN: {}",
            outcome
                .error
                .clone()
                .unwrap_or_else(|| format!("{:?}", outcome.data_reply))
        ));
    }
    Ok(())
}

#[then("the displayed MDN reaches the edge user")]
async fn displayed_at_edge(w: &mut DirectWorld) -> Result<(), String> {
    let win = w.ctx()?.sut.windows;
    let shown = |s: &Seen| {
        s.notices.iter().any(|(_, n)| {
            matches!(n, Notification::Mdn(m) if m.disposition.kind == DispositionKind::Displayed)
        })
    };
    let (seen, found) = watch(w, Instant::now() + win.accept, shown).await?;
    record_seen(w, "notices", &seen);
    if found {
        Ok(())
    } else {
        Err(format!(
            "the displayed MDN for the message did not reach the edge user within {:?}",
            win.accept
        ))
    }
}

/// MN15: the read receipt came through the harness HISP (which takes only signed and
/// encrypted mail under its anchors) and the validator finds it signed and encrypted
/// (VC-701). Its report fields are the edge user's (here the harness's) text, not judged.
#[then("the displayed MDN reaches the harness signed and encrypted, answering the message")]
async fn displayed_at_harness(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let id = w.sent()?.message_id.clone();
    let shown = |e: &HispEvent| -> Option<Vec<u8>> {
        let (raw, n) = super::verdict::delivered_notice(e)?;
        match n {
            Notification::Mdn(m)
                if m.disposition.kind == DispositionKind::Displayed
                    && same_id(&m.original_message_id, &id) =>
            {
                Some(raw)
            }
            _ => None,
        }
    };
    let window = ctx.sut.windows.accept;
    let Some(raw) = ctx
        .peer
        .wait_for(|e| shown(e).is_some(), window)
        .await
        .and_then(|e| shown(&e))
    else {
        super::verdict::peer_refusals(w);
        return Err(format!(
            "no signed and encrypted displayed MDN for {id} reached the harness within {window:?}"
        ));
    };
    w.record(
        "mdn",
        "displayed MDN, decrypted and verified by the harness HISP",
        excerpt(&raw),
    );
    let report = super::verdict::validate_wire_report(w, &raw).await?;
    let problems = super::mdn_receive::judge(w, &report, &[(701, 701)], "VC-701");
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}
