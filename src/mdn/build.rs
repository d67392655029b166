//! Building MDNs and failure DSNs as plain RFC 5322 messages, ready for `smime::seal`.
//!
//! The outer header and the multipart/report structure come from mail-builder. The report
//! parts (`message/disposition-notification`, `message/delivery-status`) are assembled as text
//! here and handed to mail-builder with an explicit `7bit` transfer encoding, because
//! mail-builder would otherwise pick quoted-printable or base64 for them, which RFC 3798/3464
//! readers (and VC-703) do not expect for report fields.

use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::mime::MimePart;
use time::OffsetDateTime;

use crate::mdn::disposition::{Disposition, DispositionKind};
use crate::mdn::error::MdnError;
use crate::mdn::parse::{FINAL_DELIVERY_FIELD, StatusCode, normalise_message_id};
use crate::smime::entity::split_header_body;
use crate::validate::grammar::address::mailbox_list;
use crate::validate::grammar::fields::parse_header;

/// Status for a recipient whose notifications did not arrive in time (RFC 3463 X.4.7,
/// "delivery time expired").
pub const STATUS_TIMEOUT: StatusCode = StatusCode::new(5, 4, 7);
/// Status for a mailbox that does not exist (RFC 3463 X.1.1).
pub const STATUS_BAD_MAILBOX: StatusCode = StatusCode::new(5, 1, 1);
/// Status for a security or trust failure (RFC 3463 X.7.0).
pub const STATUS_SECURITY: StatusCode = StatusCode::new(5, 7, 0);

/// What an answer needs to know about the original message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginalMessage {
    /// `<id@host>`.
    pub message_id: String,
    /// The From addr-spec.
    pub from: Option<String>,
    /// Where MDNs go: Disposition-Notification-To, else From (addr-spec).
    pub notify_to: String,
    pub subject: Option<String>,
    /// A valid timely-and-reliable request (see `requests_dispatched`).
    pub requested_dispatched: bool,
    /// The original is itself an MDN or DSN and must not be answered (MDN-04).
    pub is_notification: bool,
    /// The original's header block as received (for a DSN's text/rfc822-headers part).
    pub header: Vec<u8>,
}

impl OriginalMessage {
    /// Reads the original's header (the decrypted, unwrapped message, or its header alone).
    pub fn read(raw: &[u8]) -> Result<Self, MdnError> {
        let (head, _) = split_header_body(raw);
        let h = parse_header(head);
        let message_id = h
            .value("Message-ID")
            .and_then(normalise_message_id)
            .ok_or_else(|| MdnError::Original("no usable Message-ID".into()))?;
        let first = |name: &str| {
            h.value(name)
                .and_then(|v| mailbox_list(v).ok())
                .and_then(|l| l.first().map(|m| m.addr_spec()))
        };
        let from = first("From");
        let notify_to = first("Disposition-Notification-To")
            .or_else(|| from.clone())
            .ok_or_else(|| MdnError::Original("no From or Disposition-Notification-To".into()))?;
        Ok(OriginalMessage {
            message_id,
            from,
            notify_to,
            subject: h.value("Subject").map(str::to_string),
            requested_dispatched: crate::mdn::parse::requests_dispatched(head),
            is_notification: crate::mdn::parse::is_notification(raw),
            header: head.to_vec(),
        })
    }
}

/// Everything an MDN says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MdnSpec {
    /// The MDN's From: the final recipient (or its HISP's address), VC-714.
    pub from: String,
    /// The original's Disposition-Notification-To, else its From.
    pub to: String,
    pub subject: String,
    /// The MDN's own Message-ID (`<id@host>` or `id@host`).
    pub message_id: String,
    pub date: OffsetDateTime,
    /// `<id@host>` of the original; also written as In-Reply-To and References.
    pub original_message_id: String,
    /// `ua-name; ua-product`, for example `hisp.direct.test; direct-conformance`.
    pub reporting_ua: String,
    pub original_recipient: Option<String>,
    pub final_recipient: String,
    pub disposition: Disposition,
    /// Write `X-DIRECT-FINAL-DESTINATION-DELIVERY` (only for dispatched, MDN-10/11).
    pub final_delivery: bool,
    /// The Failure field of a failed MDN (VC-712); a default is written when None.
    pub failure: Option<String>,
    /// The human-readable first part; a default sentence when None.
    pub human_text: Option<String>,
}

