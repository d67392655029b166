//! What the harness sends to the SUT's backbone: a default Direct message (TEST-CATALOGUE
//! §b.1) and the variations the RX rows name, built through `smime`, never by hand in steps.

use x509_cert::Certificate;

use crate::keys::PrivateKey;
use crate::smime::algorithms::{ContentCipher, DigestAlgorithm, KeyTransport};
use crate::smime::encrypt::{EncryptOptions, encrypt};
use crate::smime::entity::{base64_lines, enveloped_headers, header_fields, multipart_signed_as};
use crate::smime::message::{SealOptions, seal};
use crate::smime::sign::{SignOptions, sign_detached, sign_opaque};
use crate::smime::wrap::{mime_entity, wrap};

/// The C-CDA stand-in carried by every default message (its bytes are checked at EDGE-RET).
pub const CCDA: &[u8] = b"<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><title>direct-conformance</title></ClinicalDocument>\r\n";

/// How the message is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// Signed, then encrypted (Direct).
    SignedEncrypted,
    /// Signed, then a header added inside the signed content (RX-18).
    Tampered,
    /// Signed only, no envelope (RX-43).
    SignedOnly,
    /// Encrypted only, no signature (RX-46).
    EncryptedOnly,
    /// Neither (RX-44).
    Plain,
    /// An opaque SignedData (the content inside it) in the envelope, not multipart/signed
    /// (RX-42, MSG-05).
    OpaqueSigned,
}

/// A message to build; defaults are the catalogue's default message.
#[derive(Clone, Debug)]
pub struct Stimulus {
    pub from: String,
    pub to: Vec<String>,
    pub message_id: String,
    pub subject: String,
    pub request_notifications: bool,
    pub form: Form,
    pub digest: DigestAlgorithm,
    pub cipher: ContentCipher,
    pub key_transport: KeyTransport,
    pub wrap: bool,
    /// The whole inner message instead of the default one (an MDN, for example).
    pub body: Option<Vec<u8>>,
    /// The micalg parameter as written, instead of the digest's canonical name (RX-13).
    pub micalg: Option<String>,
    /// The wrapper's Content-Type value, instead of `message/rfc822` (RX-39).
    pub wrapper_type: Option<String>,
    /// Octets of filler attachment, for a large message (RX-49).
    pub filler: usize,
    /// The Disposition-Notification-Options value, instead of the standard request (MT40, MN4).
    pub request_value: Option<String>,
    /// SMTP envelope recipients beyond the header's (RX-47).
    pub envelope_extra: Vec<String>,
    /// The legacy media types `application/x-pkcs7-mime` and `x-pkcs7-signature` (RX-40).
    pub legacy_types: bool,
    /// The envelope's MIME header fields as written (CRLF after each), instead of the
    /// reference ones (RX-41).
    pub envelope_header: Option<String>,
    /// DER that replaces the signer's certificate in the SignedData: a hand-encoded twin
    /// that no certificate type can hold (RX-29).
    pub malformed_signer: Option<Vec<u8>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StimulusError {
    #[error("cannot build the message: {0}")]
    Smime(#[from] crate::smime::SmimeError),
    #[error("cannot put the hand-encoded signer certificate in the signature: {0}")]
    Substitute(String),
}

impl Stimulus {
    pub fn new(from: &str, to: &[String], message_id: &str) -> Self {
        Stimulus {
            from: from.to_string(),
            to: to.to_vec(),
            message_id: message_id.to_string(),
            subject: "direct-conformance test message".into(),
            request_notifications: true,
            form: Form::SignedEncrypted,
            digest: DigestAlgorithm::Sha256,
            cipher: ContentCipher::Aes128Cbc,
            key_transport: KeyTransport::RsaPkcs1v15,
            wrap: true,
            body: None,
            micalg: None,
            wrapper_type: None,
            filler: 0,
            request_value: None,
            envelope_extra: Vec::new(),
            legacy_types: false,
            envelope_header: None,
            malformed_signer: None,
        }
    }

    /// The inner RFC 5322 message (CRLF), before any protection.
    pub fn inner(&self) -> Vec<u8> {
        if let Some(b) = &self.body {
            return b.clone();
        }
        let request = if self.request_notifications {
            format!(
                "Disposition-Notification-To: {}\r\nDisposition-Notification-Options: {}\r\n",
                self.from,
                self.request_value
                    .as_deref()
                    .unwrap_or("X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true")
            )
        } else {
            String::new()
        };
        let date = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc2822)
            .unwrap_or_else(|_| "Thu, 26 Nov 2026 00:00:00 +0000".into());
        let boundary = "----=_direct_conformance_part";
        let mut out = format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: {id}\r\n{request}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nA test message from the direct-conformance harness.\r\n--{boundary}\r\nContent-Type: application/xml; name=\"ccda.xml\"\r\nContent-Disposition: attachment; filename=\"ccda.xml\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
            from = self.from,
            to = self.to.join(", "),
            subject = self.subject,
            id = self.message_id,
        )
        .into_bytes();
        out.extend_from_slice(&base64_lines(CCDA));
        if self.filler > 0 {
            out.extend_from_slice(
                format!("\r\n--{boundary}\r\nContent-Type: application/octet-stream; name=\"filler.bin\"\r\nContent-Disposition: attachment; filename=\"filler.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n").as_bytes(),
            );
            let filler: Vec<u8> = (0..self.filler).map(|i| (i % 251) as u8).collect();
            out.extend_from_slice(&base64_lines(&filler));
        }
        out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        out
    }

