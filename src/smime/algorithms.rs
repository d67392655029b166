//! The algorithms Direct talks about, with their OIDs and MIME spellings. Policy (which are
//! allowed under which profile) lives in the validator and the HISP, not here.

use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5911, rfc5912};
use digest::Digest;

/// Message digests used in SignerInfo and micalg.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DigestAlgorithm {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

pub const OID_MD5: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.2.5");

impl DigestAlgorithm {
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            DigestAlgorithm::Md5 => OID_MD5,
            DigestAlgorithm::Sha1 => rfc5912::ID_SHA_1,
            DigestAlgorithm::Sha256 => rfc5912::ID_SHA_256,
            DigestAlgorithm::Sha384 => rfc5912::ID_SHA_384,
            DigestAlgorithm::Sha512 => rfc5912::ID_SHA_512,
        }
    }

    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        [
            Self::Md5,
            Self::Sha1,
            Self::Sha256,
            Self::Sha384,
            Self::Sha512,
        ]
        .into_iter()
        .find(|d| d.oid() == *oid)
    }

    /// The RFC 5751 §3.4.3.2 spelling of `micalg`.
    pub fn micalg(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "md5",
            DigestAlgorithm::Sha1 => "sha-1",
            DigestAlgorithm::Sha256 => "sha-256",
            DigestAlgorithm::Sha384 => "sha-384",
            DigestAlgorithm::Sha512 => "sha-512",
        }
    }

    /// Reads `micalg` in the RFC 5751 spelling and in the older one the reference
    /// implementations emit (`sha256`), in any case, quoted or not (SIG-06).
    pub fn from_micalg(text: &str) -> Option<Self> {
        let norm: String = text
            .trim()
            .trim_matches('"')
            .chars()
            .filter(|c| *c != '-')
            .collect::<String>()
            .to_ascii_lowercase();
        match norm.as_str() {
            "md5" => Some(Self::Md5),
            "sha1" => Some(Self::Sha1),
            "sha256" => Some(Self::Sha256),
            "sha384" => Some(Self::Sha384),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            DigestAlgorithm::Md5 => md5::Md5::digest(data).to_vec(),
            DigestAlgorithm::Sha1 => sha1::Sha1::digest(data).to_vec(),
            DigestAlgorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
            DigestAlgorithm::Sha384 => sha2::Sha384::digest(data).to_vec(),
            DigestAlgorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Sha1 => "SHA-1",
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha384 => "SHA-384",
            DigestAlgorithm::Sha512 => "SHA-512",
        }
    }
}

/// Content-encryption algorithms: the ones Direct allows and the legacy ones it must recognise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContentCipher {
    Aes128Cbc,
    Aes192Cbc,
    Aes256Cbc,
    Aes128Gcm,
    Aes192Gcm,
    Aes256Gcm,
    /// Legacy: decrypted for reading old messages and generated for negative tests only.
    DesEde3Cbc,
    /// Legacy: generated for the RX-09 negative test (128-bit effective key) and decrypted so
    /// that a receiver's refusal can be shown to be a decision, not a failure to read.
    Rc2Cbc,
    /// Legacy: recognised so that it can be reported, never decrypted.
    DesCbc,
}

pub const OID_DES_EDE3_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.3.7");
pub const OID_RC2_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.3.2");
pub const OID_DES_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.7");
pub const OID_AES_128_GCM: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.6");
pub const OID_AES_192_GCM: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.26");
pub const OID_AES_256_GCM: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.46");

