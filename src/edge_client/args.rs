//! `direct-conformance edge-client`: the job from flags or, as the harness passes it, from
//! `DC_EDGE_*` variables (documented in examples/sut.toml `[edge_client]`).

use std::net::SocketAddr;
use std::path::PathBuf;

use super::{Action, EdgeClientError, Job};
use crate::hisp::Faults;

#[derive(Clone, Debug, clap::Args)]
pub struct EdgeClientArgs {
    /// `send` or `retrieve`.
    #[arg(long, env = "DC_EDGE_ACTION")]
    pub action: String,
    /// The server, ADDR:PORT.
    #[arg(long, env = "DC_EDGE_SERVER")]
    pub server: SocketAddr,
    /// `smtp` for send; `pop3` or `imap` for retrieve.
    #[arg(long, env = "DC_EDGE_PROTOCOL", default_value = "smtp")]
    pub protocol: String,
    /// The name the server's certificate must carry.
    #[arg(long, env = "DC_EDGE_TLS_NAME", default_value = "edge.direct.test")]
    pub tls_name: String,
    /// The trust anchor for the server's certificate (PEM or DER).
    #[arg(long, env = "DC_EDGE_CA")]
    pub ca: PathBuf,
    #[arg(long, env = "DC_EDGE_USER")]
    pub user: String,
    #[arg(long, env = "DC_EDGE_PASSWORD")]
    pub password: String,
    /// send: the sender.
    #[arg(long, env = "DC_EDGE_FROM", default_value = "")]
    pub from: String,
    /// send: recipients, comma-separated.
    #[arg(long, env = "DC_EDGE_TO", value_delimiter = ',')]
    pub to: Vec<String>,
    /// send: how many messages, in one session.
    #[arg(long, env = "DC_EDGE_COUNT", default_value_t = 1)]
    pub count: usize,
    /// send: ask for timely and reliable delivery.
    #[arg(long, env = "DC_EDGE_NOTIFY", default_value_t = false)]
    pub notify: bool,
    #[arg(long, env = "DC_EDGE_SUBJECT", default_value = "Referral")]
    pub subject: String,
    /// retrieve: keep each message as N.eml in this folder.
    #[arg(long, env = "DC_EDGE_OUT")]
    pub out: Option<PathBuf>,
    /// retrieve over imap: only these folders, comma-separated (default: every listed folder).
    #[arg(long, env = "DC_EDGE_FOLDERS", value_delimiter = ',')]
    pub folders: Vec<String>,
    /// retrieve over imap: seconds to wait in IDLE for new mail after reading (0: no IDLE).
    #[arg(long, env = "DC_EDGE_IDLE_SECS", default_value_t = 0)]
    pub idle_secs: u64,
    /// Fault switches (`edge-client-*`), as for `hisp`.
    #[arg(long, value_name = "NAME", env = "DC_FAULTS", value_delimiter = ',')]
    pub fault: Vec<String>,
}

impl EdgeClientArgs {
    pub fn job(&self) -> Result<Job, EdgeClientError> {
        let bad = |m: String| EdgeClientError::Session(m);
        let faults: Faults = self
            .fault
            .iter()
            .filter(|f| !f.trim().is_empty())
            .map(|f| {
                f.trim()
                    .parse()
                    .map_err(|e| bad(format!("fault {f:?}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        let action = match (
            self.action.to_ascii_lowercase().as_str(),
            self.protocol.to_ascii_lowercase().as_str(),
        ) {
            ("send", "smtp") => {
                if self.to.is_empty() || self.from.is_empty() {
                    return Err(bad("send needs DC_EDGE_FROM and DC_EDGE_TO".into()));
                }
                Action::Send {
                    from: self.from.clone(),
                    to: self.to.clone(),
                    count: self.count.max(1),
                    notify: self.notify,
                    subject: self.subject.clone(),
                }
            }
            ("retrieve", "pop3") => Action::RetrievePop3 {
                out: self.out.clone(),
            },
            ("retrieve", "imap") => Action::RetrieveImap {
                out: self.out.clone(),
                folders: self
                    .folders
                    .iter()
                    .map(|f| f.trim().to_string())
                    .filter(|f| !f.is_empty())
                    .collect(),
                idle: std::time::Duration::from_secs(self.idle_secs.min(3600)),
            },
            (a, p) => {
                return Err(bad(format!(
                    "the reference edge client does not do {a} over {p} (send/smtp, retrieve/pop3, retrieve/imap)"
                )));
            }
        };
        Ok(Job {
            server: self.server,
            tls_name: self.tls_name.clone(),
            anchor: self.ca.clone(),
            user: self.user.clone(),
            password: self.password.clone(),
            action,
            faults,
        })
    }
}