    /// Every SMTP envelope recipient: the header's, then the extra ones.
    pub fn envelope_recipients(&self) -> Vec<String> {
        let mut all = self.to.clone();
        all.extend(self.envelope_extra.iter().cloned());
        all
    }

    /// The bytes for DATA: signed by `signer`, encrypted to `recipients`, as `form` says.
    pub fn build(
        &self,
        signer: (&Certificate, &PrivateKey, &[Certificate]),
        recipients: &[Certificate],
    ) -> Result<Vec<u8>, StimulusError> {
        let inner = self.inner();
        let sign = SignOptions {
            digest: self.digest,
            chain: signer.2.to_vec(),
            ..SignOptions::default()
        };
        let enc = EncryptOptions {
            cipher: self.cipher,
            key_transport: self.key_transport,
            ..EncryptOptions::default()
        };
        let content = || match (&self.wrapper_type, self.wrap) {
            (Some(t), true) => {
                let mut c = format!("Content-Type: {t}\r\n\r\n").into_bytes();
                c.extend_from_slice(&crate::smime::canonical::to_crlf(&inner));
                c
            }
            (None, true) => wrap(&inner),
            (_, false) => mime_entity(&inner),
        };
        let micalg = self
            .micalg
            .clone()
            .unwrap_or_else(|| self.digest.micalg().to_string());
        let signature_type = if self.legacy_types {
            "application/x-pkcs7-signature"
        } else {
            "application/pkcs7-signature"
        };
        let multipart_signed =
            |c: &[u8], sig: &[u8], m: &str| multipart_signed_as(c, sig, m, signature_type);
        // The reference builder (`seal`) for the default shape; by hand for any variation.
        let plain = self.micalg.is_none()
            && self.wrapper_type.is_none()
            && !self.legacy_types
            && self.envelope_header.is_none()
            && self.malformed_signer.is_none();
        let outer = |body_header: &str, body: &[u8]| {
            let mut out = header_fields(&inner, |n| {
                let n = n.to_ascii_lowercase();
                !n.starts_with("content-") && n != "mime-version"
            });
            out.extend_from_slice(b"MIME-Version: 1.0\r\n");
            out.extend_from_slice(body_header.as_bytes());
            out.extend_from_slice(body);
            out
        };
        Ok(match self.form {
            Form::SignedEncrypted if plain => seal(
                &inner,
                signer.0,
                signer.1,
                recipients,
                &SealOptions {
                    sign,
                    encrypt: enc,
                    wrap: self.wrap,
                    outer_subject: true,
                },
            )?,
            Form::SignedEncrypted => {
                let content = content();
                let mut signature = sign_detached(&content, signer.0, signer.1, &sign)?;
                if let Some(m) = &self.malformed_signer {
                    signature = substitute_certificate(&signature, signer.0, m)?;
                }
                let signed = multipart_signed(&content, &signature, &micalg);
                self.envelope(&inner, &signed, recipients, &enc)?
            }
            Form::Tampered => {
                let content = content();
                let signature = sign_detached(&content, signer.0, signer.1, &sign)?;
                // A header added after signing: the digest no longer matches (ETT INVALID_DIGEST).
                let mut altered = b"X-Added-After-Signing: yes\r\n".to_vec();
                altered.extend_from_slice(&content);
                let signed = multipart_signed(&altered, &signature, &micalg);
                self.envelope(&inner, &signed, recipients, &enc)?
            }
            Form::SignedOnly => {
                let content = content();
                let signature = sign_detached(&content, signer.0, signer.1, &sign)?;
                let signed = multipart_signed(&content, &signature, &micalg);
                // multipart_signed starts with its own Content-Type field.
                outer("", &signed)
            }
            Form::EncryptedOnly => {
                let content = content();
                self.envelope(&inner, &content, recipients, &enc)?
            }
            Form::Plain => inner.clone(),
            Form::OpaqueSigned => {
                let content = content();
                let signed = sign_opaque(&content, signer.0, signer.1, &sign)?;
                let mut entity = format!(
                    "Content-Type: {}; smime-type=signed-data; name=\"smime.p7m\"\r\n\
                     Content-Transfer-Encoding: base64\r\n\
                     Content-Disposition: attachment; filename=\"smime.p7m\"\r\n\r\n",
                    self.mime_type()
                )
                .into_bytes();
                entity.extend_from_slice(&base64_lines(&signed));
                self.envelope(&inner, &entity, recipients, &enc)?
            }
        })
    }

