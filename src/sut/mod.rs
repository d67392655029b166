//! The system under test as the harness sees it: `sut.toml` (or the embedded reference SUT),
//! and the harness side of each door: backbone SMTP in, edge retrieval out (POP3 or Maildir),
//! the audit source, plus the peer HISP `hisp.direct.test` that receives the SUT's MDNs.

pub mod audit;
pub mod config;
pub mod container;
pub mod content;
pub mod edge_server;
pub mod edge_trigger;
pub mod embedded;
pub mod imap;
pub mod peer;
pub mod pop3;
pub mod smtp;
pub mod stimulus;
pub mod submission;
pub mod tap;
pub mod tlsprobe;

pub use config::{Hosting, Recipient, Retrieval, SutConfigError, SutFile, SutModel, Windows};

/// Why the SUT or the harness around it could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SutError {
    #[error(transparent)]
    Config(#[from] SutConfigError),
    #[error("the embedded reference SUT could not start: {0}")]
    Embedded(String),
    #[error(transparent)]
    Container(#[from] container::ContainerError),
    #[error(
        "the harness peer HISP hisp.direct.test could not start: {0} (is the [harness] backbone port free?)"
    )]
    Peer(String),
}

/// Reads every message of a Maildir (`ROOT/<address>/{new,cur}`), oldest first.
pub fn read_maildir(root: &std::path::Path, address: &str) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(rd) = std::fs::read_dir(root.join(address).join(sub)) {
            for e in rd.flatten() {
                let modified = e.metadata().and_then(|m| m.modified()).ok();
                files.push((modified, e.path()));
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .filter_map(|(_, p)| std::fs::read(p).ok())
        .collect()
}
