//! The reference HISP: backbone SMTP in (decrypt, verify, trust per recipient, unwrap,
//! Maildir, MDNs), outbound (certificates, trust, seal, MX, SMTP, retries, DSN), the edge
//! doors (submission with STARTTLS and AUTH, POP3 with STLS), the audit log, the
//! timely-and-reliable tracker and the fault switches.
//!
//! ```text
//! let settings = HispConfig::read(path)?.load(base)?;
//! let hisp = Hisp::start(settings).await?;
//! hisp.backbone;                  // the bound address (port 0 in the config picks one)
//! hisp.wait_for(|e| matches!(e, HispEvent::Delivered { .. }), timeout).await;
//! hisp.shutdown().await;
//! ```
//! IMAP is not served yet (left for later; POP3 and Maildir are the retrieval doors).

pub mod bundle;
pub mod config;
pub mod conn;
pub mod envsubst;
pub mod faults;
pub mod inbound;
pub mod lenient;
pub mod maildir;
pub mod notify;
pub mod outbound;
pub mod paths;
pub mod pop3;
pub mod publish;
pub mod smtp_client;
pub mod smtp_server;
pub mod strict;
pub mod tls;
pub mod transfer;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::audit::{AuditEvent, AuditLog};
use crate::mdn::{Tracker, TrackerConfig};

pub use config::{ConfigError, HispConfig, Profile, Settings};
pub use faults::{Fault, Faults};
pub use outbound::{CertificateSource, Found, StaticCertificates};

/// Which door a session came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Door {
    Backbone,
    Submission,
    Pop3,
}

impl Door {
    pub fn name(self) -> &'static str {
        match self {
            Door::Backbone => "backbone",
            Door::Submission => "submission",
            Door::Pop3 => "pop3",
        }
    }
}

/// What the HISP did, in order, for tests and evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HispEvent {
    /// A message came in through a door (after DATA).
    Received {
        door: Door,
        from: String,
        recipients: Vec<String>,
        bytes: usize,
    },
    /// A message (or notification) was written to a mailbox.
    Delivered {
        recipient: String,
        message_id: Option<String>,
        path: PathBuf,
        notification: bool,
    },
    /// Recipients refused, with the logged reason.
    Rejected {
        recipients: Vec<String>,
        reason: String,
    },
    /// An MDN went out (`kind`: processed, dispatched, failed).
    MdnSent {
        from: String,
        to: String,
        kind: String,
        original_message_id: String,
    },
    /// A message was handed to the next hop.
    Sent {
        from: String,
        to: Vec<String>,
        message_id: Option<String>,
        host: SocketAddr,
    },
    /// Outbound delivery or discovery failed for these recipients.
    DeliveryFailed {
        recipients: Vec<String>,
        reason: String,
    },
    /// A failure DSN was written to the sender's edge mailbox.
    DsnSent { to: String, recipients: Vec<String> },
    /// The tracker settled a recipient.
    Settled {
        message_id: String,
        recipient: String,
        outcome: String,
    },
}

/// One line of a session transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranscriptLine {
    /// True for what the peer sent, false for what the HISP answered.
    pub from_peer: bool,
    pub text: String,
}

/// A whole session, kept for evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transcript {
    pub door: Door,
    pub peer: SocketAddr,
    pub lines: Vec<TranscriptLine>,
}

impl Transcript {
    pub fn new(door: Door, peer: SocketAddr) -> Self {
        Transcript {
            door,
            peer,
            lines: Vec::new(),
        }
    }

    pub fn peer_said(&mut self, text: &str) {
        self.lines.push(TranscriptLine {
            from_peer: true,
            text: text.trim_end_matches(['\r', '\n']).to_string(),
        });
    }

    pub fn we_said(&mut self, text: &str) {
        self.lines.push(TranscriptLine {
            from_peer: false,
            text: text.trim_end_matches(['\r', '\n']).to_string(),
        });
    }

