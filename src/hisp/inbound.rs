//! The inbound pipeline: decrypt with any local key, verify the signature, check the
//! algorithms against the profile, check trust per recipient against that recipient's
//! anchors (path, AIA, CRL, binding of the signer to From, key usage), unwrap, deliver to
//! the Maildir, and answer with MDNs (processed, dispatched when requested; none for
//! what failed, none for notifications, which feed the tracker instead).

use std::sync::Arc;

use time::OffsetDateTime;
use x509_cert::Certificate;

use crate::audit::{AuditEvent, EventKind};
use crate::mdn::{DispositionKind, Event as TrackerEvent, IgnoreReason, OriginalMessage};
use crate::smime::{ContentCipher, DigestAlgorithm, OpenedMessage};
use crate::trust::{Binding, Outcome, Role};

use super::config::{Credential, LocalAddress, Profile};
use super::smtp_server::{Envelope, Reply};
use super::{Core, Fault, HispEvent, lock};

/// Why a message or a recipient was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("not S/MIME: {0} (MSG-01)")]
    NotSmime(String),
    #[error("no local key decrypts the message: {0}")]
    Undecryptable(String),
    #[error("signature does not verify: {0} (SIG-01)")]
    BadSignature(String),
    #[error("algorithm not allowed under the {profile} profile: {what}")]
    Algorithm { profile: &'static str, what: String },
    #[error("signer certificate is not trusted for {recipient}: {detail} (TRUST-01)")]
    Untrusted { recipient: String, detail: String },
    #[error("signer certificate does not bind From {from} (SIG-11)")]
    Binding { from: String },
    #[error("signer certificate unfit for signing: {0}")]
    SignerProfile(String),
    #[error("{0} is not named in the signed inner header (MSG-16)")]
    NotInInnerHeader(String),
    #[error("no From address in the message")]
    NoFrom,
    #[error("the signature is not detached: opaque signed-data inside the envelope (MSG-05)")]
    NotDetached,
    #[error("signer certificate is malformed: {0} (CERT-07)")]
    MalformedCertificate(String),
}

impl Refusal {
    /// Trust failures are the ones `mdn-for-untrusted` answers anyway.
    fn is_trust(&self) -> bool {
        matches!(
            self,
            Refusal::Untrusted { .. } | Refusal::Binding { .. } | Refusal::SignerProfile(_)
        )
    }
}

/// Tries every local key until one opens the message (CPU-bound: on the blocking pool).
async fn open_with_any(core: &Arc<Core>, raw: Vec<u8>) -> Result<OpenedMessage, Refusal> {
    let creds: Vec<Credential> = core
        .settings
        .decryption_credentials()
        .into_iter()
        .cloned()
        .collect();
    let mt = crate::smime::entity::media_type(&raw);
    if !(mt.is("application", "pkcs7-mime") || mt.is("application", "x-pkcs7-mime")) {
        return Err(Refusal::NotSmime(format!(
            "outer content type is {}",
            mt.essence()
        )));
    }
    let faults = core.faults();
    if faults.on(Fault::RefuseLegacyMediaTypes) && mt.is("application", "x-pkcs7-mime") {
        return Err(Refusal::NotSmime(
            "legacy media type application/x-pkcs7-mime".into(),
        ));
    }
    if faults.on(Fault::ExactEnvelopeHeader) {
        let field =
            crate::smime::entity::header_fields(&raw, |n| n.eq_ignore_ascii_case("content-type"));
        if field != EXACT_ENVELOPE_FIELD {
            return Err(Refusal::NotSmime(format!(
                "Content-Type not written as {:?}",
                String::from_utf8_lossy(EXACT_ENVELOPE_FIELD).trim_end()
            )));
        }
    }
    // A mailbox's second certificate (`encryption` beside `signing`) is left out under the
    // first-certificate-only switch.
    let second: Vec<Certificate> = if faults.on(Fault::FirstCertificateOnly) {
        core.settings
            .addresses
            .iter()
            .filter(|a| a.encryption.certificate != a.signing.certificate)
            .map(|a| a.encryption.certificate.clone())
            .collect()
    } else {
        Vec::new()
    };
    let creds: Vec<Credential> = creds
        .into_iter()
        .filter(|c| !second.contains(&c.certificate))
        .collect();
    let job = tokio::task::spawn_blocking(move || {
        let mut last = String::from("no keys");
        for c in &creds {
            match crate::smime::open(&raw, &c.key, Some(&c.certificate)) {
                Ok(m) => return Ok(m),
                Err(e) => last = e.to_string(),
            }
        }
        Err(Refusal::Undecryptable(last))
    });
    job.await
        .unwrap_or_else(|e| Err(Refusal::Undecryptable(format!("task failed: {e}"))))
}

