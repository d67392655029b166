//! The hash chain: each line is `{"seq":N,"prev":"<hex>", …event…}` and `prev` is the SHA-256
//! of the previous line's bytes (without its newline); the first line's `prev` is the hash of
//! `GENESIS`. An edit, a deleted or reordered line, or a partial last line breaks the chain;
//! dropping whole lines from the end is caught by comparing with a head kept elsewhere.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::event::AuditEvent;

/// What the first line's `prev` hashes.
pub const GENESIS: &str = "direct-conformance audit log v1";

/// One line of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub seq: u64,
    pub prev: String,
    #[serde(flatten)]
    pub event: AuditEvent,
}

/// The position of the chain's end: the last line's seq and hash (seq 0 and the genesis
/// hash for an empty log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

impl Head {
    pub fn genesis() -> Self {
        Head {
            seq: 0,
            hash: sha256_hex(GENESIS.as_bytes()),
        }
    }

    /// `SEQ:HASH`, the form the command line takes.
    pub fn parse(text: &str) -> Option<Self> {
        let (seq, hash) = text.trim().split_once(':')?;
        let hash = hash.trim().to_ascii_lowercase();
        (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some(())?;
        Some(Head {
            seq: seq.trim().parse().ok()?,
            hash,
        })
    }
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
