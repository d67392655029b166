//! The append-only audit log: one JSON line per event, chained by hash, written and flushed
//! under a mutex so that concurrent tasks never interleave lines.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::audit::chain::{Head, Line, sha256_hex};
use crate::audit::error::AuditError;
use crate::audit::event::AuditEvent;

struct Writer {
    file: File,
    head: Head,
}

/// An open audit log. `record` takes `&self`: share it in an `Arc` between tasks. Each call
/// is one small write of an already serialised line (microseconds), so calling it from async
/// code is fine; no line is buffered in the process after `record` returns.
pub struct AuditLog {
    path: PathBuf,
    writer: Mutex<Writer>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .finish()
    }
}

impl AuditLog {
    /// Opens (or creates) the log at `path`, continuing the chain from its last line. A log
    /// whose last line is partial or unreadable is refused rather than silently continued.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, AuditError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| AuditError::Io {
            path: path.clone(),
            source,
        };
        let head = match std::fs::read(&path) {
            Ok(bytes) => head_of(&path, &bytes)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Head::genesis(),
            Err(e) => return Err(io(e)),
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        Ok(AuditLog {
            path,
            writer: Mutex::new(Writer { file, head }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The chain's current end; keep it elsewhere to detect lines dropped from the end.
    pub fn head(&self) -> Head {
        self.lock().head.clone()
    }

    /// Appends one event and flushes it; returns the new head.
    pub fn record(&self, event: AuditEvent) -> Result<Head, AuditError> {
        let mut w = self.lock();
        let line = Line {
            seq: w.head.seq + 1,
            prev: w.head.hash.clone(),
            event,
        };
        let mut text =
            serde_json::to_vec(&line).map_err(|e| AuditError::Serialise(e.to_string()))?;
        let head = Head {
            seq: line.seq,
            hash: sha256_hex(&text),
        };
        text.push(b'\n');
        w.file
            .write_all(&text)
            .and_then(|()| w.file.flush())
            .map_err(|source| AuditError::Io {
                path: self.path.clone(),
                source,
            })?;
        w.head = head.clone();
        Ok(head)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Writer> {
        // A panic in another thread cannot leave the head inconsistent: it is replaced only
        // after a complete write.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The head of an existing log, from its last line.
fn head_of(path: &Path, bytes: &[u8]) -> Result<Head, AuditError> {
    if bytes.is_empty() {
        return Ok(Head::genesis());
    }
    let lines = bytes.iter().filter(|b| **b == b'\n').count();
    let cannot = |line: usize, reason: String| AuditError::CannotContinue {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let Some(body) = bytes.strip_suffix(b"\n") else {
        return Err(cannot(
            lines + 1,
            "the last line is incomplete (truncated)".into(),
        ));
    };
    let last = body.rsplit(|b| *b == b'\n').next().unwrap_or_default();
    let line: Line = serde_json::from_slice(last)
        .map_err(|e| cannot(lines, format!("not a log record: {e}")))?;
    Ok(Head {
        seq: line.seq,
        hash: sha256_hex(last),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::event::EventKind;
    use crate::audit::verify::verify;

    fn event(n: usize) -> AuditEvent {
        AuditEvent::new(
            EventKind::OutgoingSent,
            time::macros::datetime!(2026-11-25 10:00 UTC),
            "test",
        )
        .message_id(format!("<{n}@hisp.direct.test>"))
        .from("alice@hisp.direct.test")
        .to(["bob@sut.direct.test"])
    }

    #[test]
    fn shareable_between_tasks() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<AuditLog>();
    }

    #[test]
    fn lines_chain_and_reopening_continues() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        assert_eq!(log.head(), Head::genesis());
        for n in 0..3 {
            log.record(event(n)).unwrap();
        }
        drop(log);
        let log = AuditLog::open(&path).unwrap();
        assert_eq!(log.head().seq, 3);
        let head = log.record(event(3)).unwrap();
        let report = verify(&path).unwrap();
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(report.lines, 4);
        assert_eq!(report.head, head);
        let text = std::fs::read_to_string(&path).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["seq"], 1);
        assert_eq!(first["prev"], Head::genesis().hash);
        assert_eq!(first["event"], "outgoing.sent");
        assert_eq!(first["time"], "2026-11-25T10:00:00Z");
        assert_eq!(first["to"][0], "bob@sut.direct.test");
        assert!(first.get("reason").is_none(), "empty fields are left out");
    }

    #[test]
    fn line_breaks_in_values_stay_inside_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        assert!(verify(&path).is_err(), "a missing file is an error");
        std::fs::write(&path, b"").unwrap();
        assert!(verify(&path).unwrap().is_intact(), "an empty log is intact");
        let log = AuditLog::open(&path).unwrap();
        log.record(event(1).reason("two\nlines\r\nand \"quotes\""))
            .unwrap();
        log.record(event(2)).unwrap();
        let report = verify(&path).unwrap();
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(report.lines, 2);
    }

    #[test]
    fn concurrent_writers_never_interleave() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = std::sync::Arc::new(AuditLog::open(&path).unwrap());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for n in 0..25 {
                        log.record(event(t * 100 + n)).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let report = verify(&path).unwrap();
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(report.lines, 100);
    }

    #[test]
    fn a_cut_log_is_not_continued() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        log.record(event(1)).unwrap();
        log.record(event(2)).unwrap();
        drop(log);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
        assert!(matches!(
            AuditLog::open(&path),
            Err(AuditError::CannotContinue { line: 2, .. })
        ));
        std::fs::write(&path, b"garbage\n").unwrap();
        assert!(matches!(
            AuditLog::open(&path),
            Err(AuditError::CannotContinue { line: 1, .. })
        ));
    }
}
