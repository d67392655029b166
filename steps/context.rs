//! What every scenario of one run shares: the SUT model, the harness peer HISP, the mock
//! world, the reference PKI, and where the after-hook leaves each scenario's evidence.
//! cucumber builds Worlds with no arguments, so the run's context is a process-wide value,
//! set once before the scenarios start.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use direct_conformance::env::{EventLog, Fixture};
use direct_conformance::hisp::HispHandle;
use direct_conformance::pki::ReferencePki;
use direct_conformance::report::Evidence;
use direct_conformance::sut::SutModel;
use direct_conformance::sut::tap::Tap;

/// Identifies a scenario across the writer and the after-hook: feature file and line.
pub type ScenarioKey = (String, usize);

pub struct RunContext {
    pub sut: SutModel,
    pub pki: Arc<ReferencePki>,
    pub peer: Arc<HispHandle>,
    /// What the SUT sent on the backbone, byte for byte.
    pub tap: Arc<Tap>,
    /// Set by the after-hook, read by the report.
    pub evidence: Mutex<HashMap<ScenarioKey, Vec<Evidence>>>,
    /// The mock DNS/LDAP/HTTP world's log of every query, and the fixture it serves (the
    /// discovery cases' evidence and ordering checks).
    pub world_log: EventLog,
    pub fixture: Option<Arc<Fixture>>,
    /// Unique per scenario within the run (and the run has its own nonce).
    counter: AtomicUsize,
    nonce: String,
    /// The mock world's PKI HTTP server: `host:port` of its URLs → where it listens (CRLs
    /// named by the SUT's hosted certificates). Set by the runner.
    pub harness_http: OnceLock<(String, std::net::SocketAddr)>,
    /// The mock world's PKI site, whose signed trust bundle the RX-52..54 steps switch.
    pub harness_site: OnceLock<Arc<direct_conformance::env::http::PkiSite>>,
}

impl std::fmt::Debug for RunContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunContext")
            .field("sut", &self.sut.label)
            .finish()
    }
}

static CONTEXT: OnceLock<Arc<RunContext>> = OnceLock::new();

impl RunContext {
    pub fn new(
        sut: SutModel,
        pki: Arc<ReferencePki>,
        peer: Arc<HispHandle>,
        tap: Arc<Tap>,
    ) -> Self {
        let nonce = format!(
            "{:x}{:x}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
        );
        RunContext {
            sut,
            pki,
            peer,
            tap,
            evidence: Mutex::new(HashMap::new()),
            world_log: EventLog::default(),
            fixture: None,
            counter: AtomicUsize::new(0),
            nonce,
            harness_http: OnceLock::new(),
            harness_site: OnceLock::new(),
        }
    }

    /// The mock world the run started: its event log and fixture.
    pub fn with_world(mut self, log: EventLog, fixture: Arc<Fixture>) -> Self {
        self.world_log = log;
        self.fixture = Some(fixture);
        self
    }

    /// Installs the run's context; a second run in one process is refused.
    pub fn install(ctx: Arc<RunContext>) -> Result<(), String> {
        CONTEXT
            .set(ctx)
            .map_err(|_| "a run is already in progress in this process".to_string())
    }

    pub fn get() -> Option<Arc<RunContext>> {
        CONTEXT.get().cloned()
    }

    /// A new correlation id: goes into Message-IDs, so that every notice can be matched.
    pub fn correlation_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        format!("dc-{}-{n:04}", self.nonce)
    }

    pub fn store_evidence(&self, key: ScenarioKey, evidence: Vec<Evidence>) {
        self.evidence
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, evidence);
    }
}
