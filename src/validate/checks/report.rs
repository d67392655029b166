//! What the MDN and DSN families share: finding the `multipart/report` once the security
//! layers are off, and reading the report fields (RFC 3798 §3, RFC 3464 §2), which are header
//! fields in the body of the report part, in one or more blank-line separated blocks.

use crate::validate::grammar::fields::{Header, parse_header};
use crate::validate::message::{Entity, MessageUnderValidation};

/// The kind of notification a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportKind {
    Mdn,
    Dsn,
}

/// The report found in a message.
#[derive(Debug)]
pub struct Report<'a> {
    pub kind: ReportKind,
    /// The entity that should be `multipart/report` (the payload).
    pub container: &'a Entity,
    /// The message whose header holds From, To, Subject: the wrapped message, else the outer.
    pub message: &'a Entity,
    /// The `message/disposition-notification` or `message/delivery-status` part.
    pub part: Option<&'a Entity>,
}

/// The report in `m`, if the payload is one (by report-type or by its report part).
pub fn find(m: &MessageUnderValidation) -> Option<Report<'_>> {
    let container = m.payload()?;
    let message = m.inner().unwrap_or(&m.outer);
    let child = |essence: &str| container.children.iter().find(|c| c.essence() == essence);
    let report_type = (container.essence() == "multipart/report")
        .then(|| container.param("report-type"))
        .flatten()
        .map(|t| t.to_ascii_lowercase());
    let mdn_part = child("message/disposition-notification");
    let dsn_part = child("message/delivery-status");
    let kind = match (report_type.as_deref(), mdn_part, dsn_part) {
        (Some("disposition-notification"), _, _) | (_, Some(_), None) => ReportKind::Mdn,
        (Some("delivery-status"), _, _) | (_, None, Some(_)) => ReportKind::Dsn,
        _ => return None,
    };
    Some(Report {
        kind,
        container,
        message,
        part: match kind {
            ReportKind::Mdn => mdn_part,
            ReportKind::Dsn => dsn_part,
        },
    })
}

/// The blocks of report fields in a report part's body.
pub fn field_blocks(body: &[u8]) -> Vec<Header> {
    let mut blocks = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    for line in body.split_inclusive(|b| *b == b'\n') {
        if line
            .iter()
            .all(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t'))
        {
            if !current.is_empty() {
                blocks.push(parse_header(&current));
                current.clear();
            }
        } else {
            current.extend_from_slice(line);
        }
    }
    if !current.is_empty() {
        blocks.push(parse_header(&current));
    }
    blocks
}

/// `type ";" value` (Final-Recipient, Original-Recipient, Reporting-MTA, MDN-Gateway), with
/// white space tolerated around both (MDN-22).
pub fn typed_value(value: &str) -> Result<(String, String), String> {
    let (t, v) = value
        .split_once(';')
        .ok_or_else(|| format!("{value:?}: \"type ; value\" expected"))?;
    let (t, v) = (t.trim(), v.trim());
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(format!("bad type {t:?} in {value:?}"));
    }
    if v.is_empty() {
        return Err(format!("empty value in {value:?}"));
    }
    Ok((t.to_ascii_lowercase(), v.to_string()))
}

/// A typed address; rfc822 addresses must be addr-specs.
pub fn typed_address(value: &str) -> Result<(String, String), String> {
    let (t, v) = typed_value(value)?;
    if t == "rfc822" {
        let v2 = v.trim_start_matches('<').trim_end_matches('>');
        crate::validate::grammar::address::addr_spec(v2)
            .map_err(|e| format!("{v:?} is not an addr-spec: {e}"))?;
        return Ok((t, v2.to_string()));
    }
    Ok((t, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_typed_values() {
        let b = field_blocks(b"Reporting-MTA: dns; a.test\r\n\r\nFinal-Recipient: rfc822; b@c.test\r\nAction: failed\r\n\r\n");
        assert_eq!(b.len(), 2);
        assert_eq!(b[1].value("action"), Some("failed"));
        assert_eq!(typed_address(" rfc822 ;  b@c.test ").unwrap().1, "b@c.test");
        assert!(typed_address("rfc822; nobody").is_err());
        assert!(typed_value("b@c.test").is_err());
        assert!(typed_value("dns;").is_err());
    }
}
