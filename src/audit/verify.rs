//! Checking a log's chain: the first line that breaks it, and why.

use std::fmt;
use std::path::Path;

use crate::audit::chain::{Head, Line, sha256_hex};
use crate::audit::error::AuditError;

/// Why a line breaks the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BrokenReason {
    /// Not a JSON log record (an edit that broke the syntax, an empty line).
    BadJson(String),
    /// `seq` is not one more than the previous line's (a line removed or moved).
    SeqGap { expected: u64, found: u64 },
    /// `prev` is not the hash of the previous line (that line was edited, or lines were
    /// removed or reordered).
    HashMismatch { expected: String, found: String },
    /// The last line has no newline: the file was cut mid-line.
    Truncated,
    /// The log ends before the head kept elsewhere.
    MissingLines { expected: Head, found: Head },
    /// The line at the expected head's seq is not the one that was kept.
    HeadMismatch { expected: Head, found: Head },
}

impl fmt::Display for BrokenReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrokenReason::BadJson(e) => write!(f, "not a log record: {e}"),
            BrokenReason::SeqGap { expected, found } => write!(
                f,
                "seq gap: seq {found} where {expected} was expected (a line was removed or moved)"
            ),
            BrokenReason::HashMismatch { expected, found } => write!(
                f,
                "hash mismatch: prev {found} is not the hash of the previous line {expected} \
                 (the previous line was changed, or lines were removed or reordered)"
            ),
            BrokenReason::Truncated => {
                write!(f, "incomplete last line (the file was truncated)")
            }
            BrokenReason::MissingLines { expected, found } => write!(
                f,
                "the log ends at seq {} but the expected head is seq {} (lines were removed from the end)",
                found.seq, expected.seq
            ),
            BrokenReason::HeadMismatch { expected, found } => write!(
                f,
                "the line at seq {} hashes to {}, not the expected {}",
                expected.seq, found.hash, expected.hash
            ),
        }
    }
}

/// The first broken line (1-based) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    pub line: usize,
    pub reason: BrokenReason,
}

/// What `verify` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Lines read that chain correctly.
    pub lines: usize,
    /// The head of the intact part.
    pub head: Head,
    pub broken: Option<Broken>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.broken.is_none()
    }
}

/// Verifies the log at `path`. Only an unreadable file is an error.
pub fn verify(path: impl AsRef<Path>) -> Result<VerifyReport, AuditError> {
    Ok(verify_bytes(&read(path.as_ref())?, None))
}

/// Verifies the log and that it still holds the head recorded earlier (catches lines
/// dropped from the end and an edited last line).
pub fn verify_against(path: impl AsRef<Path>, expected: &Head) -> Result<VerifyReport, AuditError> {
    Ok(verify_bytes(&read(path.as_ref())?, Some(expected)))
}

fn read(path: &Path) -> Result<Vec<u8>, AuditError> {
    std::fs::read(path).map_err(|source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Verifies a log held in memory.
pub fn verify_bytes(bytes: &[u8], expected: Option<&Head>) -> VerifyReport {
    let mut head = Head::genesis();
    let mut at_expected: Option<Head> = None;
    let mut count = 0;
    let body = bytes.strip_suffix(b"\n");
    let complete = body.is_some() || bytes.is_empty();
    let body = body.unwrap_or(bytes);
    let broken = |line: usize, reason: BrokenReason, head: Head, lines: usize| VerifyReport {
        lines,
        head,
        broken: Some(Broken { line, reason }),
    };
    if !body.is_empty() {
        let all: Vec<&[u8]> = body.split(|b| *b == b'\n').collect();
        let last = all.len();
        for (i, text) in all.into_iter().enumerate() {
            let n = i + 1;
            if n == last && !complete {
                return broken(n, BrokenReason::Truncated, head, count);
            }
            let line: Line = match serde_json::from_slice(text) {
                Ok(l) => l,
                Err(e) => return broken(n, BrokenReason::BadJson(e.to_string()), head, count),
            };
            if line.seq != head.seq + 1 {
                let reason = BrokenReason::SeqGap {
                    expected: head.seq + 1,
                    found: line.seq,
                };
                return broken(n, reason, head, count);
            }
            if line.prev != head.hash {
                let reason = BrokenReason::HashMismatch {
                    expected: head.hash.clone(),
                    found: line.prev,
                };
                return broken(n, reason, head, count);
            }
            head = Head {
                seq: line.seq,
                hash: sha256_hex(text),
            };
            count = n;
            if expected.is_some_and(|e| e.seq == head.seq) {
                at_expected = Some(head.clone());
            }
        }
    }
    if let Some(e) = expected {
        match at_expected {
            None if e.seq > head.seq => {
                let reason = BrokenReason::MissingLines {
                    expected: e.clone(),
                    found: head.clone(),
                };
                return broken(count + 1, reason, head, count);
            }
            Some(found) if found.hash != e.hash => {
                let line = usize::try_from(e.seq).unwrap_or(usize::MAX);
                let reason = BrokenReason::HeadMismatch {
                    expected: e.clone(),
                    found,
                };
                return broken(line, reason, head, count);
            }
            _ => {}
        }
    }
    VerifyReport {
        lines: count,
        head,
        broken: None,
    }
}
