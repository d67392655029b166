//! The S/MIME core: CMS SignedData, EnvelopedData and AuthEnvelopedData (RFC 5652, 5083,
//! 5084) as Direct uses them, MIME canonicalisation, multipart/signed and
//! application/pkcs7-mime entities (RFC 5751), and wrapping a whole message as message/rfc822.

pub mod algorithms;
pub mod ber;
pub mod canonical;
pub mod decrypt;
pub mod encrypt;
pub mod entity;
pub mod error;
pub mod identity;
pub mod message;
pub mod oaep;
pub mod sign;
pub mod symmetric;
pub mod verify;
pub mod wrap;

pub use algorithms::{ContentCipher, DigestAlgorithm, KeyTransport};

pub use error::SmimeError;

pub use decrypt::{Decrypted, EnvelopeInfo, RecipientSummary, decrypt, inspect_envelope};
pub use encrypt::{EncryptOptions, RecipientNaming, encrypt};
pub use message::{OpenedMessage, SealOptions, open, seal};
pub use sign::{SignOptions, sign_detached};
pub use verify::{SignatureReport, SignerReport, verify_attached, verify_detached};
