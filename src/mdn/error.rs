//! Typed errors of the MDN/DSN library: what is missing or malformed, never a panic.

/// Why a notification could not be parsed or built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MdnError {
    /// The message holds no disposition-notification or delivery-status report.
    #[error("not a notification: {0}")]
    NotANotification(String),
    /// A required report field is absent.
    #[error("the report has no {0} field")]
    MissingField(&'static str),
    /// A report field does not match its grammar.
    #[error("{field}: {reason}")]
    BadField { field: &'static str, reason: String },
    /// A DSN without any per-recipient block.
    #[error("the delivery-status report has no per-recipient block")]
    NoRecipients,
    /// The original message lacks what an answer needs (Message-ID, an address to answer).
    #[error("the original message cannot be answered: {0}")]
    Original(String),
    /// A value given to a builder cannot be written into a 7-bit report (CR, LF, non-ASCII).
    #[error("cannot build the notification: {0}")]
    Build(String),
}