    /// The S/MIME media type, current or legacy (RX-40).
    fn mime_type(&self) -> &'static str {
        if self.legacy_types {
            "application/x-pkcs7-mime"
        } else {
            "application/pkcs7-mime"
        }
    }

    fn envelope(
        &self,
        inner: &[u8],
        entity: &[u8],
        recipients: &[Certificate],
        enc: &EncryptOptions,
    ) -> Result<Vec<u8>, StimulusError> {
        let envelope = encrypt(entity, recipients, enc)?;
        let mut out = header_fields(inner, |n| {
            let n = n.to_ascii_lowercase();
            !n.starts_with("content-") && n != "mime-version"
        });
        out.extend_from_slice(b"MIME-Version: 1.0\r\n");
        let header = match &self.envelope_header {
            Some(h) => h.clone(),
            None => enveloped_headers(enc.cipher.is_authenticated())
                .replace("application/pkcs7-mime", self.mime_type()),
        };
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&base64_lines(&envelope));
        Ok(out)
    }
}

/// Replaces `twin`'s encoding in a SignedData's certificate set with `replacement`, byte for
/// byte. The cms types can only hold a well-formed certificate, so the ContentInfo is walked as
/// generic DER: ContentInfo [0] → SignedData → its `[0] IMPLICIT` certificates field.
fn substitute_certificate(
    content_info: &[u8],
    twin: &Certificate,
    replacement: &[u8],
) -> Result<Vec<u8>, StimulusError> {
    use der::{Any, Decode, Encode, Tag, TagNumber, Tagged};
    let bad = |e: &dyn std::fmt::Display| StimulusError::Substitute(e.to_string());
    let twin = twin.to_der().map_err(|e| bad(&e))?;
    let mut ci: Vec<Any> = Vec::from_der(content_info).map_err(|e| bad(&e))?;
    let explicit = ci
        .get(1)
        .ok_or_else(|| bad(&"ContentInfo without content"))?;
    let mut sd: Vec<Any> = Vec::from_der(explicit.value()).map_err(|e| bad(&e))?;
    let outer_tag = explicit.tag();
    let certs_tag = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(0),
    };
    let certs = sd
        .iter_mut()
        .find(|a| a.tag() == certs_tag)
        .ok_or_else(|| bad(&"SignedData carries no certificates"))?;
    let value = certs.value();
    let at = value
        .windows(twin.len())
        .position(|w| w == twin.as_slice())
        .ok_or_else(|| bad(&"the signer's certificate is not in the SignedData"))?;
    let mut new_value = value[..at].to_vec();
    new_value.extend_from_slice(replacement);
    new_value.extend_from_slice(&value[at + twin.len()..]);
    *certs = Any::new(certs_tag, new_value).map_err(|e| bad(&e))?;
    let sd_der = sd.to_der().map_err(|e| bad(&e))?;
    ci[1] = Any::new(outer_tag, sd_der).map_err(|e| bad(&e))?;
    ci.to_der().map_err(|e| bad(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::ReferencePki;
    use crate::smime::{OpenedMessage, open};

    fn build_and_open(pki: &ReferencePki, signer: &str, s: &Stimulus) -> (Vec<u8>, OpenedMessage) {
        let c = pki.credential(signer).expect("signer");
        let r = pki.credential("sut_recipient").expect("recipient");
        let raw = s
            .build(
                (&c.certificate, &c.key, &[]),
                std::slice::from_ref(&r.certificate),
            )
            .expect("build");
        let opened = open(&raw, &r.key, Some(&r.certificate)).expect("open");
        (raw, opened)
    }

    fn stimulus() -> Stimulus {
        Stimulus::new(
            "sender@hisp.direct.test",
            &["recipient@sut.direct.test".to_string()],
            "<t@hisp.direct.test>",
        )
    }

    #[test]
    fn rc2_and_md5_vectors_are_what_they_say() {
        let pki = ReferencePki::load_default().expect("pki");
        let mut s = stimulus();
        s.cipher = ContentCipher::Rc2Cbc;
        s.digest = DigestAlgorithm::Md5;
        let (_, o) = build_and_open(&pki, "hisp_sender", &s);
        assert_eq!(o.decrypted.info.cipher, Some(ContentCipher::Rc2Cbc));
        let signer = o.signature.verified_signer().expect("verifies");
        assert_eq!(signer.digest, Some(DigestAlgorithm::Md5));
        assert_eq!(o.micalg, Some(DigestAlgorithm::Md5));
    }

    #[test]
    fn legacy_types_header_variants_and_opaque_form() {
        let pki = ReferencePki::load_default().expect("pki");
        let mut s = stimulus();
        s.legacy_types = true;
        let (raw, o) = build_and_open(&pki, "hisp_sender", &s);
        assert!(o.outer_media_type.is("application", "x-pkcs7-mime"));
        assert_eq!(
            o.signed_media_type.param("protocol"),
            Some("application/x-pkcs7-signature")
        );
        assert!(o.signature.verified_signer().is_some());
        assert!(!String::from_utf8_lossy(&raw).contains("application/pkcs7-mime"));

        let mut s = stimulus();
        s.envelope_header = Some(
            "Content-Type:application/pkcs7-mime\r\nContent-Transfer-Encoding: base64\r\n".into(),
        );
        let (raw, o) = build_and_open(&pki, "hisp_sender", &s);
        assert!(
            String::from_utf8_lossy(&raw).contains("\r\nContent-Type:application/pkcs7-mime\r\n")
        );
        assert!(o.signature.verified_signer().is_some());

        let mut s = stimulus();
        s.form = Form::OpaqueSigned;
        let (_, o) = build_and_open(&pki, "hisp_sender", &s);
        assert!(!o.signature.is_detached());
        assert!(o.signature.verified_signer().is_some());
        assert!(o.wrapped);
    }

    #[test]
    fn the_hand_encoded_signer_travels_in_the_signed_data() {
        let pki = ReferencePki::load_default().expect("pki");
        let name = "sender_no_not_after";
        let bad = pki
            .credential(name)
            .and_then(|c| c.malformed_der.clone())
            .expect("malformed.der");
        let mut s = stimulus();
        s.malformed_signer = Some(bad.clone());
        let (_, o) = build_and_open(&pki, name, &s);
        // The library cannot read it as a certificate: the signer is not found, and the
        // bytes are reported as they came.
        assert!(o.signature.verified_signer().is_none());
        assert_eq!(o.signature.unreadable_certificates.len(), 1);
        assert_eq!(o.signature.unreadable_certificates[0].der, bad);
    }
}
