//! `certs`: the whole test PKI from its description, reproducibly. Every key comes from a
//! ChaCha20 RNG seeded with SHA-256 of the credential name, every PKCS#12 salt and IV from one
//! seeded likewise, signatures are deterministic (PKCS#1 v1.5, RFC 6979), and all dates are
//! offsets from the fixed epoch: the same description gives the same bytes.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use der::{Encode, EncodePem};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;

use crate::keys::{KeySpec, PrivateKey};

use super::crl::{RevokedEntry, build_crl};
use super::error::PkiError;
use super::extensions::{
    IssuerInfo, aia_url, build_extensions, crl_url, effective_key_usage, key_identifier,
    subject_alt_names, subject_name,
};
use super::issue::{CertificateRequest, issue};
use super::malformed::malform;
use super::manifest::{CredentialEntry, CrlEntry, FileEntry, Manifest, RevokedInfo};
use super::p7c::build_p7c;
use super::pkcs12::{PKCS12_PASSWORD, build_pkcs12};
use super::sign::CertSigner;
use super::spec::{CredentialSpec, OmitExtension, PkiSpec, hex, spec_sha256};
use super::time::{format_rfc3339, parse_epoch, plus_days, x509_time};

pub const ANCHOR_PEM: &str = "HARNESS-TRUST-ANCHOR.pem";
pub const ANCHOR_DER: &str = "HARNESS-TRUST-ANCHOR.der";
pub const SPEC_FILE: &str = "pki.toml";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const README_FILE: &str = "README.md";
pub const CERT_PEM: &str = "cert.pem";
pub const CERT_DER: &str = "cert.der";
pub const KEY_PEM: &str = "key.pem";
pub const BUNDLE_P12: &str = "bundle.p12";
pub const MALFORMED_DER: &str = "malformed.der";
pub const MALFORMED_PEM: &str = "malformed.pem";
/// CRL number of the committed CRLs; the HTTP server numbers its own.
const CRL_NUMBER: u64 = 1;

/// A generated credential, in memory.
struct Issued {
    cert: Certificate,
    key: PrivateKey,
    serial: u64,
}

/// Generates the set described by `spec_text` into `out_dir`. `epoch` overrides the
/// description's fixed epoch (then the output is no longer the committed set).
pub fn generate(
    spec_text: &str,
    epoch: Option<OffsetDateTime>,
    out_dir: &Path,
) -> Result<Manifest, PkiError> {
    let spec = PkiSpec::parse(spec_text)?;
    let epoch = match epoch {
        Some(e) => e,
        None => parse_epoch(&spec.epoch)?,
    };
    let previous = previous_files(out_dir);
    let (issued, mut entries) = issue_all(&spec, epoch)?;
    let mut out = Output::new(out_dir)?;
    for (c, entry) in spec.credentials.iter().zip(entries.iter_mut()) {
        entry.files = write_credential(&mut out, &spec, &issued, c)?;
    }
    let mut crls = Vec::new();
    for ca in spec.cas() {
        crls.push(write_ca(&mut out, &spec, &issued, ca, epoch)?);
    }
    write_top_level(&mut out, &spec, spec_text, &issued, epoch)?;

    let mut files = out.files;
    files.push(FileEntry {
        path: MANIFEST_FILE.into(),
        purpose: "this list: every file and credential of the set".into(),
        credential: None,
        sha256: None,
    });
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let manifest = Manifest {
        spec_sha256: spec_sha256(spec_text),
        epoch: format_rfc3339(epoch),
        anchor: spec.anchor.clone(),
        pkcs12_password: PKCS12_PASSWORD.into(),
        pkcs12_format:
            "PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) key and certificate safes, HMAC-SHA-256 MAC"
                .into(),
        files,
        credentials: entries,
        crls,
    };
    let mut json = serde_json::to_string_pretty(&manifest)?;
    json.push('\n');
    let path = out_dir.join(MANIFEST_FILE);
    std::fs::write(&path, json).map_err(|e| PkiError::io(path, e))?;
    remove_stale(out_dir, &previous, &manifest)?;
    Ok(manifest)
}

