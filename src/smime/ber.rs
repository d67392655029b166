//! BER to DER normalisation of CMS input.
//!
//! OpenSSL writes streamed CMS (`-stream`, and S/MIME signing by default) in BER: indefinite
//! lengths and OCTET STRINGs split into chunks. der 0.8 decodes some BER, but hands a chunked
//! OCTET STRING inside `Any` back as its raw chunks; rather than special-case each place, we
//! normalise the whole input once and then decode strictly as DER. No crate offers a
//! schema-less BER→DER pass, so this is written by hand. Context-specific constructed values
//! are kept constructed (without the schema an EXPLICIT tag and a one-chunk IMPLICIT string look
//! alike); callers that expect an IMPLICIT OCTET STRING use [`implicit_octets`].

use crate::smime::error::SmimeError;

/// Deepest nesting we follow; CMS needs about 12, hostile input may claim thousands.
const MAX_DEPTH: usize = 64;

/// Converts BER to DER: definite minimal lengths, universal constructed strings joined into
/// primitive ones. Trailing bytes after the first element are an error.
pub fn to_der(input: &[u8]) -> Result<Vec<u8>, SmimeError> {
    let mut out = Vec::with_capacity(input.len());
    let mut pos = 0;
    let node = parse(input, &mut pos, 0)?;
    if pos != input.len() && !input[pos..].iter().all(|b| *b == 0) {
        return Err(SmimeError::Asn1(format!(
            "{} trailing bytes after the outer element",
            input.len() - pos
        )));
    }
    node.write(&mut out);
    Ok(out)
}

/// The bytes of a context-specific IMPLICIT OCTET STRING (e.g. `encryptedContent [0]`), given
/// the element's tag byte and content after [`to_der`]: primitive, or constructed from chunks.
pub fn implicit_octets(constructed: bool, content: &[u8]) -> Result<Vec<u8>, SmimeError> {
    if !constructed {
        return Ok(content.to_vec());
    }
    let mut out = Vec::with_capacity(content.len());
    let mut pos = 0;
    while pos < content.len() {
        let node = parse(content, &mut pos, 1)?;
        node.collect_string(&mut out)?;
    }
    Ok(out)
}

struct Node {
    tag: Vec<u8>,
    body: Body,
}

enum Body {
    Primitive(Vec<u8>),
    Constructed(Vec<Node>),
}

impl Node {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.tag);
        match &self.body {
            Body::Primitive(v) => {
                write_len(out, v.len());
                out.extend_from_slice(v);
            }
            Body::Constructed(children) => {
                let mut inner = Vec::new();
                for c in children {
                    c.write(&mut inner);
                }
                write_len(out, inner.len());
                out.extend_from_slice(&inner);
            }
        }
    }

    /// Appends the string value of a (possibly chunked) string element.
    fn collect_string(&self, out: &mut Vec<u8>) -> Result<(), SmimeError> {
        match &self.body {
            Body::Primitive(v) => out.extend_from_slice(v),
            Body::Constructed(children) => {
                for c in children {
                    c.collect_string(out)?;
                }
            }
        }
        Ok(())
    }
}

fn write_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn byte(input: &[u8], pos: &mut usize) -> Result<u8, SmimeError> {
    let b = *input
        .get(*pos)
        .ok_or_else(|| SmimeError::Asn1(format!("truncated at byte {}", *pos)))?;
    *pos += 1;
    Ok(b)
}

fn parse(input: &[u8], pos: &mut usize, depth: usize) -> Result<Node, SmimeError> {
    if depth > MAX_DEPTH {
        return Err(SmimeError::Asn1("nesting deeper than 64 levels".into()));
    }
    let start = *pos;
    let first = byte(input, pos)?;
    let mut tag = vec![first];
    if first & 0x1f == 0x1f {
        // High tag number form: base-128 continuation bytes.
        loop {
            let b = byte(input, pos)?;
            tag.push(b);
            if b & 0x80 == 0 {
                break;
            }
            if tag.len() > 6 {
                return Err(SmimeError::Asn1(format!("tag too long at byte {start}")));
            }
        }
    }
    let constructed = first & 0x20 != 0;
    let len_byte = byte(input, pos)?;
    let length = if len_byte == 0x80 {
        None
    } else if len_byte & 0x80 == 0 {
        Some(len_byte as usize)
    } else {
        let n = (len_byte & 0x7f) as usize;
        if n > 8 {
            return Err(SmimeError::Asn1(format!(
                "length of {n} octets at byte {start}"
            )));
        }
        let mut len = 0usize;
        for _ in 0..n {
            len = len
                .checked_mul(256)
                .and_then(|l| l.checked_add(byte(input, pos).ok()? as usize))
                .ok_or_else(|| SmimeError::Asn1(format!("bad length at byte {start}")))?;
        }
        Some(len)
    };
    if !constructed {
        let len = length.ok_or_else(|| {
            SmimeError::Asn1(format!(
                "indefinite length on a primitive element at byte {start}"
            ))
        })?;
        let end = pos
            .checked_add(len)
            .filter(|e| *e <= input.len())
            .ok_or_else(|| {
                SmimeError::Asn1(format!("element at byte {start} runs past the end"))
            })?;
        let value = input[*pos..end].to_vec();
        *pos = end;
        return Ok(Node {
            tag,
            body: Body::Primitive(value),
        });
    }
    let mut children = Vec::new();
    match length {
        Some(len) => {
            let end = pos
                .checked_add(len)
                .filter(|e| *e <= input.len())
                .ok_or_else(|| {
                    SmimeError::Asn1(format!("element at byte {start} runs past the end"))
                })?;
            let slice = &input[..end];
            while *pos < end {
                children.push(parse(slice, pos, depth + 1)?);
            }
        }
        None => loop {
            if input.get(*pos..*pos + 2) == Some(&[0, 0]) {
                *pos += 2;
                break;
            }
            if *pos >= input.len() {
                return Err(SmimeError::Asn1(format!(
                    "indefinite-length element at byte {start} has no end-of-contents"
                )));
            }
            children.push(parse(input, pos, depth + 1)?);
        },
    }
    // Universal constructed strings (OCTET STRING, BIT STRING, the character strings) are
    // primitive in DER: join their chunks.
    let universal_string =
        first & 0xc0 == 0 && matches!(first & 0x1f, 3 | 4 | 12 | 19 | 20 | 22 | 26 | 28 | 30);
    if universal_string {
        let node = Node {
            tag: tag.clone(),
            body: Body::Constructed(children),
        };
        let mut value = Vec::new();
        node.collect_string(&mut value)?;
        return Ok(Node {
            tag: vec![first & !0x20],
            body: Body::Primitive(value),
        });
    }
    Ok(Node {
        tag,
        body: Body::Constructed(children),
    })
}

