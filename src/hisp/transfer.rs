//! 7-bit-safe content before signing (MSG-06, RFC 5751 §3.1.1): a leaf part declared 8bit
//! or binary, or holding 8-bit octets without a declaration, is re-encoded as base64. A
//! signature over 8-bit content would not survive a 7-bit hop, and Direct recipients refuse it.

use crate::smime::entity::{base64_lines, header_text, split_header_body};

/// The entity (a whole message or a MIME part) with every leaf part 7-bit safe; multipart
/// bodies are walked part by part. An entity that needs no change comes back as it was.
pub fn to_seven_bit(entity: &[u8]) -> Vec<u8> {
    let (head, body) = split_header_body(entity);
    let content_type = header_text(entity, "Content-Type").unwrap_or_default();
    let lower = content_type.to_ascii_lowercase();
    if lower.trim_start().starts_with("multipart/") {
        let Some(boundary) = boundary(&content_type) else {
            return entity.to_vec();
        };
        let delimiter = format!("\r\n--{boundary}");
        // A leading CRLF lets the first delimiter (at the start of the body) match too.
        let mut framed = b"\r\n".to_vec();
        framed.extend_from_slice(body);
        let text = framed;
        let pieces = split_bytes(&text, delimiter.as_bytes());
        let mut out_body = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            if i == 0 {
                out_body.extend_from_slice(piece);
                continue;
            }
            out_body.extend_from_slice(delimiter.as_bytes());
            if piece.starts_with(b"--") {
                out_body.extend_from_slice(piece);
                continue;
            }
            // The rest of the delimiter line, then the part.
            let (line_end, part) = match piece.iter().position(|b| *b == b'\n') {
                Some(p) => piece.split_at(p + 1),
                None => (&piece[..], &[][..]),
            };
            out_body.extend_from_slice(line_end);
            out_body.extend_from_slice(&to_seven_bit(part));
        }
        let out_body = out_body.strip_prefix(b"\r\n").unwrap_or(&out_body).to_vec();
        return join(head, &out_body);
    }
    if lower.trim_start().starts_with("message/") {
        return entity.to_vec();
    }
    let cte = header_text(entity, "Content-Transfer-Encoding")
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_else(|| "7bit".into());
    let eight_bit = body.iter().any(|b| *b > 127);
    let needs = match cte.as_str() {
        "8bit" | "binary" => true,
        "7bit" => eight_bit,
        _ => false,
    };
    if !needs {
        return entity.to_vec();
    }
    let mut new_head = Vec::new();
    let head_text = String::from_utf8_lossy(head).to_string();
    let mut skipping = false;
    for line in head_text.split_inclusive('\n') {
        if skipping && (line.starts_with(' ') || line.starts_with('\t')) {
            continue;
        }
        skipping = line
            .to_ascii_lowercase()
            .starts_with("content-transfer-encoding:");
        if !skipping {
            new_head.extend_from_slice(line.as_bytes());
        }
    }
    new_head.extend_from_slice(b"Content-Transfer-Encoding: base64\r\n");
    let mut encoded = base64_lines(body);
    if encoded.ends_with(b"\r\n") {
        encoded.truncate(encoded.len() - 2);
    }
    join(&new_head, &encoded)
}

fn join(head: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = head.to_vec();
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

fn split_bytes<'a>(hay: &'a [u8], needle: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        if &hay[i..i + needle.len()] == needle {
            out.push(&hay[start..i]);
            i += needle.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(&hay[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_bit_leaf_becomes_base64_and_the_rest_stays() {
        let m = "From: a@x.test\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf\u{e9}  \r\n--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b--\r\n";
        let out = to_seven_bit(m.as_bytes());
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(out.iter().all(|b| *b < 128), "{text}");
        assert!(text.contains("Content-Transfer-Encoding: base64\r\n\r\nY2Fmw6kgIA==\r\n--b\r\n"));
        assert!(text.contains("\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b--\r\n"));
        assert!(text.starts_with("From: a@x.test\r\n"));
        // Already safe: unchanged, byte for byte.
        assert_eq!(to_seven_bit(&out), out);
        let plain = b"From: a@x.test\r\nContent-Type: text/plain\r\n\r\nhello\r\n";
        assert_eq!(to_seven_bit(plain), plain.to_vec());
    }

    #[test]
    fn single_part_message_is_reencoded() {
        let m = "From: a@x.test\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ncaf\u{e9}\r\n";
        let text = String::from_utf8(to_seven_bit(m.as_bytes())).unwrap();
        assert!(
            text.contains("Content-Transfer-Encoding: base64\r\n\r\nY2Fmw6kNCg=="),
            "{text}"
        );
    }
}