impl MdnSpec {
    /// The MDN a receiving HISP sends for `original` on behalf of `final_recipient`. The
    /// extension field is set exactly when the MDN is dispatched and the original asked for
    /// timely and reliable delivery (MDN-10, MDN-11). An original that is itself an MDN or
    /// DSN is refused: notifications are never answered with an MDN (MDN-04).
    pub fn answering(
        original: &OriginalMessage,
        final_recipient: &str,
        kind: DispositionKind,
        reporting_ua: &str,
        message_id: &str,
        date: OffsetDateTime,
    ) -> Result<Self, MdnError> {
        if original.is_notification {
            return Err(MdnError::Original(format!(
                "{} is itself a notification and is not answered (MDN-04)",
                original.message_id
            )));
        }
        let label = match kind {
            DispositionKind::Processed => "Processed",
            DispositionKind::Dispatched => "Dispatched",
            DispositionKind::Displayed => "Displayed",
            DispositionKind::Deleted => "Deleted",
            DispositionKind::Failed | DispositionKind::Error | DispositionKind::Denied => "Failed",
        };
        Ok(MdnSpec {
            from: final_recipient.to_string(),
            to: original.notify_to.clone(),
            subject: format!("{label}: {}", original.subject.as_deref().unwrap_or("")),
            message_id: message_id.to_string(),
            date,
            original_message_id: original.message_id.clone(),
            reporting_ua: reporting_ua.to_string(),
            original_recipient: None,
            final_recipient: final_recipient.to_string(),
            disposition: Disposition::automatic(kind),
            final_delivery: kind == DispositionKind::Dispatched && original.requested_dispatched,
            failure: None,
            human_text: None,
        })
    }
}

/// One failed recipient of a DSN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DsnRecipientSpec {
    pub final_recipient: String,
    /// A 5.x.x status (Action is always `failed`, MDN-23).
    pub status: StatusCode,
    /// Diagnostic text, written as `Diagnostic-Code: smtp; <text>`.
    pub diagnostic: Option<String>,
}

/// Everything a failure DSN says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DsnSpec {
    /// Usually `postmaster@<sending HISP domain>`.
    pub from: String,
    /// The original sender.
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub date: OffsetDateTime,
    /// The MTA's host name; written as `Reporting-MTA: dns; <name>`.
    pub reporting_mta: String,
    pub original_message_id: String,
    /// The original's header block for the text/rfc822-headers part; a header holding only
    /// its Message-ID when None.
    pub original_header: Option<Vec<u8>>,
    /// Only the failed recipients (MDN-17).
    pub recipients: Vec<DsnRecipientSpec>,
    pub human_text: Option<String>,
}

impl DsnSpec {
    /// The failure DSN a sending HISP returns to the edge for `original`.
    pub fn failure(
        original: &OriginalMessage,
        reporting_mta: &str,
        recipients: Vec<DsnRecipientSpec>,
        message_id: &str,
        date: OffsetDateTime,
    ) -> Result<Self, MdnError> {
        let to = original
            .from
            .clone()
            .ok_or_else(|| MdnError::Original("no From to return the DSN to".into()))?;
        Ok(DsnSpec {
            from: format!("postmaster@{reporting_mta}"),
            to,
            subject: format!(
                "Undeliverable: {}",
                original.subject.as_deref().unwrap_or("")
            ),
            message_id: message_id.to_string(),
            date,
            reporting_mta: reporting_mta.to_string(),
            original_message_id: original.message_id.clone(),
            original_header: Some(original.header.clone()),
            recipients,
            human_text: None,
        })
    }
}

/// A fresh Message-ID `<random@domain>`.
pub fn new_message_id(domain: &str) -> String {
    use rand::RngExt;
    let n: u128 = rand::rng().random();
    format!("<{n:032x}@{domain}>")
}

