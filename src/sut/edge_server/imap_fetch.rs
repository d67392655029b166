//! FETCH, SEARCH and STORE (with their UID forms) of the harness IMAP edge server, over the
//! selected folder. UIDs equal sequence numbers there: the server never expunges.

use super::imap::{Command, Session};
use super::imap_syntax::{SeqSet, Token};
use crate::hisp::conn::LineError;

/// Stands for every message's arrival time (the harness does not model it).
const INTERNALDATE: &str = "\"01-Jan-2026 00:00:00 +0000\"";

/// Which part of a message an item asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Whole,
    Header,
    Text,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
    Uid,
    Flags,
    Size,
    InternalDate,
    /// BODY[...] (peek or not) or RFC822 / RFC822.HEADER / RFC822.TEXT.
    Body {
        part: Part,
        peek: bool,
        rfc822: bool,
    },
}

fn item(atom: &str) -> Result<Vec<Item>, String> {
    let a = atom.to_ascii_uppercase();
    let body = |part, peek, rfc822| Item::Body { part, peek, rfc822 };
    Ok(vec![match a.as_str() {
        "UID" => Item::Uid,
        "FLAGS" => Item::Flags,
        "RFC822.SIZE" => Item::Size,
        "INTERNALDATE" => Item::InternalDate,
        "RFC822" => body(Part::Whole, false, true),
        "RFC822.HEADER" => body(Part::Header, true, true),
        "RFC822.TEXT" => body(Part::Text, false, true),
        "FAST" => return Ok(vec![Item::Flags, Item::InternalDate, Item::Size]),
        _ => {
            let (peek, rest) = if let Some(r) = a.strip_prefix("BODY.PEEK[") {
                (true, r)
            } else if let Some(r) = a.strip_prefix("BODY[") {
                (false, r)
            } else {
                return Err(format!(
                    "fetch item {atom} is not supported by the harness edge server"
                ));
            };
            let part = match rest {
                "]" => Part::Whole,
                "HEADER]" => Part::Header,
                "TEXT]" => Part::Text,
                _ => {
                    return Err(format!(
                        "section {atom} is not supported by the harness edge server"
                    ));
                }
            };
            body(part, peek, false)
        }
    }])
}

fn items(t: &Token) -> Result<Vec<Item>, String> {
    match t {
        Token::Atom(a) => item(a),
        Token::List(l) if !l.is_empty() => {
            let mut out = Vec::new();
            for t in l {
                match t {
                    Token::Atom(a) if !a.eq_ignore_ascii_case("FAST") => out.extend(item(a)?),
                    _ => return Err("bad fetch item list".into()),
                }
            }
            Ok(out)
        }
        _ => Err("bad fetch items".into()),
    }
}

fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(p) => data.split_at(p + 4),
        None => (data, &[]),
    }
}

fn flag_list(flags: &[String]) -> String {
    format!("({})", flags.join(" "))
}

/// The set argument, with `*` the last message (UIDs equal sequence numbers here).
fn set(c: &Command, last: usize) -> Option<SeqSet> {
    match c.args.first() {
        Some(Token::Atom(a)) => SeqSet::parse(a, last as u32),
        _ => None,
    }
}

