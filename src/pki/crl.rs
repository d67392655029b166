//! CRLs (v2, CRLNumber, AKI) built with x509-cert's `CrlBuilder`, with its AKI bug patched:
//! the builder copies the issuer certificate's own AKI (the key of the issuer's issuer) instead
//! of the issuer's SKI, so OpenSSL cannot match an intermediate's CRL. We replace the extension
//! with keyIdentifier = issuer SKI and sign again.

use der::Encode;
use der::asn1::OctetString;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::builder::{Builder, CrlBuilder};
use x509_cert::crl::{CertificateList, RevokedCert};
use x509_cert::ext::ToExtension;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber, CrlReason, SubjectKeyIdentifier};
use x509_cert::serial_number::SerialNumber;

use crate::keys::PrivateKey;

use super::error::PkiError;
use super::extensions::key_identifier;
use super::issue::signature_bits;
use super::sign::{CertSigner, RawSignature};
use super::spec::{RevocationReason, SignatureHash};
use super::time::x509_time;

/// One CRL entry.
#[derive(Clone, Debug)]
pub struct RevokedEntry {
    pub serial: SerialNumber,
    pub date: OffsetDateTime,
    pub reason: Option<RevocationReason>,
}

pub fn crl_reason(r: RevocationReason) -> CrlReason {
    match r {
        RevocationReason::Unspecified => CrlReason::Unspecified,
        RevocationReason::KeyCompromise => CrlReason::KeyCompromise,
        RevocationReason::CaCompromise => CrlReason::CaCompromise,
        RevocationReason::AffiliationChanged => CrlReason::AffiliationChanged,
        RevocationReason::Superseded => CrlReason::Superseded,
        RevocationReason::CessationOfOperation => CrlReason::CessationOfOperation,
        RevocationReason::CertificateHold => CrlReason::CertificateHold,
    }
}

/// Builds and signs (SHA-256) a v2 CRL for `issuer`. The HTTP server calls this per request
/// with `this_update` = now and `next_update` = now + 24 h; `certs` with the epoch.
pub fn build_crl(
    issuer: &Certificate,
    issuer_key: &PrivateKey,
    crl_number: u64,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    revoked: &[RevokedEntry],
) -> Result<CertificateList, PkiError> {
    let ctx = || format!("CRL of {}", issuer.tbs_certificate().subject());
    let hash = match issuer_key {
        PrivateKey::P384(_) => SignatureHash::Sha384,
        _ => SignatureHash::Sha256,
    };
    let signer = CertSigner::new(issuer_key, hash)?;
    let number = CrlNumber::try_from(crl_number).map_err(PkiError::der(ctx()))?;
    let mut entries = Vec::with_capacity(revoked.len());
    for r in revoked {
        let crl_entry_extensions = match r.reason {
            Some(reason) => Some(vec![
                crl_reason(reason)
                    .to_extension(issuer.tbs_certificate().subject(), &[])
                    .map_err(PkiError::der(ctx()))?,
            ]),
            None => None,
        };
        entries.push(RevokedCert {
            serial_number: r.serial.clone(),
            revocation_date: x509_time(r.date)?,
            crl_entry_extensions,
        });
    }
    let builder = CrlBuilder::new_with_this_update(issuer, number, x509_time(this_update)?)
        .map_err(PkiError::der(ctx()))?
        .with_next_update(Some(x509_time(next_update)?))
        .with_certificates(entries.into_iter());
    let mut crl = builder
        .build::<_, RawSignature>(&signer)
        .map_err(|e| PkiError::Builder {
            context: ctx(),
            message: e.to_string(),
        })?;
    patch_authority_key_id(&mut crl, issuer, &signer)?;
    Ok(crl)
}

/// The AKI fix described in the module comment. Re-signs only when something changed.
fn patch_authority_key_id(
    crl: &mut CertificateList,
    issuer: &Certificate,
    signer: &CertSigner<'_>,
) -> Result<(), PkiError> {
    let ctx = || "CRL authorityKeyIdentifier".to_string();
    let ski = match issuer
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
        .map_err(PkiError::der(ctx()))?
    {
        Some((_, ski)) => ski.0.as_bytes().to_vec(),
        None => key_identifier(issuer.tbs_certificate().subject_public_key_info()),
    };
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(ski).map_err(PkiError::der(ctx()))?),
        ..Default::default()
    };
    let wanted = aki
        .to_extension(&crl.tbs_cert_list.issuer, &[])
        .map_err(PkiError::der(ctx()))?;
    let exts = crl
        .tbs_cert_list
        .crl_extensions
        .get_or_insert_with(Vec::new);
    match exts.iter_mut().find(|e| e.extn_id == wanted.extn_id) {
        Some(existing) if *existing == wanted => return Ok(()),
        Some(existing) => *existing = wanted,
        None => exts.push(wanted),
    }
    let tbs = crl.tbs_cert_list.to_der().map_err(PkiError::der(ctx()))?;
    crl.signature = signature_bits(signer, &tbs)?;
    Ok(())
}
