//! What the validator is given besides the message: recipient credentials, trust material,
//! time and profile. Loading turns files into typed values; any file the tool cannot read is a
//! `ValidateError` (exit 2), never a finding.

use std::path::{Path, PathBuf};

use der::Decode;
use time::OffsetDateTime;
use x509_cert::Certificate;

use crate::keys::PrivateKey;
use crate::validate::correlation::Correlation;
use crate::validate::error::ValidateError;
use crate::validate::finding::Profile;

/// A recipient credential as given with `--recipient-key`.
#[derive(Debug)]
pub enum RecipientKey {
    Key { path: PathBuf, key: PrivateKey },
}

/// Everything the checks may use besides the message.
#[derive(Debug)]
pub struct ValidationOptions {
    pub recipient_keys: Vec<RecipientKey>,
    pub recipient_certs: Vec<Certificate>,
    pub anchors: Vec<Certificate>,
    pub intermediates: Vec<Certificate>,
    /// CRL files as given (DER or PEM); the trust module parses them.
    pub crls: Vec<Vec<u8>>,
    pub password: Option<String>,
    pub online: bool,
    /// The validation time (`--at`, default now).
    pub at: OffsetDateTime,
    pub profile: Profile,
    /// What is known about the message a notification answers (set by the harness).
    pub correlation: Option<Correlation>,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        ValidationOptions {
            recipient_keys: Vec::new(),
            recipient_certs: Vec::new(),
            anchors: Vec::new(),
            intermediates: Vec::new(),
            crls: Vec::new(),
            password: None,
            online: false,
            at: OffsetDateTime::now_utc(),
            profile: Profile::Ds13,
            correlation: None,
        }
    }
}

pub fn read_file(path: &Path) -> Result<Vec<u8>, ValidateError> {
    std::fs::read(path).map_err(|source| ValidateError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a recipient key: PKCS#8 (encrypted PKCS#8 with `password`) or PKCS#1, PEM or DER,
/// or PKCS#12 (`.p12`/`.pfx`, or DER that looks like a PFX) with `password`. A PKCS#12 file
/// also yields its certificates, which select the RecipientInfo like `--recipient-cert`.
pub fn load_key(
    path: &Path,
    password: Option<&str>,
) -> Result<(RecipientKey, Vec<Certificate>), ValidateError> {
    let bytes = read_file(path)?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bad = |reason: String| ValidateError::Key {
        path: path.to_path_buf(),
        reason,
    };
    if ext == "p12" || ext == "pfx" || looks_like_pfx(&bytes) {
        let password = password.ok_or_else(|| bad("a PKCS#12 file needs its --password".into()))?;
        let contents = crate::pki::read_pkcs12(&bytes, password).map_err(|e| bad(e.to_string()))?;
        let key = contents
            .key
            .ok_or_else(|| bad("the PKCS#12 file holds no private key".into()))?;
        let key = RecipientKey::Key {
            path: path.to_path_buf(),
            key,
        };
        // Only the key's own certificate: CA certificates in the bundle are not recipients.
        return Ok((key, contents.certificates.into_iter().take(1).collect()));
    }
    if bytes.windows(21).any(|w| w == b"ENCRYPTED PRIVATE KEY") {
        let password =
            password.ok_or_else(|| bad("the key is encrypted: give its --password".into()))?;
        let text = std::str::from_utf8(&bytes).map_err(|e| bad(e.to_string()))?;
        let (_, der) =
            der::pem::decode_vec(text.trim().as_bytes()).map_err(|e| bad(e.to_string()))?;
        let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der.as_slice())
            .map_err(|e| bad(e.to_string()))?;
        let plain = info
            .decrypt(password)
            .map_err(|e| bad(format!("cannot decrypt with the given password: {e}")))?;
        return PrivateKey::from_pkcs8_der(plain.as_bytes())
            .map(|key| {
                let key = RecipientKey::Key {
                    path: path.to_path_buf(),
                    key,
                };
                (key, Vec::new())
            })
            .map_err(|e| bad(e.to_string()));
    }
    match PrivateKey::from_pem_or_der(&bytes) {
        Ok(key) => Ok((
            RecipientKey::Key {
                path: path.to_path_buf(),
                key,
            },
            Vec::new(),
        )),
        Err(e) => Err(ValidateError::Key {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }),
    }
}

/// A DER PFX starts SEQUENCE { INTEGER 3, ContentInfo … } (RFC 7292 §4).
fn looks_like_pfx(bytes: &[u8]) -> bool {
    let Some((&0x30, rest)) = bytes.split_first() else {
        return false;
    };
    let skip = match rest.first() {
        Some(l) if *l < 0x80 => 1,
        Some(l) => 1 + (*l & 0x7f) as usize,
        None => return false,
    };
    rest.get(skip..skip + 3) == Some(&[0x02, 0x01, 0x03][..])
}

/// Reads one or more certificates from PEM (any number) or a single DER certificate.
pub fn load_certificates(path: &Path) -> Result<Vec<Certificate>, ValidateError> {
    let bytes = read_file(path)?;
    let bad = |reason: String| ValidateError::Certificate {
        path: path.to_path_buf(),
        reason,
    };
    if bytes.windows(10).any(|w| w == b"-----BEGIN") {
        let certs = Certificate::load_pem_chain(&bytes).map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("no certificate in the PEM file".into()));
        }
        return Ok(certs);
    }
    Certificate::from_der(&bytes)
        .map(|c| vec![c])
        .map_err(|e| bad(e.to_string()))
}
