//! Issuing one certificate with x509-cert's builder: a fixed profile carries the subject,
//! issuer and extensions computed from the PKI description.

use der::asn1::BitString;
use spki::{SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::Certificate;
use x509_cert::builder::{Builder, CertificateBuilder, profile::BuilderProfile};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;

use super::error::PkiError;
use super::sign::{CertSigner, RawSignature};

/// A profile that adds exactly the extensions it was given (the cabf/devid profiles of
/// x509-cert add their own, which the DCDT profile does not want).
struct FixedProfile {
    subject: Name,
    issuer: Name,
    extensions: Vec<Extension>,
}

impl BuilderProfile for FixedProfile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }
    fn get_subject(&self) -> Name {
        self.subject.clone()
    }
    fn build_extensions(
        &self,
        _spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(self.extensions.clone())
    }
}

pub struct CertificateRequest {
    pub name: String,
    pub subject: Name,
    pub issuer: Name,
    pub serial: u64,
    pub validity: Validity,
    pub public_key: SubjectPublicKeyInfoOwned,
    pub extensions: Vec<Extension>,
}

pub fn issue(req: CertificateRequest, signer: &CertSigner<'_>) -> Result<Certificate, PkiError> {
    let berr = |e: x509_cert::builder::Error| PkiError::Builder {
        context: format!("credential {}", req.name),
        message: e.to_string(),
    };
    let profile = FixedProfile {
        subject: req.subject,
        issuer: req.issuer,
        extensions: req.extensions,
    };
    let builder = CertificateBuilder::new(
        profile,
        SerialNumber::from(req.serial),
        req.validity,
        req.public_key,
    )
    .map_err(berr)?;
    builder.build::<_, RawSignature>(signer).map_err(berr)
}

/// Re-signs a certificate list's TBS part after it was patched.
pub(crate) fn signature_bits(
    signer: &CertSigner<'_>,
    tbs_der: &[u8],
) -> Result<BitString, PkiError> {
    let sig = signer.sign_bytes(tbs_der)?;
    BitString::from_bytes(&sig).map_err(PkiError::der("signature"))
}

/// The same subject, key, validity and extensions, but self-signed: what a HISP that signs
/// outside its anchor's hierarchy puts on the wire (the `self-signed-signer` fault switch).
pub fn self_signed_copy(
    cert: &Certificate,
    key: &crate::keys::PrivateKey,
) -> Result<Certificate, PkiError> {
    let tbs = cert.tbs_certificate();
    let hash = match key {
        crate::keys::PrivateKey::P384(_) => super::spec::SignatureHash::Sha384,
        _ => super::spec::SignatureHash::Sha256,
    };
    let signer = CertSigner::new(key, hash)?;
    issue(
        CertificateRequest {
            name: "self-signed copy".into(),
            subject: tbs.subject().clone(),
            issuer: tbs.subject().clone(),
            serial: 1,
            validity: *tbs.validity(),
            public_key: tbs.subject_public_key_info().clone(),
            extensions: tbs.extensions().cloned().unwrap_or_default(),
        },
        &signer,
    )
}
