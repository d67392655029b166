//! Reading and decoding IMAP commands. A command is read line by line, with its literals
//! (`{n}`: a continuation request, then n octets), and decoded by `imap-codec` into the
//! door's own small command type: the session code then does not depend on the crate's
//! types, and a command the door does not serve is still told apart from a malformed one.

use std::time::Duration;

use imap_codec::CommandCodec;
use imap_codec::decode::{CommandDecodeError, Decoder};
use imap_codec::imap_types::command::{Command, CommandBody};

use super::mailbox::Flag;
use crate::hisp::Transcript;
use crate::hisp::conn::{LineConn, LineError};

/// Longest command line, and most literal octets in one command (no APPEND is served).
pub const MAX_LINE: usize = 8 * 1024;
pub const MAX_LITERAL: usize = 64 * 1024;

/// One end of a range in a message set (`*`: the last message or UID).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    N(u32),
    Star,
}

/// A message set: ranges of sequence numbers or UIDs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeqSet(pub Vec<(Bound, Bound)>);

impl SeqSet {
    /// The ranges with `*` replaced by `star`.
    pub fn ranges(&self, star: u32) -> Vec<(u32, u32)> {
        let v = |b: Bound| match b {
            Bound::N(n) => n,
            Bound::Star => star,
        };
        self.0.iter().map(|(a, b)| (v(*a), v(*b))).collect()
    }

    pub fn contains(&self, value: u32, star: u32) -> bool {
        self.ranges(star)
            .iter()
            .any(|(a, b)| (*a.min(b)..=*a.max(b)).contains(&value))
    }

    pub fn has_star(&self) -> bool {
        self.0
            .iter()
            .any(|(a, b)| *a == Bound::Star || *b == Bound::Star)
    }
}

/// A BODY[] section the door serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Section {
    Whole,
    Header,
    Text,
    /// HEADER.FIELDS (names), or HEADER.FIELDS.NOT when the flag is set.
    Fields(Vec<String>, bool),
    /// A part number or MIME section: not served.
    Other,
}

impl Section {
    /// The section as the response names it.
    pub fn spec(&self) -> String {
        match self {
            Section::Whole | Section::Other => String::new(),
            Section::Header => "HEADER".into(),
            Section::Text => "TEXT".into(),
            Section::Fields(names, not) => format!(
                "HEADER.FIELDS{} ({})",
                if *not { ".NOT" } else { "" },
                names.join(" ")
            ),
        }
    }
}

/// A FETCH data item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Uid,
    Flags,
    Rfc822Size,
    InternalDate,
    Envelope,
    Rfc822,
    Rfc822Header,
    Rfc822Text,
    Body {
        section: Section,
        partial: Option<(u32, u32)>,
        peek: bool,
    },
    /// BODY, BODYSTRUCTURE and extensions: not served.
    Other(String),
}

/// A SEARCH key the door evaluates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    All,
    /// The flag is set (true) or not (false).
    Flag(Flag, bool),
    Recent(bool),
    New,
    Uid(SeqSet),
    Seq(SeqSet),
    And(Vec<Key>),
    Or(Box<Key>, Box<Key>),
    Not(Box<Key>),
    Unsupported(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreMode {
    Replace,
    Add,
    Remove,
}

/// STORE and UID STORE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Store {
    pub set: SeqSet,
    pub mode: StoreMode,
    /// `.SILENT`: no FETCH response with the new flags.
    pub silent: bool,
    pub flags: Vec<Flag>,
    pub uid: bool,
}

/// A command as the session handles it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cmd {
    Capability,
    Noop,
    Logout,
    StartTls,
    Authenticate {
        mechanism: String,
        initial: Option<Vec<u8>>,
    },
    Login {
        user: String,
        password: String,
    },
    /// SELECT (read-write) or EXAMINE (read-only); `inbox` when the name is INBOX in any case.
    Select {
        inbox: bool,
        read_only: bool,
    },
    List {
        reference: String,
        pattern: String,
        lsub: bool,
    },
    Check,
    Close,
    Expunge,
    Fetch {
        set: SeqSet,
        items: Vec<Item>,
        uid: bool,
    },
    Store(Store),
    Search {
        key: Key,
        uid: bool,
    },
    /// Parsed, but not served here (CREATE, APPEND, COPY, IDLE …): its name.
    Unserved(String),
}

