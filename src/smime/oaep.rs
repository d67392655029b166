//! RSAES-OAEP key transport (RFC 3560, RFC 8017 §7.1). The cms crate's key-transport builder
//! does PKCS#1 v1.5 only, so the OAEP RecipientInfo builder is ours, on cms's public
//! `RecipientInfoBuilder` trait; the parameters are pkcs1's `RsaOaepParams`.

use cms::builder::{RecipientInfoBuilder, RecipientInfoType};
use cms::content_info::CmsVersion;
use cms::enveloped_data::{
    EncryptedKey, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo,
};
use const_oid::ObjectIdentifier;
use der::{Any, Decode, Encode};
use pkcs1::{RsaOaepParams, RsaOaepParamsOwned};
use rand_core::CryptoRng;
use spki::AlgorithmIdentifierOwned;

use crate::smime::algorithms::{DigestAlgorithm, KeyTransport, OID_RSAES_OAEP};
use crate::smime::error::SmimeError;

pub struct OaepRecipientInfoBuilder<R: ?Sized> {
    pub rid: RecipientIdentifier,
    pub key: rsa::PublicKey,
    pub transport: KeyTransport,
    _rng: std::marker::PhantomData<R>,
}

impl<R: ?Sized> OaepRecipientInfoBuilder<R> {
    pub fn new(rid: RecipientIdentifier, key: rsa::PublicKey, transport: KeyTransport) -> Self {
        OaepRecipientInfoBuilder {
            rid,
            key,
            transport,
            _rng: std::marker::PhantomData,
        }
    }
}

/// The RSAES-OAEP AlgorithmIdentifier for `transport`.
pub fn oaep_algorithm(transport: KeyTransport) -> Result<AlgorithmIdentifierOwned, SmimeError> {
    let params_der = match transport {
        // Default parameters (SHA-1, MGF1-SHA-1, empty label) encode as an empty SEQUENCE.
        KeyTransport::RsaOaepSha1 => RsaOaepParams::<Any>::default().to_der()?,
        KeyTransport::RsaOaepSha256 => pkcs1::RsaOaepParamsRef::new::<sha2::Sha256>().to_der()?,
        KeyTransport::RsaPkcs1v15 => {
            return Err(SmimeError::Encrypt("PKCS#1 v1.5 is not OAEP".into()));
        }
    };
    Ok(AlgorithmIdentifierOwned {
        oid: OID_RSAES_OAEP,
        parameters: Some(Any::from_der(&params_der)?),
    })
}

/// The hash and MGF hash named by RSAES-OAEP-params.
pub fn oaep_hashes(params: Option<&Any>) -> Result<(DigestAlgorithm, DigestAlgorithm), SmimeError> {
    let p = match params {
        None => RsaOaepParamsOwned::default(),
        Some(any) => RsaOaepParamsOwned::from_der(&any.to_der()?)?,
    };
    let hash = digest_of(&p.hash.oid)?;
    if p.mask_gen.oid != crate::smime::algorithms::OID_MGF1 {
        return Err(SmimeError::UnsupportedKeyTransport(p.mask_gen.oid));
    }
    let mgf = p
        .mask_gen
        .parameters
        .as_ref()
        .map(|a| digest_of(&a.oid))
        .transpose()?
        .unwrap_or(DigestAlgorithm::Sha1);
    Ok((hash, mgf))
}

fn digest_of(oid: &ObjectIdentifier) -> Result<DigestAlgorithm, SmimeError> {
    DigestAlgorithm::from_oid(oid).ok_or(SmimeError::UnsupportedDigest(*oid))
}

/// Decrypts an OAEP-wrapped key with the hash pair from the parameters.
pub fn oaep_decrypt(
    key: &rsa::PrivateKey,
    hashes: (DigestAlgorithm, DigestAlgorithm),
    wrapped: &[u8],
) -> Result<Vec<u8>, SmimeError> {
    use DigestAlgorithm::*;
    use rsa::Oaep;
    let r = match hashes {
        (Sha1, Sha1) => key.decrypt(Oaep::<sha1::Sha1>::new(), wrapped),
        (Sha256, Sha256) => key.decrypt(Oaep::<sha2::Sha256>::new(), wrapped),
        (Sha256, Sha1) => key.decrypt(
            Oaep::<sha2::Sha256, sha1::Sha1>::new_with_mgf_hash(),
            wrapped,
        ),
        (Sha384, Sha384) => key.decrypt(Oaep::<sha2::Sha384>::new(), wrapped),
        (Sha512, Sha512) => key.decrypt(Oaep::<sha2::Sha512>::new(), wrapped),
        (h, m) => {
            return Err(SmimeError::Encrypt(format!(
                "RSAES-OAEP with {} and MGF1-{} is not supported",
                h.name(),
                m.name()
            )));
        }
    };
    r.map_err(|_| SmimeError::KeyTransportFailed)
}

impl<R> RecipientInfoBuilder for OaepRecipientInfoBuilder<R>
where
    R: CryptoRng + ?Sized,
{
    type Rng = R;

    fn recipient_info_type(&self) -> RecipientInfoType {
        RecipientInfoType::Ktri
    }

    fn recipient_info_version(&self) -> CmsVersion {
        match self.rid {
            RecipientIdentifier::IssuerAndSerialNumber(_) => CmsVersion::V0,
            RecipientIdentifier::SubjectKeyIdentifier(_) => CmsVersion::V2,
        }
    }

    fn build_with_rng(
        &mut self,
        cek: &[u8],
        rng: &mut R,
    ) -> Result<RecipientInfo, cms::builder::Error> {
        let fail = |e: &dyn std::fmt::Display| cms::builder::Error::Builder(e.to_string());
        let encrypted = match self.transport {
            KeyTransport::RsaOaepSha1 => self.key.encrypt(rng, rsa::Oaep::<sha1::Sha1>::new(), cek),
            KeyTransport::RsaOaepSha256 => {
                self.key.encrypt(rng, rsa::Oaep::<sha2::Sha256>::new(), cek)
            }
            // PKCS#1 v1.5 goes through cms's own KeyTransRecipientInfoBuilder.
            KeyTransport::RsaPkcs1v15 => return Err(fail(&"not an OAEP transport")),
        }
        .map_err(|e| fail(&e))?;
        let key_enc_alg = oaep_algorithm(self.transport).map_err(|e| fail(&e))?;
        Ok(RecipientInfo::Ktri(KeyTransRecipientInfo {
            version: self.recipient_info_version(),
            rid: self.rid.clone(),
            key_enc_alg,
            enc_key: EncryptedKey::new(encrypted).map_err(|e| fail(&e))?,
        }))
    }
}
