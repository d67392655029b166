//! One audit event, in the normalised vocabulary of TEST-CATALOGUE §e.1 (AUD-01 … AUD-10).
//! Events carry identifiers and outcomes, never message content (AUD-09).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// A message arrived at a door (before any decision).
    #[serde(rename = "incoming.received")]
    IncomingReceived,
    #[serde(rename = "incoming.accepted")]
    IncomingAccepted,
    #[serde(rename = "incoming.rejected")]
    IncomingRejected,
    #[serde(rename = "incoming.recipient_rejected")]
    IncomingRecipientRejected,
    #[serde(rename = "outgoing.sent")]
    OutgoingSent,
    #[serde(rename = "outgoing.rejected")]
    OutgoingRejected,
    #[serde(rename = "outgoing.recipient_rejected")]
    OutgoingRecipientRejected,
    #[serde(rename = "mdn.sent")]
    MdnSent,
    #[serde(rename = "mdn.received")]
    MdnReceived,
    #[serde(rename = "dsn.sent")]
    DsnSent,
    #[serde(rename = "dsn.received")]
    DsnReceived,
    /// The timely-and-reliable tracker settled a recipient.
    #[serde(rename = "tracking.settled")]
    TrackingSettled,
}

/// An audit event. Optional fields are left out of the JSON line when empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// RFC 3339, UTC.
    pub time: String,
    pub event: EventKind,
    /// The acting component (AUD-08), for example `hisp.smtp-in` or `hisp.tracker`.
    pub principal: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_recipient: Option<String>,
    /// SHA-256 of the signed content, hex (AUD-10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// RFC 3339 in UTC; the Unix time for a date RFC 3339 cannot hold.
pub fn rfc3339(time: OffsetDateTime) -> String {
    let utc = time.to_offset(time::UtcOffset::UTC);
    utc.format(&Rfc3339)
        .unwrap_or_else(|_| utc.unix_timestamp().to_string())
}

impl AuditEvent {
    pub fn new(event: EventKind, time: OffsetDateTime, principal: &str) -> Self {
        AuditEvent {
            time: rfc3339(time),
            event,
            principal: principal.to_string(),
            message_id: None,
            from: None,
            to: Vec::new(),
            outcome: None,
            reason: None,
            disposition: None,
            original_message_id: None,
            final_recipient: None,
            digest: None,
        }
    }

    pub fn message_id(mut self, v: impl Into<String>) -> Self {
        self.message_id = Some(v.into());
        self
    }

    pub fn from(mut self, v: impl Into<String>) -> Self {
        self.from = Some(v.into());
        self
    }

    pub fn to<I: IntoIterator<Item = S>, S: Into<String>>(mut self, v: I) -> Self {
        self.to = v.into_iter().map(Into::into).collect();
        self
    }

    pub fn outcome(mut self, v: impl Into<String>) -> Self {
        self.outcome = Some(v.into());
        self
    }

    pub fn reason(mut self, v: impl Into<String>) -> Self {
        self.reason = Some(v.into());
        self
    }

    pub fn disposition(mut self, v: impl Into<String>) -> Self {
        self.disposition = Some(v.into());
        self
    }

    pub fn original_message_id(mut self, v: impl Into<String>) -> Self {
        self.original_message_id = Some(v.into());
        self
    }

    pub fn final_recipient(mut self, v: impl Into<String>) -> Self {
        self.final_recipient = Some(v.into());
        self
    }

    pub fn digest(mut self, v: impl Into<String>) -> Self {
        self.digest = Some(v.into());
        self
    }
}
