//! The sending HISP's timely-and-reliable tracker (MDN-14 … MDN-21): a pure state machine,
//! no I/O, the time always given by the caller.
//!
//! Each message is tracked per recipient. With timely and reliable requested, a recipient is
//! settled by processed plus dispatched (in either order); without it, by processed (or a
//! dispatched, which implies it). A failure notice (a `failed` MDN, the legacy `error` and
//! `denied`, or a DSN block with `Action: failed`) settles it at once (MDN-21). A recipient
//! still open at its deadline times out, and the message yields one `SendFailureDsn` per
//! recipient domain, naming the recipients there that timed out together (MDN-16, MDN-17). After a recipient has settled,
//! every later notice for it is `Ignored` (MDN-18), so nothing reaches the edge twice.
//! Displayed and deleted MDNs (read receipts) are no delivery notices: they are `NotTracked`
//! before and after settlement, never `AlreadySettled`, so that the HISP passes them on.
//!
//! Deadlines: the processed deadline (sent + `processed_timeout`) fails a recipient from whom
//! nothing came; with the request, the dispatched deadline (sent + `dispatched_timeout`)
//! fails one that is still not settled. A timeout is never issued before its deadline
//! (MDN-19), and `on_notification` applies due deadlines before it reads the notice, so a
//! dispatched MDN that arrives after the deadline is ignored even if no tick ran (MT28).

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use crate::mdn::disposition::DispositionKind;
use crate::mdn::parse::{DsnAction, Notification, normalise_message_id};

/// Deadlines and policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackerConfig {
    pub processed_timeout: Duration,
    pub dispatched_timeout: Duration,
    /// With the request, count a dispatched MDN only if it carries
    /// `X-DIRECT-FINAL-DESTINATION-DELIVERY` (MDN-14: "dispatched-with-extension").
    pub require_final_delivery_field: bool,
    /// How long a fully settled message is remembered (to name late notices as such).
    pub retention: Duration,
}

impl Default for TrackerConfig {
    /// The Java RI's field defaults: an hour each (REQUIREMENTS §12.20).
    fn default() -> Self {
        TrackerConfig {
            processed_timeout: Duration::hours(1),
            dispatched_timeout: Duration::hours(1),
            require_final_delivery_field: true,
            retention: Duration::hours(24),
        }
    }
}

/// Which notice a timed-out recipient still lacked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Processed,
    Dispatched,
}

/// How a recipient settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Processed and dispatched (the final destination was reached).
    Delivered,
    /// Processed, without a timely-and-reliable request.
    Processed,
    /// A failure notice from the destination, or a delivery failure the HISP reported.
    Failed { reason: String },
    /// The deadline passed without the notice named.
    TimedOut { missing: Stage },
}

impl Outcome {
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Delivered | Outcome::Processed)
    }
}

/// Why a notice changed nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IgnoreReason {
    /// No tracked message has this Message-ID (never sent, or forgotten after retention).
    UnknownMessage { message_id: String },
    /// The notice names a recipient the message was not sent to.
    UnknownRecipient {
        message_id: String,
        recipient: String,
    },
    /// The recipient has settled already (late or duplicate notice, MDN-18).
    AlreadySettled {
        message_id: String,
        recipient: String,
    },
    /// The same notice again before the recipient settled.
    Duplicate {
        message_id: String,
        recipient: String,
        stage: Stage,
    },
    /// A DSN that carries no original Message-ID.
    NoOriginalMessageId,
    /// A DSN block whose action is not `failed` (delayed, delivered, relayed …).
    NotFinal {
        message_id: String,
        recipient: String,
        action: String,
    },
    /// A dispatched MDN without the extension field when the request was made.
    DispatchedWithoutExtension {
        message_id: String,
        recipient: String,
    },
    /// A disposition that says nothing about delivery (displayed, deleted).
    NotTracked {
        message_id: String,
        recipient: String,
        kind: DispositionKind,
    },
}

/// What the HISP has to do (or may record).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A notice advanced a recipient without settling it (processed while dispatched is
    /// awaited); the HISP may keep it from the edge (MDN-20).
    Progress {
        message_id: String,
        recipient: String,
        stage: Stage,
    },
    /// A recipient reached its final state; success or failure goes to the edge once.
    Settled {
        message_id: String,
        recipient: String,
        outcome: Outcome,
    },
    /// Send one failure DSN to the sender's edge for these recipients, all in one domain
    /// (timeouts and failures the HISP itself found).
    SendFailureDsn {
        message_id: String,
        recipients: Vec<String>,
    },
    Ignored {
        reason: IgnoreReason,
    },
}

