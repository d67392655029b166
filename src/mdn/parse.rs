//! Reading MDNs (RFC 3798/8098) and DSNs (RFC 3464) as other HISPs send them: the report is
//! found wherever it sits (top level, inside a wrapped message/rfc822, inside a multipart), its
//! fields are read with the validator's header grammar (case-insensitive names, folded lines,
//! blank lines between fields), and values are read leniently but typed (MDN-22, MDN-24).
//!
//! mail-parser splits the MIME tree and undoes transfer encodings: it never panics and reads
//! whatever arrives, which is what a receiving HISP needs here (the validator judges bytes).

use mail_parser::{Message, MessageParser, MessagePart, MimeHeaders, PartType};

use crate::mdn::disposition::{Disposition, strip_comments};
use crate::mdn::error::MdnError;
use crate::smime::entity::split_header_body;
use crate::validate::checks::dsn::parse_status;
use crate::validate::checks::headers::requests_final_delivery;
use crate::validate::checks::report::field_blocks;
use crate::validate::grammar::address::{addr_spec, msg_id};
use crate::validate::grammar::fields::{Header, parse_header};

/// The Direct extension report field of a dispatched MDN (MDN-10).
pub const FINAL_DELIVERY_FIELD: &str = "X-DIRECT-FINAL-DESTINATION-DELIVERY";

/// How deep wrapped messages and multiparts are searched for the report.
const MAX_DEPTH: usize = 8;

/// A notification read from a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notification {
    Mdn(MdnReport),
    Dsn(DsnReport),
}

impl Notification {
    /// The Message-ID (with angle brackets) of the message this notification answers.
    pub fn original_message_id(&self) -> Option<&str> {
        match self {
            Notification::Mdn(m) => Some(&m.original_message_id),
            Notification::Dsn(d) => d.original_message_id.as_deref(),
        }
    }
}

/// An MDN's report fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MdnReport {
    /// `<id@host>`, normalised (brackets added when the sender left them out).
    pub original_message_id: String,
    /// The addr-spec of Final-Recipient.
    pub final_recipient: String,
    pub original_recipient: Option<String>,
    pub reporting_ua: Option<String>,
    pub disposition: Disposition,
    /// The report body carries `X-DIRECT-FINAL-DESTINATION-DELIVERY` (MDN-10).
    pub final_delivery: bool,
    pub failure: Option<String>,
    pub error: Option<String>,
}

/// RFC 3464 Action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DsnAction {
    Failed,
    Delayed,
    Delivered,
    Relayed,
    Expanded,
    Other(String),
}

impl DsnAction {
    fn parse(v: &str) -> Self {
        let v = strip_comments(v).trim().to_ascii_lowercase();
        match v.as_str() {
            "failed" => DsnAction::Failed,
            "delayed" => DsnAction::Delayed,
            "delivered" => DsnAction::Delivered,
            "relayed" => DsnAction::Relayed,
            "expanded" => DsnAction::Expanded,
            _ => DsnAction::Other(v),
        }
    }
}

/// An RFC 3463 status code `class.subject.detail`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StatusCode {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl StatusCode {
    pub const fn new(class: u8, subject: u16, detail: u16) -> Self {
        StatusCode {
            class,
            subject,
            detail,
        }
    }

    pub fn parse(v: &str) -> Option<Self> {
        parse_status(v).map(|(class, subject, detail)| StatusCode {
            class,
            subject,
            detail,
        })
    }
}

impl std::fmt::Display for StatusCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// One per-recipient block of a DSN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DsnRecipient {
    pub final_recipient: String,
    pub action: DsnAction,
    pub status: Option<StatusCode>,
    pub diagnostic: Option<String>,
}

/// A DSN's report fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DsnReport {
    pub reporting_mta: Option<String>,
    /// From the returned headers or message, or an X-Original-Message-ID field.
    pub original_message_id: Option<String>,
    pub per_recipient: Vec<DsnRecipient>,
}

/// Parses a notification (a plain RFC 5322 message, as `smime::open` delivers it).
pub fn parse_notification(raw: &[u8]) -> Result<Notification, MdnError> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| MdnError::NotANotification("no message header".into()))?;
    parse_message(&message, 0)
}