    /// `C: ...` / `S: ...` lines.
    pub fn text(&self) -> String {
        self.lines
            .iter()
            .map(|l| format!("{}: {}\n", if l.from_peer { "C" } else { "S" }, l.text))
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HispError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot listen on {addr} ({door}): {source}")]
    Bind {
        door: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("audit log: {0}")]
    Audit(#[from] crate::audit::AuditError),
    #[error("resolver: {0}")]
    Resolver(String),
    #[error("publish: {0}")]
    Publish(String),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking holder leaves plain data behind; keep serving rather than cascade.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// State shared by every door and task.
pub struct Core {
    pub settings: Settings,
    pub maildir: maildir::Maildir,
    audit: Option<AuditLog>,
    events: Mutex<Vec<HispEvent>>,
    notify: Notify,
    transcripts: Mutex<Vec<Transcript>>,
    pub tracker: Mutex<Tracker>,
    /// Messages this HISP sent, by normalised Message-ID (for DSNs).
    pub sent: Mutex<std::collections::HashMap<String, outbound::SentRecord>>,
    pub acceptor: Option<tokio_rustls::TlsAcceptor>,
    pub connector: tokio_rustls::TlsConnector,
    pub certificates: Arc<dyn CertificateSource>,
    pub router: outbound::Router,
    /// Path validation with fetches routed through the configured resolver.
    pub paths: paths::Paths,
    /// Anchors delivered by trust-bundle subscriptions (`[[trust_bundle]]`).
    pub bundles: bundle::Bundles,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("hostname", &self.settings.hostname)
            .finish()
    }
}

impl Core {
    pub fn faults(&self) -> &Faults {
        &self.settings.faults
    }

    pub fn event(&self, e: HispEvent) {
        lock(&self.events).push(e);
        self.notify.notify_waiters();
    }

    /// Keeps a finished session's transcript (and writes it out when configured).
    pub fn transcript(&self, t: Transcript) {
        if let Some(dir) = &self.settings.transcript_dir {
            let n = lock(&self.transcripts).len();
            let name = format!(
                "{:05}-{}-{}.txt",
                n,
                t.door.name(),
                t.peer.to_string().replace([':', '[', ']'], "_")
            );
            let written = std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(dir.join(name), t.text()));
            if let Err(e) = written {
                eprintln!("hisp {}: transcript: {e}", self.settings.hostname);
            }
        }
        lock(&self.transcripts).push(t);
    }

    /// Writes an audit line, as the fault switches allow. A failing log is reported on
    /// stderr and does not stop mail (the chain shows the gap).
    pub fn audit(&self, mut e: AuditEvent) {
        if self.faults().on(Fault::NoAudit) {
            return;
        }
        if self.faults().on(Fault::AuditWithoutRecipient) {
            e.to.clear();
            e.final_recipient = None;
        }
        if let Some(log) = &self.audit
            && let Err(err) = log.record(e)
        {
            eprintln!("hisp {}: audit log: {err}", self.settings.hostname);
        }
    }

    pub fn principal(&self) -> &str {
        &self.settings.hostname
    }

    /// With `audit-clinical-content`, the whole message goes into the line's reason (the
    /// AUD-09 breach AU-09 must catch); otherwise the event as it is.
    pub fn with_content(&self, e: AuditEvent, message: &[u8]) -> AuditEvent {
        if self.faults().on(Fault::AuditClinicalContent) {
            e.reason(String::from_utf8_lossy(message).to_string())
        } else {
            e
        }
    }
}

/// The running HISP.
pub struct HispHandle {
    pub core: Arc<Core>,
    pub backbone: Option<SocketAddr>,
    pub submission: Option<SocketAddr>,
    pub pop3: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// The DNS and LDAP servers of `[publish]`, when configured.
    pub published: Option<publish::Published>,
}

impl std::fmt::Debug for HispHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HispHandle")
            .field("backbone", &self.backbone)
            .field("submission", &self.submission)
            .field("pop3", &self.pop3)
            .finish()
    }
}

impl HispHandle {
    pub fn events(&self) -> Vec<HispEvent> {
        lock(&self.core.events).clone()
    }

    pub fn transcripts(&self) -> Vec<Transcript> {
        lock(&self.core.transcripts).clone()
    }

    /// Waits (bounded) for the first event, past or future, that `pred` accepts.
    pub async fn wait_for(
        &self,
        pred: impl Fn(&HispEvent) -> bool,
        timeout: Duration,
    ) -> Option<HispEvent> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.core.notify.notified();
            if let Some(e) = lock(&self.core.events).iter().find(|e| pred(e)) {
                return Some(e.clone());
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return lock(&self.core.events).iter().find(|e| pred(e)).cloned();
            }
        }
    }

    /// Routes mail for `domain` (or an MX host) to `addr`, overriding DNS from now on.
    pub fn set_route(&self, domain: &str, addr: SocketAddr) {
        self.core.router.set_route(domain, addr);
    }

    pub fn audit_path(&self) -> Option<PathBuf> {
        self.core.audit.as_ref().map(|a| a.path().to_path_buf())
    }

    /// Stops listening and ends the background tasks.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            t.abort();
            let _ = t.await;
        }
        if let Some(p) = self.published {
            p.shutdown().await;
        }
    }
}