/// A value that goes into a 7-bit report field or a header: ASCII, no line breaks.
fn field_value(name: &str, value: &str) -> Result<String, MdnError> {
    if value.bytes().any(|b| !(32..127).contains(&b) && b != b'\t') {
        return Err(MdnError::Build(format!(
            "{name} {value:?} holds a line break, a control character or non-ASCII text"
        )));
    }
    Ok(value.trim().to_string())
}

/// `id@host` for mail-builder, which adds the angle brackets itself.
fn bare_id(name: &str, id: &str) -> Result<String, MdnError> {
    let id = normalise_message_id(id)
        .ok_or_else(|| MdnError::Build(format!("{name} {id:?} is not a message identifier")))?;
    Ok(id[1..id.len() - 1].to_string())
}

fn unix(date: OffsetDateTime) -> i64 {
    date.unix_timestamp()
}

/// Builds the MDN as a plain RFC 5322 message.
pub fn build_mdn(spec: &MdnSpec) -> Result<Vec<u8>, MdnError> {
    let original_id = bare_id("Original-Message-ID", &spec.original_message_id)?;
    let mut fields = format!(
        "Reporting-UA: {}\r\n",
        field_value("Reporting-UA", &spec.reporting_ua)?
    );
    if let Some(o) = &spec.original_recipient {
        fields.push_str(&format!(
            "Original-Recipient: rfc822; {}\r\n",
            field_value("Original-Recipient", o)?
        ));
    }
    fields.push_str(&format!(
        "Final-Recipient: rfc822; {}\r\nOriginal-Message-ID: <{original_id}>\r\nDisposition: {}\r\n",
        field_value("Final-Recipient", &spec.final_recipient)?,
        spec.disposition
    ));
    if spec.final_delivery {
        fields.push_str(FINAL_DELIVERY_FIELD);
        fields.push_str(":\r\n");
    }
    if spec.disposition.is_failure() {
        let failure = spec
            .failure
            .as_deref()
            .unwrap_or("the message could not be delivered to the final destination");
        fields.push_str(&format!(
            "Failure: {}\r\n",
            field_value("Failure", failure)?
        ));
    }
    let text = spec.human_text.clone().unwrap_or_else(|| {
        format!(
            "The message {}\r\nto {}\r\nwas {}.\r\n",
            spec.original_message_id,
            spec.final_recipient,
            spec.disposition.kind.as_str()
        )
    });
    let report = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "disposition-notification"),
        vec![
            MimePart::new(
                ContentType::new("text/plain").attribute("charset", "utf-8"),
                text,
            ),
            // Bytes, not text: mail-builder would add a charset parameter to a text body.
            MimePart::new("message/disposition-notification", fields.into_bytes())
                .transfer_encoding("7bit"),
        ],
    );
    write(
        MessageBuilder::new()
            .from(field_value("From", &spec.from)?)
            .to(field_value("To", &spec.to)?)
            .subject(spec.subject.clone())
            .date(Date::new(unix(spec.date)))
            .message_id(bare_id("Message-ID", &spec.message_id)?)
            .in_reply_to(original_id.clone())
            .references(original_id)
            .body(report),
    )
}