/// Every certificate, in declaration order (issuers come first), with its manifest entry.
fn issue_all(
    spec: &PkiSpec,
    epoch: OffsetDateTime,
) -> Result<(BTreeMap<String, Issued>, Vec<CredentialEntry>), PkiError> {
    let keys = generate_keys(spec)?;
    let mut issued: BTreeMap<String, Issued> = BTreeMap::new();
    let mut serials: BTreeMap<String, u64> = BTreeMap::new();
    let mut entries = Vec::new();
    for (c, key) in spec.credentials.iter().zip(keys) {
        let serial_slot = serials.entry(c.issuer_name().to_string()).or_insert(0);
        *serial_slot += 1;
        let serial = *serial_slot;
        let class = spec.validity.get(&c.validity).ok_or_else(|| {
            PkiError::SpecInvalid(format!("{}: unknown validity {}", c.name, c.validity))
        })?;
        let not_before = plus_days(epoch, class.not_before_days);
        let not_after = plus_days(epoch, class.not_after_days);
        let validity = Validity::new(x509_time(not_before)?, x509_time(not_after)?);
        let public_key = key.public_key_info().map_err(|error| PkiError::Key {
            name: c.name.clone(),
            error,
        })?;
        let subject = subject_name(c)?;
        let issuer_spec = spec.credential(c.issuer_name()).unwrap_or(c);
        let (issuer_subject, issuer_ski, issuer_key) = if c.is_self_signed() {
            (subject.clone(), key_identifier(&public_key), &key)
        } else {
            // PkiSpec::parse checked that the issuer is a CA declared earlier.
            let i = issued.get(&c.issuer).ok_or_else(|| {
                PkiError::SpecInvalid(format!("{}: issuer {} not issued", c.name, c.issuer))
            })?;
            (
                i.cert.tbs_certificate().subject().clone(),
                key_identifier(i.cert.tbs_certificate().subject_public_key_info()),
                &i.key,
            )
        };
        let info = IssuerInfo {
            name: c.issuer_name(),
            ski: &issuer_ski,
            aia_p7c: issuer_spec.aia_p7c,
        };
        let extensions = build_extensions(c, &subject, &public_key, &info, &spec.base_url)?;
        let signer = CertSigner::new(issuer_key, c.signature)?;
        let cert = issue(
            CertificateRequest {
                name: c.name.clone(),
                subject,
                issuer: issuer_subject.clone(),
                serial,
                validity,
                public_key,
                extensions,
            },
            &signer,
        )?;
        entries.push(credential_entry(
            spec, c, &info, &cert, &key, serial, epoch, not_before, not_after,
        )?);
        issued.insert(c.name.clone(), Issued { cert, key, serial });
    }

    Ok((issued, entries))
}

/// `<name>/cert.pem`, `cert.der`, `key.pem`, `bundle.p12`; returns their paths.
fn write_credential(
    out: &mut Output<'_>,
    spec: &PkiSpec,
    issued: &BTreeMap<String, Issued>,
    c: &CredentialSpec,
) -> Result<Vec<String>, PkiError> {
    let mut written = Vec::new();
    let me = issued
        .get(&c.name)
        .ok_or_else(|| PkiError::SpecInvalid(format!("{} was not issued", c.name)))?;
    let chain = chain_of(spec, issued, c)?;
    let der = me.cert.to_der().map_err(PkiError::der(&c.name))?;
    let pem = me
        .cert
        .to_pem(der::pem::LineEnding::LF)
        .map_err(PkiError::der(&c.name))?;
    let key_pem = me.key.to_pkcs8_pem().map_err(|error| PkiError::Key {
        name: c.name.clone(),
        error,
    })?;
    let mut rng = seeded_rng("pkcs12", &c.name);
    let p12 = build_pkcs12(
        &me.key,
        &me.cert,
        &chain,
        &c.name,
        PKCS12_PASSWORD,
        spec.pkcs12_iterations,
        &mut rng,
    )?;
    let dir = &c.name;
    let what = if c.ca { "CA" } else { "credential" };
    for (file, bytes, purpose) in [
        (
            CERT_PEM,
            pem.as_bytes(),
            format!("{what} {}: certificate, PEM", c.name),
        ),
        (
            CERT_DER,
            &der[..],
            format!("{what} {}: certificate, DER", c.name),
        ),
        (
            KEY_PEM,
            key_pem.as_bytes(),
            format!("{what} {}: private key, PKCS#8 PEM (unencrypted)", c.name),
        ),
        (
            BUNDLE_P12,
            &p12[..],
            format!(
                "{what} {}: PKCS#12 with key, certificate and chain (PBES2 AES-256-CBC, HMAC-SHA-256; password {PKCS12_PASSWORD})",
                c.name
            ),
        ),
    ] {
        let path = format!("{dir}/{file}");
        out.write_for(Some(&c.name), &path, bytes, &purpose)?;
        written.push(path);
    }
    if let Some(defect) = c.malformed {
        let issuer = issued.get(c.issuer_name()).ok_or_else(|| {
            PkiError::SpecInvalid(format!("{}: issuer {} not issued", c.name, c.issuer))
        })?;
        let signer = CertSigner::new(&issuer.key, c.signature)?;
        let bad = malform(&me.cert, defect, &signer)?;
        let bad_pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &bad)
            .map_err(|e| PkiError::Sign(format!("{}: PEM: {e}", c.name)))?;
        for (file, bytes, form) in [
            (MALFORMED_DER, &bad[..], "DER"),
            (MALFORMED_PEM, bad_pem.as_bytes(), "PEM"),
        ] {
            let path = format!("{dir}/{file}");
            let purpose = format!(
                "credential {}: the certificate hand-encoded with defect {defect:?} and re-signed by its issuer, {form} (most parsers refuse it)",
                c.name
            );
            out.write_for(Some(&c.name), &path, bytes, &purpose)?;
            written.push(path);
        }
    }
    Ok(written)
}

