//! The message under validation: the raw bytes, the MIME tree of every layer (outer entity,
//! decrypted entity, wrapped inner message) and what the S/MIME core says about the envelope
//! and the signature. Everything here is built once; the checks only read it.
//!
//! The MIME tree is split by hand with the S/MIME core's `split_multipart`, not with
//! mail-parser, because the checks judge bytes (line ends, header octets, exact signed content)
//! that a decoded view normalises away.

use bytes::Bytes;
use x509_cert::Certificate;

use crate::smime::canonical::to_crlf;
use crate::smime::entity::{decode_base64, split_header_body, split_multipart, split_signed};
use crate::smime::{EnvelopeInfo, SignatureReport, decrypt, inspect_envelope, verify_detached};
use crate::validate::grammar::fields::{Header, parse_header};
use crate::validate::grammar::mime::{Parsed, content_type, transfer_encoding};
use crate::validate::options::{RecipientKey, ValidationOptions};

/// How deep multiparts and message/rfc822 may nest before the parser stops (a guard against
/// hostile input, far beyond any real message).
const MAX_DEPTH: usize = 16;

/// One MIME entity (or message) and its children.
#[derive(Clone, Debug)]
pub struct Entity {
    pub path: String,
    /// The entity's bytes, shared with its parent's (a slice of one buffer per layer): a 50 MB
    /// attachment is held once per layer, not once per level of nesting.
    pub raw: Bytes,
    pub header: Header,
    /// The body, a slice of `raw`.
    pub body: Bytes,
    /// None when there is no Content-Type field (text/plain by default, RFC 2045 §5.2).
    pub content_type: Option<Result<Parsed, String>>,
    pub children: Vec<Entity>,
    /// The message inside a `message/*` entity (rfc822, disposition-notification, …) when it
    /// is parsed as a message.
    pub embedded: Option<Box<Entity>>,
    /// Why the children could not be split (unclosed multipart, missing boundary, too deep).
    pub structure_error: Option<String>,
}

impl Entity {
    pub fn parse(path: &str, raw: &[u8]) -> Entity {
        Self::parse_shared(path, &Bytes::copy_from_slice(raw))
    }

    /// Parses without copying: every entity below shares `raw`'s buffer.
    pub fn parse_shared(path: &str, raw: &Bytes) -> Entity {
        Self::parse_at(path, raw.clone(), 0)
    }

    fn parse_at(path: &str, raw: Bytes, depth: usize) -> Entity {
        let (head, body) = split_header_body(&raw);
        let header = parse_header(head);
        let ct = header.value("content-type").map(content_type);
        let body = share(&raw, body);
        let mut entity = Entity {
            path: path.to_string(),
            raw,
            header,
            body: body.clone(),
            content_type: ct,
            children: Vec::new(),
            embedded: None,
            structure_error: None,
        };
        let essence = entity.essence();
        if depth >= MAX_DEPTH && (essence.starts_with("multipart/") || essence == "message/rfc822")
        {
            entity.structure_error = Some(format!("nesting deeper than {MAX_DEPTH} levels"));
            return entity;
        }
        if essence.starts_with("multipart/") {
            match entity.param("boundary") {
                None => entity.structure_error = Some("multipart without a boundary".into()),
                Some(boundary) => match split_multipart(&body, &boundary) {
                    Ok(parts) => {
                        entity.children = parts
                            .iter()
                            .enumerate()
                            .map(|(i, p)| {
                                Self::parse_at(
                                    &format!("{path}/{}", i + 1),
                                    share(&body, p),
                                    depth + 1,
                                )
                            })
                            .collect();
                        if entity.children.is_empty() {
                            entity.structure_error = Some("multipart with no parts".into());
                        }
                    }
                    Err(e) => entity.structure_error = Some(e.to_string()),
                },
            }
        } else if essence == "message/rfc822" && !entity.is_base64() {
            entity.embedded = Some(Box::new(Self::parse_at(
                &format!("{path}/inner"),
                body,
                depth + 1,
            )));
        }
        entity
    }

