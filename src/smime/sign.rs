//! CMS SignedData with signed attributes (RFC 5652 §5, RFC 5751 §3.4.3), built with the cms
//! crate's `SignedDataBuilder`: detached (Direct), or opaque with the content inside (the
//! MSG-05 negative vector, and signed trust bundles, whose eContent is the bundle).

use cms::builder::{SignedDataBuilder, SignerInfoBuilder, create_signing_time_attribute};
use cms::cert::CertificateChoices;
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::ID_DATA;
use der::asn1::SetOfVec;
use der::{Any, Encode};
use signature::{Keypair, Signer};
use spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    SignatureBitStringEncoding,
};
use x509_cert::Certificate;
use x509_cert::attr::{Attribute, AttributeValue};

use crate::keys::PrivateKey;
use crate::smime::algorithms::{ContentCipher, DigestAlgorithm};
use crate::smime::error::SmimeError;
use crate::smime::identity::issuer_and_serial;

/// id-smimeCapabilities (RFC 5751 §2.5.2).
pub const OID_SMIME_CAPABILITIES: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.15");

#[derive(Clone, Debug)]
pub struct SignOptions {
    pub digest: DigestAlgorithm,
    /// Intermediates to carry in the SignedData so that receivers can build the path (SIG-02).
    pub chain: Vec<Certificate>,
    /// Leave the signer's own certificate out (for negative tests only).
    pub omit_signer_certificate: bool,
    pub signing_time: bool,
    pub smime_capabilities: bool,
}

impl Default for SignOptions {
    fn default() -> Self {
        SignOptions {
            digest: DigestAlgorithm::Sha256,
            chain: Vec::new(),
            omit_signer_certificate: false,
            signing_time: true,
            smime_capabilities: true,
        }
    }
}

/// Signs `content` (already canonical) and returns the DER of a ContentInfo holding a
/// detached SignedData.
pub fn sign_detached(
    content: &[u8],
    cert: &Certificate,
    key: &PrivateKey,
    options: &SignOptions,
) -> Result<Vec<u8>, SmimeError> {
    sign(content, false, cert, key, options)
}

/// Signs `content` and returns the DER of a ContentInfo whose SignedData carries the content
/// as its eContent (id-data): an opaque signature (RFC 5751 §3.4.2).
pub fn sign_opaque(
    content: &[u8],
    cert: &Certificate,
    key: &PrivateKey,
    options: &SignOptions,
) -> Result<Vec<u8>, SmimeError> {
    sign(content, true, cert, key, options)
}