fn parse_message(message: &Message<'_>, depth: usize) -> Result<Notification, MdnError> {
    if let Some(part) = message.parts.iter().find(|p| is_mdn_part(p)) {
        return mdn_report(message, part).map(Notification::Mdn);
    }
    if let Some(part) = message.parts.iter().find(|p| is_dsn_part(p)) {
        return dsn_report(message, part).map(Notification::Dsn);
    }
    if depth < MAX_DEPTH {
        // A wrapped notification (message/rfc822 around the report, MDN-24).
        for part in &message.parts {
            if let PartType::Message(inner) = &part.body {
                match parse_message(inner, depth + 1) {
                    Err(MdnError::NotANotification(_)) => continue,
                    other => return other,
                }
            }
        }
    }
    Err(MdnError::NotANotification(
        "no message/disposition-notification or message/delivery-status part".into(),
    ))
}

fn essence(part: &MessagePart<'_>) -> String {
    part.content_type()
        .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()))
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn is_mdn_part(part: &MessagePart<'_>) -> bool {
    matches!(
        essence(part).as_str(),
        "message/disposition-notification" | "message/global-disposition-notification"
    )
}

fn is_dsn_part(part: &MessagePart<'_>) -> bool {
    matches!(
        essence(part).as_str(),
        "message/delivery-status" | "message/global-delivery-status"
    )
}

/// The raw MIME header of a part, from the message's bytes.
fn part_header(message: &Message<'_>, part: &MessagePart<'_>) -> Header {
    let raw = message.raw_message();
    let (start, end) = (
        part.raw_header_offset() as usize,
        part.raw_body_offset() as usize,
    );
    parse_header(raw.get(start..end).unwrap_or_default())
}

/// All report fields of a part body in one header, whatever blank lines split them.
fn merged_fields(body: &[u8]) -> Header {
    let mut merged = Header::default();
    for block in field_blocks(&close_field_names(body)) {
        merged.fields.extend(block.fields);
        merged.problems.extend(block.problems);
    }
    merged
}

