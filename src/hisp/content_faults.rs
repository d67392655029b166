//! The receiving side's content fault switches (EDGE-12, EDGE-18): what a HISP that inspects
//! or rewrites attachments gets wrong. Off (the clean HISP), a delivered message is the
//! decrypted one, byte for byte; nothing here runs.

use std::io::{Cursor, Read};

use mail_parser::MimeHeaders as _;

use super::{Core, Fault};

/// The message to deliver, or why the faulted HISP refuses it.
pub fn apply(core: &Core, message: Vec<u8>) -> Result<Vec<u8>, String> {
    let f = core.faults();
    let (drop_second, stylesheet, strict_xdm) = (
        f.on(Fault::DropSecondAttachment),
        f.on(Fault::RefuseStylesheetReference),
        f.on(Fault::StrictXdm),
    );
    if !(drop_second || stylesheet || strict_xdm) {
        return Ok(message);
    }
    if let Some(parsed) = mail_parser::MessageParser::default().parse(&message) {
        for a in parsed.attachments() {
            let body = a.contents();
            if stylesheet && contains(body, b"<?xml-stylesheet") {
                return Err(
                    "an XML attachment refers to a stylesheet that cannot be resolved".into(),
                );
            }
            if strict_xdm && body.starts_with(b"PK\x03\x04") {
                let octets = a.content_type().is_some_and(|ct| {
                    ct.ctype().eq_ignore_ascii_case("application")
                        && ct
                            .subtype()
                            .is_some_and(|s| s.eq_ignore_ascii_case("octet-stream"))
                });
                if octets {
                    return Err("an XDM package sent as application/octet-stream".into());
                }
                if let Some(why) = xdm_objection(body) {
                    return Err(why);
                }
            }
        }
    }
    Ok(if drop_second {
        drop_attachment(message, 1)
    } else {
        message
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// What the strict XDM reader objects to in a package, if anything.
fn xdm_objection(archive: &[u8]) -> Option<String> {
    let mut z = zip::ZipArchive::new(Cursor::new(archive)).ok()?;
    let names: Vec<String> = z
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.to_string()))
        .collect();
    let mut read = |name: &str| -> Option<Vec<u8>> {
        let mut f = z.by_name(name).ok()?;
        let mut out = Vec::new();
        f.read_to_end(&mut out).ok()?;
        Some(out)
    };
    if let Some(index) = read("INDEX.HTM")
        && !balanced(&String::from_utf8_lossy(&index))
    {
        return Some("the XDM INDEX.HTM is not well-formed XHTML".into());
    }
    for n in names.iter().filter(|n| n.ends_with("/METADATA.XML")) {
        let meta = String::from_utf8_lossy(&read(n)?).to_string();
        if meta
            .split("mimeType=\"")
            .skip(1)
            .any(|rest| !rest.starts_with("text/xml\""))
        {
            return Some(format!("{n} types a document other than text/xml"));
        }
    }
    None
}

/// Whether the elements of an (X)HTML text open and close in order (a tag scanner, not a
/// parser: enough for the strict reader of this fault switch).
fn balanced(text: &str) -> bool {
    let mut open: Vec<String> = Vec::new();
    for piece in text.split('<').skip(1) {
        let Some((tag, _)) = piece.split_once('>') else {
            return false;
        };
        if tag.starts_with('!') || tag.starts_with('?') || tag.ends_with('/') {
            continue;
        }
        let name = |t: &str| {
            t.split(|c: char| c.is_whitespace())
                .next()
                .unwrap_or("")
                .to_ascii_lowercase()
        };
        if let Some(closing) = tag.strip_prefix('/') {
            if open.pop() != Some(name(closing)) {
                return false;
            }
        } else {
            open.push(name(tag));
        }
    }
    open.is_empty()
}

/// The message without its `n`-th (0-based) attachment part (a flat multipart).
fn drop_attachment(message: Vec<u8>, n: usize) -> Vec<u8> {
    let Some(ct) = crate::smime::entity::header_text(&message, "Content-Type") else {
        return message;
    };
    let Some(boundary) = ct.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("boundary")).then(|| v.trim().trim_matches('"').to_string())
    }) else {
        return message;
    };
    let text = String::from_utf8_lossy(&message).to_string();
    let delimiter = format!("\r\n--{boundary}");
    let mut out = String::new();
    let mut seen = 0;
    for (i, piece) in text.split(&delimiter).enumerate() {
        let is_part = i > 0 && !piece.starts_with("--");
        let attachment = is_part && {
            let (head, _) = crate::smime::entity::split_header_body(piece.as_bytes());
            String::from_utf8_lossy(head)
                .to_ascii_lowercase()
                .contains("content-disposition: attachment")
        };
        if attachment {
            seen += 1;
            if seen == n + 1 {
                continue;
            }
        }
        if i > 0 {
            out.push_str(&delimiter);
        }
        out.push_str(piece);
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_balance() {
        assert!(balanced(
            "<?xml version=\"1.0\"?><html><body><p>a<br/></p></body></html>"
        ));
        assert!(!balanced("<html><body><p><b>x</p></body></html>"));
        assert!(!balanced("<html><body>"));
    }

    #[test]
    fn the_second_attachment_goes() {
        let m = b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Disposition: attachment; filename=\"1\"\r\n\r\none\r\n--b\r\nContent-Disposition: attachment; filename=\"2\"\r\n\r\ntwo\r\n--b--\r\n".to_vec();
        let out = String::from_utf8(drop_attachment(m, 1)).unwrap();
        assert!(out.contains("one") && !out.contains("two"), "{out}");
        assert!(out.ends_with("--b--\r\n"));
    }
}