pub(super) async fn fetch(s: &mut Session<'_>, c: &Command) -> Result<(), LineError> {
    let tag = c.tag.clone();
    let uid_mode = c.verb.starts_with("UID");
    let Some((folder, index)) = s.folder() else {
        return s.send(&format!("{tag} BAD no folder selected")).await;
    };
    let read_only = s.selected.is_some_and(|(_, r)| r);
    let messages = s.snapshot(index);
    let (Some(set), Some(it), 2) = (set(c, messages.len()), c.args.get(1), c.args.len()) else {
        return s
            .send(&format!("{tag} BAD usage: {} set items", c.verb))
            .await;
    };
    let mut wanted = match items(it) {
        Ok(w) => w,
        Err(e) => return s.send(&format!("{tag} BAD {e}")).await,
    };
    if uid_mode && !wanted.contains(&Item::Uid) {
        wanted.insert(0, Item::Uid);
    }
    let whole = wanted.iter().any(|i| {
        matches!(
            i,
            Item::Body {
                part: Part::Whole,
                ..
            }
        )
    });
    let chosen: Vec<_> = messages
        .into_iter()
        .filter(|(uid, _, _)| set.contains(*uid))
        .collect();
    if whole {
        for (uid, _, _) in &chosen {
            if s.scripted_fetch_failure(&folder, *uid) {
                return s
                    .send(&format!(
                        "{tag} NO message {uid} temporarily unavailable (scripted)"
                    ))
                    .await;
            }
        }
    }
    for (uid, data, mut flags) in chosen {
        let sets_seen = wanted
            .iter()
            .any(|i| matches!(i, Item::Body { peek: false, .. }));
        if sets_seen && !read_only && !flags.iter().any(|f| f == "\\Seen") {
            flags = s.change_flags(index, uid, |f| {
                f.insert("\\Seen".into());
            });
        }
        let mut out = format!("* {uid} FETCH (").into_bytes();
        let mut shown = format!("* {uid} FETCH (");
        for (k, i) in wanted.iter().enumerate() {
            if k > 0 {
                out.push(b' ');
                shown.push(' ');
            }
            let text = match i {
                Item::Uid => format!("UID {uid}"),
                Item::Flags => format!("FLAGS {}", flag_list(&flags)),
                Item::Size => format!("RFC822.SIZE {}", data.len()),
                Item::InternalDate => format!("INTERNALDATE {INTERNALDATE}"),
                Item::Body { part, rfc822, .. } => {
                    let (head, text) = split(&data);
                    let (name, bytes) = match (part, rfc822) {
                        (Part::Whole, true) => ("RFC822", &data[..]),
                        (Part::Whole, false) => ("BODY[]", &data[..]),
                        (Part::Header, true) => ("RFC822.HEADER", head),
                        (Part::Header, false) => ("BODY[HEADER]", head),
                        (Part::Text, true) => ("RFC822.TEXT", text),
                        (Part::Text, false) => ("BODY[TEXT]", text),
                    };
                    out.extend_from_slice(format!("{name} {{{}}}\r\n", bytes.len()).as_bytes());
                    out.extend_from_slice(bytes);
                    shown.push_str(&format!(
                        "{name} {{{}}} <{} octets>",
                        bytes.len(),
                        bytes.len()
                    ));
                    continue;
                }
            };
            out.extend_from_slice(text.as_bytes());
            shown.push_str(&text);
        }
        out.extend_from_slice(b")\r\n");
        shown.push(')');
        s.send_raw(&out, &shown).await?;
        if whole {
            s.rec.fetched.insert((folder.clone(), uid));
        }
    }
    s.report_new().await?;
    s.send(&format!("{tag} OK {} completed", c.verb)).await
}

/// Whether one message meets one search key; `None` for a key the server does not know.
fn meets(key: &[Token], uid: u32, flags: &[String], last: u32) -> Option<(bool, usize)> {
    let has = |f: &str| flags.iter().any(|g| g == f);
    let word = key.first()?;
    let w = match word {
        Token::Atom(a) => a.to_ascii_uppercase(),
        _ => return None,
    };
    Some(match w.as_str() {
        "ALL" => (true, 1),
        "SEEN" => (has("\\Seen"), 1),
        "UNSEEN" => (!has("\\Seen"), 1),
        "DELETED" => (has("\\Deleted"), 1),
        "UNDELETED" => (!has("\\Deleted"), 1),
        "RECENT" => (has("\\Recent"), 1),
        "NEW" => (has("\\Recent") && !has("\\Seen"), 1),
        "UID" => {
            let set = match key.get(1)? {
                Token::Atom(a) => SeqSet::parse(a, last)?,
                _ => return None,
            };
            (set.contains(uid), 2)
        }
        _ => (SeqSet::parse(&w, last)?.contains(uid), 1),
    })
}

pub(super) async fn search(s: &mut Session<'_>, c: &Command) -> Result<(), LineError> {
    let tag = c.tag.clone();
    let Some((_, index)) = s.folder() else {
        return s.send(&format!("{tag} BAD no folder selected")).await;
    };
    let mut keys: &[Token] = &c.args;
    if keys
        .first()
        .and_then(|t| t.atom_upper())
        .is_some_and(|a| a == "CHARSET")
    {
        keys = keys.get(2..).unwrap_or(&[]);
    }
    if keys.is_empty() {
        return s.send(&format!("{tag} BAD usage: {} keys", c.verb)).await;
    }
    let messages = s.snapshot(index);
    let last = messages.len() as u32;
    let mut hits = Vec::new();
    for (uid, _, flags) in &messages {
        let mut rest = keys;
        let mut all = true;
        while !rest.is_empty() {
            let Some((ok, used)) = meets(rest, *uid, flags, last) else {
                return s
                    .send(&format!(
                        "{tag} BAD search key not supported by the harness edge server"
                    ))
                    .await;
            };
            all &= ok;
            rest = &rest[used..];
        }
        if all {
            hits.push(uid.to_string());
        }
    }
    let line = if hits.is_empty() {
        "* SEARCH".to_string()
    } else {
        format!("* SEARCH {}", hits.join(" "))
    };
    s.send(&line).await?;
    s.send(&format!("{tag} OK {} completed", c.verb)).await
}