/// Removes white space between a field name and its colon (`Disposition : …`, RFC 5322's
/// obsolete syntax, which some senders still write), so that the strict field grammar reads
/// the field instead of dropping it.
fn close_field_names(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    for line in body.split_inclusive(|b| *b == b'\n') {
        let name_len = line
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
            .count();
        let gap = line[name_len..]
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        if name_len > 0 && gap > 0 && line.get(name_len + gap) == Some(&b':') {
            out.extend_from_slice(&line[..name_len]);
            out.extend_from_slice(&line[name_len + gap..]);
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

fn mdn_report(message: &Message<'_>, part: &MessagePart<'_>) -> Result<MdnReport, MdnError> {
    let mut fields = merged_fields(part.contents());
    // nhin-d #109: fields written as MIME headers of the part instead of its body.
    if fields.get("Disposition").is_none() {
        let header = part_header(message, part);
        if header.get("Disposition").is_some() {
            fields.fields.extend(header.fields);
        }
    }
    let disposition = Disposition::parse(
        fields
            .value("Disposition")
            .ok_or(MdnError::MissingField("Disposition"))?,
    )?;
    let original_message_id = fields
        .value("Original-Message-ID")
        .ok_or(MdnError::MissingField("Original-Message-ID"))
        .and_then(|v| {
            normalise_message_id(v).ok_or_else(|| MdnError::BadField {
                field: "Original-Message-ID",
                reason: format!("{v:?} is not a message identifier"),
            })
        })?;
    let final_recipient = recipient_address(
        "Final-Recipient",
        fields
            .value("Final-Recipient")
            .ok_or(MdnError::MissingField("Final-Recipient"))?,
    )?;
    let text = |name: &str| {
        fields
            .value(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    Ok(MdnReport {
        original_message_id,
        final_recipient,
        original_recipient: fields
            .value("Original-Recipient")
            .and_then(|v| recipient_address("Original-Recipient", v).ok()),
        reporting_ua: text("Reporting-UA"),
        disposition,
        final_delivery: fields.get(FINAL_DELIVERY_FIELD).is_some(),
        failure: text("Failure"),
        error: text("Error"),
    })
}

fn dsn_report(message: &Message<'_>, part: &MessagePart<'_>) -> Result<DsnReport, MdnError> {
    // Fields are grouped by Final-Recipient rather than by blank lines, so that a sender's
    // extra or missing blank lines do not split or merge recipients (MDN-22). What precedes
    // the first Final-Recipient is per-message.
    let mut per_message = Header::default();
    let mut groups: Vec<Header> = Vec::new();
    for field in merged_fields(part.contents()).fields {
        if field.is("Final-Recipient") {
            groups.push(Header {
                fields: vec![field],
                problems: Vec::new(),
            });
        } else if let Some(group) = groups.last_mut() {
            group.fields.push(field);
        } else {
            per_message.fields.push(field);
        }
    }
    let mut per_recipient = Vec::new();
    for block in groups {
        let final_recipient = recipient_address(
            "Final-Recipient",
            block
                .value("Final-Recipient")
                .ok_or(MdnError::MissingField("Final-Recipient"))?,
        )?;
        let action = DsnAction::parse(
            block
                .value("Action")
                .ok_or(MdnError::MissingField("Action"))?,
        );
        let status =
            match block.value("Status") {
                None => None,
                Some(v) => Some(StatusCode::parse(&strip_comments(v)).ok_or_else(|| {
                    MdnError::BadField {
                        field: "Status",
                        reason: format!("{v:?} is not class.subject.detail"),
                    }
                })?),
            };
        per_recipient.push(DsnRecipient {
            final_recipient,
            action,
            status,
            diagnostic: block
                .value("Diagnostic-Code")
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty()),
        });
    }
    if per_recipient.is_empty() {
        return Err(MdnError::NoRecipients);
    }
    Ok(DsnReport {
        reporting_mta: per_message
            .value("Reporting-MTA")
            .map(|v| v.trim().to_string()),
        original_message_id: dsn_original_id(message, Some(&per_message)),
        per_recipient,
    })
}

/// The original Message-ID a DSN carries (TEST-CATALOGUE §c.2 correlation rule).
fn dsn_original_id(message: &Message<'_>, per_message: Option<&Header>) -> Option<String> {
    for part in &message.parts {
        let header = match (&part.body, essence(part).as_str()) {
            (PartType::Message(inner), _) => parse_header(split_header_body(inner.raw_message()).0),
            (_, "text/rfc822-headers") => parse_header(split_header_body(part.contents()).0),
            _ => continue,
        };
        if let Some(id) = header.value("Message-ID").and_then(normalise_message_id) {
            return Some(id);
        }
    }
    let top = parse_header(split_header_body(message.raw_message()).0);
    [per_message, Some(&top)]
        .into_iter()
        .flatten()
        .find_map(|h| h.value("X-Original-Message-ID"))
        .and_then(normalise_message_id)
}

/// A msg-id as `<left@right>`; tolerates comments, white space and missing brackets.
pub fn normalise_message_id(value: &str) -> Option<String> {
    if let Ok(id) = msg_id(value) {
        return Some(id);
    }
    let clean = strip_comments(value);
    let inner = clean
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    if inner.is_empty()
        || inner
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
    {
        return None;
    }
    Some(format!("<{inner}>"))
}

/// The address of a `type; address` recipient field; tolerates a missing `rfc822;`, brackets,
/// comments and odd case or spacing.
fn recipient_address(field: &'static str, value: &str) -> Result<String, MdnError> {
    let clean = strip_comments(value);
    let address = match clean.split_once(';') {
        Some((_, a)) => a,
        None => clean.as_str(),
    };
    let address = address
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    if let Ok(m) = addr_spec(address) {
        return Ok(m.addr_spec());
    }
    if address.contains('@') && !address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Ok(address.to_string());
    }
    Err(MdnError::BadField {
        field,
        reason: format!("{value:?} names no address"),
    })
}

/// The header of a message (or a bare header block).
fn header_of(raw: &[u8]) -> Header {
    parse_header(split_header_body(raw).0)
}

/// Whether the message (or header block) is itself an MDN or DSN, which must not be answered
/// with an MDN (MDN-04): a `multipart/report` of report-type disposition-notification or
/// delivery-status (or none), at the top or inside one message/rfc822 wrapper.
pub fn is_notification(raw: &[u8]) -> bool {
    let media = crate::smime::entity::media_type(raw);
    if media.is("multipart", "report") {
        return match media.param("report-type") {
            None => true,
            Some(t) => [
                "disposition-notification",
                "delivery-status",
                "global-disposition-notification",
                "global-delivery-status",
            ]
            .iter()
            .any(|k| t.trim().eq_ignore_ascii_case(k)),
        };
    }
    if media.is("message", "rfc822") {
        let (_, body) = split_header_body(raw);
        let inner = crate::smime::entity::media_type(body);
        return inner.is("multipart", "report")
            && inner.param("report-type").is_none_or(|t| {
                t.eq_ignore_ascii_case("disposition-notification")
                    || t.eq_ignore_ascii_case("delivery-status")
            });
    }
    false
}

/// Whether the message (or header block) asks for timely and reliable delivery: a
/// Disposition-Notification-Options value `X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true`
/// in any case (MDN-08, MDN-09) and a Disposition-Notification-To to send the MDNs to. This is
/// the validator's reading (VC-711 judges our dispatched MDNs by it).
pub fn requests_dispatched(raw: &[u8]) -> bool {
    let h = header_of(raw);
    h.get("Disposition-Notification-To").is_some()
        && h.all("Disposition-Notification-Options")
            .any(|f| requests_final_delivery(&f.value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mdn::disposition::DispositionKind;

    const MDN: &str = "From: bob@sut.direct.test\r\nTo: alice@hisp.direct.test\r\nSubject: Processed: hi\r\nMessage-ID: <mdn-1@sut.direct.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=r\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nYour message was processed.\r\n--r\r\nContent-Type: message/disposition-notification\r\n\r\nReporting-UA: sut.direct.test; Direct HISP\r\nFinal-Recipient: rfc822; bob@sut.direct.test\r\nOriginal-Message-ID: <1@hisp.direct.test>\r\nDisposition: automatic-action/MDN-sent-automatically; processed\r\n\r\n--r--\r\n";

    const DSN: &str = "From: postmaster@sut.direct.test\r\nTo: alice@hisp.direct.test\r\nSubject: Undeliverable\r\nMessage-ID: <dsn-1@sut.direct.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; sut.direct.test\r\n\r\nFinal-Recipient: rfc822; nobody@sut.direct.test\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 no such user\r\n\r\nFinal-Recipient: rfc822; late@sut.direct.test\r\nAction: delayed\r\nStatus: 4.4.7\r\n\r\n--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <1@hisp.direct.test>\r\n\r\n--r--\r\n";

    fn mdn(raw: &str) -> MdnReport {
        match parse_notification(raw.as_bytes()) {
            Ok(Notification::Mdn(m)) => m,
            other => panic!("not an MDN: {other:?}"),
        }
    }

    #[test]
    fn reads_a_plain_mdn() {
        let m = mdn(MDN);
        assert_eq!(m.original_message_id, "<1@hisp.direct.test>");
        assert_eq!(m.final_recipient, "bob@sut.direct.test");
        assert_eq!(m.disposition.kind, DispositionKind::Processed);
        assert_eq!(
            m.reporting_ua.as_deref(),
            Some("sut.direct.test; Direct HISP")
        );
        assert!(!m.final_delivery);
    }

    #[test]
    fn reads_a_dsn_with_its_recipients() {
        let Ok(Notification::Dsn(d)) = parse_notification(DSN.as_bytes()) else {
            panic!("not a DSN");
        };
        assert_eq!(
            d.original_message_id.as_deref(),
            Some("<1@hisp.direct.test>")
        );
        assert_eq!(d.reporting_mta.as_deref(), Some("dns; sut.direct.test"));
        assert_eq!(d.per_recipient.len(), 2);
        assert_eq!(d.per_recipient[0].action, DsnAction::Failed);
        assert_eq!(d.per_recipient[0].status, Some(StatusCode::new(5, 1, 1)));
        assert_eq!(
            d.per_recipient[0].diagnostic.as_deref(),
            Some("smtp; 550 no such user")
        );
        assert_eq!(d.per_recipient[1].action, DsnAction::Delayed);
    }

    #[test]
    fn tolerates_case_folding_blank_lines_and_header_placement() {
        let odd = MDN
            .replace(
                "multipart/report; report-type=disposition-notification",
                "Multipart/Report; Report-Type=\"Disposition-Notification\"",
            )
            .replace(
                "message/disposition-notification",
                "Message/Disposition-Notification",
            )
            .replace(
                "Final-Recipient: rfc822; ",
                "final-recipient:\r\n RFC822 ;   ",
            )
            .replace(
                "Original-Message-ID: <1@hisp.direct.test>\r\n",
                "ORIGINAL-MESSAGE-ID: 1@hisp.direct.test\r\n\r\n",
            )
            .replace("; processed", ";\r\n\tProcessed");
        let m = mdn(&odd);
        assert_eq!(m.original_message_id, "<1@hisp.direct.test>");
        assert_eq!(m.final_recipient, "bob@sut.direct.test");
        assert_eq!(m.disposition.kind, DispositionKind::Processed);
        // nhin-d #109: the fields in the part's MIME header.
        let misplaced = MDN.replace(
            "Content-Type: message/disposition-notification\r\n\r\n",
            "Content-Type: message/disposition-notification\r\nDisposition: automatic-action/MDN-sent-automatically; dispatched\r\n\r\n",
        ).replace("Disposition: automatic-action/MDN-sent-automatically; processed\r\n", "");
        assert_eq!(
            mdn(&misplaced).disposition.kind,
            DispositionKind::Dispatched
        );
        // LF-only line ends.
        assert_eq!(
            mdn(&MDN.replace("\r\n", "\n")).final_recipient,
            "bob@sut.direct.test"
        );
    }

    #[test]
    fn reads_wrapped_and_encoded_reports() {
        let wrapped = format!("Content-Type: message/rfc822\r\n\r\n{MDN}");
        assert_eq!(mdn(&wrapped).original_message_id, "<1@hisp.direct.test>");
        use base64::Engine;
        let fields = "Final-Recipient: rfc822; bob@sut.direct.test\r\nOriginal-Message-ID: <1@hisp.direct.test>\r\nDisposition: automatic-action/MDN-sent-automatically; failed\r\nFailure: mailbox full\r\n";
        let b64 = base64::engine::general_purpose::STANDARD.encode(fields);
        let encoded = format!(
            "Content-Type: multipart/report; report-type=disposition-notification; boundary=r\r\n\r\n--r\r\nContent-Type: message/disposition-notification\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--r--\r\n"
        );
        let m = mdn(&encoded);
        assert!(m.disposition.is_failure());
        assert_eq!(m.failure.as_deref(), Some("mailbox full"));
    }

    #[test]
    fn malformed_reports_are_typed_errors() {
        let cases = [
            (
                MDN.replace(
                    "Disposition: automatic-action/MDN-sent-automatically; processed\r\n",
                    "",
                ),
                MdnError::MissingField("Disposition"),
            ),
            (
                MDN.replace("Final-Recipient: rfc822; bob@sut.direct.test\r\n", ""),
                MdnError::MissingField("Final-Recipient"),
            ),
            (
                MDN.replace("Original-Message-ID: <1@hisp.direct.test>\r\n", ""),
                MdnError::MissingField("Original-Message-ID"),
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_notification(raw.as_bytes()), Err(want));
        }
        assert!(matches!(
            parse_notification(
                MDN.replace("rfc822; bob@sut.direct.test", "rfc822; bob")
                    .as_bytes()
            ),
            Err(MdnError::BadField {
                field: "Final-Recipient",
                ..
            })
        ));
        assert!(matches!(
            parse_notification(MDN.replace("; processed", "; eaten").as_bytes()),
            Err(MdnError::BadField {
                field: "Disposition",
                ..
            })
        ));
        assert!(matches!(
            parse_notification(DSN.replace("Status: 5.1.1", "Status: 550").as_bytes()),
            Err(MdnError::BadField {
                field: "Status",
                ..
            })
        ));
        let no_recipients = DSN
            .split("\r\n\r\nFinal-Recipient")
            .next()
            .unwrap_or_default()
            .to_string()
            + "\r\n--r--\r\n";
        assert_eq!(
            parse_notification(no_recipients.as_bytes()),
            Err(MdnError::NoRecipients)
        );
        assert!(matches!(
            parse_notification(b"From: a@b.test\r\n\r\nhello\r\n"),
            Err(MdnError::NotANotification(_))
        ));
        assert!(matches!(
            parse_notification(b""),
            Err(MdnError::NotANotification(_))
        ));
    }

    #[test]
    fn never_panics_on_prefixes_and_garbage() {
        for input in [MDN, DSN] {
            for cut in 0..input.len() {
                let _ = parse_notification(&input.as_bytes()[..cut]);
            }
        }
        let mut seed = 0x2545_f491_u32;
        for _ in 0..200 {
            let bytes: Vec<u8> = (0..300)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    (seed % 256) as u8
                })
                .collect();
            let _ = parse_notification(&bytes);
        }
        let deep = "Content-Type: message/rfc822\r\n\r\n".repeat(50);
        assert!(parse_notification(deep.as_bytes()).is_err());
    }

    #[test]
    fn dsn_original_id_from_x_field_or_returned_message() {
        let x = DSN
            .replace("Message-ID: <1@hisp.direct.test>\r\n\r\n--r--", "Subject: x\r\n\r\n--r--")
            .replace("Reporting-MTA: dns; sut.direct.test", "Reporting-MTA: dns; sut.direct.test\r\nX-Original-Message-ID: <7@hisp.direct.test>");
        assert_eq!(
            parse_notification(x.as_bytes())
                .unwrap()
                .original_message_id(),
            Some("<7@hisp.direct.test>")
        );
        let returned = DSN.replace(
            "Content-Type: text/rfc822-headers\r\n\r\nMessage-ID: <1@hisp.direct.test>\r\n",
            "Content-Type: message/rfc822\r\n\r\nMessage-ID: <8@hisp.direct.test>\r\nSubject: y\r\n\r\nbody\r\n",
        );
        assert_eq!(
            parse_notification(returned.as_bytes())
                .unwrap()
                .original_message_id(),
            Some("<8@hisp.direct.test>")
        );
    }

    #[test]
    fn recognises_notifications_and_requests() {
        assert!(is_notification(MDN.as_bytes()));
        assert!(is_notification(DSN.as_bytes()));
        assert!(is_notification(
            format!("Content-Type: message/rfc822\r\n\r\n{MDN}").as_bytes()
        ));
        assert!(!is_notification(
            b"From: a@b.test\r\nContent-Type: text/plain\r\n\r\nhi"
        ));
        assert!(!is_notification(
            b"Content-Type: multipart/report; report-type=tlsrpt; boundary=x\r\n\r\n"
        ));
        let req = "Disposition-Notification-To: a@b.test\r\nDisposition-Notification-Options: X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true\r\n\r\n";
        assert!(requests_dispatched(req.as_bytes()));
        assert!(requests_dispatched(
            req.replace(
                "X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true",
                "x-direct-final-destination-delivery=Optional,True"
            )
            .as_bytes()
        ));
        assert!(!requests_dispatched(
            req.replace(
                "X-DIRECT-FINAL-DESTINATION-DELIVERY",
                "X-XXXX-FINAL-X-DELXXXX"
            )
            .as_bytes()
        ));
        assert!(!requests_dispatched(
            req.replace("Disposition-Notification-To: a@b.test\r\n", "")
                .as_bytes()
        ));
        assert!(!requests_dispatched(b"From: a@b.test\r\n\r\n"));
    }

    #[test]
    fn message_ids_normalise() {
        assert_eq!(normalise_message_id(" <a@b> ").as_deref(), Some("<a@b>"));
        assert_eq!(normalise_message_id("a@b (c)").as_deref(), Some("<a@b>"));
        assert_eq!(normalise_message_id("a b"), None);
        assert_eq!(normalise_message_id(""), None);
    }
}