impl Cmd {
    /// Which states allow it (RFC 3501 §6): any, not authenticated, authenticated (and
    /// selected), selected.
    pub fn states(&self) -> Allowed {
        match self {
            Cmd::Capability | Cmd::Noop | Cmd::Logout => Allowed::Any,
            Cmd::StartTls | Cmd::Authenticate { .. } | Cmd::Login { .. } => {
                Allowed::NotAuthenticated
            }
            Cmd::Select { .. } | Cmd::List { .. } | Cmd::Unserved(_) => Allowed::Authenticated,
            Cmd::Check
            | Cmd::Close
            | Cmd::Expunge
            | Cmd::Fetch { .. }
            | Cmd::Store(_)
            | Cmd::Search { .. } => Allowed::Selected,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allowed {
    Any,
    NotAuthenticated,
    Authenticated,
    Selected,
}

/// A decoded command with its tag and its transcript line (secrets masked).
#[derive(Clone, Debug)]
pub struct Parsed {
    pub tag: String,
    pub cmd: Cmd,
    pub shown: String,
    /// The first line as sent (for the case-sensitive INBOX fault).
    pub raw: String,
}

/// What came in.
#[derive(Clone, Debug)]
pub enum Input {
    Command(Parsed),
    /// Not a command: the tag when one could be read, and the line for the transcript.
    Malformed {
        tag: Option<String>,
    },
    /// A line or literal past the limits.
    TooLong,
}

/// The tag of a line, when it starts with one (RFC 3501 `tag`: ASTRING-CHAR but `+`).
pub fn tag_of(line: &str) -> Option<String> {
    let t = line.split([' ', '\r', '\n']).next()?;
    let ok = !t.is_empty()
        && t.bytes().all(|b| {
            (0x21..0x7f).contains(&b)
                && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b'+')
        });
    ok.then(|| t.to_string())
}

/// The line for the transcript: LOGIN and AUTHENTICATE arguments hidden.
fn mask(line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.get(1).map(|w| w.to_ascii_uppercase()) {
        Some(c) if c == "LOGIN" => format!(
            "{} LOGIN {} ********",
            words[0],
            words.get(2).copied().unwrap_or("")
        ),
        Some(c) if c == "AUTHENTICATE" && words.len() > 3 => {
            format!("{} AUTHENTICATE {} [hidden]", words[0], words[2])
        }
        _ => line.to_string(),
    }
}

enum Decoded {
    Done(Box<Parsed>),
    Literal { length: usize, sync: bool },
    Failed,
}

fn decode(buf: &[u8], first: &str) -> Decoded {
    match CommandCodec::default().decode(buf) {
        Ok((_, command)) => Decoded::Done(Box::new(convert(command, first))),
        Err(CommandDecodeError::LiteralFound { length, mode, .. }) => Decoded::Literal {
            length: length as usize,
            sync: mode == imap_codec::imap_types::core::LiteralMode::Sync,
        },
        Err(_) => Decoded::Failed,
    }
}

/// Reads one command (with its literals). Transport errors and timeouts end the session.
pub async fn read(
    conn: &mut LineConn,
    t: &mut Transcript,
    timeout: Duration,
) -> Result<Input, LineError> {
    let first = match conn.read_line(MAX_LINE, timeout).await {
        Ok(l) => l,
        Err(LineError::TooLong(_)) => return Ok(Input::TooLong),
        Err(e) => return Err(e),
    };
    let text = String::from_utf8_lossy(&first).trim_end().to_string();
    let mut buf = first;
    let mut literal_octets = 0usize;
    loop {
        match decode(&buf, &text) {
            Decoded::Done(p) => {
                t.peer_said(&p.shown);
                return Ok(Input::Command(*p));
            }
            Decoded::Failed => {
                t.peer_said(&mask(&text));
                return Ok(Input::Malformed { tag: tag_of(&text) });
            }
            Decoded::Literal { length, sync } => {
                literal_octets += length;
                if literal_octets > MAX_LITERAL {
                    t.peer_said(&mask(&text));
                    return Ok(Input::TooLong);
                }
                if sync {
                    t.we_said("+ Ready for literal data");
                    conn.write_all(b"+ Ready for literal data\r\n", timeout)
                        .await?;
                }
                let data = conn.read_exact(length, timeout).await?;
                buf.extend_from_slice(&data);
                match conn.read_line(MAX_LINE, timeout).await {
                    Ok(rest) => buf.extend_from_slice(&rest),
                    Err(LineError::TooLong(_)) => return Ok(Input::TooLong),
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn seq_set(set: imap_codec::imap_types::sequence::SequenceSet) -> SeqSet {
    use imap_codec::imap_types::sequence::{SeqOrUid, Sequence};
    let bound = |b: SeqOrUid| match b {
        SeqOrUid::Value(n) => Bound::N(n.get()),
        SeqOrUid::Asterisk => Bound::Star,
    };
    SeqSet(
        set.0
            .into_iter()
            .map(|s| match s {
                Sequence::Single(v) => (bound(v), bound(v)),
                Sequence::Range(a, b) => (bound(a), bound(b)),
            })
            .collect(),
    )
}

fn flag(f: &imap_codec::imap_types::flag::Flag<'_>) -> Option<Flag> {
    use imap_codec::imap_types::flag::Flag as F;
    Some(match f {
        F::Seen => Flag::Seen,
        F::Deleted => Flag::Deleted,
        F::Answered => Flag::Answered,
        F::Flagged => Flag::Flagged,
        F::Draft => Flag::Draft,
        // Keywords and extensions are not kept (PERMANENTFLAGS lists the system flags only).
        _ => return None,
    })
}

fn item(i: imap_codec::imap_types::fetch::MessageDataItemName<'_>) -> Item {
    use imap_codec::imap_types::fetch::{MessageDataItemName as N, Section as S};
    match i {
        N::Uid => Item::Uid,
        N::Flags => Item::Flags,
        N::Rfc822Size => Item::Rfc822Size,
        N::InternalDate => Item::InternalDate,
        N::Envelope => Item::Envelope,
        N::Rfc822 => Item::Rfc822,
        N::Rfc822Header => Item::Rfc822Header,
        N::Rfc822Text => Item::Rfc822Text,
        N::Body => Item::Other("BODY".into()),
        N::BodyStructure => Item::Other("BODYSTRUCTURE".into()),
        N::BodyExt {
            section,
            partial,
            peek,
        } => {
            let names = |v: imap_codec::imap_types::core::NonEmptyVec<
                imap_codec::imap_types::core::AString<'_>,
            >| {
                v.into_iter()
                    .map(|n| text(n.as_ref()).to_ascii_uppercase())
                    .collect::<Vec<_>>()
            };
            let section = match section {
                None => Section::Whole,
                Some(S::Header(None)) => Section::Header,
                Some(S::Text(None)) => Section::Text,
                Some(S::HeaderFields(None, v)) => Section::Fields(names(v), false),
                Some(S::HeaderFieldsNot(None, v)) => Section::Fields(names(v), true),
                Some(_) => Section::Other,
            };
            Item::Body {
                section,
                partial: partial.map(|(a, b)| (a, b.get())),
                peek,
            }
        }
    }
}

fn key(k: imap_codec::imap_types::search::SearchKey<'_>) -> Key {
    use imap_codec::imap_types::search::SearchKey as K;
    match k {
        K::All => Key::All,
        K::Seen => Key::Flag(Flag::Seen, true),
        K::Unseen => Key::Flag(Flag::Seen, false),
        K::Deleted => Key::Flag(Flag::Deleted, true),
        K::Undeleted => Key::Flag(Flag::Deleted, false),
        K::Answered => Key::Flag(Flag::Answered, true),
        K::Unanswered => Key::Flag(Flag::Answered, false),
        K::Flagged => Key::Flag(Flag::Flagged, true),
        K::Unflagged => Key::Flag(Flag::Flagged, false),
        K::Draft => Key::Flag(Flag::Draft, true),
        K::Undraft => Key::Flag(Flag::Draft, false),
        K::Recent => Key::Recent(true),
        K::Old => Key::Recent(false),
        K::New => Key::New,
        K::Uid(s) => Key::Uid(seq_set(s)),
        K::SequenceSet(s) => Key::Seq(seq_set(s)),
        K::And(v) => Key::And(v.into_iter().map(key).collect()),
        K::Or(a, b) => Key::Or(Box::new(key(*a)), Box::new(key(*b))),
        K::Not(a) => Key::Not(Box::new(key(*a))),
        other => Key::Unsupported(format!("{other:?}")),
    }
}

fn list(
    reference: imap_codec::imap_types::mailbox::Mailbox<'_>,
    pattern: imap_codec::imap_types::mailbox::ListMailbox<'_>,
    lsub: bool,
) -> Cmd {
    use imap_codec::imap_types::mailbox::{ListMailbox, Mailbox};
    let reference = match reference {
        Mailbox::Inbox => "INBOX".to_string(),
        Mailbox::Other(o) => text(o.as_ref()),
    };
    let pattern = match pattern {
        ListMailbox::Token(t) => text(t.as_ref()),
        ListMailbox::String(s) => text(s.as_ref()),
    };
    Cmd::List {
        reference,
        pattern,
        lsub,
    }
}

/// The door's command for a decoded one.
fn convert(command: Command<'_>, first: &str) -> Parsed {
    let tag = command.tag.inner().to_string();
    let mut shown = mask(first);
    let name = |b: &CommandBody<'_>| b.name().to_string();
    let cmd = match command.body {
        CommandBody::Capability => Cmd::Capability,
        CommandBody::Noop => Cmd::Noop,
        CommandBody::Logout => Cmd::Logout,
        CommandBody::StartTLS => Cmd::StartTls,
        CommandBody::Authenticate {
            mechanism,
            initial_response,
        } => {
            let initial = initial_response.map(|r| r.declassify().to_vec());
            if initial.is_some() {
                shown = format!("{tag} AUTHENTICATE {mechanism} [hidden]");
            }
            Cmd::Authenticate {
                mechanism: mechanism.to_string(),
                initial,
            }
        }
        CommandBody::Login { username, password } => {
            let user = text(username.as_ref());
            shown = format!("{tag} LOGIN {user} ********");
            Cmd::Login {
                user,
                password: text(password.declassify().as_ref()),
            }
        }
        CommandBody::Select { mailbox } => Cmd::Select {
            inbox: matches!(mailbox, imap_codec::imap_types::mailbox::Mailbox::Inbox),
            read_only: false,
        },
        CommandBody::Examine { mailbox } => Cmd::Select {
            inbox: matches!(mailbox, imap_codec::imap_types::mailbox::Mailbox::Inbox),
            read_only: true,
        },
        CommandBody::List {
            reference,
            mailbox_wildcard,
        } => list(reference, mailbox_wildcard, false),
        CommandBody::Lsub {
            reference,
            mailbox_wildcard,
        } => list(reference, mailbox_wildcard, true),
        CommandBody::Check => Cmd::Check,
        CommandBody::Close => Cmd::Close,
        CommandBody::Expunge => Cmd::Expunge,
        CommandBody::Fetch {
            sequence_set,
            macro_or_item_names,
            uid,
        } => {
            use imap_codec::imap_types::fetch::MacroOrMessageDataItemNames as M;
            let items = match macro_or_item_names {
                M::Macro(m) => m.expand().into_iter().map(item).collect(),
                M::MessageDataItemNames(v) => v.into_iter().map(item).collect(),
            };
            Cmd::Fetch {
                set: seq_set(sequence_set),
                items,
                uid,
            }
        }
        CommandBody::Store {
            sequence_set,
            kind,
            response,
            flags,
            uid,
        } => {
            use imap_codec::imap_types::flag::{StoreResponse, StoreType};
            Cmd::Store(Store {
                set: seq_set(sequence_set),
                mode: match kind {
                    StoreType::Replace => StoreMode::Replace,
                    StoreType::Add => StoreMode::Add,
                    StoreType::Remove => StoreMode::Remove,
                },
                silent: response == StoreResponse::Silent,
                flags: flags.iter().filter_map(flag).collect(),
                uid,
            })
        }
        CommandBody::Search {
            charset,
            criteria,
            uid,
        } => {
            let ascii = charset.as_ref().is_none_or(|c| {
                let c: &str = c.as_ref();
                c.eq_ignore_ascii_case("US-ASCII") || c.eq_ignore_ascii_case("UTF-8")
            });
            Cmd::Search {
                key: if ascii {
                    key(criteria)
                } else {
                    Key::Unsupported("CHARSET".into())
                },
                uid,
            }
        }
        other => Cmd::Unserved(name(&other)),
    };
    Parsed {
        tag,
        cmd,
        shown,
        raw: first.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Option<Parsed> {
        match decode(line.as_bytes(), line.trim_end()) {
            Decoded::Done(p) => Some(*p),
            _ => None,
        }
    }

    #[test]
    fn commands_decode_into_the_door_types() {
        let p = parse("a1 LOGIN user@x \"pw\"\r\n").unwrap();
        assert_eq!(
            p.cmd,
            Cmd::Login {
                user: "user@x".into(),
                password: "pw".into()
            }
        );
        assert_eq!(p.shown, "a1 LOGIN user@x ********");
        let p = parse("a2 select inbox\r\n").unwrap();
        assert_eq!(
            p.cmd,
            Cmd::Select {
                inbox: true,
                read_only: false
            }
        );
        let p = parse("a3 UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (Message-ID)])\r\n")
            .unwrap();
        let Cmd::Fetch { set, items, uid } = p.cmd else {
            panic!("{:?}", p.cmd)
        };
        assert!(uid);
        assert_eq!(set, SeqSet(vec![(Bound::N(1), Bound::Star)]));
        assert_eq!(
            items[2],
            Item::Body {
                section: Section::Fields(vec!["MESSAGE-ID".into()], false),
                partial: None,
                peek: true
            }
        );
        let p = parse("a4 UID STORE 3 +FLAGS.SILENT (\\Deleted)\r\n").unwrap();
        assert!(matches!(
            p.cmd,
            Cmd::Store(Store {
                mode: StoreMode::Add,
                silent: true,
                uid: true,
                ..
            })
        ));
        let p = parse("a5 SEARCH UNSEEN\r\n").unwrap();
        assert_eq!(
            p.cmd,
            Cmd::Search {
                key: Key::Flag(Flag::Seen, false),
                uid: false
            }
        );
        let p = parse("a6 STARTTLS\r\n").unwrap();
        assert_eq!(p.cmd, Cmd::StartTls);
        let p = parse("a7 AUTHENTICATE PLAIN AHVAeABwdw==\r\n").unwrap();
        assert_eq!(
            p.cmd,
            Cmd::Authenticate {
                mechanism: "PLAIN".into(),
                initial: Some(b"\0u@x\0pw".to_vec())
            }
        );
        assert_eq!(p.shown, "a7 AUTHENTICATE PLAIN [hidden]");
        assert!(matches!(
            parse("a8 CREATE x\r\n").unwrap().cmd,
            Cmd::Unserved(_)
        ));
    }

    #[test]
    fn malformed_lines_and_literals() {
        for bad in [
            "A1 CAPABILITYBAD\r\n",
            "A2 NOOP extra\r\n",
            "A3 FETCH\r\n",
            "A4\r\n",
            "A5 FETCH 1 (FLAGS\r\n",
        ] {
            assert!(
                matches!(decode(bad.as_bytes(), bad), Decoded::Failed),
                "{bad}"
            );
        }
        assert!(matches!(
            decode(b"A6 LOGIN {3}\r\n", ""),
            Decoded::Literal {
                length: 3,
                sync: true
            }
        ));
        assert_eq!(tag_of("A1 x"), Some("A1".into()));
        assert_eq!(tag_of("* x"), None);
        assert_eq!(tag_of("a+b x"), None);
    }
}
