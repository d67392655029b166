//! The selected mailbox: a snapshot of one user's Maildir with UIDs from the persisted UID
//! map and flags from the Maildir file names (`:2,S` seen, `T` deleted, `F` flagged, `R`
//! answered, `D` draft). UIDs stay the same across sessions and UIDVALIDITY never changes
//! while the map file lives (RFC 3501 §2.3.1.1): the map `imap-uids` sits in the user's
//! Maildir folder and is replaced atomically (written beside it, then renamed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use crate::hisp::maildir::{self, Maildir, MaildirError, StoredMessage};

#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    #[error(transparent)]
    Maildir(#[from] MaildirError),
    #[error("UID map {path}: {source}")]
    Uids {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A system flag the door keeps (keywords are not kept: PERMANENTFLAGS says so).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flag {
    Seen,
    Deleted,
    Answered,
    Flagged,
    Draft,
}

impl Flag {
    pub const ALL: [Flag; 5] = [
        Flag::Answered,
        Flag::Flagged,
        Flag::Deleted,
        Flag::Seen,
        Flag::Draft,
    ];

    pub fn letter(self) -> char {
        match self {
            Flag::Seen => 'S',
            Flag::Deleted => 'T',
            Flag::Answered => 'R',
            Flag::Flagged => 'F',
            Flag::Draft => 'D',
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Flag::Seen => "\\Seen",
            Flag::Deleted => "\\Deleted",
            Flag::Answered => "\\Answered",
            Flag::Flagged => "\\Flagged",
            Flag::Draft => "\\Draft",
        }
    }
}

/// One message of the snapshot.
#[derive(Clone, Debug)]
pub struct Message {
    pub uid: u32,
    pub stored: StoredMessage,
    /// Maildir flag letters.
    pub letters: String,
    pub recent: bool,
    pub internal: SystemTime,
}

impl Message {
    pub fn has(&self, f: Flag) -> bool {
        self.letters.contains(f.letter())
    }

    /// `(\Seen \Deleted)`, with `\Recent` when it is.
    pub fn flag_list(&self) -> String {
        let mut names: Vec<&str> = Flag::ALL
            .iter()
            .filter(|f| self.has(**f))
            .map(|f| f.name())
            .collect();
        if self.recent {
            names.push("\\Recent");
        }
        format!("({})", names.join(" "))
    }
}

/// The mailbox as a session sees it.
#[derive(Debug)]
pub struct Selected {
    pub user: String,
    pub read_only: bool,
    pub validity: u32,
    pub uidnext: u32,
    pub messages: Vec<Message>,
}

/// The persisted UID map of one mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
struct UidMap {
    validity: u32,
    next: u32,
    by_id: BTreeMap<String, u32>,
}

impl UidMap {
    fn fresh() -> Self {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(1);
        UidMap {
            validity: u32::try_from(now).unwrap_or(u32::MAX).max(1),
            next: 1,
            by_id: BTreeMap::new(),
        }
    }

    /// `V <uidvalidity> <uidnext>` then `<uid> <id>` lines; `None` when unreadable.
    fn parse(text: &str) -> Option<UidMap> {
        let mut lines = text.lines();
        let mut head = lines.next()?.split_whitespace();
        if head.next()? != "V" {
            return None;
        }
        let validity: u32 = head.next()?.parse().ok()?;
        let next: u32 = head.next()?.parse().ok()?;
        let mut by_id = BTreeMap::new();
        for l in lines {
            let (uid, id) = l.split_once(' ')?;
            let uid: u32 = uid.parse().ok()?;
            if uid == 0 || uid >= next {
                return None;
            }
            by_id.insert(id.to_string(), uid);
        }
        (validity > 0).then_some(UidMap {
            validity,
            next,
            by_id,
        })
    }

    fn text(&self) -> String {
        let mut out = format!("V {} {}\n", self.validity, self.next);
        let mut rows: Vec<(&u32, &String)> = self.by_id.iter().map(|(i, u)| (u, i)).collect();
        rows.sort();
        for (uid, id) in rows {
            out.push_str(&format!("{uid} {id}\n"));
        }
        out
    }
}

/// One writer of UID maps at a time in this process (sessions select concurrently).
static UIDS: Mutex<()> = Mutex::new(());

fn uid_file(md: &Maildir, user: &str) -> PathBuf {
    md.folder(user).join("imap-uids")
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> MailboxError + '_ {
    move |source| MailboxError::Uids {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `map` beside its file and renames it into place.
fn save(path: &Path, map: &UidMap) -> Result<(), MailboxError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&tmp, map.text()).map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

/// The messages of `user` with their UIDs (oldest first), assigning UIDs to new messages and
/// forgetting those of vanished ones; the map is saved when it changed.
fn numbered(md: &Maildir, user: &str) -> Result<(UidMap, Vec<(u32, StoredMessage)>), MailboxError> {
    let _guard = UIDS.lock().unwrap_or_else(|e| e.into_inner());
    let listed = md.list(user)?;
    let path = uid_file(md, user);
    let old = match std::fs::read_to_string(&path) {
        Ok(t) => UidMap::parse(&t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(&path)(e)),
    };
    // An unreadable map cannot vouch for the old UIDs: a new UIDVALIDITY says so.
    let mut map = old.clone().unwrap_or_else(UidMap::fresh);
    map.by_id.retain(|id, _| listed.iter().any(|m| &m.id == id));
    let mut out = Vec::with_capacity(listed.len());
    for m in listed {
        let uid = match map.by_id.get(&m.id) {
            Some(u) => *u,
            None => {
                let u = map.next;
                map.next = map.next.saturating_add(1);
                map.by_id.insert(m.id.clone(), u);
                u
            }
        };
        out.push((uid, m));
    }
    out.sort_by_key(|(u, _)| *u);
    // Saved even for an empty mailbox: the UIDVALIDITY must not change between sessions.
    if old.as_ref() != Some(&map) {
        save(&path, &map)?;
    }
    Ok((map, out))
}

/// Opens `user`'s INBOX. `renumber` is the `imap-unstable-uids` fault: UIDs are the
/// sequence numbers of this session.
pub fn open(
    md: &Maildir,
    user: &str,
    read_only: bool,
    renumber: bool,
) -> Result<Selected, MailboxError> {
    let (map, listed) = numbered(md, user)?;
    let mut messages = Vec::with_capacity(listed.len());
    for (i, (uid, stored)) in listed.into_iter().enumerate() {
        let recent = maildir::is_new(&stored);
        let internal = std::fs::metadata(&stored.path)
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        // A read-write SELECT takes the new messages over: they are recent only here.
        let stored = if recent && !read_only {
            md.set_flags(&stored, "").unwrap_or(stored)
        } else {
            stored
        };
        let letters = maildir::flag_letters(&stored);
        let uid = if renumber {
            u32::try_from(i + 1).unwrap_or(u32::MAX)
        } else {
            uid
        };
        messages.push(Message {
            uid,
            stored,
            letters,
            recent,
            internal,
        });
    }
    let uidnext = if renumber {
        u32::try_from(messages.len() + 1).unwrap_or(u32::MAX)
    } else {
        map.next
    };
    Ok(Selected {
        user: user.to_string(),
        read_only,
        validity: map.validity,
        uidnext,
        messages,
    })
}

impl Selected {
    pub fn exists(&self) -> usize {
        self.messages.len()
    }

    pub fn recent(&self) -> usize {
        self.messages.iter().filter(|m| m.recent).count()
    }

    /// The first message without \Seen (1-based), for the UNSEEN response code.
    pub fn first_unseen(&self) -> Option<usize> {
        self.messages
            .iter()
            .position(|m| !m.has(Flag::Seen))
            .map(|i| i + 1)
    }

    /// Finds message `i` again when another session renamed its file (flags, new → cur).
    fn relocate(&mut self, md: &Maildir, i: usize) -> bool {
        let Some(m) = self.messages.get_mut(i) else {
            return false;
        };
        if m.stored.path.exists() {
            return true;
        }
        match md.list(&self.user) {
            Ok(l) => match l.into_iter().find(|s| s.id == m.stored.id) {
                Some(s) => {
                    m.letters = maildir::flag_letters(&s);
                    m.stored = s;
                    true
                }
                None => false,
            },
            Err(_) => false,
        }
    }

    /// The bytes of message `i`.
    pub fn read(&mut self, md: &Maildir, i: usize) -> Result<Vec<u8>, MaildirError> {
        self.relocate(md, i);
        let m = self.messages.get(i).ok_or_else(|| MaildirError {
            path: PathBuf::from(format!("message {}", i + 1)),
            source: std::io::ErrorKind::NotFound.into(),
        })?;
        md.read(&m.stored)
    }

    /// Sets the flags of message `i` (keeps them in the file name); a message another
    /// session removed meanwhile keeps its flags in this session only.
    pub fn set_letters(&mut self, md: &Maildir, i: usize, letters: &str) {
        self.relocate(md, i);
        let Some(m) = self.messages.get_mut(i) else {
            return;
        };
        match md.set_flags(&m.stored, letters) {
            Ok(s) => {
                m.letters = maildir::flag_letters(&s);
                m.stored = s;
            }
            Err(_) => m.letters = letters.to_string(),
        }
    }

    /// Removes the messages flagged \Deleted; the 1-based numbers to report as EXPUNGE, each
    /// as it is at the time it is reported.
    pub fn expunge(&mut self, md: &Maildir) -> Vec<usize> {
        let mut gone = Vec::new();
        let mut i = 0;
        while i < self.messages.len() {
            if self.messages[i].has(Flag::Deleted) {
                self.relocate(md, i);
                let m = self.messages.remove(i);
                // Already gone (another session expunged it) is as good as deleted.
                let _ = md.delete(&m.stored);
                gone.push(i + 1);
            } else {
                i += 1;
            }
        }
        gone
    }

    /// Picks up what other sessions and deliveries changed: the numbers expunged elsewhere
    /// (as EXPUNGE reports them) and whether the count grew.
    pub fn refresh(
        &mut self,
        md: &Maildir,
        renumber: bool,
    ) -> Result<(Vec<usize>, bool), MailboxError> {
        let now = open(md, &self.user, self.read_only, renumber)?;
        let mut gone = Vec::new();
        let mut i = 0;
        while i < self.messages.len() {
            let uid = self.messages[i].uid;
            if now.messages.iter().any(|m| m.uid == uid) {
                i += 1;
            } else {
                self.messages.remove(i);
                gone.push(i + 1);
            }
        }
        let before = self.messages.len();
        let last = self.messages.last().map_or(0, |m| m.uid);
        for m in now.messages {
            if let Some(mine) = self.messages.iter_mut().find(|x| x.uid == m.uid) {
                mine.letters = m.letters;
                mine.stored = m.stored;
            } else if m.uid > last {
                self.messages.push(m);
            }
        }
        self.uidnext = now.uidnext;
        Ok((gone, self.messages.len() != before))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_survive_sessions_and_expunges() {
        let dir = tempfile::tempdir().unwrap();
        let md = Maildir::new(dir.path());
        md.deliver("u@x", b"one\r\n").unwrap();
        md.deliver("u@x", b"two\r\n").unwrap();
        let mut s = open(&md, "u@x", false, false).unwrap();
        assert_eq!(s.messages.iter().map(|m| m.uid).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(s.recent(), 2);
        let validity = s.validity;
        s.set_letters(&md, 0, "T");
        assert_eq!(s.expunge(&md), vec![1]);
        md.deliver("u@x", b"three\r\n").unwrap();
        let s = open(&md, "u@x", false, false).unwrap();
        assert_eq!(s.validity, validity);
        assert_eq!(s.messages.iter().map(|m| m.uid).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(s.recent(), 1, "only the new one is recent");
        assert_eq!(s.uidnext, 4);
        let again = open(&md, "u@x", true, false).unwrap();
        assert_eq!(
            again.messages.iter().map(|m| m.uid).collect::<Vec<_>>(),
            [2, 3]
        );
        let unstable = open(&md, "u@x", true, true).unwrap();
        assert_eq!(
            unstable.messages.iter().map(|m| m.uid).collect::<Vec<_>>(),
            [1, 2]
        );
    }

    #[test]
    fn map_round_trips_and_refuses_garbage() {
        let mut m = UidMap::fresh();
        m.by_id.insert("a".into(), 1);
        m.next = 2;
        assert_eq!(UidMap::parse(&m.text()), Some(m));
        assert_eq!(UidMap::parse("V x 1\n"), None);
        assert_eq!(UidMap::parse("V 5 2\n3 a\n"), None);
    }
}