/// Per CA: the certificate as AIA serves it, the .p7c where AIA uses it, and the CRL.
fn write_ca(
    out: &mut Output<'_>,
    spec: &PkiSpec,
    issued: &BTreeMap<String, Issued>,
    ca: &CredentialSpec,
    epoch: OffsetDateTime,
) -> Result<CrlEntry, PkiError> {
    let me = issued
        .get(&ca.name)
        .ok_or_else(|| PkiError::SpecInvalid(format!("{} was not issued", ca.name)))?;
    let der = me.cert.to_der().map_err(PkiError::der(&ca.name))?;
    out.write_for(
        Some(&ca.name),
        &format!("{}.cer", ca.name),
        &der,
        &format!(
            "CA {}: certificate, DER, as served at {}/{}.cer",
            ca.name, spec.base_url, ca.name
        ),
    )?;
    if ca.aia_p7c {
        let p7c = build_p7c(std::slice::from_ref(&me.cert))?;
        out.write_for(
            Some(&ca.name),
            &format!("{}.p7c", ca.name),
            &p7c,
            &format!(
                "CA {}: certs-only PKCS#7, as served at {}/{}.p7c",
                ca.name, spec.base_url, ca.name
            ),
        )?;
    }
    let mut revoked = Vec::new();
    let mut names = Vec::new();
    for c in spec.credentials.iter().filter(|c| c.issuer == ca.name) {
        if let (Some(r), Some(i)) = (&c.revoked, issued.get(&c.name)) {
            revoked.push(RevokedEntry {
                serial: SerialNumber::from(i.serial),
                date: plus_days(epoch, r.days),
                reason: Some(r.reason),
            });
            names.push(c.name.clone());
        }
    }
    let next_update = plus_days(epoch, spec.crl_next_update_days);
    let crl = build_crl(&me.cert, &me.key, CRL_NUMBER, epoch, next_update, &revoked)?;
    let path = format!("{}.crl", ca.name);
    out.write_for(
        Some(&ca.name),
        &path,
        &crl.to_der().map_err(PkiError::der(&path))?,
        &format!(
            "CA {}: CRL v2, DER, thisUpdate = epoch, nextUpdate = epoch + {} days; revokes {}",
            ca.name,
            spec.crl_next_update_days,
            if names.is_empty() {
                "nothing".to_string()
            } else {
                names.join(", ")
            }
        ),
    )?;
    Ok(CrlEntry {
        ca: ca.name.clone(),
        path,
        crl_number: CRL_NUMBER,
        this_update: format_rfc3339(epoch),
        next_update: format_rfc3339(next_update),
        revoked: names,
    })
}

