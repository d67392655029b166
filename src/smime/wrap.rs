//! Wrapping (the whole original message, headers included, as a `message/rfc822` entity; ONC
//! (h)(1), MSG-08) and the unwrapped form (only the MIME entity of the message is signed).

use crate::smime::canonical::to_crlf;
use crate::smime::entity::{header_fields, media_type, split_header_body};

/// The message/rfc822 entity holding `message` in canonical form.
pub fn wrap(message: &[u8]) -> Vec<u8> {
    let mut out = b"Content-Type: message/rfc822\r\n\r\n".to_vec();
    out.extend_from_slice(&to_crlf(message));
    out
}

/// The original message inside a wrapped entity. The media type alone decides, so
/// `message/rfc822; charset=us-ascii` is still a wrapper (MSG-11).
pub fn unwrap(entity: &[u8]) -> Option<&[u8]> {
    if media_type(entity).is("message", "rfc822") {
        Some(split_header_body(entity).1)
    } else {
        None
    }
}

/// The MIME entity of an unwrapped message: its Content-* fields (text/plain when it has
/// none) and its body, in canonical form.
pub fn mime_entity(message: &[u8]) -> Vec<u8> {
    let message = to_crlf(message);
    let mut out = header_fields(&message, |n| n.to_ascii_lowercase().starts_with("content-"));
    if out.is_empty() {
        out.extend_from_slice(b"Content-Type: text/plain; charset=us-ascii\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(split_header_body(&message).1);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_and_unwrap_round_trip_and_parameters_are_tolerated() {
        let m = b"From: a@b\nTo: c@d\n\nhi\n";
        let w = wrap(m);
        assert_eq!(unwrap(&w), Some(&b"From: a@b\r\nTo: c@d\r\n\r\nhi\r\n"[..]));
        let with_param = b"Content-Type: message/rfc822; charset=us-ascii\r\n\r\nX: y\r\n\r\nz";
        assert!(unwrap(with_param).is_some());
        assert!(unwrap(b"Content-Type: text/plain\r\n\r\nz").is_none());
    }

    #[test]
    fn unwrapped_entity_keeps_only_mime_fields() {
        let m = b"From: a@b\r\nContent-Type: text/html\r\nSubject: s\r\n\r\n<p>x</p>";
        assert_eq!(mime_entity(m), b"Content-Type: text/html\r\n\r\n<p>x</p>");
        assert!(mime_entity(b"From: a@b\r\n\r\nx").starts_with(b"Content-Type: text/plain"));
    }
}
