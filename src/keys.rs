//! Private keys of the harness's credentials: RSA, ECDSA P-256 and P-384, loaded from PKCS#8,
//! PKCS#1 or SEC1 PEM/DER, written as PKCS#8, and generated from a caller-supplied RNG so that
//! the test PKI is reproducible from a seed.

use der::{Decode, Encode};
use pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rand_core::CryptoRng;
use spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};

/// What kind of key to generate; also how the PKI description names key types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeySpec {
    #[serde(alias = "rsa-1024")]
    Rsa1024,
    #[serde(alias = "rsa-2048")]
    Rsa2048,
    #[serde(alias = "rsa-3072")]
    Rsa3072,
    #[serde(alias = "rsa-4096")]
    Rsa4096,
    P256,
    P384,
}

impl KeySpec {
    pub fn label(self) -> &'static str {
        match self {
            KeySpec::Rsa1024 => "RSA-1024",
            KeySpec::Rsa2048 => "RSA-2048",
            KeySpec::Rsa3072 => "RSA-3072",
            KeySpec::Rsa4096 => "RSA-4096",
            KeySpec::P256 => "ECDSA P-256",
            KeySpec::P384 => "ECDSA P-384",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key is not PEM or DER that this tool reads (PKCS#8, PKCS#1 RSA, SEC1 EC): {0}")]
    Unreadable(String),
    #[error("unsupported key algorithm {0}")]
    UnsupportedAlgorithm(String),
    #[error("RSA key generation failed: {0}")]
    Generate(String),
    #[error("key encoding failed: {0}")]
    Encode(String),
}

/// A private key of one of the algorithms Direct uses.
#[derive(Clone)]
#[allow(clippy::large_enum_variant)] // a handful of keys per run; boxing buys nothing
pub enum PrivateKey {
    Rsa(rsa::PrivateKey),
    P256(p256::SecretKey),
    P384(p384::SecretKey),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        write!(f, "PrivateKey({})", self.describe())
    }
}

impl PrivateKey {
    pub fn generate<R: CryptoRng + ?Sized>(spec: KeySpec, rng: &mut R) -> Result<Self, KeyError> {
        let rsa = |bits: usize, rng: &mut R| {
            rsa::PrivateKey::new(rng, bits)
                .map(PrivateKey::Rsa)
                .map_err(|e| KeyError::Generate(e.to_string()))
        };
        match spec {
            KeySpec::Rsa1024 => rsa(1024, rng),
            KeySpec::Rsa2048 => rsa(2048, rng),
            KeySpec::Rsa3072 => rsa(3072, rng),
            KeySpec::Rsa4096 => rsa(4096, rng),
            KeySpec::P256 => Ok(PrivateKey::P256(
                <p256::SecretKey as rsa::Generate>::generate_from_rng(rng),
            )),
            KeySpec::P384 => Ok(PrivateKey::P384(
                <p384::SecretKey as rsa::Generate>::generate_from_rng(rng),
            )),
        }
    }