/// The anchor under an obvious name, the description, a README.
fn write_top_level(
    out: &mut Output<'_>,
    spec: &PkiSpec,
    spec_text: &str,
    issued: &BTreeMap<String, Issued>,
    epoch: OffsetDateTime,
) -> Result<(), PkiError> {
    let anchor = issued
        .get(&spec.anchor)
        .ok_or_else(|| PkiError::SpecInvalid(format!("anchor {} was not issued", spec.anchor)))?;
    let anchor_pem = anchor
        .cert
        .to_pem(der::pem::LineEnding::LF)
        .map_err(PkiError::der("anchor"))?;
    let anchor_der = anchor.cert.to_der().map_err(PkiError::der("anchor"))?;
    let install = "the harness trust anchor: install it in the system under test";
    out.write(
        ANCHOR_PEM,
        anchor_pem.as_bytes(),
        &format!("{} ({}), PEM: {install}", spec.anchor, "root"),
    )?;
    out.write(
        ANCHOR_DER,
        &anchor_der,
        &format!("{} ({}), DER: {install}", spec.anchor, "root"),
    )?;
    out.write(
        SPEC_FILE,
        spec_text.as_bytes(),
        "the PKI description this set was generated from",
    )?;
    out.write(
        README_FILE,
        readme(spec, epoch).as_bytes(),
        "what is in this folder and how to use it",
    )?;

    Ok(())
}

/// Files the previous run listed in its manifest (empty when there is none).
fn previous_files(out_dir: &Path) -> Vec<String> {
    std::fs::read(out_dir.join(MANIFEST_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Manifest>(&bytes).ok())
        .map(|m| m.files.into_iter().map(|f| f.path).collect())
        .unwrap_or_default()
}

/// A credential renamed or dropped from the description must not linger in a committed set:
/// remove what the previous manifest listed and this one does not (nothing else is touched).
fn remove_stale(out_dir: &Path, previous: &[String], manifest: &Manifest) -> Result<(), PkiError> {
    let current: std::collections::BTreeSet<&str> =
        manifest.files.iter().map(|f| f.path.as_str()).collect();
    for rel in previous {
        // Paths come from a file on disk: only plain relative paths are acted upon.
        let plain = Path::new(rel)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if current.contains(rel.as_str()) || !plain {
            continue;
        }
        let path = out_dir.join(rel);
        if path.is_file() {
            std::fs::remove_file(&path).map_err(|e| PkiError::io(&path, e))?;
        }
        if let Some(parent) = path.parent()
            && parent != out_dir
        {
            // Only succeeds when the folder is empty, which is what we want.
            let _ = std::fs::remove_dir(parent);
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn credential_entry(
    spec: &PkiSpec,
    c: &CredentialSpec,
    issuer: &IssuerInfo<'_>,
    cert: &Certificate,
    key: &PrivateKey,
    serial: u64,
    epoch: OffsetDateTime,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<CredentialEntry, PkiError> {
    let san = subject_alt_names(c)?
        .iter()
        .map(|n| match n {
            GeneralName::Rfc822Name(s) => format!("email:{s}"),
            GeneralName::DnsName(s) => format!("DNS:{s}"),
            other => format!("{other:?}"),
        })
        .collect();
    let not_self = !c.is_self_signed();
    Ok(CredentialEntry {
        name: c.name.clone(),
        ca: c.ca,
        purpose: c.purpose.clone(),
        subject: cert.tbs_certificate().subject().to_string(),
        binding: c.binding(),
        san,
        validity_class: c.validity.clone(),
        not_before: format_rfc3339(not_before),
        not_after: format_rfc3339(not_after),
        issuer: c.issuer_name().to_string(),
        serial,
        key: key.describe(),
        key_usage: effective_key_usage(c),
        extended_key_usage: c.extended_key_usage.clone(),
        signature: c.signature,
        crl_url: (not_self && !c.omits(OmitExtension::CrlDistributionPoints))
            .then(|| crl_url(c, &spec.base_url, issuer)),
        aia_url: (not_self && !c.omits(OmitExtension::AuthorityInfoAccess))
            .then(|| aia_url(c, &spec.base_url, issuer)),
        revoked: c.revoked.as_ref().map(|r| RevokedInfo {
            reason: r.reason,
            date: format_rfc3339(plus_days(epoch, r.days)),
            crl: format!("{}.crl", c.issuer_name()),
        }),
        files: Vec::new(),
    })
}

/// The issuers of `c` up to its root, nearest first (empty for a root).
fn chain_of(
    spec: &PkiSpec,
    issued: &BTreeMap<String, Issued>,
    c: &CredentialSpec,
) -> Result<Vec<Certificate>, PkiError> {
    let mut chain = Vec::new();
    let mut cur = c;
    while !cur.is_self_signed() {
        let parent = spec
            .credential(&cur.issuer)
            .ok_or_else(|| PkiError::SpecInvalid(format!("no issuer {}", cur.issuer)))?;
        let cert = issued
            .get(&parent.name)
            .ok_or_else(|| PkiError::SpecInvalid(format!("{} was not issued", parent.name)))?;
        chain.push(cert.cert.clone());
        cur = parent;
    }
    Ok(chain)
}

/// ChaCha20 seeded from SHA-256 of a purpose label and the credential name.
pub fn seeded_rng(label: &str, name: &str) -> ChaCha20Rng {
    let seed: [u8; 32] = Sha256::new()
        .chain_update(b"direct-conformance/")
        .chain_update(label.as_bytes())
        .chain_update(b"/")
        .chain_update(name.as_bytes())
        .finalize()
        .into();
    ChaCha20Rng::from_seed(seed)
}

/// Key generation dominates the run (RSA-4096 especially) and each key has its own seeded
/// RNG, so the keys are made on all cores, biggest first, without changing any byte.
fn generate_keys(spec: &PkiSpec) -> Result<Vec<PrivateKey>, PkiError> {
    let n = spec.credentials.len();
    let mut order: Vec<usize> = (0..n).collect();
    let cost = |k: KeySpec| match k {
        KeySpec::Rsa4096 => 0,
        KeySpec::Rsa3072 => 1,
        KeySpec::Rsa2048 => 2,
        _ => 3,
    };
    order.sort_by_key(|&i| cost(spec.credentials[i].key));
    let slots: Mutex<Vec<Option<Result<PrivateKey, PkiError>>>> =
        Mutex::new((0..n).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = order.get(k) else { break };
                    let c = &spec.credentials[i];
                    let mut rng = seeded_rng("key", &c.name);
                    let key =
                        PrivateKey::generate(c.key, &mut rng).map_err(|error| PkiError::Key {
                            name: c.name.clone(),
                            error,
                        });
                    if let Ok(mut slots) = slots.lock() {
                        slots[i] = Some(key);
                    }
                }
            });
        }
    });
    let slots = slots
        .into_inner()
        .map_err(|_| PkiError::Sign("a key generation thread panicked".into()))?;
    slots
        .into_iter()
        .zip(&spec.credentials)
        .map(|(slot, c)| {
            slot.unwrap_or_else(|| Err(PkiError::Sign(format!("no key made for {}", c.name))))
        })
        .collect()
}