fn sign(
    content: &[u8],
    opaque: bool,
    cert: &Certificate,
    key: &PrivateKey,
    options: &SignOptions,
) -> Result<Vec<u8>, SmimeError> {
    let eci = EncapsulatedContentInfo {
        econtent_type: ID_DATA,
        econtent: if opaque {
            Some(Any::encode_from(&der::asn1::OctetString::new(content)?)?)
        } else {
            None
        },
    };
    // The builder hashes eContent itself; for a detached signature it takes our digest.
    let digest = options.digest.digest(content);
    let digest_alg = AlgorithmIdentifierOwned {
        oid: options.digest.oid(),
        parameters: None,
    };
    let mut signer_info = SignerInfoBuilder::new(
        SignerIdentifier::IssuerAndSerialNumber(issuer_and_serial(cert)),
        digest_alg.clone(),
        &eci,
        (!opaque).then_some(digest.as_slice()),
    )
    .map_err(sign_err)?;
    if options.signing_time {
        signer_info
            .add_signed_attribute(create_signing_time_attribute().map_err(sign_err)?)
            .map_err(sign_err)?;
    }
    if options.smime_capabilities {
        signer_info
            .add_signed_attribute(smime_capabilities()?)
            .map_err(sign_err)?;
    }

    let mut builder = SignedDataBuilder::new(&eci);
    builder.add_digest_algorithm(digest_alg).map_err(sign_err)?;
    if !options.omit_signer_certificate {
        builder
            .add_certificate(CertificateChoices::Certificate(cert.clone()))
            .map_err(sign_err)?;
    }
    for c in &options.chain {
        builder
            .add_certificate(CertificateChoices::Certificate(c.clone()))
            .map_err(sign_err)?;
    }

    match key {
        PrivateKey::Rsa(k) => {
            use rsa::pkcs1v15::{Signature, SigningKey};
            let k = k.clone();
            match options.digest {
                DigestAlgorithm::Sha1 => add::<_, Signature>(
                    &mut builder,
                    signer_info,
                    &SigningKey::<sha1::Sha1>::new(k),
                ),
                DigestAlgorithm::Sha256 => add::<_, Signature>(
                    &mut builder,
                    signer_info,
                    &SigningKey::<sha2::Sha256>::new(k),
                ),
                DigestAlgorithm::Sha384 => add::<_, Signature>(
                    &mut builder,
                    signer_info,
                    &SigningKey::<sha2::Sha384>::new(k),
                ),
                DigestAlgorithm::Sha512 => add::<_, Signature>(
                    &mut builder,
                    signer_info,
                    &SigningKey::<sha2::Sha512>::new(k),
                ),
                DigestAlgorithm::Md5 => {
                    if opaque {
                        // The builder cannot hash eContent with MD5.
                        return Err(SmimeError::Sign(
                            "MD5 is produced for detached signatures only".into(),
                        ));
                    }
                    add::<_, Signature>(&mut builder, signer_info, &RsaMd5(k))
                }
            }?
        }
        PrivateKey::P256(k) => {
            if options.digest != DigestAlgorithm::Sha256 {
                return Err(SmimeError::KeyMismatch(
                    "ECDSA P-256 signs with SHA-256".into(),
                ));
            }
            let signer = EcdsaDer(p256::ecdsa::SigningKey::from(k.clone()));
            add::<_, ecdsa::der::Signature<p256::NistP256>>(&mut builder, signer_info, &signer)?
        }
        PrivateKey::P384(k) => {
            if options.digest != DigestAlgorithm::Sha384 {
                return Err(SmimeError::KeyMismatch(
                    "ECDSA P-384 signs with SHA-384".into(),
                ));
            }
            let signer = EcdsaDer(p384::ecdsa::SigningKey::from(k.clone()));
            add::<_, ecdsa::der::Signature<p384::NistP384>>(&mut builder, signer_info, &signer)?
        }
    };
    let content_info = builder.build().map_err(sign_err)?;
    Ok(content_info.to_der()?)
}

fn add<S, Sig>(
    builder: &mut SignedDataBuilder<'_>,
    signer_info: SignerInfoBuilder<'_>,
    signer: &S,
) -> Result<(), SmimeError>
where
    S: Keypair + DynSignatureAlgorithmIdentifier + Signer<Sig>,
    S::VerifyingKey: EncodePublicKey,
    Sig: SignatureBitStringEncoding,
{
    builder
        .add_signer_info::<S, Sig>(signer_info, signer)
        .map_err(sign_err)?;
    Ok(())
}

fn sign_err(e: impl std::fmt::Display) -> SmimeError {
    SmimeError::Sign(e.to_string())
}

/// The SMIMECapabilities we announce: the ciphers Direct allows, strongest first.
fn smime_capabilities() -> Result<Attribute, SmimeError> {
    let caps: Vec<AlgorithmIdentifierOwned> = [
        ContentCipher::Aes256Cbc,
        ContentCipher::Aes128Cbc,
        ContentCipher::Aes256Gcm,
    ]
    .into_iter()
    .map(|c| AlgorithmIdentifierOwned {
        oid: c.oid(),
        parameters: None,
    })
    .collect();
    let value = AttributeValue::from(Any::encode_from(&caps)?);
    let mut values = SetOfVec::new();
    values.insert(value)?;
    Ok(Attribute {
        oid: OID_SMIME_CAPABILITIES,
        values,
    })
}

/// md5WithRSAEncryption, for the RX-11 negative vector only. rsa's `SigningKey` needs the
/// digest's OID, which md-5 0.11 does not provide, so this signer names its algorithm and
/// builds the PKCS#1 v1.5 DigestInfo itself (through the verifier's MD5 prefix).
struct RsaMd5(rsa::PrivateKey);

impl Keypair for RsaMd5 {
    type VerifyingKey = rsa::PublicKey;
    fn verifying_key(&self) -> rsa::PublicKey {
        self.0.to_public_key()
    }
}