    /// Reads PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) PEM,
    /// or the same structures as DER.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self, KeyError> {
        if let Ok(text) = std::str::from_utf8(bytes)
            && text.contains("-----BEGIN")
        {
            return Self::from_pem(text);
        }
        Self::from_pkcs8_der(bytes)
            .or_else(|_| {
                use pkcs1::DecodeRsaPrivateKey;
                rsa::PrivateKey::from_pkcs1_der(bytes)
                    .map(PrivateKey::Rsa)
                    .map_err(|e| KeyError::Unreadable(e.to_string()))
            })
            .or_else(|_| {
                p256::SecretKey::from_sec1_der(bytes)
                    .map(PrivateKey::P256)
                    .map_err(|e| KeyError::Unreadable(e.to_string()))
            })
            .or_else(|_| {
                p384::SecretKey::from_sec1_der(bytes)
                    .map(PrivateKey::P384)
                    .map_err(|e| KeyError::Unreadable(e.to_string()))
            })
    }

    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let (label, der) = der::pem::decode_vec(text.trim().as_bytes())
            .map_err(|e| KeyError::Unreadable(format!("PEM: {e}")))?;
        match label {
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            "RSA PRIVATE KEY" => {
                use pkcs1::DecodeRsaPrivateKey;
                rsa::PrivateKey::from_pkcs1_der(&der)
                    .map(PrivateKey::Rsa)
                    .map_err(|e| KeyError::Unreadable(format!("PKCS#1: {e}")))
            }
            "EC PRIVATE KEY" => p256::SecretKey::from_sec1_der(&der)
                .map(PrivateKey::P256)
                .or_else(|_| p384::SecretKey::from_sec1_der(&der).map(PrivateKey::P384))
                .map_err(|e| KeyError::Unreadable(format!("SEC1: {e}"))),
            "ENCRYPTED PRIVATE KEY" => Err(KeyError::Unreadable(
                "encrypted PKCS#8 keys are not read; give a PKCS#12 file with its password".into(),
            )),
            other => Err(KeyError::Unreadable(format!(
                "unexpected PEM label {other}"
            ))),
        }
    }

    pub fn from_pkcs8_der(der_bytes: &[u8]) -> Result<Self, KeyError> {
        let info = pkcs8::PrivateKeyInfoRef::from_der(der_bytes)
            .map_err(|e| KeyError::Unreadable(format!("PKCS#8: {e}")))?;
        let oid = info.algorithm.oid;
        if oid == const_oid::db::rfc5912::RSA_ENCRYPTION {
            return rsa::PrivateKey::from_pkcs8_der(der_bytes)
                .map(PrivateKey::Rsa)
                .map_err(|e| KeyError::Unreadable(format!("PKCS#8 RSA: {e}")));
        }
        if oid == const_oid::db::rfc5912::ID_EC_PUBLIC_KEY {
            let curve = info
                .algorithm
                .parameters_oid()
                .map_err(|e| KeyError::Unreadable(format!("EC parameters: {e}")))?;
            if curve == const_oid::db::rfc5912::SECP_256_R_1 {
                return p256::SecretKey::from_pkcs8_der(der_bytes)
                    .map(PrivateKey::P256)
                    .map_err(|e| KeyError::Unreadable(e.to_string()));
            }
            if curve == const_oid::db::rfc5912::SECP_384_R_1 {
                return p384::SecretKey::from_pkcs8_der(der_bytes)
                    .map(PrivateKey::P384)
                    .map_err(|e| KeyError::Unreadable(e.to_string()));
            }
            return Err(KeyError::UnsupportedAlgorithm(format!("EC curve {curve}")));
        }
        Err(KeyError::UnsupportedAlgorithm(oid.to_string()))
    }

    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, KeyError> {
        let doc = match self {
            PrivateKey::Rsa(k) => k.to_pkcs8_der(),
            PrivateKey::P256(k) => k.to_pkcs8_der(),
            PrivateKey::P384(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| KeyError::Encode(e.to_string()))?;
        Ok(doc.as_bytes().to_vec())
    }

    pub fn to_pkcs8_pem(&self) -> Result<String, KeyError> {
        let pem = match self {
            PrivateKey::Rsa(k) => k.to_pkcs8_pem(LineEnding::LF),
            PrivateKey::P256(k) => k.to_pkcs8_pem(LineEnding::LF),
            PrivateKey::P384(k) => k.to_pkcs8_pem(LineEnding::LF),
        }
        .map_err(|e| KeyError::Encode(e.to_string()))?;
        Ok(pem.to_string())
    }

    /// The SubjectPublicKeyInfo of the matching public key.
    pub fn public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned, KeyError> {
        let der = match self {
            PrivateKey::Rsa(k) => k.to_public_key().to_public_key_der(),
            PrivateKey::P256(k) => k.public_key().to_public_key_der(),
            PrivateKey::P384(k) => k.public_key().to_public_key_der(),
        }
        .map_err(|e| KeyError::Encode(e.to_string()))?;
        SubjectPublicKeyInfoOwned::from_der(der.as_bytes())
            .map_err(|e| KeyError::Encode(e.to_string()))
    }

    /// Whether this key is the private half of `spki`.
    pub fn matches(&self, spki: &SubjectPublicKeyInfoOwned) -> bool {
        match (self.public_key_info(), spki.to_der()) {
            (Ok(mine), Ok(theirs)) => mine.to_der().map(|m| m == theirs).unwrap_or(false),
            _ => false,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            PrivateKey::Rsa(k) => {
                use rsa::traits::PublicKeyParts;
                format!("RSA-{}", k.n().bit_width())
            }
            PrivateKey::P256(_) => "ECDSA P-256".into(),
            PrivateKey::P384(_) => "ECDSA P-384".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn pkcs8_round_trip_for_each_algorithm() {
        let mut rng = ChaCha20Rng::from_seed([7; 32]);
        for spec in [KeySpec::Rsa1024, KeySpec::P256, KeySpec::P384] {
            let key = PrivateKey::generate(spec, &mut rng).expect("generate");
            let pem = key.to_pkcs8_pem().expect("pem");
            let back = PrivateKey::from_pem_or_der(pem.as_bytes()).expect("read back");
            assert_eq!(back.describe(), spec.label());
            assert!(back.matches(&key.public_key_info().expect("spki")));
        }
    }

    #[test]
    fn seeded_generation_is_reproducible() {
        let a = PrivateKey::generate(KeySpec::P256, &mut ChaCha20Rng::from_seed([1; 32])).unwrap();
        let b = PrivateKey::generate(KeySpec::P256, &mut ChaCha20Rng::from_seed([1; 32])).unwrap();
        assert_eq!(a.to_pkcs8_der().unwrap(), b.to_pkcs8_der().unwrap());
    }

    #[test]
    fn garbage_is_a_typed_error() {
        assert!(PrivateKey::from_pem_or_der(b"not a key").is_err());
        assert!(PrivateKey::from_pem("-----BEGIN FOO-----\nAAAA\n-----END FOO-----").is_err());
    }
}
