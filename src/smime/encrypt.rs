//! EnvelopedData (RFC 5652 §6) and AuthEnvelopedData (RFC 5083) for one or more recipient
//! certificates, one RecipientInfo each (ENC-07).
//!
//! AES-CBC goes through the cms crate's `EnvelopedDataBuilder`. The builder has no AES-GCM and
//! no 3DES, so AuthEnvelopedData and the legacy 3DES envelope (made only for negative tests)
//! are assembled here from cms's types with the same RecipientInfo builders.

use cms::authenveloped_data::AuthEnvelopedData;
use cms::builder::{
    ContentEncryptionAlgorithm, EnvelopedDataBuilder, KeyEncryptionInfo,
    KeyTransRecipientInfoBuilder, RecipientInfoBuilder,
};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, RecipientIdentifier, RecipientInfo, RecipientInfos,
};
use const_oid::db::rfc5911;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Encode};
use rand::rngs::ThreadRng;
use spki::DecodePublicKey;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use crate::smime::algorithms::{ContentCipher, KeyTransport};
use crate::smime::error::SmimeError;
use crate::smime::identity::{issuer_and_serial, subject_key_id};
use crate::smime::oaep::OaepRecipientInfoBuilder;
use crate::smime::symmetric;

/// How recipients are named in their RecipientInfo.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecipientNaming {
    #[default]
    IssuerAndSerial,
    SubjectKeyId,
}

#[derive(Clone, Copy, Debug)]
pub struct EncryptOptions {
    pub cipher: ContentCipher,
    pub key_transport: KeyTransport,
    pub naming: RecipientNaming,
}

impl Default for EncryptOptions {
    fn default() -> Self {
        EncryptOptions {
            cipher: ContentCipher::Aes128Cbc,
            key_transport: KeyTransport::RsaPkcs1v15,
            naming: RecipientNaming::IssuerAndSerial,
        }
    }
}

type Builder = Box<dyn RecipientInfoBuilder<Rng = ThreadRng>>;

/// Encrypts `content` to every certificate in `recipients` and returns the DER of the
/// ContentInfo (EnvelopedData, or AuthEnvelopedData for AES-GCM).
pub fn encrypt(
    content: &[u8],
    recipients: &[Certificate],
    options: &EncryptOptions,
) -> Result<Vec<u8>, SmimeError> {
    if recipients.is_empty() {
        return Err(SmimeError::NoRecipients);
    }
    let mut rng = rand::rng();
    let mut builders = recipients
        .iter()
        .map(|c| recipient_builder(c, options))
        .collect::<Result<Vec<Builder>, _>>()?;

    let cbc = match options.cipher {
        ContentCipher::Aes128Cbc => Some(ContentEncryptionAlgorithm::Aes128Cbc),
        ContentCipher::Aes192Cbc => Some(ContentEncryptionAlgorithm::Aes192Cbc),
        ContentCipher::Aes256Cbc => Some(ContentEncryptionAlgorithm::Aes256Cbc),
        _ => None,
    };
    let content_info = if let Some(alg) = cbc {
        let mut b =
            EnvelopedDataBuilder::<ThreadRng>::new(None, content, alg, None).map_err(enc_err)?;
        for ri in builders {
            b.add_recipient_info(BoxedBuilder(ri)).map_err(enc_err)?;
        }
        let ed = b.build_with_rng(&mut rng).map_err(enc_err)?;
        ContentInfo {
            content_type: rfc5911::ID_ENVELOPED_DATA,
            content: Any::encode_from(&ed)?,
        }
    } else {
        let key = symmetric::random_key(options.cipher, &mut rng);
        let sealed = symmetric::encrypt(options.cipher, &key, content, &mut rng)?;
        let infos = builders
            .iter_mut()
            .map(|b| b.build_with_rng(&key, &mut rng).map_err(enc_err))
            .collect::<Result<Vec<RecipientInfo>, _>>()?;
        let any_ski = infos.iter().any(|ri| {
            matches!(ri, RecipientInfo::Ktri(k) if matches!(k.rid, RecipientIdentifier::SubjectKeyIdentifier(_)))
        });
        let recip_infos = RecipientInfos(SetOfVec::try_from(infos)?);
        let eci = EncryptedContentInfo {
            content_type: rfc5911::ID_DATA,
            content_enc_alg: sealed.algorithm,
            encrypted_content: Some(OctetString::new(sealed.ciphertext)?),
        };
        match sealed.tag {
            Some(tag) => {
                let aed = AuthEnvelopedData {
                    version: CmsVersion::V0,
                    originator_info: None,
                    recip_infos,
                    auth_encrypted_content_info: eci,
                    auth_attrs: None,
                    mac: OctetString::new(tag)?,
                    unauth_attrs: None,
                };
                ContentInfo {
                    content_type: rfc5911::ID_CT_AUTH_ENVELOPED_DATA,
                    content: Any::encode_from(&aed)?,
                }
            }
            None => {
                // RFC 5652 §6.1: version 2 when any RecipientInfo is version 2 (SKI naming).
                let version = if any_ski {
                    CmsVersion::V2
                } else {
                    CmsVersion::V0
                };
                let ed = EnvelopedData {
                    version,
                    originator_info: None,
                    recip_infos,
                    encrypted_content: eci,
                    unprotected_attrs: None,
                };
                ContentInfo {
                    content_type: rfc5911::ID_ENVELOPED_DATA,
                    content: Any::encode_from(&ed)?,
                }
            }
        }
    };
    Ok(content_info.to_der()?)
}

fn recipient_builder(cert: &Certificate, options: &EncryptOptions) -> Result<Builder, SmimeError> {
    let rid = match options.naming {
        RecipientNaming::IssuerAndSerial => {
            RecipientIdentifier::IssuerAndSerialNumber(issuer_and_serial(cert))
        }
        RecipientNaming::SubjectKeyId => {
            let ski = subject_key_id(cert).ok_or_else(|| {
                SmimeError::Encrypt("recipient certificate has no subjectKeyIdentifier".into())
            })?;
            RecipientIdentifier::SubjectKeyIdentifier(SubjectKeyIdentifier(OctetString::new(ski)?))
        }
    };
    let spki_der = cert.tbs_certificate().subject_public_key_info().to_der()?;
    let key = rsa::PublicKey::from_public_key_der(&spki_der)
        .map_err(|e| SmimeError::KeyMismatch(format!("recipient key is not RSA: {e}")))?;
    Ok(match options.key_transport {
        KeyTransport::RsaPkcs1v15 => Box::new(
            KeyTransRecipientInfoBuilder::<ThreadRng>::new(rid, KeyEncryptionInfo::Rsa(key))
                .map_err(enc_err)?,
        ),
        t => Box::new(OaepRecipientInfoBuilder::<ThreadRng>::new(rid, key, t)),
    })
}

/// Lets a boxed builder go where the cms builder wants `impl RecipientInfoBuilder`.
struct BoxedBuilder(Builder);

impl RecipientInfoBuilder for BoxedBuilder {
    type Rng = ThreadRng;
    fn recipient_info_type(&self) -> cms::builder::RecipientInfoType {
        self.0.recipient_info_type()
    }
    fn recipient_info_version(&self) -> CmsVersion {
        self.0.recipient_info_version()
    }
    fn build_with_rng(
        &mut self,
        cek: &[u8],
        rng: &mut ThreadRng,
    ) -> Result<RecipientInfo, cms::builder::Error> {
        self.0.build_with_rng(cek, rng)
    }
}

fn enc_err(e: impl std::fmt::Display) -> SmimeError {
    SmimeError::Encrypt(e.to_string())
}
