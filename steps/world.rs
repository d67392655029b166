//! One scenario's state: its correlation id and the evidence it records.

/// The cucumber World of the conformance suite.
#[derive(Debug, Default, cucumber::World)]
#[allow(dead_code)]
pub struct DirectWorld {
    /// Identifies every message and log line of one scenario.
    pub correlation_id: String,
    /// Evidence recorded by the steps, in order (transcripts, messages, findings).
    pub evidence: Vec<String>,
}
