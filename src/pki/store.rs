//! Loading a generated set (`reference-certs/` by default) for the rest of the harness.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use der::Decode;
use time::OffsetDateTime;
use x509_cert::Certificate;

use crate::keys::PrivateKey;

use super::crl::RevokedEntry;
use super::time::{parse_epoch, plus_days};

use super::error::PkiError;
use super::generate::{BUNDLE_P12, CERT_DER, KEY_PEM, MALFORMED_DER, SPEC_FILE, generate};
use super::spec::{CredentialSpec, EMBEDDED_SPEC, PkiSpec, spec_sha256};

/// Environment variable naming the folder of the PKI to use instead of the committed one.
pub const CERTS_ENV: &str = "DIRECT_CONFORMANCE_CERTS";

/// One loaded credential (CA or end entity).
#[derive(Clone, Debug)]
pub struct Credential {
    pub name: String,
    pub certificate: Certificate,
    pub certificate_der: Vec<u8>,
    pub key: PrivateKey,
    /// Name of the issuing CA (its own name for a root).
    pub issuer: String,
    pub entry: CredentialSpec,
    pub pkcs12_path: PathBuf,
    /// `malformed.der` of a credential with a `malformed` defect (RX-29): not parseable as a
    /// `Certificate`, so kept as bytes.
    pub malformed_der: Option<Vec<u8>>,
}

/// A generated test PKI, loaded from its folder.
#[derive(Clone, Debug)]
pub struct ReferencePki {
    pub dir: PathBuf,
    pub spec: PkiSpec,
    credentials: BTreeMap<String, Credential>,
    crls: BTreeMap<String, Vec<u8>>,
}

impl ReferencePki {
    /// Loads the set in `dir` (as written by `certs`).
    pub fn load(dir: impl AsRef<Path>) -> Result<Self, PkiError> {
        let dir = dir.as_ref().to_path_buf();
        let spec_path = dir.join(SPEC_FILE);
        let text = read_to_string(&spec_path)?;
        let spec = PkiSpec::parse(&text)?;
        let mut credentials = BTreeMap::new();
        for c in &spec.credentials {
            let folder = dir.join(&c.name);
            let der_path = folder.join(CERT_DER);
            let certificate_der = read(&der_path)?;
            let certificate =
                Certificate::from_der(&certificate_der).map_err(|e| PkiError::Corrupt {
                    path: der_path.clone(),
                    message: e.to_string(),
                })?;
            let key_path = folder.join(KEY_PEM);
            let key =
                PrivateKey::from_pem_or_der(&read(&key_path)?).map_err(|e| PkiError::Corrupt {
                    path: key_path.clone(),
                    message: e.to_string(),
                })?;
            if !key.matches(certificate.tbs_certificate().subject_public_key_info()) {
                return Err(PkiError::Corrupt {
                    path: key_path,
                    message: "key does not match cert.der".into(),
                });
            }
            credentials.insert(
                c.name.clone(),
                Credential {
                    name: c.name.clone(),
                    certificate,
                    certificate_der,
                    key,
                    issuer: c.issuer_name().to_string(),
                    entry: c.clone(),
                    pkcs12_path: folder.join(BUNDLE_P12),
                    malformed_der: match c.malformed {
                        Some(_) => Some(read(&folder.join(MALFORMED_DER))?),
                        None => None,
                    },
                },
            );
        }
        let mut crls = BTreeMap::new();
        for ca in spec.cas() {
            let path = dir.join(format!("{}.crl", ca.name));
            if path.exists() {
                crls.insert(ca.name.clone(), read(&path)?);
            }
        }
        Ok(ReferencePki {
            dir,
            spec,
            credentials,
            crls,
        })
    }

    /// The committed set: `$DIRECT_CONFORMANCE_CERTS`, else `reference-certs/` of the source
    /// tree this binary was built from, else the embedded description generated once into a
    /// cache folder under the system temp directory (keyed by the description's hash).
    pub fn load_default() -> Result<Self, PkiError> {
        if let Some(dir) = std::env::var_os(CERTS_ENV) {
            return Self::load(PathBuf::from(dir));
        }
        let source_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("reference-certs");
        if source_tree.join(SPEC_FILE).exists() {
            return Self::load(source_tree);
        }
        let hash = spec_sha256(EMBEDDED_SPEC);
        let cache = std::env::temp_dir().join(format!(
            "direct-conformance-certs-{}",
            hash.get(..16).unwrap_or(&hash)
        ));
        if !cache.join(super::generate::MANIFEST_FILE).exists() {
            // Generate beside it and rename, so a concurrent process never sees half a set.
            let tmp = cache.with_extension(format!("tmp{}", std::process::id()));
            generate(EMBEDDED_SPEC, None, &tmp)?;
            if std::fs::rename(&tmp, &cache).is_err() {
                // Another process won the race; its set is byte-identical to ours.
                let _ = std::fs::remove_dir_all(&tmp);
            }
        }
        Self::load(cache)
    }

    pub fn credential(&self, name: &str) -> Option<&Credential> {
        self.credentials.get(name)
    }

    pub fn credentials(&self) -> impl Iterator<Item = &Credential> {
        self.spec
            .credentials
            .iter()
            .filter_map(|c| self.credentials.get(&c.name))
    }

    /// The root the system under test installs.
    pub fn anchor(&self) -> Option<&Credential> {
        self.credentials.get(&self.spec.anchor)
    }

    /// A CA by name (`None` for an end entity or an unknown name).
    pub fn ca(&self, name: &str) -> Option<&Credential> {
        self.credentials.get(name).filter(|c| c.entry.ca)
    }

    /// `name` and its issuers up to and including the root, leaf first.
    pub fn chain(&self, name: &str) -> Option<Vec<&Credential>> {
        let mut out = vec![self.credentials.get(name)?];
        while let Some(last) = out.last() {
            if last.entry.is_self_signed() || out.len() > self.credentials.len() {
                break;
            }
            out.push(self.credentials.get(&last.issuer)?);
        }
        Some(out)
    }

    /// The fixed epoch of the description (what the committed files were computed from).
    pub fn epoch(&self) -> Result<OffsetDateTime, PkiError> {
        parse_epoch(&self.spec.epoch)
    }

    /// The entries of `ca`'s CRL, revocation dates computed from `relative_to` (the committed
    /// CRLs use the epoch; a server building CRLs per request may use its start time), for
    /// [`build_crl`](super::build_crl).
    pub fn revoked_entries(&self, ca: &str, relative_to: OffsetDateTime) -> Vec<RevokedEntry> {
        self.spec
            .credentials
            .iter()
            .filter(|c| c.issuer == ca && !c.is_self_signed())
            .filter_map(|c| {
                let r = c.revoked.as_ref()?;
                let cred = self.credentials.get(&c.name)?;
                Some(RevokedEntry {
                    serial: cred.certificate.tbs_certificate().serial_number().clone(),
                    date: plus_days(relative_to, r.days),
                    reason: Some(r.reason),
                })
            })
            .collect()
    }

    /// The committed CRL of a CA, DER.
    pub fn crl_der(&self, ca: &str) -> Option<&[u8]> {
        self.crls.get(ca).map(Vec::as_slice)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, PkiError> {
    std::fs::read(path).map_err(|e| PkiError::io(path, e))
}

fn read_to_string(path: &Path) -> Result<String, PkiError> {
    std::fs::read_to_string(path).map_err(|e| PkiError::io(path, e))
}
