//! Verification of CMS SignedData (RFC 5652 §5.4–5.6). The cms crate has no verification API,
//! so this is ours: find the signer by issuer+serial or SKI, hash the content, compare the
//! messageDigest attribute, re-encode the signed attributes from the bytes as received (as a SET,
//! RFC 5652 §5.4) and check the RSA PKCS#1 v1.5 or ECDSA signature.
//!
//! Structural failures (not CMS, not SignedData) are errors; a signature that does not verify
//! is reported per signer, so that the validator can say exactly what failed.

use std::time::SystemTime;

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerInfo};
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::OctetString;
use der::{Decode, Encode};
use x509_cert::Certificate;

use crate::smime::algorithms::DigestAlgorithm;
use crate::smime::ber;
use crate::smime::error::SmimeError;
use crate::smime::identity::{describe_sid, signer_matches};
use crate::smime::sign::OID_SMIME_CAPABILITIES;

/// What a SignedData says and whether its signatures hold.
#[derive(Debug)]
pub struct SignatureReport {
    pub version: u8,
    pub digest_algorithms: Vec<ObjectIdentifier>,
    pub econtent_type: ObjectIdentifier,
    /// The encapsulated content of a non-detached (opaque) SignedData.
    pub econtent: Option<Vec<u8>>,
    pub certificates: Vec<Certificate>,
    /// Certificates in the SignedData that do not decode (a Validity without both times,
    /// CERT-07), left out of `certificates` so that the rest can still be read.
    pub unreadable_certificates: Vec<UnreadableCertificate>,
    pub signers: Vec<SignerReport>,
}

/// A certificate of the SignedData that is not a well-formed X.509 certificate.
#[derive(Clone, Debug)]
pub struct UnreadableCertificate {
    pub der: Vec<u8>,
    pub error: String,
}

#[derive(Debug)]
pub struct SignerReport {
    pub sid: String,
    pub certificate: Option<Certificate>,
    pub digest_oid: ObjectIdentifier,
    pub digest: Option<DigestAlgorithm>,
    pub signature_algorithm: ObjectIdentifier,
    pub has_signed_attributes: bool,
    pub content_type_attribute: Option<ObjectIdentifier>,
    /// Whether messageDigest equals the digest of the content (None: no such attribute).
    pub message_digest_matches: Option<bool>,
    pub signing_time: Option<SystemTime>,
    pub smime_capabilities: Vec<ObjectIdentifier>,
    /// Ok when the signature verifies over the content with the signer's certificate.
    pub outcome: Result<(), SmimeError>,
}

impl SignatureReport {
    /// The first signer whose signature verified.
    pub fn verified_signer(&self) -> Option<&SignerReport> {
        self.signers.iter().find(|s| s.outcome.is_ok())
    }

    pub fn is_detached(&self) -> bool {
        self.econtent.is_none()
    }
}

/// Verifies a detached signature (`application/pkcs7-signature` body) over `content`.
pub fn verify_detached(signature: &[u8], content: &[u8]) -> Result<SignatureReport, SmimeError> {
    verify(signature, Some(content), &[])
}

/// [`verify_detached`] with `extra` certificates to find the signer among, beside those the
/// SignedData carries (a receiver's own reading of a certificate it could not decode).
pub fn verify_detached_with(
    signature: &[u8],
    content: &[u8],
    extra: &[Certificate],
) -> Result<SignatureReport, SmimeError> {
    verify(signature, Some(content), extra)
}

/// Verifies an opaque SignedData over its own encapsulated content.
pub fn verify_attached(signed: &[u8]) -> Result<SignatureReport, SmimeError> {
    verify(signed, None, &[])
}