/// Writes files under the output folder and remembers them for the manifest.
struct Output<'a> {
    dir: &'a Path,
    files: Vec<FileEntry>,
}

impl<'a> Output<'a> {
    fn new(dir: &'a Path) -> Result<Self, PkiError> {
        std::fs::create_dir_all(dir).map_err(|e| PkiError::io(dir, e))?;
        Ok(Output {
            dir,
            files: Vec::new(),
        })
    }

    fn write(&mut self, rel: &str, bytes: &[u8], purpose: &str) -> Result<(), PkiError> {
        self.write_for(None, rel, bytes, purpose)
    }

    fn write_for(
        &mut self,
        credential: Option<&str>,
        rel: &str,
        bytes: &[u8],
        purpose: &str,
    ) -> Result<(), PkiError> {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| PkiError::io(parent, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| PkiError::io(&path, e))?;
        self.files.push(FileEntry {
            path: rel.to_string(),
            purpose: purpose.to_string(),
            credential: credential.map(str::to_string),
            sha256: Some(hex(&Sha256::digest(bytes))),
        });
        Ok(())
    }
}

fn readme(spec: &PkiSpec, epoch: OffsetDateTime) -> String {
    let cas: Vec<String> = spec
        .cas()
        .map(|c| format!("- `{}`: {}", c.name, c.purpose))
        .collect();
    format!(
        "# reference-certs: the harness's test PKI\n\n\
         Generated by `direct-conformance certs` from `{SPEC_FILE}` (do not edit the other files by\n\
         hand; change `{SPEC_FILE}` and regenerate). Regeneration with the recorded epoch is\n\
         byte-for-byte identical.\n\n\
         - Epoch: {epoch}. Valid credentials run 10 years from it; expired ones ended a year before it.\n\
         - Trust anchor to install in the system under test: `{ANCHOR_PEM}` (or `{ANCHOR_DER}`),\n  \
           the root `{anchor}`.\n\
         - One folder per credential: `{CERT_PEM}`, `{CERT_DER}`, `{KEY_PEM}` (PKCS#8, unencrypted) and\n  \
           `{BUNDLE_P12}` (key, certificate and chain).\n\
         - PKCS#12 password: `{PKCS12_PASSWORD}`. Format: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for the key\n  \
           and the certificates, HMAC-SHA-256 MAC, {iter} iterations: OpenSSL 3 reads it without `-legacy`,\n  \
           Java keytool with `-storetype PKCS12`.\n\
         - Per CA: `<ca>.cer` (DER, as AIA serves it), `<ca>.crl` (CRL v2, DER) and, where AIA points at\n  \
           one, `<ca>.p7c` (certs-only PKCS#7). The HTTP server builds fresh CRLs per request\n  \
           (nextUpdate +24 h); the committed CRLs have nextUpdate = epoch + {crl_days} days so that\n  \
           `openssl verify -crl_check` works offline for as long as the set itself.\n\
         - `{MANIFEST_FILE}`: every file with its purpose and SHA-256, every credential with subject, SAN,\n  \
           validity, issuer, serial, key, key usage and revocation.\n\n\
         Certificate authorities:\n\n{cas}\n",
        epoch = format_rfc3339(epoch),
        anchor = spec.anchor,
        iter = spec.pkcs12_iterations,
        crl_days = spec.crl_next_update_days,
        cas = cas.join("\n"),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pki::store::ReferencePki;
    use der::Decode;
    use x509_cert::crl::CertificateList;
    use x509_cert::ext::pkix::{AuthorityKeyIdentifier, SubjectKeyIdentifier};

    /// A small PKI with EC keys, so that the tests do not wait for RSA key generation.
    pub(crate) const SMALL_SPEC: &str = r#"
epoch = "2026-11-01T00:00:00Z"
base_url = "http://pki.example.test"
anchor = "root"
crl_next_update_days = 30
pkcs12_iterations = 16
[validity.valid]
not_before_days = 0
not_after_days = 3653
[validity.expired]
not_before_days = -365
not_after_days = -365
[[credential]]
name = "root"
issuer = "self"
ca = true
key = "p256"
purpose = "root"
[[credential]]
name = "inter"
issuer = "root"
ca = true
key = "p256"
aia_p7c = true
purpose = "intermediate"
[[credential]]
name = "leaf"
issuer = "inter"
key = "p256"
address = "a@example.test"
purpose = "leaf"
[[credential]]
name = "revoked"
issuer = "inter"
key = "p256"
domain = "example.test"
revoked = { reason = "key-compromise", days = -1 }
purpose = "revoked"
[[credential]]
name = "old"
issuer = "root"
key = "p256"
validity = "expired"
omit = ["key-usage"]
purpose = "expired"
"#;

    #[test]
    fn generation_is_reproducible_and_complete() {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        let ma = generate(SMALL_SPEC, None, a.path()).expect("generate a");
        let mb = generate(SMALL_SPEC, None, b.path()).expect("generate b");
        assert_eq!(ma, mb);
        for f in &ma.files {
            let x = std::fs::read(a.path().join(&f.path)).expect("file a");
            let y = std::fs::read(b.path().join(&f.path)).expect("file b");
            assert_eq!(x, y, "{} differs", f.path);
        }
        // The manifest names exactly the files on disk.
        let mut on_disk = Vec::new();
        walk(a.path(), a.path(), &mut on_disk);
        on_disk.sort();
        let listed: Vec<String> = ma.files.iter().map(|f| f.path.clone()).collect();
        assert_eq!(on_disk, listed);
        assert!(listed.contains(&"inter.p7c".to_string()));
        assert!(!listed.contains(&"root.p7c".to_string()));
    }

    #[test]
    fn serials_count_per_issuer_and_dates_follow_classes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let m = generate(SMALL_SPEC, None, dir.path()).expect("generate");
        let serial = |n: &str| m.credentials.iter().find(|c| c.name == n).map(|c| c.serial);
        assert_eq!(serial("root"), Some(1));
        assert_eq!(serial("inter"), Some(2));
        assert_eq!(serial("old"), Some(3));
        assert_eq!(serial("leaf"), Some(1));
        assert_eq!(serial("revoked"), Some(2));
        let old = m.credentials.iter().find(|c| c.name == "old").expect("old");
        assert_eq!(old.not_before, old.not_after);
        assert_eq!(old.not_after, "2025-11-01T00:00:00Z");
        assert_eq!(old.key_usage, None);
        let leaf = m
            .credentials
            .iter()
            .find(|c| c.name == "leaf")
            .expect("leaf");
        assert_eq!(
            leaf.aia_url.as_deref(),
            Some("http://pki.example.test/inter.p7c")
        );
        assert_eq!(leaf.san, vec!["email:a@example.test".to_string()]);
    }

    #[test]
    fn intermediate_crl_names_the_intermediate_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        generate(SMALL_SPEC, None, dir.path()).expect("generate");
        let pki = ReferencePki::load(dir.path()).expect("load");
        let inter = pki.ca("inter").expect("inter");
        let crl = CertificateList::from_der(pki.crl_der("inter").expect("crl")).expect("decode");
        let aki = crl
            .tbs_cert_list
            .crl_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER)
            .map(|e| AuthorityKeyIdentifier::from_der(e.extn_value.as_bytes()).expect("aki"))
            .expect("CRL has an AKI");
        let (_, ski) = inter
            .certificate
            .tbs_certificate()
            .get_extension::<SubjectKeyIdentifier>()
            .expect("ext")
            .expect("SKI");
        assert_eq!(aki.key_identifier, Some(ski.0));
        let revoked = crl.tbs_cert_list.revoked_certificates.expect("entries");
        assert_eq!(revoked.len(), 1);
        assert_eq!(
            revoked[0].serial_number,
            *pki.credential("revoked")
                .expect("revoked")
                .certificate
                .tbs_certificate()
                .serial_number()
        );
    }

    #[test]
    fn store_answers_chain_anchor_and_ca() {
        let dir = tempfile::tempdir().expect("tempdir");
        generate(SMALL_SPEC, None, dir.path()).expect("generate");
        let pki = ReferencePki::load(dir.path()).expect("load");
        let chain: Vec<&str> = pki
            .chain("leaf")
            .expect("chain")
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(chain, ["leaf", "inter", "root"]);
        assert_eq!(pki.anchor().map(|c| c.name.as_str()), Some("root"));
        assert!(pki.ca("leaf").is_none());
        // What a CRL server rebuilds per request matches the committed CRL's entries.
        let epoch = pki.epoch().expect("epoch");
        let entries = pki.revoked_entries("inter", epoch);
        assert_eq!(entries.len(), 1);
        let inter = pki.ca("inter").expect("inter");
        let rebuilt = crate::pki::build_crl(
            &inter.certificate,
            &inter.key,
            1,
            epoch,
            plus_days(epoch, 30),
            &entries,
        )
        .expect("build_crl");
        assert_eq!(
            rebuilt.to_der().expect("der"),
            pki.crl_der("inter").expect("committed CRL")
        );
        assert!(pki.credential("nope").is_none());
        assert!(pki.credential("leaf").expect("leaf").pkcs12_path.exists());
    }

    #[test]
    fn regeneration_removes_what_the_description_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        generate(SMALL_SPEC, None, dir.path()).expect("generate");
        let mut stranger = dir.path().join("leaf");
        stranger.push("notes.txt");
        std::fs::write(&stranger, "mine").expect("write");
        let smaller = SMALL_SPEC.replace("name = \"old\"", "name = \"older\"");
        generate(&smaller, None, dir.path()).expect("regenerate");
        assert!(
            !dir.path().join("old").exists(),
            "stale credential folder left behind"
        );
        assert!(dir.path().join("older").join(CERT_PEM).exists());
        assert!(
            stranger.exists(),
            "a file the manifest never listed was removed"
        );
    }

    #[test]
    fn missing_folder_is_a_typed_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(
            ReferencePki::load(dir.path().join("nothing")),
            Err(PkiError::Io { .. })
        ));
    }

    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if let Ok(rel) = p.strip_prefix(root) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
}
