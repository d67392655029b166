//! Adapter that lets x509-cert's builders sign with a `keys::PrivateKey` and a chosen digest:
//! RSA PKCS#1 v1.5 (deterministic) or ECDSA with RFC 6979 nonces (deterministic), so the test
//! PKI regenerates byte for byte.

use const_oid::db::rfc5912::{
    ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, SHA_1_WITH_RSA_ENCRYPTION, SHA_256_WITH_RSA_ENCRYPTION,
    SHA_384_WITH_RSA_ENCRYPTION, SHA_512_WITH_RSA_ENCRYPTION,
};
use der::asn1::BitString;
use der::{Any, Document};
use signature::{Keypair, Signer};
use spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    SignatureBitStringEncoding, SubjectPublicKeyInfoOwned,
};

use crate::keys::PrivateKey;

use super::error::PkiError;
use super::spec::SignatureHash;

/// A signing key plus the digest its signatures use.
pub struct CertSigner<'a> {
    key: &'a PrivateKey,
    hash: SignatureHash,
    public: PublicKeyInfo,
}

/// The signer's public key, in the form the builder asks for.
#[derive(Clone, Debug)]
pub struct PublicKeyInfo(pub SubjectPublicKeyInfoOwned);

impl EncodePublicKey for PublicKeyInfo {
    fn to_public_key_der(&self) -> spki::Result<Document> {
        Ok(Document::encode_msg(&self.0)?)
    }
}

/// A finished signature as raw bytes (PKCS#1 v1.5 block, or DER Ecdsa-Sig-Value).
#[derive(Clone, Debug)]
pub struct RawSignature(pub Vec<u8>);

impl SignatureBitStringEncoding for RawSignature {
    fn to_bitstring(&self) -> der::Result<BitString> {
        BitString::from_bytes(&self.0)
    }
}

impl<'a> CertSigner<'a> {
    /// ECDSA keys sign with the digest of their curve (P-256/SHA-256, P-384/SHA-384).
    pub fn new(key: &'a PrivateKey, hash: SignatureHash) -> Result<Self, PkiError> {
        match (key, hash) {
            (PrivateKey::Rsa(_), _)
            | (PrivateKey::P256(_), SignatureHash::Sha256)
            | (PrivateKey::P384(_), SignatureHash::Sha384) => {}
            _ => {
                return Err(PkiError::Sign(format!(
                    "{} does not sign with {hash:?}",
                    key.describe()
                )));
            }
        }
        let public = key
            .public_key_info()
            .map_err(|e| PkiError::Sign(e.to_string()))?;
        Ok(CertSigner {
            key,
            hash,
            public: PublicKeyInfo(public),
        })
    }

    /// Signs `msg` (a DER TBS structure).
    pub fn sign_bytes(&self, msg: &[u8]) -> Result<Vec<u8>, PkiError> {
        self.try_sign(msg)
            .map(|s| s.0)
            .map_err(|e| PkiError::Sign(e.to_string()))
    }
}

impl Keypair for CertSigner<'_> {
    type VerifyingKey = PublicKeyInfo;
    fn verifying_key(&self) -> PublicKeyInfo {
        self.public.clone()
    }
}

impl DynSignatureAlgorithmIdentifier for CertSigner<'_> {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        let rsa = |oid| AlgorithmIdentifierOwned {
            oid,
            // RFC 4055 §5: the RSA PKCS#1 v1.5 identifiers carry NULL parameters.
            parameters: Some(Any::null()),
        };
        let ec = |oid| AlgorithmIdentifierOwned {
            oid,
            parameters: None,
        };
        Ok(match (self.key, self.hash) {
            (PrivateKey::Rsa(_), SignatureHash::Sha1) => rsa(SHA_1_WITH_RSA_ENCRYPTION),
            (PrivateKey::Rsa(_), SignatureHash::Sha256) => rsa(SHA_256_WITH_RSA_ENCRYPTION),
            (PrivateKey::Rsa(_), SignatureHash::Sha384) => rsa(SHA_384_WITH_RSA_ENCRYPTION),
            (PrivateKey::Rsa(_), SignatureHash::Sha512) => rsa(SHA_512_WITH_RSA_ENCRYPTION),
            (PrivateKey::P384(_), _) => ec(ECDSA_WITH_SHA_384),
            (PrivateKey::P256(_), _) => ec(ECDSA_WITH_SHA_256),
        })
    }
}

impl Signer<RawSignature> for CertSigner<'_> {
    fn try_sign(&self, msg: &[u8]) -> Result<RawSignature, signature::Error> {
        use rsa::pkcs1v15::SigningKey;
        use signature::SignatureEncoding;
        let bytes = match self.key {
            PrivateKey::Rsa(k) => {
                let k = k.clone();
                match self.hash {
                    SignatureHash::Sha1 => SigningKey::<sha1::Sha1>::new(k).try_sign(msg)?.to_vec(),
                    SignatureHash::Sha256 => {
                        SigningKey::<sha2::Sha256>::new(k).try_sign(msg)?.to_vec()
                    }
                    SignatureHash::Sha384 => {
                        SigningKey::<sha2::Sha384>::new(k).try_sign(msg)?.to_vec()
                    }
                    SignatureHash::Sha512 => {
                        SigningKey::<sha2::Sha512>::new(k).try_sign(msg)?.to_vec()
                    }
                }
            }
            PrivateKey::P256(k) => {
                let sk = p256::ecdsa::SigningKey::from(k.clone());
                let sig: p256::ecdsa::Signature = sk.try_sign(msg)?;
                sig.to_der().as_bytes().to_vec()
            }
            PrivateKey::P384(k) => {
                let sk = p384::ecdsa::SigningKey::from(k.clone());
                let sig: p384::ecdsa::Signature = sk.try_sign(msg)?;
                sig.to_der().as_bytes().to_vec()
            }
        };
        Ok(RawSignature(bytes))
    }
}
