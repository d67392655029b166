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

impl AuditEvent {
    /// `mdn.received` or `dsn.received` for a notification the HISP read (AUD-06): the
    /// disposition, Original-Message-ID and Final-Recipient of an MDN; for a DSN, the
    /// recipients it names and their actions.
    pub fn notification_received(
        n: &crate::mdn::Notification,
        time: OffsetDateTime,
        principal: &str,
    ) -> Self {
        use crate::mdn::Notification;
        match n {
            Notification::Mdn(m) => AuditEvent::new(EventKind::MdnReceived, time, principal)
                .disposition(m.disposition.to_string())
                .original_message_id(m.original_message_id.clone())
                .final_recipient(m.final_recipient.clone()),
            Notification::Dsn(d) => {
                let mut e = AuditEvent::new(EventKind::DsnReceived, time, principal)
                    .to(d.per_recipient.iter().map(|r| r.final_recipient.clone()))
                    .outcome(
                        d.per_recipient
                            .iter()
                            .map(|r| {
                                let status = r.status.map(|s| s.to_string()).unwrap_or_default();
                                format!("{}: {:?} {status}", r.final_recipient, r.action)
                            })
                            .collect::<Vec<_>>()
                            .join("; "),
                    );
                e.original_message_id = d.original_message_id.clone();
                e
            }
        }
    }

    /// `tracking.settled` for a tracker event that settles a recipient; None for the others
    /// (the HISP records `dsn.sent` when it sends the DSN a `SendFailureDsn` asks for).
    pub fn tracker_event(
        event: &crate::mdn::Event,
        time: OffsetDateTime,
        principal: &str,
    ) -> Option<Self> {
        use crate::mdn::{Event, Outcome};
        let Event::Settled {
            message_id,
            recipient,
            outcome,
        } = event
        else {
            return None;
        };
        let (text, reason) = match outcome {
            Outcome::Delivered => ("delivered", None),
            Outcome::Processed => ("processed", None),
            Outcome::Failed { reason } => ("failed", Some(reason.clone())),
            Outcome::TimedOut { missing } => (
                "timed-out",
                Some(format!("no {missing:?} MDN by the deadline").to_lowercase()),
            ),
        };
        let mut e = AuditEvent::new(EventKind::TrackingSettled, time, principal)
            .message_id(message_id.clone())
            .final_recipient(recipient.clone())
            .outcome(text);
        e.reason = reason;
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mdn::{
        Disposition, DispositionKind, Event, MdnReport, Notification, Outcome, Stage,
    };

    fn t() -> OffsetDateTime {
        time::macros::datetime!(2026-11-25 10:00 UTC)
    }

    #[test]
    fn notification_and_tracker_events_carry_their_fields() {
        let n = Notification::Mdn(MdnReport {
            original_message_id: "<1@h.test>".into(),
            final_recipient: "bob@s.test".into(),
            original_recipient: None,
            reporting_ua: None,
            disposition: Disposition::automatic(DispositionKind::Processed),
            final_delivery: false,
            failure: None,
            error: None,
        });
        let e = AuditEvent::notification_received(&n, t(), "hisp");
        assert_eq!(e.event, EventKind::MdnReceived);
        assert_eq!(e.original_message_id.as_deref(), Some("<1@h.test>"));
        assert_eq!(e.final_recipient.as_deref(), Some("bob@s.test"));
        assert_eq!(
            e.disposition.as_deref(),
            Some("automatic-action/MDN-sent-automatically; processed")
        );
        let settled = Event::Settled {
            message_id: "<1@h.test>".into(),
            recipient: "bob@s.test".into(),
            outcome: Outcome::TimedOut {
                missing: Stage::Dispatched,
            },
        };
        let e = AuditEvent::tracker_event(&settled, t(), "hisp.tracker").expect("settled");
        assert_eq!(e.outcome.as_deref(), Some("timed-out"));
        assert_eq!(
            e.reason.as_deref(),
            Some("no dispatched mdn by the deadline")
        );
        let progress = Event::Progress {
            message_id: "<1@h.test>".into(),
            recipient: "bob@s.test".into(),
            stage: Stage::Processed,
        };
        assert!(AuditEvent::tracker_event(&progress, t(), "hisp").is_none());
        let json = serde_json::to_string(&AuditEvent::new(EventKind::DsnSent, t(), "x")).unwrap();
        assert_eq!(
            json,
            r#"{"time":"2026-11-25T10:00:00Z","event":"dsn.sent","principal":"x"}"#
        );
    }
}
