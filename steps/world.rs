//! One scenario's state: its correlation id, the run's shared context (SUT, peer HISP), what
//! it is about to send, what it sent, and the evidence it records.

use std::sync::Arc;

use direct_conformance::report::Evidence;
use direct_conformance::sut::smtp::SmtpOutcome;
use direct_conformance::sut::stimulus::Stimulus;

use super::context::RunContext;

/// What the harness sent in this scenario.
#[derive(Debug, Clone)]
pub struct Sent {
    pub message_id: String,
    pub recipients: Vec<String>,
    pub smtp: SmtpOutcome,
    /// How long the SMTP session took (bounded decisions, TRUST-05).
    pub elapsed: std::time::Duration,
    /// When the SUT took the message (deadline cases measure from here).
    pub at: std::time::Instant,
}

/// The cucumber World of the conformance suite.
#[derive(Debug, cucumber::World)]
#[world(init = Self::new)]
pub struct DirectWorld {
    pub ctx: Option<Arc<RunContext>>,
    /// Identifies every message and log line of one scenario.
    pub correlation_id: String,
    /// The message being prepared.
    pub stimulus: Option<Stimulus>,
    /// Reference-PKI credential that signs it.
    pub signer: String,
    /// Reference-PKI credential (or file) it is encrypted to, when not the recipients'.
    pub encrypt_to: Option<String>,
    /// Leave the intermediates out of the SignedData (AIA cases).
    pub omit_chain: bool,
    /// Further certificates the envelope is addressed to (RX-51).
    pub also_encrypt_to: Vec<String>,
    /// SUT recipient roles (`primary`, `untrusting`).
    pub roles: Vec<String>,
    /// Roles named only in the SMTP envelope (RX-47).
    pub roles_extra: Vec<String>,
    pub sent: Option<Sent>,
    /// An open session with the SUT's submission door, and its last interesting replies.
    pub submission: Option<direct_conformance::sut::submission::Session>,
    pub replies: Vec<(String, direct_conformance::sut::submission::Reply)>,
    /// Evidence recorded by the steps, in order.
    pub evidence: Vec<Evidence>,
    /// The discovery case of a D scenario.
    pub discovery: Option<super::discovery::DiscoveryCase>,
    /// What the edge user submitted and what the SUT then sent (trust-send area).
    pub tx: super::trust_send::TxState,
    /// What the audit cases expect to find (canary, digest, a batch of messages).
    pub au: super::audit::AuState,
    /// Hosting cases: the reports of the checks run so far.
    pub hosting: Vec<direct_conformance::discovery::HostingReport>,
    /// An open POP3 session with the SUT's retrieval door (edge-pop3 cases).
    pub pop3: Option<direct_conformance::sut::pop3::Session>,
    /// Edge-pop3 expectations checked so far: (what was expected, what went wrong if it did).
    pub pop3_checks: Vec<(String, Option<String>)>,
    /// The SUT-as-edge-client cases: the harness edge server and the jobs run.
    pub ec: super::edge_client::EcState,
    /// Puts the standard trust bundle back when the scenario ends (RX-53, RX-54).
    pub bundle_restore: Option<super::bundle::BundleRestore>,
}

impl DirectWorld {
    fn new() -> Self {
        let ctx = RunContext::get();
        let correlation_id = ctx
            .as_ref()
            .map(|c| c.correlation_id())
            .unwrap_or_else(|| "dc-no-run".into());
        DirectWorld {
            ctx,
            correlation_id,
            stimulus: None,
            signer: "hisp_sender".into(),
            encrypt_to: None,
            omit_chain: false,
            also_encrypt_to: Vec::new(),
            roles: Vec::new(),
            roles_extra: Vec::new(),
            sent: None,
            submission: None,
            replies: Vec::new(),
            evidence: Vec::new(),
            discovery: None,
            tx: Default::default(),
            au: Default::default(),
            hosting: Vec::new(),
            pop3: None,
            pop3_checks: Vec::new(),
            ec: Default::default(),
            bundle_restore: None,
        }
    }

    /// The run's context; a step run outside `run` is a harness error.
    pub fn ctx(&self) -> Result<Arc<RunContext>, String> {
        self.ctx.clone().ok_or_else(|| {
            "no run context: scenarios run only under `direct-conformance run`".into()
        })
    }

    pub fn record(&mut self, kind: &str, title: impl Into<String>, body: impl Into<String>) {
        self.evidence.push(Evidence {
            kind: kind.into(),
            title: title.into(),
            body: body.into(),
        });
    }

    pub fn stimulus_mut(&mut self) -> Result<&mut Stimulus, String> {
        self.stimulus
            .as_mut()
            .ok_or_else(|| "no message prepared: start with `Given a Direct message …`".into())
    }

    pub fn sent(&self) -> Result<&Sent, String> {
        self.sent.as_ref().ok_or_else(|| {
            "nothing was sent yet: a `When the harness delivers …` step is missing".into()
        })
    }
}