/// The SignedData with its undecodable certificates taken out, and those certificates. Done
/// only when the whole does not decode, so that a well-formed SignedData is read as sent.
fn without_unreadable(sd_der: &[u8]) -> Result<(Vec<u8>, Vec<UnreadableCertificate>), SmimeError> {
    use der::{Any, Tag, TagNumber, Tagged};
    let mut fields: Vec<Any> = Vec::from_der(sd_der)?;
    let certs_tag = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(0),
    };
    let mut unreadable = Vec::new();
    for f in fields.iter_mut().filter(|f| f.tag() == certs_tag) {
        let mut kept = Vec::new();
        for e in ber::elements(f.value())? {
            // Only plain certificates (SEQUENCE) are judged; other CertificateChoices stay.
            match (e.tag == 0x30).then(|| Certificate::from_der(e.encoded)) {
                Some(Err(err)) => unreadable.push(UnreadableCertificate {
                    der: e.encoded.to_vec(),
                    error: err.to_string(),
                }),
                _ => kept.extend_from_slice(e.encoded),
            }
        }
        *f = Any::new(certs_tag, kept)?;
    }
    Ok((fields.to_der()?, unreadable))
}

fn verify(
    signature: &[u8],
    detached: Option<&[u8]>,
    extra: &[Certificate],
) -> Result<SignatureReport, SmimeError> {
    let der = ber::to_der(signature)?;
    let ci = ContentInfo::from_der(&der)?;
    if ci.content_type != rfc5911::ID_SIGNED_DATA {
        return Err(SmimeError::WrongContentType {
            expected: "SignedData",
            found: ci.content_type,
        });
    }
    let mut sd_der = ci.content.to_der()?;
    let mut unreadable_certificates = Vec::new();
    let sd = match SignedData::from_der(&sd_der) {
        Ok(sd) => sd,
        Err(first) => {
            let (cleaned, bad) = without_unreadable(&sd_der)?;
            if bad.is_empty() {
                return Err(first.into());
            }
            unreadable_certificates = bad;
            sd_der = cleaned;
            SignedData::from_der(&sd_der)?
        }
    };
    let econtent = match &sd.encap_content_info.econtent {
        Some(any) => Some(any.decode_as::<OctetString>()?.as_bytes().to_vec()),
        None => None,
    };
    let content: &[u8] = match (detached, &econtent) {
        (Some(c), _) => c,
        (None, Some(c)) => c,
        (None, None) => {
            return Err(SmimeError::Asn1(
                "SignedData has no content to verify".into(),
            ));
        }
    };
    let mut certificates = signed_data_certificates(&sd);
    certificates.extend(extra.iter().cloned());

    let signers = raw_signer_infos(&sd_der)?
        .into_iter()
        .map(|raw| verify_signer(raw, content, &certificates))
        .collect::<Result<Vec<_>, _>>()?;

    Ok(SignatureReport {
        version: sd.version as u8,
        digest_algorithms: sd.digest_algorithms.iter().map(|a| a.oid).collect(),
        econtent_type: sd.encap_content_info.econtent_type,
        econtent,
        certificates,
        unreadable_certificates,
        signers,
    })
}

/// Each SignerInfo's encoding as received, so that signed attributes keep their order.
fn raw_signer_infos(sd_der: &[u8]) -> Result<Vec<&[u8]>, SmimeError> {
    let sd = ber::single(sd_der)?;
    let fields = ber::elements(sd.content)?;
    // signerInfos is the last field: a SET (0x31).
    let infos = fields
        .iter()
        .rev()
        .find(|e| e.tag == 0x31)
        .ok_or_else(|| SmimeError::Asn1("SignedData has no signerInfos".into()))?;
    Ok(ber::elements(infos.content)?
        .into_iter()
        .map(|e| e.encoded)
        .collect())
}