/// Builds a failure DSN (RFC 3464) as a plain RFC 5322 message.
pub fn build_dsn(spec: &DsnSpec) -> Result<Vec<u8>, MdnError> {
    if spec.recipients.is_empty() {
        return Err(MdnError::Build(
            "a DSN needs at least one failed recipient".into(),
        ));
    }
    let original_id = bare_id("original Message-ID", &spec.original_message_id)?;
    let mut fields = format!(
        "Reporting-MTA: dns; {}\r\n",
        field_value("Reporting-MTA", &spec.reporting_mta)?
    );
    let mut names = Vec::new();
    for r in &spec.recipients {
        if r.status.class != 5 {
            return Err(MdnError::Build(format!(
                "status {} of {} is not a permanent failure (5.x.x)",
                r.status, r.final_recipient
            )));
        }
        let address = field_value("Final-Recipient", &r.final_recipient)?;
        fields.push_str(&format!(
            "\r\nFinal-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: {}\r\n",
            r.status
        ));
        if let Some(d) = &r.diagnostic {
            fields.push_str(&format!(
                "Diagnostic-Code: smtp; {}\r\n",
                field_value("Diagnostic-Code", d)?
            ));
        }
        names.push(address);
    }
    let headers = match &spec.original_header {
        Some(h) => {
            let mut h = String::from_utf8_lossy(h).into_owned();
            if !h.ends_with('\n') {
                h.push_str("\r\n");
            }
            h
        }
        None => format!("Message-ID: <{original_id}>\r\n"),
    };
    let text = spec.human_text.clone().unwrap_or_else(|| {
        format!(
            "The message {}\r\ncould not be delivered to:\r\n{}\r\n",
            spec.original_message_id,
            names.join("\r\n")
        )
    });
    let report = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "delivery-status"),
        vec![
            MimePart::new(
                ContentType::new("text/plain").attribute("charset", "utf-8"),
                text,
            ),
            MimePart::new("message/delivery-status", fields.into_bytes()).transfer_encoding("7bit"),
            MimePart::new("text/rfc822-headers", headers.into_bytes()),
        ],
    );
    write(
        MessageBuilder::new()
            .from(field_value("From", &spec.from)?)
            .to(field_value("To", &spec.to)?)
            .subject(spec.subject.clone())
            .date(Date::new(unix(spec.date)))
            .message_id(bare_id("Message-ID", &spec.message_id)?)
            .in_reply_to(original_id.clone())
            .references(original_id)
            .body(report),
    )
}

