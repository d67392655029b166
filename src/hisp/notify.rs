//! MDNs the receiving side sends: processed once trust passed (MDN-01), dispatched after
//! Maildir delivery when requested (MDN-10), failed when delivery failed after processed
//! (MDN-12); each a Direct message of its own, sealed to the original sender (MDN-02).

use std::sync::Arc;

use time::OffsetDateTime;
use x509_cert::Certificate;

use crate::audit::{AuditEvent, EventKind};
use crate::mdn::{DispositionKind, MdnSpec, OriginalMessage, build_mdn, new_message_id};

use super::config::LocalAddress;
use super::{Core, Fault, HispEvent};

/// Whether `cert` may receive key transport (keyEncipherment, or no keyUsage at all).
pub fn can_encrypt_to(cert: &Certificate) -> bool {
    match crate::trust::cert::key_usage(cert) {
        Ok(None) => true,
        Ok(Some(ku)) => ku.key_encipherment(),
        Err(_) => false,
    }
}

/// The MDNs after a delivery attempt: processed, then dispatched (if requested) or failed.
/// Sent in order on one task, so that processed leaves before dispatched.
pub fn after_delivery(
    core: &Arc<Core>,
    original: &OriginalMessage,
    recipient: &LocalAddress,
    signer: &Certificate,
    delivered: bool,
) {
    let faults = core.faults();
    let mut kinds = Vec::new();
    if !faults.on(Fault::NoProcessedMdn) {
        kinds.push(DispositionKind::Processed);
    }
    if delivered {
        let requested = original.requested_dispatched;
        if (requested || faults.on(Fault::DispatchedWithoutRequest))
            && !faults.on(Fault::NoDispatchedMdn)
        {
            kinds.push(DispositionKind::Dispatched);
        }
    } else {
        kinds.push(DispositionKind::Failed);
    }
    let core = core.clone();
    let original = original.clone();
    let recipient = recipient.clone();
    let signer = signer.clone();
    tokio::spawn(async move {
        for kind in kinds {
            let failure = (kind == DispositionKind::Failed)
                .then(|| "the message could not be written to the mailbox".to_string());
            send_mdn(&core, &original, &recipient, kind, Some(&signer), failure).await;
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
        send_mdn(&core, &original, &recipient, kind, signer.as_ref(), failure).await;
    });
}

/// Builds, seals and sends one MDN; failures are logged, not retried beyond outbound's own.
pub async fn send_mdn(
    core: &Arc<Core>,
    original: &OriginalMessage,
    recipient: &LocalAddress,
    kind: DispositionKind,
    signer: Option<&Certificate>,
    failure: Option<String>,
) {
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
        Ok(r) => r,
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
    match super::outbound::deliver(
        core,
        &recipient.address,
        std::slice::from_ref(&to),
        &payload,
    )
    .await
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