/// The reference HISP.
pub struct Hisp;

impl Hisp {
    /// Starts with the static certificate source of the configuration, followed by the
    /// discovery client when `[discovery] enabled`.
    pub async fn start(settings: Settings) -> Result<HispHandle, HispError> {
        let table: Arc<dyn CertificateSource> =
            Arc::new(StaticCertificates::from_settings(&settings));
        let certs: Arc<dyn CertificateSource> = match outbound::discoverer(&settings) {
            None => table,
            Some(Ok(d)) => Arc::new(outbound::Layered(vec![table, Arc::new(d)])),
            Some(Err(e)) => return Err(HispError::Resolver(e)),
        };
        Self::start_with(settings, certs).await
    }

    /// Starts with a caller's certificate source (the discovery client plugs in here).
    pub async fn start_with(
        settings: Settings,
        certificates: Arc<dyn CertificateSource>,
    ) -> Result<HispHandle, HispError> {
        crate::trust::fetch::install_crypto_provider();
        let acceptor = settings.tls.as_ref().map(tls::acceptor).transpose()?;
        let connector = tls::connector(&settings.tls_client_roots)?;
        let audit = settings
            .audit_log
            .as_ref()
            .map(AuditLog::open)
            .transpose()?;
        let router = outbound::Router::new(&settings);
        let paths = paths::Paths::new(&settings).map_err(HispError::Resolver)?;
        let tracker = Tracker::new(TrackerConfig {
            processed_timeout: time::Duration::seconds(settings.timeouts.processed_mdn_secs as i64),
            dispatched_timeout: time::Duration::seconds(
                settings.timeouts.dispatched_mdn_secs as i64,
            ),
            ..TrackerConfig::default()
        });
        let bind = |door: &'static str, addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| HispError::Bind { door, addr, source })
        };
        let backbone = match settings.backbone {
            Some(a) => Some(bind("backbone", a).await?),
            None => None,
        };
        let submission = match settings.submission {
            Some(a) => Some(bind("submission", a).await?),
            None => None,
        };
        let pop3 = match settings.pop3 {
            Some(a) => Some(bind("pop3", a).await?),
            None => None,
        };
        let published = match &settings.publish {
            Some(p) => Some(publish::start(&settings, p).await?),
            None => None,
        };
        let core = Arc::new(Core {
            maildir: maildir::Maildir::new(settings.maildir.clone()),
            settings,
            audit,
            events: Mutex::new(Vec::new()),
            notify: Notify::new(),
            transcripts: Mutex::new(Vec::new()),
            tracker: Mutex::new(tracker),
            sent: Mutex::new(std::collections::HashMap::new()),
            acceptor,
            connector,
            certificates,
            router,
            paths,
            bundles: bundle::Bundles::default(),
        });
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        let local = |l: &Option<TcpListener>| l.as_ref().and_then(|l| l.local_addr().ok());
        let (b, s, p) = (local(&backbone), local(&submission), local(&pop3));
        if let Some(l) = backbone {
            tasks.push(tokio::spawn(smtp_server::serve(
                core.clone(),
                l,
                Door::Backbone,
                stopped.clone(),
            )));
        }
        if let Some(l) = submission {
            tasks.push(tokio::spawn(smtp_server::serve(
                core.clone(),
                l,
                Door::Submission,
                stopped.clone(),
            )));
        }
        if let Some(l) = pop3 {
            tasks.push(tokio::spawn(pop3::serve(core.clone(), l, stopped.clone())));
        }
        for b in core.settings.trust_bundles.clone() {
            tasks.push(tokio::spawn(bundle::run(core.clone(), b, stopped.clone())));
        }
        tasks.push(tokio::spawn(outbound::run_ticks(core.clone(), stopped)));
        Ok(HispHandle {
            core,
            backbone: b,
            submission: s,
            pop3: p,
            stop,
            tasks,
            published,
        })
    }
}