fn verify_signer(
    raw: &[u8],
    content: &[u8],
    certificates: &[Certificate],
) -> Result<SignerReport, SmimeError> {
    let si = SignerInfo::from_der(raw)?;
    let certificate = certificates
        .iter()
        .find(|c| signer_matches(&si.sid, c))
        .cloned();
    let digest = DigestAlgorithm::from_oid(&si.digest_alg.oid);
    let mut report = SignerReport {
        sid: describe_sid(&si.sid),
        certificate,
        digest_oid: si.digest_alg.oid,
        digest,
        signature_algorithm: si.signature_algorithm.oid,
        has_signed_attributes: si.signed_attrs.is_some(),
        content_type_attribute: None,
        message_digest_matches: None,
        signing_time: None,
        smime_capabilities: Vec::new(),
        outcome: Ok(()),
    };
    let Some(digest) = digest else {
        report.outcome = Err(SmimeError::UnsupportedDigest(si.digest_alg.oid));
        return Ok(report);
    };
    let content_digest = digest.digest(content);

    // The bytes the signature covers: the content itself, or the signed attributes re-tagged
    // as SET OF from the raw [0] IMPLICIT encoding (RFC 5652 §5.4).
    let signed_bytes = match &si.signed_attrs {
        None => content.to_vec(),
        Some(attrs) => {
            for attr in attrs.iter() {
                let first = attr.values.iter().next();
                if attr.oid == rfc5911::ID_CONTENT_TYPE {
                    report.content_type_attribute =
                        first.and_then(|v| v.decode_as::<ObjectIdentifier>().ok());
                } else if attr.oid == rfc5911::ID_MESSAGE_DIGEST {
                    report.message_digest_matches = Some(
                        first
                            .and_then(|v| v.decode_as::<OctetString>().ok())
                            .is_some_and(|md| md.as_bytes() == content_digest.as_slice()),
                    );
                } else if attr.oid == rfc5911::ID_SIGNING_TIME {
                    report.signing_time = first
                        .and_then(|v| v.decode_as::<x509_cert::time::Time>().ok())
                        .map(|t| t.to_system_time());
                } else if attr.oid == OID_SMIME_CAPABILITIES {
                    report.smime_capabilities = first
                        .and_then(|v| v.decode_as::<Vec<spki::AlgorithmIdentifierOwned>>().ok())
                        .map(|caps| caps.into_iter().map(|c| c.oid).collect())
                        .unwrap_or_default();
                }
            }
            raw_signed_attributes(raw)?
        }
    };
    if report.has_signed_attributes {
        match report.message_digest_matches {
            None => {
                report.outcome = Err(SmimeError::MissingSignedAttribute("messageDigest"));
                return Ok(report);
            }
            Some(false) => {
                report.outcome = Err(SmimeError::DigestMismatch);
                return Ok(report);
            }
            Some(true) => {}
        }
        if report.content_type_attribute.is_none() {
            report.outcome = Err(SmimeError::MissingSignedAttribute("contentType"));
            return Ok(report);
        }
    }
    let Some(cert) = &report.certificate else {
        report.outcome = Err(SmimeError::SignerCertificateMissing);
        return Ok(report);
    };
    report.outcome = check_signature(
        cert,
        si.signature_algorithm.oid,
        digest,
        &digest.digest(&signed_bytes),
        si.signature.as_bytes(),
    );
    Ok(report)
}

fn raw_signed_attributes(raw_signer_info: &[u8]) -> Result<Vec<u8>, SmimeError> {
    let si = ber::single(raw_signer_info)?;
    let attrs = ber::elements(si.content)?
        .into_iter()
        .find(|e| e.tag == 0xa0)
        .ok_or_else(|| SmimeError::Asn1("signed attributes vanished".into()))?;
    let mut out = attrs.encoded.to_vec();
    if let Some(first) = out.first_mut() {
        *first = 0x31;
    }
    Ok(out)
}

/// Checks `signature` over a message whose `digest` is `hash`, with the signer certificate's
/// key. Also used for certificate and CRL signatures by the trust module.
/// ecdsa-with-SHA1 (RFC 5758 §3.2), which const-oid's rfc5912 table lacks.
const ECDSA_WITH_SHA_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");

pub fn check_signature(
    cert: &Certificate,
    signature_algorithm: ObjectIdentifier,
    digest: DigestAlgorithm,
    hash: &[u8],
    signature: &[u8],
) -> Result<(), SmimeError> {
    check_signature_with_key(
        cert.tbs_certificate().subject_public_key_info(),
        signature_algorithm,
        digest,
        hash,
        signature,
    )
}