/// One DER element seen as tag byte, constructed flag, content and whole encoding.
#[derive(Clone, Copy, Debug)]
pub struct Element<'a> {
    pub tag: u8,
    pub constructed: bool,
    pub content: &'a [u8],
    pub encoded: &'a [u8],
}

/// Splits DER content into its top-level elements (single-byte tags only, which is all CMS
/// uses). Used where the raw received bytes matter, such as signed attributes.
pub fn elements(der: &[u8]) -> Result<Vec<Element<'_>>, SmimeError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < der.len() {
        let start = pos;
        let tag = byte(der, &mut pos)?;
        if tag & 0x1f == 0x1f {
            return Err(SmimeError::Asn1(format!(
                "unexpected high tag number at byte {start}"
            )));
        }
        let len_byte = byte(der, &mut pos)?;
        let len = if len_byte & 0x80 == 0 {
            len_byte as usize
        } else {
            let n = (len_byte & 0x7f) as usize;
            if n == 0 || n > 8 {
                return Err(SmimeError::Asn1(format!("non-DER length at byte {start}")));
            }
            let mut len = 0usize;
            for _ in 0..n {
                len = (len << 8) | byte(der, &mut pos)? as usize;
            }
            len
        };
        let end = pos
            .checked_add(len)
            .filter(|e| *e <= der.len())
            .ok_or_else(|| {
                SmimeError::Asn1(format!("element at byte {start} runs past the end"))
            })?;
        out.push(Element {
            tag,
            constructed: tag & 0x20 != 0,
            content: &der[pos..end],
            encoded: &der[start..end],
        });
        pos = end;
    }
    Ok(out)
}

/// The content of the single element in `der`.
pub fn single(der: &[u8]) -> Result<Element<'_>, SmimeError> {
    let els = elements(der)?;
    match els.as_slice() {
        [one] => Ok(*one),
        _ => Err(SmimeError::Asn1(format!(
            "expected one element, found {}",
            els.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_lengths_and_chunks_become_der() {
        // SEQUENCE (indef) { OCTET STRING constructed (indef) { "ab", "c" } }
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0, 0, 0, 0,
        ];
        assert_eq!(
            to_der(&ber).unwrap(),
            vec![0x30, 0x05, 0x04, 0x03, b'a', b'b', b'c']
        );
    }

    #[test]
    fn long_lengths_are_minimised() {
        let mut ber = vec![0x04, 0x82, 0x00, 0x03, 1, 2, 3];
        assert_eq!(to_der(&ber).unwrap(), vec![0x04, 0x03, 1, 2, 3]);
        ber.truncate(5);
        assert!(to_der(&ber).is_err());
    }

    #[test]
    fn context_constructed_is_kept_and_implicit_octets_join() {
        let ber = [0xa0, 0x80, 0x04, 0x01, b'x', 0x04, 0x01, b'y', 0, 0];
        let der = to_der(&ber).unwrap();
        assert_eq!(der, vec![0xa0, 0x06, 0x04, 0x01, b'x', 0x04, 0x01, b'y']);
        let el = single(&der).unwrap();
        assert_eq!(implicit_octets(el.constructed, el.content).unwrap(), b"xy");
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        assert!(to_der(&[]).is_err());
        assert!(to_der(&[0x30, 0x80]).is_err());
        assert!(to_der(&[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]).is_err());
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 200).flatten().collect();
        assert!(to_der(&deep).is_err());
        assert!(elements(&[0x04, 0x05, 1]).is_err());
    }
}
