//! MDNs the receiving side sends: processed once trust passed (MDN-01), dispatched after
//! Maildir delivery when requested (MDN-10), failed when delivery failed after processed
//! (MDN-12); each a Direct message of its own, sealed to the original sender (MDN-02).

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use x509_cert::Certificate;

use crate::audit::{AuditEvent, EventKind};
use crate::mdn::{DispositionKind, MdnSpec, OriginalMessage, build_mdn, new_message_id};

use super::config::{LocalAddress, MdnStyle, Responder};
use super::{Core, Fault, HispEvent};

/// Whether `cert` may receive key transport (keyEncipherment, or no keyUsage at all).
pub fn can_encrypt_to(cert: &Certificate) -> bool {
    match crate::trust::cert::key_usage(cert) {
        Ok(None) => true,
        Ok(Some(ku)) => ku.key_encipherment(),
        Err(_) => false,
    }
}

/// One MDN of a plan: wait, then send `times` identical copies.
#[derive(Clone, Debug)]
struct Step {
    after: Duration,
    kind: DispositionKind,
    failure: Option<String>,
    times: usize,
    style: Option<MdnStyle>,
}

fn step(kind: DispositionKind) -> Step {
    Step {
        after: Duration::ZERO,
        kind,
        failure: None,
        times: 1,
        style: None,
    }
}

/// The MDNs a mailbox sends after a delivery attempt, by its responder behaviour and the
/// fault switches.
fn plan(core: &Core, original: &OriginalMessage, r: Responder, delivered: bool) -> Vec<Step> {
    use DispositionKind::{Dispatched, Error, Failed, Processed};
    let faults = core.faults();
    let failed = |text: &str| Step {
        failure: Some(text.to_string()),
        ..step(Failed)
    };
    let mut steps = match (r, delivered) {
        (_, false) => vec![
            step(Processed),
            failed("the message could not be written to the mailbox"),
        ],
        (Responder::Standard, true) => {
            let mut v = vec![step(Processed)];
            if original.requested_dispatched || faults.on(Fault::DispatchedWithoutRequest) {
                v.push(step(Dispatched));
            }
            v
        }
        (Responder::ProcessedOnly, true) => vec![step(Processed)],
        (Responder::ProcessedDispatched, true) => vec![step(Processed), step(Dispatched)],
        (Responder::DelayedDispatch(d), true) => vec![
            step(Processed),
            Step {
                after: d,
                ..step(Dispatched)
            },
        ],
        (Responder::NoMdn, true) => Vec::new(),
        (Responder::Failure, true) => vec![failed("no such recipient address")],
        (Responder::ProcessedFailure, true) => {
            vec![
                step(Processed),
                failed("delivery to the final destination failed"),
            ]
        }
        (Responder::ProcessedTimeoutFailure(d), true) => vec![
            step(Processed),
            Step {
                after: d,
                ..failed("delivery to the final destination timed out")
            },
        ],
        (Responder::ErrorDisposition, true) => vec![
            step(Processed),
            Step {
                failure: Some("delivery failed (legacy error disposition)".into()),
                ..step(Error)
            },
        ],
        (Responder::Malformed(style), true) => vec![
            Step {
                style: Some(style),
                ..step(Processed)
            },
            Step {
                style: Some(style),
                ..step(Dispatched)
            },
        ],
        (Responder::DupDispatched, true) => vec![
            step(Processed),
            Step {
                times: 2,
                ..step(Dispatched)
            },
        ],
    };
    steps.retain(|s| match s.kind {
        Processed => !faults.on(Fault::NoProcessedMdn),
        Dispatched => !faults.on(Fault::NoDispatchedMdn),
        Failed => delivered || !faults.on(Fault::NoFailedMdn),
        _ => true,
    });
    steps
}

/// The MDNs after a delivery attempt (processed, then dispatched or failed as the plan
/// says), sent in order on one task so that processed leaves first.
pub fn after_delivery(
    core: &Arc<Core>,
    original: &OriginalMessage,
    recipient: &LocalAddress,
    signer: &Certificate,
    delivered: bool,
) {
    let steps = plan(core, original, recipient.responder, delivered);
    if steps.is_empty() {
        return;
    }
    let core = core.clone();
    let original = original.clone();
    let recipient = recipient.clone();
    let signer = signer.clone();
    tokio::spawn(async move {
        for s in steps {
            if !s.after.is_zero() {
                tokio::time::sleep(s.after).await;
            }
            let job = MdnJob {
                kind: s.kind,
                failure: s.failure,
                times: s.times,
                style: s.style,
            };
            send_mdn(&core, &original, &recipient, Some(&signer), job).await;
        }
    });
}

/// One MDN on its own task.
pub fn spawn_mdn(
    core: &Arc<Core>,
    original: OriginalMessage,
    recipient: LocalAddress,
    kind: DispositionKind,
    signer: Option<Certificate>,
    failure: Option<String>,
) {
    let core = core.clone();
    tokio::spawn(async move {
        let job = MdnJob {
            kind,
            failure,
            times: 1,
            style: None,
        };
        send_mdn(&core, &original, &recipient, signer.as_ref(), job).await;
    });
}