fn write(builder: MessageBuilder<'_>) -> Result<Vec<u8>, MdnError> {
    builder
        .write_to_vec()
        .map_err(|e| MdnError::Build(format!("writing the message: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mdn::parse::{DsnAction, Notification, parse_notification};
    use crate::validate::finding::{Severity, Status};
    use crate::validate::{Correlation, ValidationOptions, validate_message};

    const ORIGINAL: &str = "From: alice@hisp.direct.test\r\nTo: bob@sut.direct.test\r\nSubject: Referral\r\nMessage-ID: <orig-1@hisp.direct.test>\r\nDisposition-Notification-To: alice@hisp.direct.test\r\nDisposition-Notification-Options: X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true\r\n\r\nbody\r\n";

    fn at() -> OffsetDateTime {
        time::macros::datetime!(2026-11-25 10:00 UTC)
    }

    fn original() -> OriginalMessage {
        OriginalMessage::read(ORIGINAL.as_bytes()).expect("original")
    }

    /// The VC-7xx/8xx findings at error severity that failed, except VC-701 (a plain
    /// message is not signed; the interop test covers the sealed form).
    fn report_errors(raw: &[u8], original: &str) -> Vec<String> {
        let options = ValidationOptions {
            correlation: Some(Correlation::from_original(original.as_bytes())),
            ..ValidationOptions::default()
        };
        validate_message("t", raw, &options)
            .findings
            .iter()
            .filter(|f| f.id.starts_with("VC-7") || f.id.starts_with("VC-8"))
            .filter(|f| f.id != "VC-701")
            .filter(|f| f.status == Status::Failed && f.severity == Severity::Error)
            .map(|f| format!("{} {:?} {}", f.id, f.severity, f.message))
            .collect()
    }

    #[test]
    fn processed_dispatched_and_failed_mdns_round_trip_and_validate() {
        for kind in [
            DispositionKind::Processed,
            DispositionKind::Dispatched,
            DispositionKind::Failed,
            DispositionKind::Displayed,
        ] {
            let spec = MdnSpec::answering(
                &original(),
                "bob@sut.direct.test",
                kind,
                "sut.direct.test; direct-conformance",
                "<mdn-1@sut.direct.test>",
                at(),
            )
            .expect("answering");
            let raw = build_mdn(&spec).expect("build");
            let text = String::from_utf8_lossy(&raw);
            assert!(
                text.contains("In-Reply-To: <orig-1@hisp.direct.test>"),
                "{text}"
            );
            assert!(!text.contains("Disposition-Notification-To"), "{text}");
            let Ok(Notification::Mdn(m)) = parse_notification(&raw) else {
                panic!("does not parse back: {text}");
            };
            assert_eq!(m.disposition.kind, kind);
            assert_eq!(m.original_message_id, "<orig-1@hisp.direct.test>");
            assert_eq!(m.final_recipient, "bob@sut.direct.test");
            assert_eq!(m.final_delivery, kind == DispositionKind::Dispatched);
            assert_eq!(m.failure.is_some(), kind == DispositionKind::Failed);
            assert_eq!(
                report_errors(&raw, ORIGINAL),
                Vec::<String>::new(),
                "{kind:?}: {text}"
            );
        }
    }

    #[test]
    fn dispatched_without_a_request_has_no_extension_field() {
        let plain = ORIGINAL.replace(
            "Disposition-Notification-Options: X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true\r\n",
            "",
        );
        let o = OriginalMessage::read(plain.as_bytes()).unwrap();
        assert!(!o.requested_dispatched);
        let spec = MdnSpec::answering(
            &o,
            "bob@sut.direct.test",
            DispositionKind::Dispatched,
            "sut; x",
            "<m@sut>",
            at(),
        )
        .expect("answering");
        let raw = build_mdn(&spec).unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains(FINAL_DELIVERY_FIELD));
        assert_eq!(report_errors(&raw, &plain), Vec::<String>::new());
    }

    #[test]
    fn failure_dsn_round_trips_and_validates() {
        let spec = DsnSpec::failure(
            &original(),
            "hisp.direct.test",
            vec![DsnRecipientSpec {
                final_recipient: "nomdn8@sut.direct.test".into(),
                status: STATUS_TIMEOUT,
                diagnostic: Some("no dispatched MDN before the deadline".into()),
            }],
            &new_message_id("hisp.direct.test"),
            at(),
        )
        .unwrap();
        let raw = build_dsn(&spec).unwrap();
        let Ok(Notification::Dsn(d)) = parse_notification(&raw) else {
            panic!("not a DSN: {}", String::from_utf8_lossy(&raw));
        };
        assert_eq!(
            d.original_message_id.as_deref(),
            Some("<orig-1@hisp.direct.test>")
        );
        assert_eq!(d.per_recipient.len(), 1);
        assert_eq!(d.per_recipient[0].action, DsnAction::Failed);
        assert_eq!(d.per_recipient[0].status, Some(STATUS_TIMEOUT));
        assert_eq!(report_errors(&raw, ORIGINAL), Vec::<String>::new());
    }

    #[test]
    fn builders_refuse_what_cannot_be_written() {
        let mut spec = MdnSpec::answering(
            &original(),
            "bob@sut.direct.test",
            DispositionKind::Processed,
            "ua",
            "<m@x>",
            at(),
        )
        .expect("answering");
        spec.final_recipient = "bob@sut.direct.test\r\nDisposition: forged".into();
        assert!(matches!(build_mdn(&spec), Err(MdnError::Build(_))));
        spec.final_recipient = "bob@sut.direct.test".into();
        spec.message_id = "not an id".into();
        assert!(matches!(build_mdn(&spec), Err(MdnError::Build(_))));
        let mut dsn = DsnSpec::failure(&original(), "h.test", vec![], "<d@h.test>", at()).unwrap();
        assert!(matches!(build_dsn(&dsn), Err(MdnError::Build(_))));
        dsn.recipients.push(DsnRecipientSpec {
            final_recipient: "x@y.test".into(),
            status: StatusCode::new(4, 4, 7),
            diagnostic: None,
        });
        assert!(matches!(build_dsn(&dsn), Err(MdnError::Build(_))));
        assert!(OriginalMessage::read(b"From: a@b.test\r\n\r\n").is_err());
        // MDN-04: an MDN is not answered with an MDN.
        spec.message_id = "<m@x.test>".into();
        let mdn = build_mdn(&spec).unwrap();
        let answered = OriginalMessage::read(&mdn).unwrap();
        assert!(answered.is_notification);
        assert!(matches!(
            MdnSpec::answering(
                &answered,
                "a@b.test",
                DispositionKind::Processed,
                "ua",
                "<m@x>",
                at()
            ),
            Err(MdnError::Original(_))
        ));
    }
}