impl DynSignatureAlgorithmIdentifier for RsaMd5 {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        Ok(AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::MD_5_WITH_RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        })
    }
}

impl Signer<rsa::pkcs1v15::Signature> for RsaMd5 {
    fn try_sign(&self, msg: &[u8]) -> Result<rsa::pkcs1v15::Signature, signature::Error> {
        let hash = DigestAlgorithm::Md5.digest(msg);
        let sig = self
            .0
            .sign(
                crate::smime::verify::pkcs1v15_scheme(DigestAlgorithm::Md5),
                &hash,
            )
            .map_err(signature::Error::from_source)?;
        rsa::pkcs1v15::Signature::try_from(sig.as_slice())
    }
}

/// ecdsa's `SigningKey` signs into the fixed-size form; CMS wants the DER `Ecdsa-Sig-Value`.
/// This adapter lets the cms builder use it.
struct EcdsaDer<K>(K);

impl<C> Keypair for EcdsaDer<ecdsa::SigningKey<C>>
where
    C: ecdsa::EcdsaCurve + elliptic_curve::CurveArithmetic,
    ecdsa::SigningKey<C>: Keypair,
{
    type VerifyingKey = <ecdsa::SigningKey<C> as Keypair>::VerifyingKey;
    fn verifying_key(&self) -> Self::VerifyingKey {
        Keypair::verifying_key(&self.0)
    }
}

impl<C> DynSignatureAlgorithmIdentifier for EcdsaDer<ecdsa::SigningKey<C>>
where
    C: ecdsa::EcdsaCurve + elliptic_curve::CurveArithmetic,
    ecdsa::SigningKey<C>: DynSignatureAlgorithmIdentifier,
{
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        self.0.signature_algorithm_identifier()
    }
}

impl<C> Signer<ecdsa::der::Signature<C>> for EcdsaDer<ecdsa::SigningKey<C>>
where
    C: ecdsa::EcdsaCurve + elliptic_curve::CurveArithmetic,
    ecdsa::SigningKey<C>: Signer<ecdsa::Signature<C>>,
    ecdsa::der::MaxSize<C>: elliptic_curve::array::ArraySize,
    <elliptic_curve::FieldBytesSize<C> as std::ops::Add>::Output:
        std::ops::Add<ecdsa::der::MaxOverhead> + elliptic_curve::array::ArraySize,
{
    fn try_sign(&self, msg: &[u8]) -> Result<ecdsa::der::Signature<C>, signature::Error> {
        let sig: ecdsa::Signature<C> = self.0.try_sign(msg)?;
        Ok(sig.to_der())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smime::verify::{verify_attached, verify_detached};

    fn signer() -> (Certificate, PrivateKey) {
        let pki = crate::pki::ReferencePki::load_default().expect("pki");
        let c = pki.credential("hisp_sender").expect("hisp_sender");
        (c.certificate.clone(), c.key.clone())
    }

    #[test]
    fn md5_signatures_name_md5_with_rsa_and_verify() {
        let (cert, key) = signer();
        let options = SignOptions {
            digest: DigestAlgorithm::Md5,
            ..SignOptions::default()
        };
        let sig = sign_detached(b"content\r\n", &cert, &key, &options).unwrap();
        let report = verify_detached(&sig, b"content\r\n").unwrap();
        let s = report.verified_signer().expect("verifies");
        assert_eq!(s.digest, Some(DigestAlgorithm::Md5));
        assert_eq!(
            s.signature_algorithm,
            const_oid::db::rfc5912::MD_5_WITH_RSA_ENCRYPTION
        );
        assert!(
            verify_detached(&sig, b"other\r\n")
                .unwrap()
                .verified_signer()
                .is_none()
        );
        // The builder cannot hash eContent with MD5: refused, not mis-signed.
        assert!(sign_opaque(b"x", &cert, &key, &options).is_err());
    }

    #[test]
    fn opaque_signatures_carry_their_content() {
        let (cert, key) = signer();
        let signed = sign_opaque(b"inside\r\n", &cert, &key, &SignOptions::default()).unwrap();
        let report = verify_attached(&signed).unwrap();
        assert!(!report.is_detached());
        assert_eq!(report.econtent.as_deref(), Some(&b"inside\r\n"[..]));
        assert!(report.verified_signer().is_some());
    }
}