impl ContentCipher {
    pub const ALL: [ContentCipher; 9] = [
        Self::Aes128Cbc,
        Self::Aes192Cbc,
        Self::Aes256Cbc,
        Self::Aes128Gcm,
        Self::Aes192Gcm,
        Self::Aes256Gcm,
        Self::DesEde3Cbc,
        Self::Rc2Cbc,
        Self::DesCbc,
    ];

    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Aes128Cbc => rfc5911::ID_AES_128_CBC,
            Self::Aes192Cbc => rfc5911::ID_AES_192_CBC,
            Self::Aes256Cbc => rfc5911::ID_AES_256_CBC,
            Self::Aes128Gcm => OID_AES_128_GCM,
            Self::Aes192Gcm => OID_AES_192_GCM,
            Self::Aes256Gcm => OID_AES_256_GCM,
            Self::DesEde3Cbc => OID_DES_EDE3_CBC,
            Self::Rc2Cbc => OID_RC2_CBC,
            Self::DesCbc => OID_DES_CBC,
        }
    }

    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.oid() == *oid)
    }

    /// GCM ciphers travel in AuthEnvelopedData (RFC 5083), the others in EnvelopedData.
    pub fn is_authenticated(self) -> bool {
        matches!(self, Self::Aes128Gcm | Self::Aes192Gcm | Self::Aes256Gcm)
    }

    pub fn key_len(self) -> usize {
        match self {
            Self::Aes128Cbc | Self::Aes128Gcm | Self::Rc2Cbc => 16,
            Self::Aes192Cbc | Self::Aes192Gcm | Self::DesEde3Cbc => 24,
            Self::Aes256Cbc | Self::Aes256Gcm => 32,
            Self::DesCbc => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Aes128Cbc => "AES-128-CBC",
            Self::Aes192Cbc => "AES-192-CBC",
            Self::Aes256Cbc => "AES-256-CBC",
            Self::Aes128Gcm => "AES-128-GCM",
            Self::Aes192Gcm => "AES-192-GCM",
            Self::Aes256Gcm => "AES-256-GCM",
            Self::DesEde3Cbc => "3DES-EDE-CBC",
            Self::Rc2Cbc => "RC2-CBC",
            Self::DesCbc => "DES-CBC",
        }
    }
}

/// RSA key transport of the content-encryption key (RFC 3560, RFC 8017).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyTransport {
    RsaPkcs1v15,
    /// RSAES-OAEP with default parameters (SHA-1, MGF1-SHA-1), as `openssl cms` writes it.
    RsaOaepSha1,
    /// RSAES-OAEP with SHA-256 and MGF1-SHA-256.
    RsaOaepSha256,
}

pub const OID_RSAES_OAEP: ObjectIdentifier = rfc5912::ID_RSAES_OAEP;
pub const OID_MGF1: ObjectIdentifier = rfc5912::ID_MGF_1;

impl KeyTransport {
    pub fn name(self) -> &'static str {
        match self {
            KeyTransport::RsaPkcs1v15 => "RSAES-PKCS1-v1_5",
            KeyTransport::RsaOaepSha1 => "RSAES-OAEP (SHA-1, MGF1-SHA-1)",
            KeyTransport::RsaOaepSha256 => "RSAES-OAEP (SHA-256, MGF1-SHA-256)",
        }
    }
}

/// A short name for an OID the reports may show.
pub fn oid_name(oid: &ObjectIdentifier) -> String {
    if let Some(d) = DigestAlgorithm::from_oid(oid) {
        return d.name().to_string();
    }
    if let Some(c) = ContentCipher::from_oid(oid) {
        return c.name().to_string();
    }
    const_oid::db::DB
        .by_oid(oid)
        .map(str::to_string)
        .unwrap_or_else(|| oid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micalg_spellings_all_read() {
        for s in ["sha-256", "sha256", "SHA-256", "\"sha-256\"", " Sha256 "] {
            assert_eq!(
                DigestAlgorithm::from_micalg(s),
                Some(DigestAlgorithm::Sha256),
                "{s}"
            );
        }
        assert_eq!(
            DigestAlgorithm::from_micalg("sha-1"),
            Some(DigestAlgorithm::Sha1)
        );
        assert_eq!(DigestAlgorithm::from_micalg("sha-3"), None);
    }

    #[test]
    fn oids_round_trip() {
        for c in ContentCipher::ALL {
            assert_eq!(ContentCipher::from_oid(&c.oid()), Some(c));
        }
        assert_eq!(oid_name(&rfc5912::ID_SHA_256), "SHA-256");
    }
}
