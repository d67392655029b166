//! The MIME entities of S/MIME (RFC 5751 §3.2–3.4): `multipart/signed` with a detached
//! `application/pkcs7-signature`, and `application/pkcs7-mime` envelopes.
//!
//! These are assembled and split by hand on purpose: the first part of a multipart/signed must
//! reach the verifier byte for byte as it was signed, and a MIME builder (mail-builder) or a
//! parser's decoded view would re-encode or normalise it. mail-parser reads the headers.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mail_parser::{HeaderName, MessageParser, MimeHeaders};

use crate::smime::algorithms::DigestAlgorithm;
use crate::smime::error::SmimeError;

/// Base64 in lines of at most 76 characters with CRLF (RFC 2045 §6.8, MSG-06).
pub fn base64_lines(data: &[u8]) -> Vec<u8> {
    let text = STANDARD.encode(data);
    let mut out = Vec::with_capacity(text.len() + text.len() / 76 * 2 + 2);
    for chunk in text.as_bytes().chunks(76) {
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Decodes base64 that may be folded into lines, ignoring white space.
pub fn decode_base64(body: &[u8]) -> Result<Vec<u8>, SmimeError> {
    let clean: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    STANDARD
        .decode(&clean)
        .map_err(|e| SmimeError::Mime(format!("base64 body does not decode: {e}")))
}

/// A fresh MIME boundary; RFC 2046 bchars only, and unlikely to occur in content.
pub fn new_boundary(kind: &str) -> String {
    use rand::RngExt;
    let n: u128 = rand::rng().random();
    format!("----=_{kind}_{n:032x}")
}

/// Builds the multipart/signed entity (header and body) around the canonical `content` entity.
pub fn multipart_signed(content: &[u8], signature_der: &[u8], micalg: &str) -> Vec<u8> {
    multipart_signed_as(
        content,
        signature_der,
        micalg,
        "application/pkcs7-signature",
    )
}

/// [`multipart_signed`] with another signature media type (the legacy
/// `application/x-pkcs7-signature` of MSG-03), in `protocol` and in the signature part.
pub fn multipart_signed_as(
    content: &[u8],
    signature_der: &[u8],
    micalg: &str,
    signature_type: &str,
) -> Vec<u8> {
    let boundary = new_boundary("Signed");
    let mut out = Vec::with_capacity(content.len() + signature_der.len() * 2 + 512);
    out.extend_from_slice(
        format!(
            "Content-Type: multipart/signed; protocol=\"{signature_type}\"; \r\n\
             \tmicalg={micalg}; boundary=\"{boundary}\"\r\n\r\n\
             This is an S/MIME signed message.\r\n\r\n--{boundary}\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(content);
    out.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\n\
             Content-Type: {signature_type}; name=\"smime.p7s\"\r\n\
             Content-Transfer-Encoding: base64\r\n\
             Content-Disposition: attachment; filename=\"smime.p7s\"\r\n\
             Content-Description: S/MIME Cryptographic Signature\r\n\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(&base64_lines(signature_der));
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

/// The MIME header fields of an enveloped entity (no trailing blank line).
pub fn enveloped_headers(authenticated: bool) -> String {
    let smime_type = if authenticated {
        "authEnveloped-data"
    } else {
        "enveloped-data"
    };
    format!(
        "Content-Type: application/pkcs7-mime; smime-type={smime_type}; name=\"smime.p7m\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"smime.p7m\"\r\n"
    )
}

/// A media type and its parameters, lower-cased names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MediaType {
    pub type_: String,
    pub subtype: String,
    pub params: Vec<(String, String)>,
}

impl MediaType {
    pub fn is(&self, type_: &str, subtype: &str) -> bool {
        self.type_.eq_ignore_ascii_case(type_) && self.subtype.eq_ignore_ascii_case(subtype)
    }
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn essence(&self) -> String {
        format!("{}/{}", self.type_, self.subtype).to_ascii_lowercase()
    }
}

/// The Content-Type of a message or entity, read by mail-parser (RFC 822 default
/// text/plain when absent).
pub fn media_type(entity: &[u8]) -> MediaType {
    let Some(msg) = MessageParser::default().parse_headers(entity) else {
        return MediaType {
            type_: "text".into(),
            subtype: "plain".into(),
            params: vec![],
        };
    };
    match msg.root_part().content_type() {
        Some(ct) => MediaType {
            type_: ct.ctype().to_ascii_lowercase(),
            subtype: ct.subtype().unwrap_or_default().to_ascii_lowercase(),
            params: ct
                .attributes()
                .map(|a| {
                    a.iter()
                        .map(|at| (at.name.to_ascii_lowercase(), at.value.to_string()))
                        .collect()
                })
                .unwrap_or_default(),
        },
        None => MediaType {
            type_: "text".into(),
            subtype: "plain".into(),
            params: vec![],
        },
    }
}

/// Splits an entity into its raw header block (without the blank line) and body.
pub fn split_header_body(entity: &[u8]) -> (&[u8], &[u8]) {
    if let Some(p) = find(entity, b"\r\n\r\n") {
        return (&entity[..p + 2], &entity[p + 4..]);
    }
    if let Some(p) = find(entity, b"\n\n") {
        return (&entity[..p + 1], &entity[p + 2..]);
    }
    if entity.starts_with(b"\r\n") {
        return (&[], &entity[2..]);
    }
    (entity, &[])
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The raw header fields of a message whose names satisfy `keep`, each with its folding, in
/// the original order and spelling.
pub fn header_fields(message: &[u8], keep: impl Fn(&str) -> bool) -> Vec<u8> {
    let (header, _) = split_header_body(message);
    let mut out = Vec::new();
    let mut keeping = false;
    for line in header.split_inclusive(|b| *b == b'\n') {
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            if keeping {
                out.extend_from_slice(line);
            }
            continue;
        }
        let name = line.split(|b| *b == b':').next().unwrap_or_default();
        keeping = std::str::from_utf8(name).is_ok_and(|n| keep(n.trim()));
        if keeping {
            out.extend_from_slice(line);
        }
    }
    out
}

/// The two parts of a multipart/signed entity, exactly as they stand in it.
#[derive(Debug)]
pub struct SignedParts<'a> {
    pub media_type: MediaType,
    /// The first part, headers and body, byte for byte: what the signature covers.
    pub content: &'a [u8],
    /// The signature part as an entity.
    pub signature_entity: &'a [u8],
    /// Every part between the boundaries (to report a wrong part count).
    pub part_count: usize,
    pub micalg: Option<DigestAlgorithm>,
}

/// Splits a multipart/signed entity at its boundaries (RFC 2046 §5.1.1: the CRLF before a
/// delimiter belongs to the delimiter).
pub fn split_signed(entity: &[u8]) -> Result<SignedParts<'_>, SmimeError> {
    let mt = media_type(entity);
    if !mt.is("multipart", "signed") {
        return Err(SmimeError::Mime(format!(
            "expected multipart/signed, found {}",
            mt.essence()
        )));
    }
    let boundary = mt
        .param("boundary")
        .ok_or_else(|| SmimeError::Mime("multipart/signed without a boundary".into()))?
        .to_string();
    let parts = split_multipart(entity, &boundary)?;
    let (content, signature_entity) = match parts.as_slice() {
        [a, b, ..] => (*a, *b),
        _ => {
            return Err(SmimeError::Mime(format!(
                "multipart/signed has {} part(s), two expected",
                parts.len()
            )));
        }
    };
    Ok(SignedParts {
        micalg: mt.param("micalg").and_then(DigestAlgorithm::from_micalg),
        media_type: mt,
        content,
        signature_entity,
        part_count: parts.len(),
    })
}

/// The raw parts of a multipart entity (header included), in order.
pub fn split_multipart<'a>(entity: &'a [u8], boundary: &str) -> Result<Vec<&'a [u8]>, SmimeError> {
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut pos = 0;
    let mut closed = false;
    while pos <= entity.len() {
        let line_end = entity[pos..]
            .iter()
            .position(|b| *b == b'\n')
            .map(|p| pos + p + 1)
            .unwrap_or(entity.len());
        let line = &entity[pos..line_end];
        if line.starts_with(delim) {
            let rest = &line[delim.len()..];
            let is_close = rest.starts_with(b"--");
            let trailing_ok = rest
                .iter()
                .skip(if is_close { 2 } else { 0 })
                .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
            if trailing_ok {
                if let Some(s) = start {
                    // Drop the line break that belongs to the delimiter.
                    let mut end = pos;
                    if end > s && entity[end - 1] == b'\n' {
                        end -= 1;
                        if end > s && entity[end - 1] == b'\r' {
                            end -= 1;
                        }
                    }
                    parts.push(&entity[s..end.max(s)]);
                }
                if is_close {
                    closed = true;
                    break;
                }
                start = Some(line_end);
            }
        }
        if line_end == entity.len() {
            break;
        }
        pos = line_end;
    }
    if !closed {
        return Err(SmimeError::Mime(format!(
            "multipart never closes (no --{boundary}--)"
        )));
    }
    Ok(parts)
}

