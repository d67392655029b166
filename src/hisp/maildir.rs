//! Maildir delivery and listing: `ROOT/<address>/{tmp,new,cur}`, one file per message,
//! written to `tmp` and renamed into `new` so that a reader never sees half a message.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, thiserror::Error)]
#[error("maildir {path}: {source}")]
pub struct MaildirError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// One stored message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMessage {
    /// The file name: a stable, unique id (POP3 UIDL).
    pub id: String,
    pub path: PathBuf,
    pub size: u64,
}

#[derive(Debug)]
pub struct Maildir {
    root: PathBuf,
    counter: AtomicU64,
}

impl Maildir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Maildir {
            root: root.into(),
            counter: AtomicU64::new(0),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of one address (lower-cased: addresses compare case-insensitively).
    pub fn folder(&self, address: &str) -> PathBuf {
        let safe: String = address
            .trim()
            .to_ascii_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "@.-_+".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.root.join(safe)
    }

    /// Delivers `message` to `address`'s `new` folder; returns where it went.
    pub fn deliver(&self, address: &str, message: &[u8]) -> Result<StoredMessage, MaildirError> {
        let folder = self.folder(address);
        let err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| MaildirError { path, source }
        };
        for sub in ["tmp", "new", "cur"] {
            let p = folder.join(sub);
            std::fs::create_dir_all(&p).map_err(err(&p))?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let id = format!(
            "{}.M{}P{}Q{}.direct-conformance",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id(),
            n
        );
        let tmp = folder.join("tmp").join(&id);
        std::fs::write(&tmp, message).map_err(err(&tmp))?;
        let new = folder.join("new").join(&id);
        std::fs::rename(&tmp, &new).map_err(err(&new))?;
        Ok(StoredMessage {
            id,
            path: new,
            size: message.len() as u64,
        })
    }

    /// The messages of `address` (new and cur), oldest first.
    pub fn list(&self, address: &str) -> Result<Vec<StoredMessage>, MaildirError> {
        let folder = self.folder(address);
        let mut out = Vec::new();
        for sub in ["cur", "new"] {
            let dir = folder.join(sub);
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => return Err(MaildirError { path: dir, source }),
            };
            for e in entries.flatten() {
                let path = e.path();
                let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                let id = e.file_name().to_string_lossy().to_string();
                // A `cur` name carries flags after `:2,`; the id is what precedes them.
                let id = id.split(":2,").next().unwrap_or(&id).to_string();
                out.push(StoredMessage { id, path, size });
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    pub fn read(&self, m: &StoredMessage) -> Result<Vec<u8>, MaildirError> {
        std::fs::read(&m.path).map_err(|source| MaildirError {
            path: m.path.clone(),
            source,
        })
    }

    pub fn delete(&self, m: &StoredMessage) -> Result<(), MaildirError> {
        std::fs::remove_file(&m.path).map_err(|source| MaildirError {
            path: m.path.clone(),
            source,
        })
    }

    /// Moves `m` to `cur` with the Maildir flag letters `letters` (`S` seen, `T` trashed,
    /// `F` flagged, `R` replied, `D` draft), the way IMAP keeps flags in a Maildir.
    pub fn set_flags(
        &self,
        m: &StoredMessage,
        letters: &str,
    ) -> Result<StoredMessage, MaildirError> {
        let mut sorted: Vec<char> = letters.chars().filter(char::is_ascii_uppercase).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let name = format!("{}:2,{}", m.id, sorted.into_iter().collect::<String>());
        let folder = m
            .path
            .parent()
            .and_then(Path::parent)
            .unwrap_or(&self.root)
            .to_path_buf();
        let to = folder.join("cur").join(name);
        if to != m.path {
            std::fs::rename(&m.path, &to).map_err(|source| MaildirError {
                path: m.path.clone(),
                source,
            })?;
        }
        Ok(StoredMessage {
            id: m.id.clone(),
            path: to,
            size: m.size,
        })
    }
}

/// The Maildir flag letters of a stored message (empty in `new`).
pub fn flag_letters(m: &StoredMessage) -> String {
    let name = m
        .path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    name.split_once(":2,")
        .map(|(_, f)| f.to_string())
        .unwrap_or_default()
}

/// True while the message is still in `new` (no IMAP session has seen it: \Recent).
pub fn is_new(m: &StoredMessage) -> bool {
    m.path
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|n| n == "new")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliver_list_read_delete() {
        let dir = tempfile::tempdir().unwrap();
        let md = Maildir::new(dir.path());
        let a = md.deliver("Good@Hisp.direct.test", b"one\r\n").unwrap();
        let b = md.deliver("good@hisp.direct.test", b"two\r\n").unwrap();
        assert_ne!(a.id, b.id);
        let list = md.list("good@hisp.direct.test").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(md.read(&list[0]).unwrap(), b"one\r\n");
        md.delete(&list[0]).unwrap();
        assert_eq!(md.list("good@hisp.direct.test").unwrap().len(), 1);
        assert!(md.list("nobody@x").unwrap().is_empty());
    }

    #[test]
    fn flags_live_in_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let md = Maildir::new(dir.path());
        let a = md.deliver("a@x", b"one\r\n").unwrap();
        assert!(is_new(&a));
        assert_eq!(flag_letters(&a), "");
        let a = md.set_flags(&a, "TS").unwrap();
        assert!(!is_new(&a));
        assert_eq!(flag_letters(&a), "ST");
        let listed = md.list("a@x").unwrap();
        assert_eq!(listed, vec![a.clone()]);
        assert_eq!(md.read(&listed[0]).unwrap(), b"one\r\n");
    }
}
