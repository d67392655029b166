//! The reference edge client: the mail client of a HISP's user, which the embedded SUT uses
//! for the cases where the SUT plays the edge client (TEST-CATALOGUE §c.5 MT17/45-47, §d.1
//! SMTP8/15, §d.3 POP19-27). The harness triggers it the way `sut.toml [edge_client]` says
//! (`direct-conformance edge-client`, with the job in `DC_EDGE_*` variables): it sends through
//! a submission server with STARTTLS and AUTH PLAIN, or retrieves a POP3 mailbox after STLS or
//! IMAP folders after STARTTLS (with IDLE for new mail).
//! It verifies the server's certificate against the anchor it is given, never sends
//! credentials in clear, gives each message a new Message-ID, and carries on after `-ERR`:
//! the fault switches `edge-client-*` break exactly one of these.

mod args;
mod imap;
mod retrieve;
mod retrieve_imap;
mod send;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::hisp::{Fault, Faults};

pub use args::EdgeClientArgs;
pub use retrieve::Retrieved;

/// Each read and write of the client is bounded by this.
const TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum EdgeClientError {
    #[error("the anchor {path}: {message}")]
    Anchor { path: PathBuf, message: String },
    #[error("TLS with {server}: {message}")]
    Tls { server: SocketAddr, message: String },
    #[error("{server} refused: {reply}")]
    Refused { server: SocketAddr, reply: String },
    #[error("{0}")]
    Session(String),
    #[error("message: {0}")]
    Message(String),
}

/// What to do.
#[derive(Clone, Debug)]
pub enum Action {
    /// Send `count` messages in one session.
    Send {
        from: String,
        to: Vec<String>,
        count: usize,
        /// Ask for timely and reliable delivery (Disposition-Notification-To and -Options).
        notify: bool,
        subject: String,
    },
    /// Read the POP3 mailbox; save each message into `out` when given.
    RetrievePop3 { out: Option<PathBuf> },
    /// Read the IMAP folders (all listed, or `folders`), then wait up to `idle` in IDLE.
    RetrieveImap {
        out: Option<PathBuf>,
        folders: Vec<String>,
        idle: Duration,
    },
}

/// One job of the edge client.
#[derive(Clone, Debug)]
pub struct Job {
    pub server: SocketAddr,
    /// The name the server's certificate must carry.
    pub tls_name: String,
    /// The anchor (PEM or DER) the server's certificate must chain to.
    pub anchor: PathBuf,
    pub user: String,
    pub password: String,
    pub action: Action,
    pub faults: Faults,
}

/// What the job did, for the caller's output.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Message-IDs sent.
    pub sent: Vec<String>,
    pub retrieved: Vec<Retrieved>,
    /// The dialogue, as the client saw it.
    pub transcript: String,
}

/// Runs one job.
pub async fn run(job: &Job) -> Result<Outcome, EdgeClientError> {
    crate::trust::fetch::install_crypto_provider();
    let connector = if job.faults.on(Fault::EdgeClientAcceptsBadCertificate) {
        tls::accept_anything()?
    } else {
        tls::verifying(&job.anchor)?
    };
    match &job.action {
        Action::Send {
            from,
            to,
            count,
            notify,
            subject,
        } => {
            let spec = send::Spec {
                from,
                to,
                count: *count,
                notify: *notify,
                subject,
            };
            send::run(job, &connector, &spec).await
        }
        Action::RetrievePop3 { out } => retrieve::run(job, &connector, out.as_deref()).await,
        Action::RetrieveImap { out, folders, idle } => {
            let spec = retrieve_imap::Spec {
                out: out.as_deref(),
                folders,
                idle: *idle,
            };
            retrieve_imap::run(job, &connector, &spec).await
        }
    }
}
