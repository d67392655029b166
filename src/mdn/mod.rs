//! MDNs (RFC 3798/8098) and DSNs (RFC 3464) as Direct uses them: building the notices a HISP
//! sends (`build`), reading the ones it receives (`parse`), and the sending HISP's
//! timely-and-reliable tracking of each message per recipient (`tracker`).
//!
//! Field grammars are shared with the validator (`validate::grammar`, `validate::checks::
//! report`), so that the HISP reads notifications the way the validator judges them.

pub mod build;
pub mod disposition;
pub mod error;
pub mod parse;
pub mod tracker;

pub use build::{
    DsnRecipientSpec, DsnSpec, MdnSpec, OriginalMessage, STATUS_BAD_MAILBOX, STATUS_SECURITY,
    STATUS_TIMEOUT, build_dsn, build_mdn, new_message_id,
};
pub use disposition::{ActionMode, Disposition, DispositionKind, SendingMode};
pub use error::MdnError;
pub use parse::{
    DsnAction, DsnRecipient, DsnReport, FINAL_DELIVERY_FIELD, MdnReport, Notification, StatusCode,
    is_notification, normalise_message_id, parse_notification, requests_dispatched,
};
pub use tracker::{Event, IgnoreReason, Outcome, Stage, Tracker, TrackerConfig, TrackerError};