/// Why `send` refused a message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrackerError {
    #[error("{0:?} is not a message identifier")]
    BadMessageId(String),
    #[error("message {0} is tracked already")]
    AlreadyTracked(String),
    #[error("message {0} has no recipients to track")]
    NoRecipients(String),
}

#[derive(Clone, Debug)]
struct RecipientState {
    address: String,
    processed: bool,
    dispatched: bool,
    settled: bool,
}

#[derive(Clone, Debug)]
struct Tracked {
    requested: bool,
    processed_deadline: OffsetDateTime,
    dispatched_deadline: OffsetDateTime,
    recipients: Vec<RecipientState>,
    /// When the last recipient settled.
    settled_at: Option<OffsetDateTime>,
}

/// The tracker. Messages are keyed by normalised Message-ID; events come out in a
/// deterministic order (by Message-ID, then recipient order).
#[derive(Clone, Debug, Default)]
pub struct Tracker {
    config: TrackerConfig,
    messages: BTreeMap<String, Tracked>,
}

impl Tracker {
    pub fn new(config: TrackerConfig) -> Self {
        Tracker {
            config,
            messages: BTreeMap::new(),
        }
    }

    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// Starts tracking a message sent at `now` to `recipients` (duplicates folded).
    pub fn send(
        &mut self,
        message_id: &str,
        recipients: &[String],
        requested_dispatched: bool,
        now: OffsetDateTime,
    ) -> Result<(), TrackerError> {
        let id = normalise_message_id(message_id)
            .ok_or_else(|| TrackerError::BadMessageId(message_id.to_string()))?;
        if self.messages.contains_key(&id) {
            return Err(TrackerError::AlreadyTracked(id));
        }
        let mut states: Vec<RecipientState> = Vec::new();
        for r in recipients {
            let r = r.trim();
            if !r.is_empty() && !states.iter().any(|s| s.address.eq_ignore_ascii_case(r)) {
                states.push(RecipientState {
                    address: r.to_string(),
                    processed: false,
                    dispatched: false,
                    settled: false,
                });
            }
        }
        if states.is_empty() {
            return Err(TrackerError::NoRecipients(id));
        }
        self.messages.insert(
            id,
            Tracked {
                requested: requested_dispatched,
                processed_deadline: now + self.config.processed_timeout,
                dispatched_deadline: now + self.config.dispatched_timeout,
                recipients: states,
                settled_at: None,
            },
        );
        Ok(())
    }