    /// `type/subtype`, lower-cased; `text/plain` when absent or unparseable (RFC 2045 §5.2).
    pub fn essence(&self) -> String {
        match &self.content_type {
            Some(Ok(p)) => p.value.clone(),
            _ => "text/plain".into(),
        }
    }

    pub fn param(&self, name: &str) -> Option<String> {
        match &self.content_type {
            Some(Ok(p)) => p.param(name).map(|p| p.value.clone()),
            _ => None,
        }
    }

    pub fn transfer_encoding(&self) -> Option<String> {
        self.header
            .value("content-transfer-encoding")
            .map(|v| transfer_encoding(v).unwrap_or_else(|_| v.trim().to_ascii_lowercase()))
    }

    pub fn is_base64(&self) -> bool {
        self.transfer_encoding().as_deref() == Some("base64")
    }

    pub fn is_pkcs7_mime(&self) -> bool {
        matches!(
            self.essence().as_str(),
            "application/pkcs7-mime" | "application/x-pkcs7-mime"
        )
    }

    /// This entity and every descendant (embedded messages included), depth first.
    pub fn walk(&self) -> Vec<&Entity> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.walk());
        }
        if let Some(e) = &self.embedded {
            out.extend(e.walk());
        }
        out
    }
}

/// `part` as a slice of `parent`'s buffer when it lies inside it (the splitters return
/// sub-slices), else a copy: never a panic whatever a splitter returns.
fn share(parent: &Bytes, part: &[u8]) -> Bytes {
    let start = parent.as_ptr() as usize;
    let at = part.as_ptr() as usize;
    if at >= start && at + part.len() <= start + parent.len() {
        parent.slice_ref(part)
    } else {
        Bytes::copy_from_slice(part)
    }
}

/// What happened when the envelope was opened.
#[derive(Debug)]
pub enum Decryption {
    /// Nothing to try with (no key, or only a PKCS#12 file); the reason says which.
    NotAttempted(String),
    Failed(Vec<String>),
    Decrypted {
        content: Bytes,
        recipient_index: usize,
        /// The certificate that selected the RecipientInfo, when one was given (boxed: a
        /// certificate is large and the other variants are small).
        recipient_cert: Option<Box<Certificate>>,
    },
}

/// The enveloped layer.
#[derive(Debug)]
pub struct EnvelopeLayer {
    /// The CMS bytes (base64-decoded body), or why they could not be had.
    pub der: Result<Vec<u8>, String>,
    pub info: Result<EnvelopeInfo, String>,
    pub decryption: Decryption,
}

/// The multipart/signed layer.
#[derive(Debug)]
pub struct SignatureLayer {
    /// Path of the multipart/signed entity.
    pub path: String,
    /// The first part exactly as transmitted (a slice of the signed entity's buffer).
    pub content: Bytes,
    pub signature_der: Result<Vec<u8>, String>,
    pub report: Result<SignatureReport, String>,
    /// Set when the signature verified only after LF was turned into CRLF.
    pub verified_after_canonicalising: bool,
}

impl SignatureLayer {
    /// The signer's certificate: that of the first signer with one.
    pub fn signer_certificate(&self) -> Option<&Certificate> {
        let report = self.report.as_ref().ok()?;
        report
            .verified_signer()
            .and_then(|s| s.certificate.as_ref())
            .or_else(|| report.signers.iter().find_map(|s| s.certificate.as_ref()))
    }
}

/// The message and all that was learnt opening it.
#[derive(Debug)]
pub struct MessageUnderValidation {
    pub source: String,
    /// The file as given (shared with the outer entity).
    pub raw: Bytes,
    /// The outer message (path `message`).
    pub outer: Entity,
    pub envelope: Option<EnvelopeLayer>,
    /// The decrypted entity (path `message/decrypted`).
    pub decrypted: Option<Entity>,
    pub signature: Option<SignatureLayer>,
    /// The mbox `From ` separator line some tools keep at the top of a saved message: no part
    /// of the message, so it is set aside (and reported) instead of being judged as a header.
    pub mbox_line: Option<String>,
}