pub(super) async fn store(s: &mut Session<'_>, c: &Command) -> Result<(), LineError> {
    let tag = c.tag.clone();
    let uid_mode = c.verb.starts_with("UID");
    let Some((_, index)) = s.folder() else {
        return s.send(&format!("{tag} BAD no folder selected")).await;
    };
    if s.selected.is_some_and(|(_, r)| r) {
        return s
            .send(&format!(
                "{tag} NO [READ-ONLY] folder examined, not selected"
            ))
            .await;
    }
    let messages = s.snapshot(index);
    let how = c
        .args
        .get(1)
        .and_then(|t| t.atom_upper())
        .unwrap_or_default();
    let silent = how.ends_with(".SILENT");
    let op = how.trim_end_matches(".SILENT").to_string();
    let flags: Option<Vec<String>> = match c.args.get(2) {
        Some(Token::List(l)) => l
            .iter()
            .map(|t| match t {
                Token::Atom(a) => Some(a.clone()),
                _ => None,
            })
            .collect(),
        Some(Token::Atom(a)) => Some(vec![a.clone()]),
        _ => None,
    };
    let (Some(set), Some(flags), 3, true) = (
        set(c, messages.len()),
        flags,
        c.args.len(),
        matches!(op.as_str(), "FLAGS" | "+FLAGS" | "-FLAGS"),
    ) else {
        return s
            .send(&format!(
                "{tag} BAD usage: {} set (+|-)FLAGS[.SILENT] (flags)",
                c.verb
            ))
            .await;
    };
    // \Recent belongs to the server (RFC 3501 §2.3.2).
    let flags: Vec<String> = flags
        .into_iter()
        .filter(|f| !f.eq_ignore_ascii_case("\\Recent"))
        .collect();
    for (uid, _, _) in messages.iter().filter(|(u, _, _)| set.contains(*u)) {
        let after = s.change_flags(index, *uid, |f| match op.as_str() {
            "+FLAGS" => f.extend(flags.iter().cloned()),
            "-FLAGS" => f.retain(|x| !flags.contains(x)),
            _ => {
                f.retain(|x| x == "\\Recent");
                f.extend(flags.iter().cloned());
            }
        });
        if !silent {
            let u = if uid_mode {
                format!("UID {uid} ")
            } else {
                String::new()
            };
            s.send(&format!("* {uid} FETCH ({u}FLAGS {})", flag_list(&after)))
                .await?;
        }
    }
    s.send(&format!("{tag} OK {} completed", c.verb)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_items() {
        assert_eq!(
            items(&Token::Atom("BODY.PEEK[]".into())).unwrap(),
            vec![Item::Body {
                part: Part::Whole,
                peek: true,
                rfc822: false
            }]
        );
        assert_eq!(items(&Token::Atom("fast".into())).unwrap().len(), 3);
        assert!(items(&Token::Atom("ENVELOPE".into())).is_err());
        assert!(items(&Token::Atom("BODY[1.MIME]".into())).is_err());
        assert!(items(&Token::List(vec![])).is_err());
        let l = Token::List(vec![
            Token::Atom("UID".into()),
            Token::Atom("RFC822.SIZE".into()),
        ]);
        assert_eq!(items(&l).unwrap(), vec![Item::Uid, Item::Size]);
    }

    #[test]
    fn header_and_text() {
        assert_eq!(
            split(b"A: b\r\n\r\nbody"),
            (&b"A: b\r\n\r\n"[..], &b"body"[..])
        );
        assert_eq!(split(b"A: b"), (&b"A: b"[..], &b""[..]));
    }

    #[test]
    fn search_keys() {
        let seen = vec!["\\Seen".to_string()];
        let k = |s: &str| vec![Token::Atom(s.into())];
        assert_eq!(meets(&k("ALL"), 1, &[], 3), Some((true, 1)));
        assert_eq!(meets(&k("UNSEEN"), 1, &seen, 3), Some((false, 1)));
        assert_eq!(meets(&k("2:*"), 3, &[], 3), Some((true, 1)));
        let uid = vec![Token::Atom("UID".into()), Token::Atom("2".into())];
        assert_eq!(meets(&uid, 2, &[], 3), Some((true, 2)));
        assert_eq!(meets(&k("FROM"), 1, &[], 3), None);
        assert_eq!(meets(&[Token::Atom("UID".into())], 1, &[], 3), None);
    }
}
