//! FETCH, STORE and SEARCH over the selected mailbox: message sets resolved to messages,
//! data items written as RFC 3501 §7.4.2 gives them (literals for message text), search keys
//! evaluated. Responses are written by hand: the fault switches need to write wrong ones, and
//! message text is sent as the exact stored octets.

use crate::hisp::maildir::Maildir;

use super::command::{Item, Key, Section, SeqSet};
use super::mailbox::{Flag, Selected};

/// The indices (0-based) of the messages a set names. Sequence numbers must exist (an
/// error otherwise); UIDs that do not exist are skipped (RFC 3501 §6.4.8).
pub fn resolve(sel: &Selected, set: &SeqSet, uid: bool) -> Result<Vec<usize>, String> {
    let n = sel.messages.len();
    let mut out = Vec::new();
    if uid {
        let max = sel.messages.last().map_or(0, |m| m.uid);
        for (i, m) in sel.messages.iter().enumerate() {
            if set.contains(m.uid, max) {
                out.push(i);
            }
        }
        // `n:*` always includes the last message, even when n is above it.
        if out.is_empty() && n > 0 && set.has_star() {
            out.push(n - 1);
        }
        return Ok(out);
    }
    let last = u32::try_from(n).unwrap_or(u32::MAX);
    for (a, b) in set.ranges(last) {
        if a.min(b) == 0 || a.max(b) > last {
            return Err("no such message".into());
        }
        for s in a.min(b)..=a.max(b) {
            out.push((s - 1) as usize);
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// An IMAP string: quoted when it can be, a literal otherwise.
pub fn string(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        format!("{{{}}}\r\n{s}", s.len())
    }
}

/// `26-Nov-2026 09:11:54 +0000`
fn internal_date(t: std::time::SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    let fmt = time::macros::format_description!(
        "[day padding:space]-[month repr:short]-[year] [hour]:[minute]:[second] +0000"
    );
    t.format(&fmt)
        .unwrap_or_else(|_| "01-Jan-1970 00:00:00 +0000".into())
}

/// The part of `bytes` a section names.
fn section_bytes(bytes: &[u8], section: &Section) -> Option<Vec<u8>> {
    let (head, body) = crate::smime::entity::split_header_body(bytes);
    let mut with_blank = head.to_vec();
    if !with_blank.ends_with(b"\r\n") && !with_blank.is_empty() {
        with_blank.extend_from_slice(b"\r\n");
    }
    Some(match section {
        Section::Whole => bytes.to_vec(),
        Section::Header => {
            with_blank.extend_from_slice(b"\r\n");
            with_blank
        }
        Section::Text => body.to_vec(),
        Section::Fields(names, not) => {
            let mut out = crate::smime::entity::header_fields(bytes, |name| {
                names.iter().any(|n| n.eq_ignore_ascii_case(name.trim())) != *not
            });
            out.extend_from_slice(b"\r\n");
            out
        }
        Section::Other => return None,
    })
}

/// What one FETCH of one message produced.
pub struct Fetched {
    /// The whole untagged response, ready to send.
    pub bytes: Vec<u8>,
    /// The same for the transcript, with literals as `{n}` and `[n octets]`.
    pub shown: String,
}

/// Why a message could not be fetched.
#[derive(Debug)]
pub enum FetchError {
    /// Another session expunged it meanwhile.
    Gone,
    /// An item, or a failure, to name in a NO.
    No(String),
}

impl From<String> for FetchError {
    fn from(s: String) -> Self {
        FetchError::No(s)
    }
}

impl From<&str> for FetchError {
    fn from(s: &str) -> Self {
        FetchError::No(s.to_string())
    }
}

/// Writes the FETCH response of message `i` for `items`.
pub fn fetch(
    md: &Maildir,
    sel: &mut Selected,
    i: usize,
    items: &[Item],
    uid_command: bool,
    drop_attachments: bool,
) -> Result<Fetched, FetchError> {
    let mut parts: Vec<(String, Option<Vec<u8>>)> = Vec::new();
    let mut want: Vec<Item> = items.to_vec();
    if uid_command && !want.contains(&Item::Uid) {
        want.insert(0, Item::Uid);
    }
    // Reading the text sets \Seen (RFC 3501 §6.4.5) unless PEEK, in a read-write session.
    let sets_seen = want.iter().any(|it| {
        matches!(
            it,
            Item::Body { peek: false, .. } | Item::Rfc822 | Item::Rfc822Text
        )
    });
    let mut flags_changed = false;
    if sets_seen && !sel.read_only && !sel.messages[i].has(Flag::Seen) {
        let letters = format!("{}S", sel.messages[i].letters);
        sel.set_letters(md, i, &letters);
        flags_changed = true;
    }
    if flags_changed && !want.contains(&Item::Flags) {
        want.push(Item::Flags);
    }
    let mut text: Option<Vec<u8>> = None;
    for it in &want {
        let m = &sel.messages[i];
        match it {
            Item::Uid => parts.push((format!("UID {}", m.uid), None)),
            Item::Flags => parts.push((format!("FLAGS {}", m.flag_list()), None)),
            Item::Rfc822Size => parts.push((format!("RFC822.SIZE {}", m.stored.size), None)),
            Item::InternalDate => parts.push((
                format!("INTERNALDATE \"{}\"", internal_date(m.internal)),
                None,
            )),
            Item::Envelope => {
                let bytes = message_text(md, sel, i, &mut text, drop_attachments)?;
                parts.push((
                    format!("ENVELOPE {}", super::envelope::envelope(&bytes)),
                    None,
                ));
            }
            Item::Rfc822 | Item::Rfc822Header | Item::Rfc822Text => {
                let (name, section) = match it {
                    Item::Rfc822 => ("RFC822", Section::Whole),
                    Item::Rfc822Header => ("RFC822.HEADER", Section::Header),
                    _ => ("RFC822.TEXT", Section::Text),
                };
                let bytes = message_text(md, sel, i, &mut text, drop_attachments)?;
                let data = section_bytes(&bytes, &section).unwrap_or_default();
                parts.push((name.to_string(), Some(data)));
            }
            Item::Body {
                section,
                partial,
                peek: _,
            } => {
                let bytes = message_text(md, sel, i, &mut text, drop_attachments)?;
                let data = section_bytes(&bytes, section)
                    .ok_or("only BODY[], HEADER, TEXT and HEADER.FIELDS sections are served")?;
                let (data, origin) = match partial {
                    Some((start, len)) => {
                        let s = (*start as usize).min(data.len());
                        let e = s.saturating_add(*len as usize).min(data.len());
                        (data[s..e].to_vec(), format!("<{start}>"))
                    }
                    None => (data, String::new()),
                };
                parts.push((format!("BODY[{}]{origin}", section.spec()), Some(data)));
            }
            Item::Other(name) => {
                return Err(FetchError::No(format!("{name} is not served by this door")));
            }
        }
    }
    let seq = i + 1;
    let mut bytes = format!("* {seq} FETCH (").into_bytes();
    let mut shown = format!("* {seq} FETCH (");
    for (k, (head, literal)) in parts.iter().enumerate() {
        if k > 0 {
            bytes.push(b' ');
            shown.push(' ');
        }
        bytes.extend_from_slice(head.as_bytes());
        shown.push_str(head);
        if let Some(data) = literal {
            bytes.extend_from_slice(format!(" {{{}}}\r\n", data.len()).as_bytes());
            bytes.extend_from_slice(data);
            shown.push_str(&format!(" {{{}}} [{} octets]", data.len(), data.len()));
        }
    }
    bytes.extend_from_slice(b")\r\n");
    shown.push(')');
    Ok(Fetched { bytes, shown })
}

/// The message's octets, read once per FETCH (without its attachments under the fault).
fn message_text(
    md: &Maildir,
    sel: &mut Selected,
    i: usize,
    cache: &mut Option<Vec<u8>>,
    drop_attachments: bool,
) -> Result<Vec<u8>, FetchError> {
    if let Some(b) = cache {
        return Ok(b.clone());
    }
    let bytes = sel.read(md, i).map_err(|e| {
        if e.source.kind() == std::io::ErrorKind::NotFound {
            FetchError::Gone
        } else {
            FetchError::No(e.to_string())
        }
    })?;
    let bytes = if drop_attachments {
        crate::hisp::outbound::drop_attachments(bytes)
    } else {
        bytes
    };
    *cache = Some(bytes.clone());
    Ok(bytes)
}

/// Does message `i` match `key`? `Err` names a key not served.
pub fn matches(sel: &Selected, i: usize, key: &Key) -> Result<bool, String> {
    let m = &sel.messages[i];
    let max = sel.messages.last().map_or(0, |m| m.uid);
    let last = u32::try_from(sel.messages.len()).unwrap_or(u32::MAX);
    Ok(match key {
        Key::All => true,
        Key::Flag(f, set) => m.has(*f) == *set,
        Key::Recent(r) => m.recent == *r,
        Key::New => m.recent && !m.has(Flag::Seen),
        Key::Uid(set) => set.contains(m.uid, max),
        Key::Seq(set) => set.contains(u32::try_from(i + 1).unwrap_or(u32::MAX), last),
        Key::And(keys) => {
            for k in keys {
                if !matches(sel, i, k)? {
                    return Ok(false);
                }
            }
            true
        }
        Key::Or(a, b) => matches(sel, i, a)? || matches(sel, i, b)?,
        Key::Not(k) => !matches(sel, i, k)?,
        Key::Unsupported(name) => return Err(format!("search key {name} is not served")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_keep_folded_lines() {
        let msg = b"From: a@x\r\nSubject: one\r\n two\r\nMessage-ID: <m@x>\r\n\r\nbody\r\n";
        let got = section_bytes(msg, &Section::Fields(vec!["subject".into()], false)).unwrap();
        assert_eq!(got, b"Subject: one\r\n two\r\n\r\n");
        let got = section_bytes(msg, &Section::Fields(vec!["SUBJECT".into()], true)).unwrap();
        assert_eq!(got, b"From: a@x\r\nMessage-ID: <m@x>\r\n\r\n");
        assert_eq!(section_bytes(msg, &Section::Text).unwrap(), b"body\r\n");
        assert_eq!(
            section_bytes(msg, &Section::Header).unwrap(),
            b"From: a@x\r\nSubject: one\r\n two\r\nMessage-ID: <m@x>\r\n\r\n"
        );
    }

    #[test]
    fn strings_are_quoted_or_literal() {
        assert_eq!(string("a\"b"), "\"a\\\"b\"");
        assert_eq!(string("é"), "{2}\r\né");
        assert_eq!(
            internal_date(std::time::UNIX_EPOCH),
            " 1-Jan-1970 00:00:00 +0000"
        );
    }
}
