//! A whole Direct message: seal (wrap, canonicalise, sign, encrypt, outer header set) and open
//! (decrypt, split, verify, unwrap). Policy (which algorithms, which anchors) is the caller's.

use x509_cert::Certificate;

use crate::keys::PrivateKey;
use crate::smime::canonical::{is_crlf, to_crlf};
use crate::smime::decrypt::{Decrypted, decrypt};
use crate::smime::encrypt::{EncryptOptions, encrypt};
use crate::smime::entity::{
    MediaType, base64_lines, decode_base64, enveloped_headers, header_fields, media_type,
    multipart_signed, split_header_body, split_signed,
};
use crate::smime::error::SmimeError;
use crate::smime::sign::{SignOptions, sign_detached};
use crate::smime::verify::{SignatureReport, verify_attached, verify_detached};
use crate::smime::wrap::{mime_entity, unwrap, wrap};

/// The header fields repeated on the outer (encrypted) message (MSG-12). Subject is optional.
const OUTER_FIELDS: &[&str] = &[
    "from",
    "to",
    "cc",
    "date",
    "message-id",
    "mime-version",
    "reply-to",
    "in-reply-to",
    "references",
    "disposition-notification-to",
    "disposition-notification-options",
];

#[derive(Clone, Debug)]
pub struct SealOptions {
    pub sign: SignOptions,
    pub encrypt: EncryptOptions,
    /// Wrap the whole message as message/rfc822 (the default, MSG-08/09).
    pub wrap: bool,
    /// Repeat the Subject on the outer header.
    pub outer_subject: bool,
}

impl Default for SealOptions {
    fn default() -> Self {
        SealOptions {
            sign: SignOptions::default(),
            encrypt: EncryptOptions::default(),
            wrap: true,
            outer_subject: true,
        }
    }
}

/// Turns an RFC 5322 message into a Direct message: signed by `signer`, encrypted to every
/// certificate in `recipients`.
pub fn seal(
    message: &[u8],
    signer_cert: &Certificate,
    signer_key: &PrivateKey,
    recipients: &[Certificate],
    options: &SealOptions,
) -> Result<Vec<u8>, SmimeError> {
    let message = to_crlf(message);
    let content = if options.wrap {
        wrap(&message)
    } else {
        mime_entity(&message)
    };
    let signature = sign_detached(&content, signer_cert, signer_key, &options.sign)?;
    let signed = multipart_signed(&content, &signature, options.sign.digest.micalg());
    let envelope = encrypt(&signed, recipients, &options.encrypt)?;

    let mut out = header_fields(&message, |n| {
        let n = n.to_ascii_lowercase();
        OUTER_FIELDS.contains(&n.as_str()) || (options.outer_subject && n == "subject")
    });
    if media_type_missing_version(&out) {
        out.extend_from_slice(b"MIME-Version: 1.0\r\n");
    }
    out.extend_from_slice(enveloped_headers(options.encrypt.cipher.is_authenticated()).as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&base64_lines(&envelope));
    Ok(out)
}

fn media_type_missing_version(header: &[u8]) -> bool {
    !String::from_utf8_lossy(header)
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("mime-version:"))
}

/// A Direct message taken apart.
#[derive(Debug)]
pub struct OpenedMessage {
    pub outer_media_type: MediaType,
    pub decrypted: Decrypted,
    /// The signed layer's media type (multipart/signed, or application/pkcs7-mime when opaque).
    pub signed_media_type: MediaType,
    pub signature: SignatureReport,
    /// What the signature covers: the first part of the multipart/signed, byte for byte.
    pub signed_content: Vec<u8>,
    pub micalg: Option<crate::smime::DigestAlgorithm>,
    pub wrapped: bool,
    /// The decrypted entity had bare LF or CR line ends and was canonicalised before
    /// verification (a finding for the validator, MSG-07).
    pub line_ends_canonicalised: bool,
    /// The message to deliver: the inner message when wrapped; otherwise the outer header
    /// with the signed entity as its body.
    pub message: Vec<u8>,
}

impl OpenedMessage {
    /// The certificate of the first signer whose signature verified.
    pub fn signer(&self) -> Option<&Certificate> {
        self.signature
            .verified_signer()
            .and_then(|s| s.certificate.as_ref())
    }
}

/// Opens a Direct message with a recipient key (and, optionally, the certificate that picks
/// the RecipientInfo). A bad signature is reported in `signature`, not as an error; a message
/// that cannot be decrypted or is not S/MIME is an error.
pub fn open(
    raw: &[u8],
    key: &PrivateKey,
    cert: Option<&Certificate>,
) -> Result<OpenedMessage, SmimeError> {
    let outer_media_type = media_type(raw);
    let is_pkcs7_mime = outer_media_type.is("application", "pkcs7-mime")
        || outer_media_type.is("application", "x-pkcs7-mime");
    if !is_pkcs7_mime {
        return Err(SmimeError::Mime(format!(
            "outer content type is {}, not application/pkcs7-mime",
            outer_media_type.essence()
        )));
    }
    let (_, body) = split_header_body(raw);
    let envelope = decode_base64(body)?;
    let decrypted = decrypt(&envelope, key, cert)?;
    // The signed entity should be canonical already (MSG-07). Senders that store and encrypt
    // with bare LF (OpenSSL without -crlfeol) signed the CRLF form, which SMTP would have
    // produced: verify that form, and say that we had to.
    let line_ends_canonicalised = !is_crlf(&decrypted.content);
    let canonical = to_crlf(&decrypted.content);
    let inner = &canonical;
    let signed_media_type = media_type(inner);

    let (signature, signed_content, micalg) = if signed_media_type.is("multipart", "signed") {
        let parts = split_signed(inner)?;
        let (_, sig_body) = split_header_body(parts.signature_entity);
        let sig = decode_base64(sig_body)?;
        (
            verify_detached(&sig, parts.content)?,
            parts.content.to_vec(),
            parts.micalg,
        )
    } else if signed_media_type.is("application", "pkcs7-mime")
        || signed_media_type.is("application", "x-pkcs7-mime")
    {
        // Opaque signing (MSG-05 says detached; this is read so that it can be reported).
        let (_, b) = split_header_body(inner);
        let report = verify_attached(&decode_base64(b)?)?;
        let content = report.econtent.clone().unwrap_or_default();
        (report, content, None)
    } else {
        return Err(SmimeError::Mime(format!(
            "decrypted content is {}, not signed (ENC-11)",
            signed_media_type.essence()
        )));
    };

    let (wrapped, message) = match unwrap(&signed_content) {
        Some(inner_message) => (true, inner_message.to_vec()),
        None => {
            let mut m = header_fields(raw, |n| !n.to_ascii_lowercase().starts_with("content-"));
            m.extend_from_slice(&signed_content);
            (false, m)
        }
    };
    Ok(OpenedMessage {
        outer_media_type,
        decrypted,
        signed_media_type,
        signature,
        signed_content,
        micalg,
        wrapped,
        line_ends_canonicalised,
        message,
    })
}