/// Splits off a leading mbox `From ` line (`From sender date`, no colon after the name).
fn split_mbox_line(raw: &[u8]) -> (Option<String>, &[u8]) {
    if !raw.starts_with(b"From ") {
        return (None, raw);
    }
    let end = raw
        .iter()
        .position(|b| *b == b'\n')
        .map_or(raw.len(), |p| p + 1);
    let line = String::from_utf8_lossy(&raw[..end]).trim_end().to_string();
    (Some(line), &raw[end..])
}

impl MessageUnderValidation {
    pub fn analyse(source: &str, raw: &[u8], options: &ValidationOptions) -> Self {
        Self::analyse_owned(source, raw.to_vec(), options)
    }

    /// As `analyse`, taking the bytes over instead of copying them.
    pub fn analyse_owned(source: &str, raw: Vec<u8>, options: &ValidationOptions) -> Self {
        let raw = Bytes::from(raw);
        let (mbox_line, message) = split_mbox_line(&raw);
        let outer = Entity::parse_shared("message", &share(&raw, message));
        let mut m = MessageUnderValidation {
            source: source.to_string(),
            raw,
            mbox_line,
            envelope: None,
            decrypted: None,
            signature: None,
            outer,
        };
        if m.outer.is_pkcs7_mime() {
            let der = decode_base64(&m.outer.body).map_err(|e| e.to_string());
            let info = match &der {
                Ok(d) => inspect_envelope(d).map_err(|e| e.to_string()),
                Err(e) => Err(format!("the body is not base64: {e}")),
            };
            let decryption = match (&der, &info) {
                (Ok(d), Ok(_)) => decrypt_with(d, options),
                _ => Decryption::NotAttempted("the envelope does not parse".into()),
            };
            if let Decryption::Decrypted { content, .. } = &decryption {
                m.decrypted = Some(Entity::parse_shared("message/decrypted", content));
            }
            m.envelope = Some(EnvelopeLayer {
                der,
                info,
                decryption,
            });
        }
        let signed = match &m.decrypted {
            Some(d) => Some(d),
            None if m.envelope.is_none() => Some(&m.outer),
            None => None,
        };
        m.signature = signed
            .filter(|e| e.essence() == "multipart/signed")
            .map(signature_layer);
        m
    }

    /// The first part of the multipart/signed entity (what was signed).
    pub fn signed_part(&self) -> Option<&Entity> {
        let container = self.decrypted.as_ref().unwrap_or(&self.outer);
        (container.essence() == "multipart/signed")
            .then(|| container.children.first())
            .flatten()
    }

    /// The wrapped message, when the signed part is `message/rfc822`.
    pub fn inner(&self) -> Option<&Entity> {
        self.signed_part()
            .filter(|p| p.essence() == "message/rfc822")
            .and_then(|p| p.embedded.as_deref())
    }

    /// The content the message carries once the security layers are off: the wrapped message,
    /// else the signed part, else the decrypted entity, else the outer message when it is not
    /// enveloped. None while the envelope stays closed.
    pub fn payload(&self) -> Option<&Entity> {
        if let Some(inner) = self.inner() {
            return Some(inner);
        }
        if let Some(p) = self.signed_part() {
            return Some(p);
        }
        if let Some(d) = &self.decrypted {
            return Some(d);
        }
        self.envelope.is_none().then_some(&self.outer)
    }

    /// Every entity of every layer.
    pub fn all_entities(&self) -> Vec<&Entity> {
        let mut out = self.outer.walk();
        if let Some(d) = &self.decrypted {
            out.extend(d.walk());
        }
        out
    }
}

fn decrypt_with(der: &[u8], options: &ValidationOptions) -> Decryption {
    let keys: Vec<_> = options
        .recipient_keys
        .iter()
        .map(|k| match k {
            RecipientKey::Key { path, key } => (path, key),
        })
        .collect();
    if keys.is_empty() {
        return Decryption::NotAttempted("no --recipient-key given".into());
    }
    let mut errors = Vec::new();
    for (path, key) in keys {
        let certs: Vec<&Certificate> = options
            .recipient_certs
            .iter()
            .filter(|c| key.matches(c.tbs_certificate().subject_public_key_info()))
            .collect();
        let attempts: Vec<Option<&Certificate>> = if certs.is_empty() {
            vec![None]
        } else {
            certs.into_iter().map(Some).collect()
        };
        for cert in attempts {
            match decrypt(der, key, cert) {
                Ok(d) => {
                    return Decryption::Decrypted {
                        content: Bytes::from(d.content),
                        recipient_index: d.recipient_index,
                        recipient_cert: cert.cloned().map(Box::new),
                    };
                }
                Err(e) => errors.push(format!("{}: {e}", path.display())),
            }
        }
    }
    Decryption::Failed(errors)
}

