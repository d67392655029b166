//! The reference validator (TEST-CATALOGUE §f): decodes a captured Direct message, decrypts it
//! when given the recipient key, walks every MIME layer and runs the numbered checks VC-1xx …
//! VC-8xx, each a small function that returns findings. A check that cannot run says so (not
//! evaluated); it never passes by default.

pub mod catalogue;
pub mod checks;
pub mod command;
pub mod correlation;
pub mod engine;
pub mod error;
pub mod finding;
pub mod grammar;
pub mod message;
pub mod options;
pub mod output;

pub use catalogue::{CATALOGUE, CheckInfo};
pub use command::{Outcome, ValidateArgs, run, run_with_colour};
pub use correlation::Correlation;
pub use engine::{Findings, MessageReport, validate_message, validate_owned};
pub use error::ValidateError;
pub use finding::{Finding, Profile, Severity, Status};
pub use message::MessageUnderValidation;
pub use options::ValidationOptions;