    /// A failure the HISP found itself after `send` (for example a 550 at RCPT): settles the
    /// recipient and asks for a DSN to the edge.
    pub fn on_delivery_failure(
        &mut self,
        message_id: &str,
        recipient: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Vec<Event> {
        let mut events = self.on_tick(now);
        match self.open_state(message_id, recipient) {
            Err(reason) => events.push(Event::Ignored { reason }),
            Ok((id, t, index)) => {
                settle(t, index, now);
                let address = t.recipients[index].address.clone();
                events.push(Event::Settled {
                    message_id: id.clone(),
                    recipient: address.clone(),
                    outcome: Outcome::Failed {
                        reason: reason.to_string(),
                    },
                });
                events.push(Event::SendFailureDsn {
                    message_id: id,
                    recipients: vec![address],
                });
            }
        }
        events
    }

    /// Applies a received notification at `now` (due deadlines first).
    pub fn on_notification(
        &mut self,
        notification: &Notification,
        now: OffsetDateTime,
    ) -> Vec<Event> {
        let mut events = self.on_tick(now);
        match notification {
            Notification::Mdn(m) => {
                let id = m.original_message_id.as_str();
                let recipient = m.final_recipient.as_str();
                let d = &m.disposition;
                if d.is_failure() {
                    let reason = m
                        .failure
                        .clone()
                        .or_else(|| m.error.clone())
                        .unwrap_or_else(|| format!("disposition {d}"));
                    self.settle_one(id, recipient, Outcome::Failed { reason }, now, &mut events);
                    return events;
                }
                let stage = match d.kind {
                    DispositionKind::Processed => Stage::Processed,
                    DispositionKind::Dispatched => Stage::Dispatched,
                    kind => {
                        let reason = match self.lookup(id, recipient) {
                            Ok((message_id, recipient)) => IgnoreReason::NotTracked {
                                message_id,
                                recipient,
                                kind,
                            },
                            Err(reason) => reason,
                        };
                        events.push(Event::Ignored { reason });
                        return events;
                    }
                };
                self.advance(id, recipient, stage, m.final_delivery, now, &mut events);
            }
            Notification::Dsn(d) => {
                let Some(id) = d.original_message_id.as_deref() else {
                    events.push(Event::Ignored {
                        reason: IgnoreReason::NoOriginalMessageId,
                    });
                    return events;
                };
                for r in &d.per_recipient {
                    if r.action == DsnAction::Failed {
                        let mut reason = r
                            .status
                            .map(|s| format!("status {s}"))
                            .unwrap_or_else(|| "failed".into());
                        if let Some(diag) = &r.diagnostic {
                            reason.push_str(&format!(" ({diag})"));
                        }
                        self.settle_one(
                            id,
                            &r.final_recipient,
                            Outcome::Failed { reason },
                            now,
                            &mut events,
                        );
                    } else {
                        let reason = match self.lookup(id, &r.final_recipient) {
                            Ok((message_id, recipient)) => IgnoreReason::NotFinal {
                                message_id,
                                recipient,
                                action: format!("{:?}", r.action).to_ascii_lowercase(),
                            },
                            Err(reason) => reason,
                        };
                        events.push(Event::Ignored { reason });
                    }
                }
            }
        }
        events
    }

    /// Applies every deadline that is due at `now` and forgets messages settled longer than
    /// the retention.
    pub fn on_tick(&mut self, now: OffsetDateTime) -> Vec<Event> {
        let mut events = Vec::new();
        for (id, t) in self.messages.iter_mut() {
            if t.settled_at.is_some() {
                continue;
            }
            let mut timed_out = Vec::new();
            for r in t.recipients.iter_mut().filter(|r| !r.settled) {
                let missing = if !r.processed && !r.dispatched && now >= t.processed_deadline {
                    Some(Stage::Processed)
                } else if t.requested && now >= t.dispatched_deadline {
                    Some(if r.processed {
                        Stage::Dispatched
                    } else {
                        Stage::Processed
                    })
                } else {
                    None
                };
                if let Some(missing) = missing {
                    r.settled = true;
                    events.push(Event::Settled {
                        message_id: id.clone(),
                        recipient: r.address.clone(),
                        outcome: Outcome::TimedOut { missing },
                    });
                    timed_out.push(r.address.clone());
                }
            }
            // One DSN per failed recipient domain (MDN-17), in recipient order.
            let mut by_domain: Vec<(String, Vec<String>)> = Vec::new();
            for address in timed_out {
                let domain = address
                    .rsplit_once('@')
                    .map(|(_, d)| d.to_ascii_lowercase())
                    .unwrap_or_default();
                match by_domain.iter_mut().find(|(d, _)| *d == domain) {
                    Some((_, list)) => list.push(address),
                    None => by_domain.push((domain, vec![address])),
                }
            }
            for (_, recipients) in by_domain {
                events.push(Event::SendFailureDsn {
                    message_id: id.clone(),
                    recipients,
                });
            }
            if t.recipients.iter().all(|r| r.settled) {
                t.settled_at = Some(now);
            }
        }
        let retention = self.config.retention;
        self.messages
            .retain(|_, t| t.settled_at.is_none_or(|at| now < at + retention));
        events
    }

    /// The earliest pending deadline, for the HISP to sleep until.
    pub fn next_deadline(&self) -> Option<OffsetDateTime> {
        self.messages
            .values()
            .filter(|t| t.settled_at.is_none())
            .flat_map(|t| {
                t.recipients.iter().filter(|r| !r.settled).filter_map(|r| {
                    if !r.processed && !r.dispatched {
                        Some(if t.requested {
                            t.processed_deadline.min(t.dispatched_deadline)
                        } else {
                            t.processed_deadline
                        })
                    } else if t.requested {
                        Some(t.dispatched_deadline)
                    } else {
                        None
                    }
                })
            })
            .min()
    }

    /// Recipients not yet settled, over all messages.
    pub fn open_recipients(&self) -> usize {
        self.messages
            .values()
            .map(|t| t.recipients.iter().filter(|r| !r.settled).count())
            .sum()
    }

    /// The tracked message and recipient (normalised spellings), or why there is none.
    fn lookup(&self, message_id: &str, recipient: &str) -> Result<(String, String), IgnoreReason> {
        let id = normalise_message_id(message_id).unwrap_or_else(|| message_id.to_string());
        let Some(t) = self.messages.get(&id) else {
            return Err(IgnoreReason::UnknownMessage { message_id: id });
        };
        match t
            .recipients
            .iter()
            .find(|r| r.address.eq_ignore_ascii_case(recipient.trim()))
        {
            Some(r) => Ok((id, r.address.clone())),
            None => Err(IgnoreReason::UnknownRecipient {
                message_id: id,
                recipient: recipient.to_string(),
            }),
        }
    }

    /// The open state of a recipient, or the Ignored reason.
    fn open_state(
        &mut self,
        message_id: &str,
        recipient: &str,
    ) -> Result<(String, &mut Tracked, usize), IgnoreReason> {
        let (id, address) = self.lookup(message_id, recipient)?;
        let Some(t) = self.messages.get_mut(&id) else {
            return Err(IgnoreReason::UnknownMessage { message_id: id });
        };
        let Some(index) = t.recipients.iter().position(|r| r.address == address) else {
            return Err(IgnoreReason::UnknownRecipient {
                message_id: id,
                recipient: address,
            });
        };
        if t.recipients[index].settled {
            return Err(IgnoreReason::AlreadySettled {
                message_id: id,
                recipient: address,
            });
        }
        Ok((id, t, index))
    }

    fn settle_one(
        &mut self,
        message_id: &str,
        recipient: &str,
        outcome: Outcome,
        now: OffsetDateTime,
        events: &mut Vec<Event>,
    ) {
        match self.open_state(message_id, recipient) {
            Err(reason) => events.push(Event::Ignored { reason }),
            Ok((id, t, index)) => {
                settle(t, index, now);
                events.push(Event::Settled {
                    message_id: id,
                    recipient: t.recipients[index].address.clone(),
                    outcome,
                });
            }
        }
    }

    fn advance(
        &mut self,
        message_id: &str,
        recipient: &str,
        stage: Stage,
        final_delivery: bool,
        now: OffsetDateTime,
        events: &mut Vec<Event>,
    ) {
        let require_field = self.config.require_final_delivery_field;
        let (id, t, index) = match self.open_state(message_id, recipient) {
            Ok(found) => found,
            Err(reason) => {
                events.push(Event::Ignored { reason });
                return;
            }
        };
        let requested = t.requested;
        let r = &mut t.recipients[index];
        let address = r.address.clone();
        if stage == Stage::Dispatched && requested && require_field && !final_delivery {
            events.push(Event::Ignored {
                reason: IgnoreReason::DispatchedWithoutExtension {
                    message_id: id,
                    recipient: address,
                },
            });
            return;
        }
        let seen = match stage {
            Stage::Processed => &mut r.processed,
            Stage::Dispatched => &mut r.dispatched,
        };
        if *seen {
            events.push(Event::Ignored {
                reason: IgnoreReason::Duplicate {
                    message_id: id,
                    recipient: address,
                    stage,
                },
            });
            return;
        }
        *seen = true;
        let outcome = match (requested, r.processed, r.dispatched) {
            (false, _, true) | (true, true, true) => Some(Outcome::Delivered),
            (false, true, false) => Some(Outcome::Processed),
            _ => None,
        };
        match outcome {
            Some(outcome) => {
                settle(t, index, now);
                events.push(Event::Settled {
                    message_id: id,
                    recipient: address,
                    outcome,
                });
            }
            None => events.push(Event::Progress {
                message_id: id,
                recipient: address,
                stage,
            }),
        }
    }
}

fn settle(t: &mut Tracked, index: usize, now: OffsetDateTime) {
    if let Some(r) = t.recipients.get_mut(index) {
        r.settled = true;
    }
    if t.recipients.iter().all(|r| r.settled) {
        t.settled_at = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mdn::disposition::Disposition;
    use crate::mdn::parse::{DsnRecipient, DsnReport, MdnReport, StatusCode};

    const ID: &str = "<m1@hisp.direct.test>";
    const A: &str = "a@sut.direct.test";
    const B: &str = "b@sut.direct.test";

    fn t0() -> OffsetDateTime {
        time::macros::datetime!(2026-11-25 10:00 UTC)
    }

    fn secs(n: i64) -> OffsetDateTime {
        t0() + Duration::seconds(n)
    }

    /// Processed deadline at 100 s, dispatched deadline at 300 s.
    fn config() -> TrackerConfig {
        TrackerConfig {
            processed_timeout: Duration::seconds(100),
            dispatched_timeout: Duration::seconds(300),
            require_final_delivery_field: true,
            retention: Duration::seconds(1000),
        }
    }

    fn tracker(recipients: &[&str], requested: bool) -> Tracker {
        let mut t = Tracker::new(config());
        let r: Vec<String> = recipients.iter().map(|s| s.to_string()).collect();
        t.send(ID, &r, requested, t0()).expect("send");
        t
    }

    fn mdn(recipient: &str, kind: DispositionKind) -> Notification {
        Notification::Mdn(MdnReport {
            original_message_id: ID.into(),
            final_recipient: recipient.into(),
            original_recipient: None,
            reporting_ua: None,
            disposition: Disposition::automatic(kind),
            final_delivery: kind == DispositionKind::Dispatched,
            failure: None,
            error: None,
        })
    }

    fn dsn(blocks: &[(&str, DsnAction)]) -> Notification {
        Notification::Dsn(DsnReport {
            reporting_mta: None,
            original_message_id: Some(ID.into()),
            per_recipient: blocks
                .iter()
                .map(|(r, a)| DsnRecipient {
                    final_recipient: r.to_string(),
                    action: a.clone(),
                    status: Some(StatusCode::new(5, 1, 1)),
                    diagnostic: None,
                })
                .collect(),
        })
    }

    fn settled(recipient: &str, outcome: Outcome) -> Event {
        Event::Settled {
            message_id: ID.into(),
            recipient: recipient.into(),
            outcome,
        }
    }

    fn progress(recipient: &str, stage: Stage) -> Event {
        Event::Progress {
            message_id: ID.into(),
            recipient: recipient.into(),
            stage,
        }
    }

    fn dsn_for(recipients: &[&str]) -> Event {
        Event::SendFailureDsn {
            message_id: ID.into(),
            recipients: recipients.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn ignored(reason: IgnoreReason) -> Vec<Event> {
        vec![Event::Ignored { reason }]
    }

    fn already(recipient: &str) -> Vec<Event> {
        ignored(IgnoreReason::AlreadySettled {
            message_id: ID.into(),
            recipient: recipient.into(),
        })
    }

    fn failed(reason: &str) -> Outcome {
        Outcome::Failed {
            reason: reason.into(),
        }
    }

    #[test]
    fn requested_processed_then_dispatched_is_delivered() {
        let mut t = tracker(&[A], true);
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Processed), secs(1)),
            vec![progress(A, Stage::Processed)]
        );
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Dispatched), secs(2)),
            vec![settled(A, Outcome::Delivered)]
        );
        assert_eq!(t.on_tick(secs(10_000)), vec![]);
        assert_eq!(t.open_recipients(), 0);
    }

    #[test]
    fn requested_dispatched_before_processed_is_delivered() {
        let mut t = tracker(&[A], true);
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Dispatched), secs(1)),
            vec![progress(A, Stage::Dispatched)]
        );
        // A dispatched MDN shows the message was processed: no processed timeout.
        assert_eq!(t.on_tick(secs(150)), vec![]);
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Processed), secs(160)),
            vec![settled(A, Outcome::Delivered)]
        );
    }

    #[test]
    fn requested_dispatched_without_processed_times_out_at_the_dispatched_deadline() {
        let mut t = tracker(&[A], true);
        t.on_notification(&mdn(A, DispositionKind::Dispatched), secs(1));
        assert_eq!(t.on_tick(secs(299)), vec![]);
        assert_eq!(
            t.on_tick(secs(300)),
            vec![
                settled(
                    A,
                    Outcome::TimedOut {
                        missing: Stage::Processed
                    }
                ),
                dsn_for(&[A])
            ]
        );
    }

    #[test]
    fn not_requested_processed_settles() {
        let mut t = tracker(&[A], false);
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Processed), secs(1)),
            vec![settled(A, Outcome::Processed)]
        );
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Dispatched), secs(2)),
            already(A)
        );
    }

    #[test]
    fn not_requested_dispatched_alone_settles_as_delivered() {
        let mut t = tracker(&[A], false);
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Dispatched), secs(1)),
            vec![settled(A, Outcome::Delivered)]
        );
    }

    #[test]
    fn not_requested_silence_times_out_at_the_processed_deadline_and_never_before() {
        let mut t = tracker(&[A], false);
        assert_eq!(t.next_deadline(), Some(secs(100)));
        assert_eq!(t.on_tick(secs(99)), vec![]);
        assert_eq!(
            t.on_tick(secs(100)),
            vec![
                settled(
                    A,
                    Outcome::TimedOut {
                        missing: Stage::Processed
                    }
                ),
                dsn_for(&[A])
            ]
        );
        assert_eq!(t.on_tick(secs(101)), vec![], "one DSN only");
        assert_eq!(t.next_deadline(), None);
    }

    #[test]
    fn requested_silence_times_out_at_the_processed_deadline() {
        let mut t = tracker(&[A], true);
        assert_eq!(t.on_tick(secs(99)), vec![]);
        assert_eq!(
            t.on_tick(secs(100)),
            vec![
                settled(
                    A,
                    Outcome::TimedOut {
                        missing: Stage::Processed
                    }
                ),
                dsn_for(&[A])
            ]
        );
    }

    #[test]
    fn requested_processed_only_times_out_at_the_dispatched_deadline() {
        let mut t = tracker(&[A], true);
        t.on_notification(&mdn(A, DispositionKind::Processed), secs(1));
        assert_eq!(t.next_deadline(), Some(secs(300)));
        assert_eq!(t.on_tick(secs(100)), vec![]);
        assert_eq!(t.on_tick(secs(299)), vec![]);
        assert_eq!(
            t.on_tick(secs(300)),
            vec![
                settled(
                    A,
                    Outcome::TimedOut {
                        missing: Stage::Dispatched
                    }
                ),
                dsn_for(&[A])
            ]
        );
    }

    #[test]
    fn late_dispatched_after_the_deadline_is_ignored_even_without_a_tick() {
        let mut t = tracker(&[A], true);
        t.on_notification(&mdn(A, DispositionKind::Processed), secs(1));
        // MT28: the deadline passes while no tick runs; the late MDN still loses.
        let mut want = vec![
            settled(
                A,
                Outcome::TimedOut {
                    missing: Stage::Dispatched,
                },
            ),
            dsn_for(&[A]),
        ];
        want.extend(already(A));
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Dispatched), secs(400)),
            want
        );
    }

    #[test]
    fn failed_mdn_settles_at_once_in_every_spelling() {
        for kind in [
            DispositionKind::Failed,
            DispositionKind::Error,
            DispositionKind::Denied,
        ] {
            let mut t = tracker(&[A], true);
            let events = t.on_notification(&mdn(A, kind), secs(1));
            assert!(
                matches!(
                    &events[..],
                    [Event::Settled {
                        outcome: Outcome::Failed { .. },
                        ..
                    }]
                ),
                "{kind:?}: {events:?}"
            );
            assert_eq!(
                t.on_tick(secs(10_000)),
                vec![],
                "{kind:?}: no timeout after"
            );
        }
        // processed/error (a failure modifier) with a Failure field as the reason.
        let mut t = tracker(&[A], true);
        let Notification::Mdn(mut m) = mdn(A, DispositionKind::Processed) else {
            unreachable!()
        };
        m.disposition.modifiers.push("error".into());
        m.failure = Some("mailbox full".into());
        assert_eq!(
            t.on_notification(&Notification::Mdn(m), secs(1)),
            vec![settled(A, failed("mailbox full"))]
        );
    }

    #[test]
    fn processed_then_failed_settles_once_and_later_notices_are_ignored() {
        let mut t = tracker(&[A], true);
        t.on_notification(&mdn(A, DispositionKind::Processed), secs(1));
        let events = t.on_notification(&mdn(A, DispositionKind::Failed), secs(2));
        assert!(matches!(
            &events[..],
            [Event::Settled {
                outcome: Outcome::Failed { .. },
                ..
            }]
        ));
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Failed), secs(3)),
            already(A)
        );
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Dispatched), secs(4)),
            already(A)
        );
    }

    #[test]
    fn failure_after_the_timeout_adds_nothing() {
        let mut t = tracker(&[A], true);
        t.on_notification(&mdn(A, DispositionKind::Processed), secs(1));
        assert_eq!(t.on_tick(secs(300)).len(), 2);
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Failed), secs(301)),
            already(A)
        );
    }

    #[test]
    fn duplicates_are_reported_not_counted() {
        let mut t = tracker(&[A], true);
        t.on_notification(&mdn(A, DispositionKind::Processed), secs(1));
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Processed), secs(2)),
            ignored(IgnoreReason::Duplicate {
                message_id: ID.into(),
                recipient: A.into(),
                stage: Stage::Processed
            })
        );
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Dispatched), secs(3)),
            vec![settled(A, Outcome::Delivered)]
        );
        // MN8: the same dispatched MDN twice yields one positive notice.
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Dispatched), secs(4)),
            already(A)
        );
        let mut t = tracker(&[A], true);
        t.on_notification(&mdn(A, DispositionKind::Dispatched), secs(1));
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Dispatched), secs(2)),
            ignored(IgnoreReason::Duplicate {
                message_id: ID.into(),
                recipient: A.into(),
                stage: Stage::Dispatched
            })
        );
    }

    #[test]
    fn mixed_recipients_settle_separately_and_the_dsn_names_only_the_failed() {
        let mut t = tracker(&[A, B], true);
        t.on_notification(&mdn(A, DispositionKind::Processed), secs(1));
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Dispatched), secs(2)),
            vec![settled(A, Outcome::Delivered)]
        );
        assert_eq!(t.open_recipients(), 1);
        assert_eq!(
            t.on_tick(secs(100)),
            vec![
                settled(
                    B,
                    Outcome::TimedOut {
                        missing: Stage::Processed
                    }
                ),
                dsn_for(&[B])
            ]
        );
    }

    #[test]
    fn recipients_timing_out_together_share_one_dsn() {
        let mut t = tracker(&[A, B], false);
        assert_eq!(
            t.on_tick(secs(500)),
            vec![
                settled(
                    A,
                    Outcome::TimedOut {
                        missing: Stage::Processed
                    }
                ),
                settled(
                    B,
                    Outcome::TimedOut {
                        missing: Stage::Processed
                    }
                ),
                dsn_for(&[A, B])
            ]
        );
    }

    #[test]
    fn timeouts_in_different_domains_get_one_dsn_each() {
        const C: &str = "c@other.direct.test";
        let mut t = tracker(&[A, C, B], false);
        assert_eq!(
            t.on_tick(secs(100)),
            vec![
                settled(
                    A,
                    Outcome::TimedOut {
                        missing: Stage::Processed
                    }
                ),
                settled(
                    C,
                    Outcome::TimedOut {
                        missing: Stage::Processed
                    }
                ),
                settled(
                    B,
                    Outcome::TimedOut {
                        missing: Stage::Processed
                    }
                ),
                dsn_for(&[A, B]),
                dsn_for(&[C]),
            ]
        );
    }

    #[test]
    fn dsn_blocks_settle_failed_recipients_and_ignore_the_rest() {
        let mut t = tracker(&[A, B], true);
        let events = t.on_notification(
            &dsn(&[
                (A, DsnAction::Failed),
                (B, DsnAction::Delayed),
                ("c@x.test", DsnAction::Failed),
            ]),
            secs(1),
        );
        assert_eq!(
            events,
            vec![
                settled(A, failed("status 5.1.1")),
                Event::Ignored {
                    reason: IgnoreReason::NotFinal {
                        message_id: ID.into(),
                        recipient: B.into(),
                        action: "delayed".into()
                    }
                },
                Event::Ignored {
                    reason: IgnoreReason::UnknownRecipient {
                        message_id: ID.into(),
                        recipient: "c@x.test".into()
                    }
                },
            ]
        );
        let Notification::Dsn(mut d) = dsn(&[(B, DsnAction::Failed)]) else {
            unreachable!()
        };
        d.original_message_id = None;
        assert_eq!(
            t.on_notification(&Notification::Dsn(d), secs(2)),
            ignored(IgnoreReason::NoOriginalMessageId)
        );
    }

    #[test]
    fn unknown_messages_and_recipients_are_ignored() {
        let mut t = tracker(&[A], true);
        let Notification::Mdn(mut m) = mdn(A, DispositionKind::Processed) else {
            unreachable!()
        };
        m.original_message_id = "<other@x.test>".into();
        assert_eq!(
            t.on_notification(&Notification::Mdn(m), secs(1)),
            ignored(IgnoreReason::UnknownMessage {
                message_id: "<other@x.test>".into()
            })
        );
        assert_eq!(
            t.on_notification(
                &mdn("z@sut.direct.test", DispositionKind::Processed),
                secs(1)
            ),
            ignored(IgnoreReason::UnknownRecipient {
                message_id: ID.into(),
                recipient: "z@sut.direct.test".into()
            })
        );
    }

    #[test]
    fn recipient_case_and_message_id_brackets_do_not_matter() {
        let mut t = Tracker::new(config());
        t.send(
            "m1@hisp.direct.test",
            &[A.to_uppercase(), A.into()],
            false,
            t0(),
        )
        .unwrap();
        assert_eq!(t.open_recipients(), 1, "duplicates folded");
        let events = t.on_notification(&mdn(A, DispositionKind::Processed), secs(1));
        assert!(matches!(
            &events[..],
            [Event::Settled {
                outcome: Outcome::Processed,
                ..
            }]
        ));
    }

    #[test]
    fn dispatched_without_the_extension_field() {
        let Notification::Mdn(mut m) = mdn(A, DispositionKind::Dispatched) else {
            unreachable!()
        };
        m.final_delivery = false;
        let bare = Notification::Mdn(m);
        let mut t = tracker(&[A], true);
        t.on_notification(&mdn(A, DispositionKind::Processed), secs(1));
        assert_eq!(
            t.on_notification(&bare, secs(2)),
            ignored(IgnoreReason::DispatchedWithoutExtension {
                message_id: ID.into(),
                recipient: A.into()
            })
        );
        let mut lenient = Tracker::new(TrackerConfig {
            require_final_delivery_field: false,
            ..config()
        });
        lenient.send(ID, &[A.into()], true, t0()).unwrap();
        lenient.on_notification(&mdn(A, DispositionKind::Processed), secs(1));
        assert_eq!(
            lenient.on_notification(&bare, secs(2)),
            vec![settled(A, Outcome::Delivered)]
        );
        // Without the request the field is not needed.
        let mut plain = tracker(&[A], false);
        assert_eq!(
            plain.on_notification(&bare, secs(1)),
            vec![settled(A, Outcome::Delivered)]
        );
    }

    #[test]
    fn displayed_and_deleted_change_nothing() {
        let mut t = tracker(&[A], true);
        for kind in [DispositionKind::Displayed, DispositionKind::Deleted] {
            assert_eq!(
                t.on_notification(&mdn(A, kind), secs(1)),
                ignored(IgnoreReason::NotTracked {
                    message_id: ID.into(),
                    recipient: A.into(),
                    kind
                })
            );
        }
        assert_eq!(t.open_recipients(), 1);
    }

    #[test]
    fn a_read_receipt_after_settlement_is_not_a_late_notice() {
        // MN16: displayed is no delivery notice; MDN-18's suppression must not catch it,
        // whether the recipient settled by its notices or by a timeout.
        let displayed =
            |t: &mut Tracker, at| t.on_notification(&mdn(A, DispositionKind::Displayed), at);
        let not_tracked = ignored(IgnoreReason::NotTracked {
            message_id: ID.into(),
            recipient: A.into(),
            kind: DispositionKind::Displayed,
        });
        let mut t = tracker(&[A], false);
        t.on_notification(&mdn(A, DispositionKind::Processed), secs(1));
        assert_eq!(t.open_recipients(), 0);
        assert_eq!(displayed(&mut t, secs(2)), not_tracked);
        assert_eq!(
            displayed(&mut t, secs(3)),
            not_tracked,
            "twice is no duplicate"
        );
        let mut t = tracker(&[A], true);
        assert_eq!(t.on_tick(secs(100)).len(), 2);
        assert_eq!(displayed(&mut t, secs(101)), not_tracked);
        // A delivery notice at the same moment is still suppressed.
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Dispatched), secs(102)),
            already(A)
        );
    }

    #[test]
    fn local_delivery_failure_settles_and_asks_for_a_dsn() {
        let mut t = tracker(&[A, B], true);
        assert_eq!(
            t.on_delivery_failure(ID, B, "550 5.1.1 no such user", secs(1)),
            vec![settled(B, failed("550 5.1.1 no such user")), dsn_for(&[B])]
        );
        assert_eq!(t.on_delivery_failure(ID, B, "again", secs(2)), already(B));
    }

    #[test]
    fn settled_messages_are_forgotten_after_the_retention() {
        let mut t = tracker(&[A], false);
        t.on_notification(&mdn(A, DispositionKind::Processed), secs(1));
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Processed), secs(500)),
            already(A)
        );
        assert_eq!(t.on_tick(secs(1001)), vec![]);
        assert_eq!(
            t.on_notification(&mdn(A, DispositionKind::Processed), secs(1002)),
            ignored(IgnoreReason::UnknownMessage {
                message_id: ID.into()
            })
        );
    }

    #[test]
    fn send_refuses_bad_input() {
        let mut t = tracker(&[A], true);
        assert_eq!(
            t.send(ID, &[A.into()], true, t0()),
            Err(TrackerError::AlreadyTracked(ID.into()))
        );
        assert!(matches!(
            t.send("<m2@x>", &[" ".into()], true, t0()),
            Err(TrackerError::NoRecipients(_))
        ));
        assert!(matches!(
            t.send("not an id", &[A.into()], true, t0()),
            Err(TrackerError::BadMessageId(_))
        ));
    }
}