/// What one MDN says and how it is sent.
#[derive(Clone, Debug)]
pub struct MdnJob {
    pub kind: DispositionKind,
    pub failure: Option<String>,
    /// Copies of the very same MDN (2 for `dupdispatched`).
    pub times: usize,
    /// A malformed writing style (the ETT MDN generators).
    pub style: Option<MdnStyle>,
}

/// Builds, seals and sends one MDN; failures are logged, not retried beyond outbound's own.
pub async fn send_mdn(
    core: &Arc<Core>,
    original: &OriginalMessage,
    recipient: &LocalAddress,
    signer: Option<&Certificate>,
    job: MdnJob,
) {
    let MdnJob {
        kind,
        failure,
        times,
        style,
    } = job;
    if original.is_notification {
        return; // MDN-04
    }
    let now = OffsetDateTime::now_utc();
    let host = core.settings.hostname.clone();
    let id = new_message_id(&host);
    let mut spec = match MdnSpec::answering(
        original,
        &recipient.address,
        kind,
        &format!("{host}; direct-conformance"),
        &id,
        now,
    ) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hisp {host}: no MDN: {e}");
            return;
        }
    };
    if kind == DispositionKind::Dispatched && core.faults().on(Fault::DispatchedWithoutRequest) {
        spec.final_delivery = true;
    }
    spec.failure = failure;
    let raw = match build_mdn(&spec) {
        Ok(r) => match style {
            Some(st) => st.rewrite(&r, &host),
            None if core.faults().on(Fault::MdnWithRequestHeaders) => {
                // The fault switch's defect: the MDN asks for notifications itself (MDN-07).
                let mut v = format!(
                    "Disposition-Notification-To: {}\r\nDisposition-Notification-Options: X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true\r\n",
                    recipient.address
                )
                .into_bytes();
                v.extend_from_slice(&r);
                v
            }
            None => r,
        },
        Err(e) => {
            eprintln!("hisp {host}: MDN build: {e}");
            return;
        }
    };
    let to = original.notify_to.clone();
    let payload = if core.faults().on(Fault::UnsignedMdn) {
        raw
    } else {
        // The original signer's certificate when it can receive encryption; otherwise ask
        // the certificate source for the sender's (CERT split certificates).
        let mut recipients: Vec<Certificate> = signer
            .filter(|c| can_encrypt_to(c))
            .cloned()
            .into_iter()
            .collect();
        if recipients.is_empty() {
            recipients = core
                .certificates
                .certificates(&to)
                .await
                .into_iter()
                .filter(can_encrypt_to)
                .take(1)
                .collect();
        }
        if recipients.is_empty() {
            eprintln!("hisp {host}: no certificate to encrypt the MDN to {to}");
            return;
        }
        match super::outbound::seal_from(core, recipient, &raw, &recipients).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("hisp {host}: MDN seal: {e}");
                return;
            }
        }
    };
    let payload = match style {
        Some(MdnStyle::DifferentMsgid) => different_outer_message_id(&payload, &host),
        _ => payload,
    };
    // `null_sender`: the MDN travels with a null reverse path.
    let envelope_from = if style == Some(MdnStyle::NullSender) {
        String::new()
    } else {
        recipient.address.clone()
    };
    for _ in 1..times {
        // Duplicates (the `dupdispatched` responder): the very same MDN again.
        let _ = super::outbound::deliver(core, &envelope_from, std::slice::from_ref(&to), &payload)
            .await;
    }
    match super::outbound::deliver(core, &envelope_from, std::slice::from_ref(&to), &payload).await
    {
        Ok(_) => {
            core.audit(
                AuditEvent::new(
                    EventKind::MdnSent,
                    OffsetDateTime::now_utc(),
                    core.principal(),
                )
                .message_id(id.clone())
                .from(recipient.address.clone())
                .to([to.clone()])
                .disposition(kind.as_str())
                .original_message_id(original.message_id.clone())
                .final_recipient(recipient.address.clone()),
            );
            core.event(HispEvent::MdnSent {
                from: recipient.address.clone(),
                to,
                kind: kind.as_str().to_string(),
                original_message_id: original.message_id.clone(),
            });
        }
        Err(e) => eprintln!("hisp {host}: MDN to {to}: {e}"),
    }
}

/// The outer (encrypted) header gets its own Message-ID, unlike the inner MDN's
/// (`different_msgid`, MDN-24).
fn different_outer_message_id(sealed: &[u8], host: &str) -> Vec<u8> {
    let (head, body) = crate::smime::entity::split_header_body(sealed);
    let head = String::from_utf8_lossy(head);
    let mut out = String::new();
    for line in head.split_inclusive("\r\n") {
        if line.to_ascii_lowercase().starts_with("message-id:") {
            out.push_str(&format!("Message-ID: {}\r\n", new_message_id(host)));
        } else {
            out.push_str(line);
        }
    }
    if !out.ends_with("\r\n") {
        out.push_str("\r\n");
    }
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(body);
    bytes
}
