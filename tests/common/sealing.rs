//! Direct messages made by the `openssl cms` command for the validator tests: sign (detached
//! or not, any digest, with or without attributes), encrypt (any cipher, PKCS#1 v1.5 or OAEP),
//! then add the outer header, all in CRLF as SMTP carries it.

use std::path::Path;

use super::openssl_ok;

/// How to make one message.
#[derive(Clone, Debug)]
pub struct Recipe {
    /// The entity to sign (already CRLF); default: SAMPLE_MESSAGE wrapped as message/rfc822.
    pub entity: Vec<u8>,
    pub md: &'static str,
    pub cipher: &'static str,
    pub oaep: bool,
    /// Opaque (`-nodetach`) instead of detached.
    pub opaque: bool,
    /// `-noattr`: no signed attributes.
    pub no_attributes: bool,
    /// `-nocerts`: the signer certificate is left out.
    pub no_certs: bool,
    /// Signer and recipient file stems in the PKI directory.
    pub signer: &'static str,
    pub recipient: &'static str,
    /// Applied to the signed multipart before encryption (to tamper or rename micalg).
    pub edit_signed: Option<fn(String) -> String>,
    /// Replaces the body of the signature part with the base64 of these bytes.
    pub replace_signature: Option<Vec<u8>>,
    /// Skip encryption: the outer message is the signed entity itself.
    pub no_encrypt: bool,
    /// The outer header fields put in front of the envelope.
    pub outer_header: String,
}

pub const OUTER_HEADER: &str = "From: alice@hisp.direct.test\r\n\
To: bob@sut.direct.test\r\n\
Date: Wed, 25 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <interop-1@hisp.direct.test>\r\n";

impl Default for Recipe {
    fn default() -> Self {
        let mut entity = b"Content-Type: message/rfc822\r\n\r\n".to_vec();
        entity.extend_from_slice(super::SAMPLE_MESSAGE.as_bytes());
        Recipe {
            entity,
            md: "sha256",
            cipher: "-aes128",
            oaep: false,
            opaque: false,
            no_attributes: false,
            no_certs: false,
            signer: "alice",
            recipient: "bob",
            edit_signed: None,
            replace_signature: None,
            no_encrypt: false,
            outer_header: OUTER_HEADER.to_string(),
        }
    }
}

/// Makes the message in `dir` (a `TestPki` directory) and returns its bytes.
pub fn make(dir: &Path, r: &Recipe) -> Vec<u8> {
    std::fs::write(dir.join("entity.txt"), &r.entity).expect("write entity");
    let cert = format!("{}.pem", r.signer);
    let key = format!("{}.key", r.signer);
    let mut sign = vec![
        "cms",
        "-sign",
        "-binary",
        "-crlfeol",
        "-in",
        "entity.txt",
        "-signer",
        &cert,
        "-inkey",
        &key,
        "-md",
        r.md,
        "-out",
        "signed.txt",
    ];
    if r.opaque {
        sign.push("-nodetach");
    }
    if r.no_attributes {
        sign.push("-noattr");
    }
    if r.no_certs {
        sign.push("-nocerts");
    }
    openssl_ok(&sign, dir);
    // OpenSSL writes base64 lines with bare LF even under -crlfeol; SMTP would carry CRLF.
    let mut signed = crlf(&std::fs::read(dir.join("signed.txt")).expect("read signed"));
    std::fs::write(dir.join("signed.txt"), &signed).expect("write signed");
    if let Some(der) = &r.replace_signature {
        signed = replace_signature_body(&signed, der);
        std::fs::write(dir.join("signed.txt"), &signed).expect("write signed");
    }
    if let Some(edit) = r.edit_signed {
        signed = edit(String::from_utf8(signed).expect("signed is text")).into_bytes();
        std::fs::write(dir.join("signed.txt"), &signed).expect("write signed");
    }
    let body = if r.no_encrypt {
        signed
    } else {
        let recip = format!("{}.pem", r.recipient);
        let mut enc = vec![
            "cms",
            "-encrypt",
            "-binary",
            "-crlfeol",
            "-in",
            "signed.txt",
            r.cipher,
            "-recip",
            &recip,
        ];
        if r.oaep {
            enc.extend_from_slice(&["-keyopt", "rsa_padding_mode:oaep"]);
        }
        enc.extend_from_slice(&["-out", "enveloped.txt"]);
        openssl_ok(&enc, dir);
        crlf(&std::fs::read(dir.join("enveloped.txt")).expect("read enveloped"))
    };
    let mut out = r.outer_header.clone().into_bytes();
    out.extend_from_slice(&body);
    out
}

/// Bare LF to CRLF, leaving existing CRLF alone.
pub fn crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 64);
    for (i, b) in data.iter().enumerate() {
        if *b == b'\n' && (i == 0 || data[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(*b);
    }
    out
}

/// The signed multipart with its signature part's body replaced by the base64 of `der`.
pub fn replace_signature_body(signed: &[u8], der: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(signed);
    let marker = "filename=\"smime.p7s\"\r\n\r\n";
    let start = text.find(marker).expect("signature part") + marker.len();
    let end = text[start..].find("\r\n\r\n--").expect("closing delimiter") + start;
    let b64 = direct_conformance::smime::entity::base64_lines(der);
    let b64 = String::from_utf8_lossy(&b64);
    format!("{}{}{}", &text[..start], b64.trim_end(), &text[end..]).into_bytes()
}
