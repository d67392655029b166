//! Typed errors of the S/MIME core. Every failure on outside data ends here, never in a panic.

use const_oid::ObjectIdentifier;

#[derive(Debug, thiserror::Error)]
pub enum SmimeError {
    #[error("malformed DER/BER: {0}")]
    Asn1(String),
    #[error("not a CMS {expected} (content type {found})")]
    WrongContentType {
        expected: &'static str,
        found: ObjectIdentifier,
    },
    #[error("unsupported digest algorithm {0}")]
    UnsupportedDigest(ObjectIdentifier),
    #[error("unsupported content-encryption algorithm {0}")]
    UnsupportedCipher(ObjectIdentifier),
    #[error("unsupported key-transport algorithm {0}")]
    UnsupportedKeyTransport(ObjectIdentifier),
    #[error("unsupported signature algorithm {0}")]
    UnsupportedSignature(ObjectIdentifier),
    #[error("no RecipientInfo is addressed to the given certificate or key")]
    NoMatchingRecipient,
    #[error("the content-encryption key could not be recovered with the given key")]
    KeyTransportFailed,
    #[error("content decryption failed: {0}")]
    ContentDecryption(String),
    #[error("the signer's certificate is not among the SignedData certificates")]
    SignerCertificateMissing,
    #[error("signature does not verify: {0}")]
    BadSignature(String),
    #[error("messageDigest attribute does not match the content digest")]
    DigestMismatch,
    #[error("signed attributes lack {0}")]
    MissingSignedAttribute(&'static str),
    #[error("key and algorithm do not fit: {0}")]
    KeyMismatch(String),
    #[error("MIME: {0}")]
    Mime(String),
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("encryption failed: {0}")]
    Encrypt(String),
    #[error("no recipients given")]
    NoRecipients,
}

impl From<der::Error> for SmimeError {
    fn from(e: der::Error) -> Self {
        SmimeError::Asn1(e.to_string())
    }
}