/// The addr-spec of the first mailbox in a header field value.
pub fn first_address(value: &str) -> Option<String> {
    let v = value.trim();
    let addr = match (v.rfind('<'), v.rfind('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v.split(',').next().unwrap_or(v),
    };
    let addr = addr.trim();
    addr.contains('@').then(|| addr.to_string())
}

/// The addr-specs of an address-list header value (commas inside quotes or angle brackets
/// do not split).
pub fn address_list(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut quoted, mut angle, mut start) = (false, false, 0);
    let bytes = value.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'<' if !quoted => angle = true,
            b'>' if !quoted => angle = false,
            b',' if !quoted && !angle => {
                out.extend(first_address(&value[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.extend(first_address(&value[start..]));
    out
}

/// The one Content-Type field the `exact-envelope-header` switch reads.
const EXACT_ENVELOPE_FIELD: &[u8] =
    b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=\"smime.p7m\"\r\n";

fn header(message: &[u8], name: &str) -> Option<String> {
    crate::smime::entity::header_text(message, name)
}

fn profile_name(p: Profile) -> &'static str {
    match p {
        Profile::Ds13 => "ds-1.3",
        Profile::Ats12 => "ats-1.2",
    }
}

/// Content cipher and digest against the profile (ENC-02, SIG-03).
fn check_algorithms(core: &Core, opened: &OpenedMessage) -> Result<(), Refusal> {
    let p = core.settings.profile;
    let bad = |what: String| Refusal::Algorithm {
        profile: profile_name(p),
        what,
    };
    let faults = core.faults();
    match opened.decrypted.info.cipher {
        Some(ContentCipher::Rc2Cbc) if !faults.on(Fault::AcceptRc2) => {
            return Err(bad("RC2 content encryption".into()));
        }
        Some(ContentCipher::DesCbc) => {
            return Err(bad("DES content encryption".into()));
        }
        Some(ContentCipher::DesEde3Cbc) if p == Profile::Ds13 => {
            return Err(bad("3DES content encryption".into()));
        }
        None => return Err(bad("unknown content encryption".into())),
        _ => {}
    }
    if let Some(s) = opened.signature.verified_signer() {
        match s.digest {
            Some(DigestAlgorithm::Md5) if !faults.on(Fault::AcceptMd5) => {
                return Err(bad("MD5 digest".into()));
            }
            None => return Err(bad("unknown digest".into())),
            Some(DigestAlgorithm::Sha1) if p == Profile::Ds13 => {
                return Err(bad("SHA-1 digest".into()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The signed layer's form: detached (MSG-05), and the legacy signature type when the
/// `refuse-legacy-media-types` switch is on.
fn check_form(core: &Core, opened: &OpenedMessage) -> Result<(), Refusal> {
    let faults = core.faults();
    if !opened.signature.is_detached() && !faults.on(Fault::AcceptOpaqueSigned) {
        return Err(Refusal::NotDetached);
    }
    let legacy = opened.signed_media_type.param("protocol").is_some_and(|p| {
        p.trim()
            .eq_ignore_ascii_case("application/x-pkcs7-signature")
    });
    if legacy && faults.on(Fault::RefuseLegacyMediaTypes) {
        return Err(Refusal::NotSmime(
            "legacy signature type application/x-pkcs7-signature".into(),
        ));
    }
    Ok(())
}

/// The `accept-incomplete-validity` switch: a signer certificate that did not decode is read
/// leniently (no validity bounds) and the signature verified again with it. True when the
/// signer is now such a certificate.
fn read_leniently(core: &Core, opened: &mut OpenedMessage) -> bool {
    if !core.faults().on(Fault::AcceptIncompleteValidity) {
        return false;
    }
    let extra: Vec<Certificate> = opened
        .signature
        .unreadable_certificates
        .iter()
        .filter_map(|u| super::lenient::read_without_bounds(&u.der))
        .collect();
    if extra.is_empty() {
        return false;
    }
    let canonical = crate::smime::canonical::to_crlf(&opened.decrypted.content);
    let Ok(parts) = crate::smime::entity::split_signed(&canonical) else {
        return false;
    };
    let (_, body) = crate::smime::entity::split_header_body(parts.signature_entity);
    let Ok(sig) = crate::smime::entity::decode_base64(body) else {
        return false;
    };
    match crate::smime::verify::verify_detached_with(&sig, &opened.signed_content, &extra) {
        Ok(report) if report.verified_signer().is_some() => {
            opened.signature = report;
            true
        }
        _ => false,
    }
}

/// Trust of the signer for one recipient: path to its anchors (with AIA and CRLs), then the
/// signer's own profile (key size, key usage, subject emailAddress, certificate signature
/// algorithm) and its binding to From.
async fn check_trust(
    core: &Arc<Core>,
    signer: &Certificate,
    supplied: &[Certificate],
    from: &str,
    recipient: &LocalAddress,
    repaired: bool,
) -> Result<(), Refusal> {
    let faults = core.faults();
    let now = OffsetDateTime::now_utc();
    let skip_path = faults.on(Fault::AcceptUntrustedSender)
        || (repaired && faults.on(Fault::AcceptIncompleteValidity));
    if !skip_path {
        let mut anchors = recipient.incoming_anchors.clone();
        if !faults.on(Fault::BundleOutgoingOnly) {
            for a in core.bundles.anchors() {
                if !anchors.contains(&a) {
                    anchors.push(a);
                }
            }
        }
        if faults.on(Fault::SelfSignedAnchorsOnly) {
            anchors.retain(|a| {
                a.certificate
                    .as_ref()
                    .is_some_and(|c| c.tbs_certificate().subject() == c.tbs_certificate().issuer())
            });
        }
        let report = core
            .paths
            .validate(
                signer.clone(),
                supplied.to_vec(),
                anchors,
                core.settings.crls.clone(),
                now,
            )
            .await;
        if !report.trusted() {
            // A failure the fault switches forgive (validity 603, revocation 605) does not
            // count; a path that never reached an anchor (601) always does.
            let forgiven = |code: u16| {
                (code == 603 && faults.on(Fault::AcceptExpired))
                    || (code == 605 && faults.on(Fault::IgnoreRevocation))
            };
            let fails: Vec<_> = report.failures().collect();
            // VC-601 also summarises "no candidate validated"; when candidates reached an
            // anchor, the other findings say why, and those decide.
            let reached_anchor = report.candidates_tried > 0;
            let forgivable = fails.iter().any(|c| forgiven(c.code))
                && fails
                    .iter()
                    .all(|c| forgiven(c.code) || (c.code == 601 && reached_anchor));
            if !forgivable {
                let detail = if fails.is_empty() {
                    "no path to an anchor".to_string()
                } else {
                    fails
                        .iter()
                        .map(|c| format!("VC-{} {}", c.code, c.detail))
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                return Err(Refusal::Untrusted {
                    recipient: recipient.address.clone(),
                    detail,
                });
            }
        }
    }
    for c in crate::trust::evaluate(signer, Role::Signer, None, now) {
        let counted = match c.code {
            // 504: a subject emailAddress that is not the SAN's (CERT-03) is an error in both
            // profiles; 507: a SHA-1-signed certificate is refused under ds-1.3 only (SIG-15).
            504 | 506 | 508 => !faults.on(Fault::IgnoreSignerProfile),
            507 => core.settings.profile == Profile::Ds13 && !faults.on(Fault::IgnoreSignerProfile),
            // Validity is the path's business; here only for the accept-expired switch.
            505 => !faults.on(Fault::AcceptExpired) && !faults.on(Fault::AcceptUntrustedSender),
            _ => false,
        };
        if counted && c.outcome == Outcome::Fail {
            return Err(Refusal::SignerProfile(format!(
                "VC-{} {}",
                c.code, c.detail
            )));
        }
    }
    if !faults.on(Fault::IgnoreAddressBinding)
        && !matches!(
            crate::trust::binding(signer, from),
            Binding::Address | Binding::Domain
        )
    {
        return Err(Refusal::Binding {
            from: from.to_string(),
        });
    }
    Ok(())
}

/// Records a refusal for these recipients.
fn refuse(
    core: &Core,
    env: &Envelope,
    message_id: Option<&str>,
    recipients: &[String],
    r: &Refusal,
) {
    let now = OffsetDateTime::now_utc();
    let kind = if recipients.len() == env.recipients.len() {
        EventKind::IncomingRejected
    } else {
        EventKind::IncomingRecipientRejected
    };
    let mut e = AuditEvent::new(kind, now, core.principal())
        .from(env.mail_from.clone())
        .to(recipients.iter().cloned())
        .outcome("rejected")
        .reason(r.to_string());
    if let Some(id) = message_id {
        e = e.message_id(id);
    }
    core.audit(e);
    core.event(HispEvent::Rejected {
        recipients: recipients.to_vec(),
        reason: r.to_string(),
    });
}

/// The whole pipeline for one message received on the backbone; the reply is the final
/// answer to DATA.
pub async fn receive(core: &Arc<Core>, env: Envelope) -> Reply {
    let now = OffsetDateTime::now_utc();
    let outer_id = header(&env.data, "Message-ID");
    let mut received = AuditEvent::new(EventKind::IncomingReceived, now, core.principal())
        .from(env.mail_from.clone())
        .to(env.recipients.iter().cloned())
        .digest(sha256_hex(&env.data));
    if let Some(id) = &outer_id {
        received = received.message_id(id.clone());
    }
    core.audit(received);

    let mut opened = match open_with_any(core, env.data.clone()).await {
        Ok(o) => o,
        Err(r) => {
            refuse(core, &env, outer_id.as_deref(), &env.recipients, &r);
            return Reply::new(554, format!("5.7.5 {r}"));
        }
    };
    if let Err(r) = check_form(core, &opened) {
        refuse(core, &env, outer_id.as_deref(), &env.recipients, &r);
        return Reply::new(554, format!("5.6.0 {r}"));
    }
    let repaired = opened.signer().is_none() && read_leniently(core, &mut opened);
    if opened.signer().is_none()
        && let Some(bad) = opened.signature.unreadable_certificates.first()
    {
        let r = Refusal::MalformedCertificate(bad.error.clone());
        refuse(core, &env, outer_id.as_deref(), &env.recipients, &r);
        return Reply::new(554, format!("5.7.7 {r}"));
    }
    let signer: Certificate = match opened.signer() {
        Some(c) => c.clone(),
        None => {
            let why = opened
                .signature
                .signers
                .iter()
                .find_map(|s| s.outcome.as_ref().err().map(|e| e.to_string()))
                .unwrap_or_else(|| "no signer".into());
            let fallback = opened
                .signature
                .signers
                .iter()
                .find_map(|s| s.certificate.clone())
                .or_else(|| opened.signature.certificates.first().cloned());
            match fallback {
                Some(c) if core.faults().on(Fault::SkipSignatureCheck) => c,
                _ => {
                    let r = Refusal::BadSignature(why);
                    refuse(core, &env, outer_id.as_deref(), &env.recipients, &r);
                    return Reply::new(554, format!("5.7.7 {r}"));
                }
            }
        }
    };
    if let Err(r) = check_algorithms(core, &opened) {
        refuse(core, &env, outer_id.as_deref(), &env.recipients, &r);
        return Reply::new(554, format!("5.7.7 {r}"));
    }
    let message = opened.message.clone();
    let message_id = header(&message, "Message-ID").or(outer_id.clone());
    let Some(from) = header(&message, "From").as_deref().and_then(first_address) else {
        refuse(
            core,
            &env,
            message_id.as_deref(),
            &env.recipients,
            &Refusal::NoFrom,
        );
        return Reply::new(554, "5.6.0 No From address");
    };

    // MSG-16: a wrapped message goes only to recipients its signed header names.
    let named_addresses: Vec<String> = ["To", "Cc"]
        .iter()
        .filter_map(|h| header(&message, h))
        .flat_map(|v| address_list(&v))
        .collect();
    let named = |r: &str| {
        named_addresses
            .iter()
            .any(|a| a.eq_ignore_ascii_case(r.trim()))
    };
    let mut accepted: Vec<LocalAddress> = Vec::new();
    let mut untrusted: Vec<(LocalAddress, Refusal)> = Vec::new();
    for r in &env.recipients {
        let Some(local) = core.settings.mailbox(r) else {
            continue;
        };
        if opened.wrapped && !named(r) {
            let refusal = Refusal::NotInInnerHeader(r.clone());
            refuse(
                core,
                &env,
                message_id.as_deref(),
                std::slice::from_ref(r),
                &refusal,
            );
            continue;
        }
        match check_trust(
            core,
            &signer,
            &opened.signature.certificates,
            &from,
            &local,
            repaired,
        )
        .await
        {
            Ok(()) => accepted.push(local),
            Err(refusal) => {
                refuse(
                    core,
                    &env,
                    message_id.as_deref(),
                    std::slice::from_ref(r),
                    &refusal,
                );
                untrusted.push((local, refusal));
            }
        }
    }

    let original = OriginalMessage::read(&message).ok();
    if core.faults().on(Fault::MdnForUntrusted)
        && let Some(orig) = &original
    {
        for (local, refusal) in &untrusted {
            if refusal.is_trust() && !orig.is_notification {
                super::notify::spawn_mdn(
                    core,
                    orig.clone(),
                    local.clone(),
                    DispositionKind::Processed,
                    Some(signer.clone()),
                    None,
                );
            }
        }
    }
    if accepted.is_empty() {
        let reason = untrusted
            .first()
            .map(|(_, r)| r.to_string())
            .unwrap_or_else(|| "no recipient left".into());
        return Reply::new(554, format!("5.7.1 {reason}"));
    }

    let is_notification = crate::mdn::is_notification(&message);
    if is_notification
        && core.faults().on(Fault::MdnForMdn)
        && let Some(orig) = &original
    {
        // The MDN-04 breach: the notification treated as an ordinary message.
        let orig = OriginalMessage {
            is_notification: false,
            ..orig.clone()
        };
        for local in &accepted {
            super::notify::spawn_mdn(
                core,
                orig.clone(),
                local.clone(),
                DispositionKind::Processed,
                Some(signer.clone()),
                None,
            );
        }
    }
    let mut delivered = 0usize;
    for local in &accepted {
        if is_notification
            && core.faults().on(Fault::StrictNoticeReading)
            && let Err(why) = super::strict::well_formed(&env.mail_from, &env.data, &message)
        {
            // The fault switch's defect: a tolerable notification dropped (MDN-22, MDN-24).
            eprintln!(
                "hisp {}: notification dropped: {why}",
                core.settings.hostname
            );
            continue;
        }
        if is_notification && !notification_wanted(core, &message) {
            continue;
        }
        // Trace fields a delivering SMTP server adds (RFC 5321 §4.4).
        let mut stored_message = format!(
            "Return-Path: <{}>\r\nReceived: from [{}] by {} with ESMTP for <{}>; {}\r\n",
            env.mail_from,
            env.peer.ip(),
            core.settings.hostname,
            local.address,
            rfc5322_now()
        )
        .into_bytes();
        stored_message.extend_from_slice(&message);
        let stored = if local.refuse_mail {
            Err(format!("the mailbox {} takes no mail", local.address))
        } else {
            core.maildir
                .deliver(&local.address, &stored_message)
                .map_err(|e| e.to_string())
        };
        match stored {
            Ok(stored) => {
                delivered += 1;
                let mut e = AuditEvent::new(
                    EventKind::IncomingAccepted,
                    OffsetDateTime::now_utc(),
                    core.principal(),
                )
                .from(from.clone())
                .to([local.address.clone()])
                .outcome("delivered")
                .digest(sha256_hex(&opened.signed_content));
                e = core.with_content(e, &message);
                if let Some(id) = &message_id {
                    e = e.message_id(id.clone());
                }
                core.audit(e);
                core.event(HispEvent::Delivered {
                    recipient: local.address.clone(),
                    message_id: message_id.clone(),
                    path: stored.path,
                    notification: is_notification,
                });
                if let Some(orig) = original.as_ref().filter(|_| !is_notification) {
                    super::notify::after_delivery(core, orig, local, &signer, true);
                }
            }
            Err(err) => {
                let r = format!("mailbox delivery failed: {err}");
                core.event(HispEvent::Rejected {
                    recipients: vec![local.address.clone()],
                    reason: r.clone(),
                });
                if let Some(orig) = original.as_ref().filter(|_| !is_notification) {
                    // Processed was earned (trust passed); the delivery then failed (MDN-12).
                    super::notify::after_delivery(core, orig, local, &signer, false);
                }
            }
        }
    }
    Reply::new(
        250,
        format!(
            "2.0.0 Accepted for {} of {} recipients{}",
            accepted.len(),
            env.recipients.len(),
            if is_notification && delivered == 0 {
                " (notification absorbed)"
            } else {
                ""
            }
        ),
    )
}

/// Feeds a received MDN or DSN to the tracker; false when it must not reach the edge
/// (a late or duplicate notice for a settled recipient, MDN-18).
fn notification_wanted(core: &Arc<Core>, message: &[u8]) -> bool {
    let Ok(n) = crate::mdn::parse_notification(message) else {
        return true;
    };
    let now = OffsetDateTime::now_utc();
    core.audit(AuditEvent::notification_received(&n, now, core.principal()));
    let faults = core.faults();
    if let crate::mdn::Notification::Mdn(m) = &n {
        // The fault switches' defects: a failure MDN passed on like any message, the
        // recipient left open (MDN-13, MDN-21).
        let kind = m.disposition.kind;
        if (m.disposition.is_failure() && faults.on(Fault::FailedMdnNotFinal))
            || (kind == DispositionKind::Error && faults.on(Fault::LegacyErrorNotFailure))
        {
            return true;
        }
    }
    let events = lock(&core.tracker).on_notification(&n, now);
    // Late and duplicate delivery notices stay here (MDN-18); a read receipt (displayed) is
    // no delivery notice and always goes on to the user.
    let suppressed = events.iter().any(|e| match e {
        TrackerEvent::Ignored {
            reason: IgnoreReason::AlreadySettled { .. } | IgnoreReason::Duplicate { .. },
        } => !faults.on(Fault::ForwardSettledNotices),
        TrackerEvent::Ignored {
            reason:
                IgnoreReason::NotTracked {
                    kind: DispositionKind::Displayed,
                    ..
                },
        } => faults.on(Fault::SuppressDisplayedMdn),
        _ => false,
    });
    super::outbound::handle_tracker_events(core, events);
    !suppressed
}

fn rfc5322_now() -> String {
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] +0000"
    );
    OffsetDateTime::now_utc().format(&f).unwrap_or_default()
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_address_forms() {
        assert_eq!(
            first_address("Alice <a@x.test>").as_deref(),
            Some("a@x.test")
        );
        assert_eq!(first_address(" a@x.test ").as_deref(), Some("a@x.test"));
        assert_eq!(first_address("undisclosed"), None);
        assert_eq!(
            address_list("\"Doe, J\" <j@x.test>, k@y.test,  <l@z.test>"),
            vec!["j@x.test", "k@y.test", "l@z.test"]
        );
    }
}