pub fn check_signature_with_key(
    spki: &spki::SubjectPublicKeyInfoOwned,
    signature_algorithm: ObjectIdentifier,
    digest: DigestAlgorithm,
    hash: &[u8],
    signature: &[u8],
) -> Result<(), SmimeError> {
    let key_alg = spki.algorithm.oid;
    let rsa_sig = [
        rfc5912::RSA_ENCRYPTION,
        rfc5912::MD_5_WITH_RSA_ENCRYPTION,
        rfc5912::SHA_1_WITH_RSA_ENCRYPTION,
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION,
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION,
    ];
    let ecdsa_sig = [
        ECDSA_WITH_SHA_1,
        rfc5912::ECDSA_WITH_SHA_256,
        rfc5912::ECDSA_WITH_SHA_384,
        rfc5912::ECDSA_WITH_SHA_512,
    ];
    if rsa_sig.contains(&signature_algorithm) {
        if key_alg != rfc5912::RSA_ENCRYPTION {
            return Err(SmimeError::KeyMismatch(format!(
                "RSA signature algorithm with a {key_alg} key"
            )));
        }
        let spki_der = spki.to_der()?;
        let key = {
            use spki::DecodePublicKey;
            rsa::PublicKey::from_public_key_der(&spki_der)
                .map_err(|e| SmimeError::KeyMismatch(format!("RSA public key: {e}")))?
        };
        return key
            .verify(pkcs1v15_scheme(digest), hash, signature)
            .map_err(|e| SmimeError::BadSignature(e.to_string()));
    }
    if ecdsa_sig.contains(&signature_algorithm) {
        if key_alg != rfc5912::ID_EC_PUBLIC_KEY {
            return Err(SmimeError::KeyMismatch(format!(
                "ECDSA signature algorithm with a {key_alg} key"
            )));
        }
        use signature::hazmat::PrehashVerifier;
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .ok_or_else(|| SmimeError::KeyMismatch("EC key without a named curve".into()))?
            .decode_as::<ObjectIdentifier>()
            .map_err(|e| SmimeError::KeyMismatch(format!("EC parameters: {e}")))?;
        let point = spki.subject_public_key.raw_bytes();
        let bad = |e: signature::Error| SmimeError::BadSignature(e.to_string());
        if curve == rfc5912::SECP_256_R_1 {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(bad)?;
            let sig = p256::ecdsa::Signature::from_der(signature).map_err(bad)?;
            return key.verify_prehash(hash, &sig).map_err(bad);
        }
        if curve == rfc5912::SECP_384_R_1 {
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(bad)?;
            let sig = p384::ecdsa::Signature::from_der(signature).map_err(bad)?;
            return key.verify_prehash(hash, &sig).map_err(bad);
        }
        return Err(SmimeError::KeyMismatch(format!(
            "unsupported EC curve {curve}"
        )));
    }
    Err(SmimeError::UnsupportedSignature(signature_algorithm))
}

/// The PKCS#1 v1.5 DigestInfo prefix for each digest. rsa builds these from the digest's OID;
/// MD5 has no `AssociatedOid` in md-5 0.11, so its prefix (RFC 8017 §9.2 note 1) is spelled out.
pub(crate) fn pkcs1v15_scheme(digest: DigestAlgorithm) -> rsa::Pkcs1v15Sign {
    match digest {
        DigestAlgorithm::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
        DigestAlgorithm::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
        DigestAlgorithm::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
        DigestAlgorithm::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
        DigestAlgorithm::Md5 => rsa::Pkcs1v15Sign {
            hash_len: Some(16),
            prefix: Box::new([
                0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05,
                0x05, 0x00, 0x04, 0x10,
            ]),
        },
    }
}

/// The X.509 certificates a SignedData carries (other certificate formats are skipped).
pub fn signed_data_certificates(sd: &SignedData) -> Vec<Certificate> {
    sd.certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(cert) => Some(cert.clone()),
            _ => None,
        })
        .collect()
}