/// The header value of `name` in an entity, as mail-parser reads it.
pub fn header_text(entity: &[u8], name: &str) -> Option<String> {
    let msg = MessageParser::default().parse_headers(entity)?;
    msg.header_raw(HeaderName::parse(name)?)
        .map(|v| v.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_lines_are_at_most_76() {
        let b = base64_lines(&[7u8; 500]);
        for line in b.split(|c| *c == b'\n') {
            assert!(line.len() <= 77);
        }
        assert_eq!(decode_base64(&b).unwrap(), vec![7u8; 500]);
    }

    #[test]
    fn signed_split_returns_exact_first_part() {
        let content = b"Content-Type: text/plain\r\n\r\nhello\r\n\r\n";
        let entity = multipart_signed(content, b"sig", "sha-256");
        let parts = split_signed(&entity).unwrap();
        assert_eq!(parts.content, content);
        assert_eq!(parts.part_count, 2);
        assert_eq!(parts.micalg, Some(DigestAlgorithm::Sha256));
        assert!(media_type(parts.signature_entity).is("application", "pkcs7-signature"));
    }

    #[test]
    fn unclosed_multipart_is_an_error() {
        let e = b"Content-Type: multipart/signed; boundary=b\r\n\r\n--b\r\nx\r\n--b\r\ny\r\n";
        assert!(split_signed(e).is_err());
        assert!(split_signed(b"Content-Type: text/plain\r\n\r\nhi").is_err());
    }

    #[test]
    fn header_fields_keep_folding_and_order() {
        let m = b"From: a@b\r\nSubject: x\r\n y\r\nTo: c@d\r\n\r\nbody";
        let h = header_fields(m, |n| {
            n.eq_ignore_ascii_case("subject") || n.eq_ignore_ascii_case("to")
        });
        assert_eq!(h, b"Subject: x\r\n y\r\nTo: c@d\r\n");
    }
}