fn signature_layer(entity: &Entity) -> SignatureLayer {
    let mut layer = SignatureLayer {
        path: entity.path.clone(),
        content: Bytes::new(),
        signature_der: Err("no signature part".into()),
        report: Err("no signature part".into()),
        verified_after_canonicalising: false,
    };
    let parts = match split_signed(&entity.raw) {
        Ok(p) => p,
        Err(e) => {
            layer.signature_der = Err(e.to_string());
            layer.report = Err(e.to_string());
            return layer;
        }
    };
    layer.content = share(&entity.raw, parts.content);
    let (_, sig_body) = split_header_body(parts.signature_entity);
    layer.signature_der = decode_base64(sig_body).map_err(|e| e.to_string());
    let Ok(sig) = &layer.signature_der else {
        layer.report = Err("the signature part is not base64".into());
        return layer;
    };
    let report = verify_detached(sig, parts.content).map_err(|e| e.to_string());
    // A sender that signed the canonical form and then sent bare LF (VC-204 reports it): the
    // signature is still judged on the form it was made over, as the S/MIME core's `open` does.
    let verified = |r: &Result<SignatureReport, String>| {
        r.as_ref().is_ok_and(|r| r.verified_signer().is_some())
    };
    if !verified(&report) && parts.content.contains(&b'\n') {
        let canonical = to_crlf(parts.content);
        if canonical != parts.content {
            let retry = verify_detached(sig, &canonical).map_err(|e| e.to_string());
            if verified(&retry) {
                layer.report = retry;
                layer.verified_after_canonicalising = true;
                return layer;
            }
        }
    }
    layer.report = report;
    layer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_of_a_nested_multipart() {
        let raw = b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: text/plain\r\n\r\nhi\r\n--a\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y\r\n\r\nbody\r\n--a--\r\n";
        let e = Entity::parse("message", raw);
        assert_eq!(e.children.len(), 2);
        assert_eq!(e.children[1].path, "message/2");
        let inner = e.children[1].embedded.as_ref().expect("embedded");
        assert_eq!(inner.path, "message/2/inner");
        assert_eq!(inner.header.value("from"), Some("x@y"));
        assert_eq!(e.walk().len(), 4);
    }

    #[test]
    fn unclosed_multipart_is_a_structure_error() {
        let e = Entity::parse(
            "m",
            b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n\r\nx\r\n",
        );
        assert!(e.structure_error.is_some());
        let e = Entity::parse("m", b"Content-Type: multipart/mixed\r\n\r\nx");
        assert!(e.structure_error.is_some());
    }

    #[test]
    fn mbox_from_line_is_set_aside() {
        let m = MessageUnderValidation::analyse(
            "t",
            b"From alice@x.test Wed Nov 25 10:00:00 2026\r\nFrom: alice@x.test\r\n\r\nhi\r\n",
            &ValidationOptions::default(),
        );
        assert!(m.mbox_line.is_some());
        assert_eq!(m.outer.header.value("From"), Some("alice@x.test"));
        assert!(m.outer.header.problems.is_empty());
        let m = MessageUnderValidation::analyse(
            "t",
            b"From: alice@x.test\r\n\r\nhi\r\n",
            &ValidationOptions::default(),
        );
        assert!(m.mbox_line.is_none());
    }

    #[test]
    fn deep_nesting_stops() {
        let mut raw = b"From: a@b\r\n\r\nend".to_vec();
        for _ in 0..40 {
            let mut outer = b"Content-Type: message/rfc822\r\n\r\n".to_vec();
            outer.extend_from_slice(&raw);
            raw = outer;
        }
        let e = Entity::parse("m", &raw);
        assert!(e.walk().iter().any(|x| x.structure_error.is_some()));
    }
}
