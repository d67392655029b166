//! PKCS#12 (RFC 7292) bundles that OpenSSL 3 reads without `-legacy` and Java keytool reads:
//! PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for the shrouded key bag and for the encrypted safe
//! holding the certificates, and an HMAC-SHA-256 MAC keyed by the PKCS#12 KDF (appendix B).
//!
//! Built by hand on `der` derive types plus `pkcs5`/`pkcs8`/`cms` types because no crate does
//! this on our versions: `p12` writes legacy RC2/3DES with a SHA-1 MAC, and `pkcs12` /
//! `p12-keystore` cannot coexist with cms 0.3.0-rc.0.

use cms::content_info::{CmsVersion, ContentInfo};
use cms::encrypted_data::EncryptedData;
use cms::enveloped_data::EncryptedContentInfo;
use const_oid::ObjectIdentifier;
use der::asn1::{BmpString, OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use hmac::{Hmac, KeyInit, Mac};
use pkcs5::pbes2;
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;

use crate::keys::PrivateKey;

use super::error::PkiError;

/// Password of every `bundle.p12` in the test PKI (it protects nothing secret).
pub const PKCS12_PASSWORD: &str = "direct-conformance";

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
const PKCS8_SHROUDED_KEY_BAG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.2");
const CERT_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.3");
const X509_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.22.1");
const FRIENDLY_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.20");
const LOCAL_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.21");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// `PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL }`
#[derive(Clone, Debug, Sequence)]
pub struct Pfx {
    pub version: u8,
    pub auth_safe: ContentInfo,
    #[asn1(optional = "true")]
    pub mac_data: Option<MacData>,
}

/// `MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }`
/// (we always write iterations > 1, so it is always present).
#[derive(Clone, Debug, Sequence)]
pub struct MacData {
    pub mac: DigestInfo,
    pub mac_salt: OctetString,
    pub iterations: u32,
}

#[derive(Clone, Debug, Sequence)]
pub struct DigestInfo {
    pub algorithm: AlgorithmIdentifierOwned,
    pub digest: OctetString,
}

/// `SafeBag ::= SEQUENCE { bagId, bagValue [0] EXPLICIT ANY, bagAttributes SET OF OPTIONAL }`
#[derive(Clone, Debug, Sequence)]
pub struct SafeBag {
    pub bag_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub bag_value: Any,
    #[asn1(optional = "true")]
    pub bag_attributes: Option<SetOfVec<Attribute>>,
}

/// `CertBag ::= SEQUENCE { certId, certValue [0] EXPLICIT OCTET STRING }`
#[derive(Clone, Debug, Sequence)]
pub struct CertBag {
    pub cert_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub cert_value: OctetString,
}

fn p12err(what: &str) -> impl Fn(der::Error) -> PkiError + '_ {
    move |e| PkiError::Pkcs12(format!("{what}: {e}"))
}

/// Builds a PFX holding `key`, its certificate (with friendlyName and localKeyId) and `chain`.
/// Salts and IVs come from `rng`, so a seeded RNG gives a reproducible file.
pub fn build_pkcs12<R: CryptoRng + ?Sized>(
    key: &PrivateKey,
    cert: &Certificate,
    chain: &[Certificate],
    friendly_name: &str,
    password: &str,
    iterations: u32,
    rng: &mut R,
) -> Result<Vec<u8>, PkiError> {
    let cert_der = cert.to_der().map_err(p12err("certificate"))?;
    // localKeyId pairs the key with its certificate: SHA-1 of the certificate, as OpenSSL does.
    let local_key_id = sha1::Sha1::digest(&cert_der).to_vec();
    let attrs = bag_attributes(friendly_name, &local_key_id)?;

    // Certificates, in an encrypted safe.
    let mut cert_bags = vec![cert_bag(&cert_der, Some(attrs.clone()))?];
    for c in chain {
        cert_bags.push(cert_bag(&c.to_der().map_err(p12err("chain"))?, None)?);
    }
    let cert_safe = cert_bags.to_der().map_err(p12err("certificate safe"))?;
    let params = pbes2_params(rng, iterations)?;
    let encrypted = params
        .encrypt(password, &cert_safe)
        .map_err(|e| PkiError::Pkcs12(format!("encrypting the certificate safe: {e}")))?;
    let alg_der = pkcs5::EncryptionScheme::Pbes2(params)
        .to_der()
        .map_err(p12err("PBES2 parameters"))?;
    let encrypted_data = EncryptedData {
        version: CmsVersion::V0,
        enc_content_info: EncryptedContentInfo {
            content_type: ID_DATA,
            content_enc_alg: AlgorithmIdentifierOwned::from_der(&alg_der)
                .map_err(p12err("PBES2 parameters"))?,
            encrypted_content: Some(OctetString::new(encrypted).map_err(p12err("ciphertext"))?),
        },
        unprotected_attrs: None,
    };
    let cert_info = ContentInfo {
        content_type: ID_ENCRYPTED_DATA,
        content: Any::encode_from(&encrypted_data).map_err(p12err("EncryptedData"))?,
    };

    // The key, as a shrouded key bag in a plain data safe.
    let key_der = key
        .to_pkcs8_der()
        .map_err(|e| PkiError::Pkcs12(format!("key: {e}")))?;
    let params = pbes2_params(rng, iterations)?;
    let encrypted_key = params
        .encrypt(password, &key_der)
        .map_err(|e| PkiError::Pkcs12(format!("encrypting the key: {e}")))?;
    let epki = pkcs8::EncryptedPrivateKeyInfo {
        encryption_algorithm: pkcs5::EncryptionScheme::Pbes2(params),
        encrypted_data: OctetString::new(encrypted_key).map_err(p12err("key ciphertext"))?,
    };
    let key_bag = SafeBag {
        bag_id: PKCS8_SHROUDED_KEY_BAG,
        bag_value: Any::encode_from(&epki).map_err(p12err("shrouded key bag"))?,
        bag_attributes: Some(attrs),
    };
    let key_safe = vec![key_bag].to_der().map_err(p12err("key safe"))?;
    let key_info = data_content_info(&key_safe)?;

    // AuthenticatedSafe, MACed.
    let auth_safe = vec![cert_info, key_info]
        .to_der()
        .map_err(p12err("AuthenticatedSafe"))?;
    let mut mac_salt = [0u8; 16];
    rng.fill_bytes(&mut mac_salt);
    let mac_key = pkcs12_kdf_sha256(&bmp_password(password), &mac_salt, 3, iterations, 32);
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&mac_key)
        .map_err(|e| PkiError::Pkcs12(format!("MAC key: {e}")))?;
    mac.update(&auth_safe);
    let digest = mac.finalize().into_bytes().to_vec();

    let pfx = Pfx {
        version: 3,
        auth_safe: data_content_info(&auth_safe)?,
        mac_data: Some(MacData {
            mac: DigestInfo {
                algorithm: AlgorithmIdentifierOwned {
                    oid: ID_SHA256,
                    parameters: Some(Any::null()),
                },
                digest: OctetString::new(digest).map_err(p12err("MAC"))?,
            },
            mac_salt: OctetString::new(mac_salt.to_vec()).map_err(p12err("MAC salt"))?,
            iterations,
        }),
    };
    pfx.to_der().map_err(p12err("PFX"))
}

fn pbes2_params<R: CryptoRng + ?Sized>(
    rng: &mut R,
    iterations: u32,
) -> Result<pbes2::Parameters, PkiError> {
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut iv);
    pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(iterations, &salt, iv)
        .map_err(|e| PkiError::Pkcs12(format!("PBES2 parameters: {e}")))
}

fn data_content_info(content: &[u8]) -> Result<ContentInfo, PkiError> {
    let octets = OctetString::new(content.to_vec()).map_err(p12err("data"))?;
    Ok(ContentInfo {
        content_type: ID_DATA,
        content: Any::encode_from(&octets).map_err(p12err("data"))?,
    })
}

fn cert_bag(cert_der: &[u8], attrs: Option<SetOfVec<Attribute>>) -> Result<SafeBag, PkiError> {
    let bag = CertBag {
        cert_id: X509_CERTIFICATE,
        cert_value: OctetString::new(cert_der.to_vec()).map_err(p12err("cert bag"))?,
    };
    Ok(SafeBag {
        bag_id: CERT_BAG,
        bag_value: Any::encode_from(&bag).map_err(p12err("cert bag"))?,
        bag_attributes: attrs,
    })
}

fn bag_attributes(
    friendly_name: &str,
    local_key_id: &[u8],
) -> Result<SetOfVec<Attribute>, PkiError> {
    let single = |v: Any| SetOfVec::try_from(vec![v]).map_err(p12err("attribute"));
    let name = BmpString::from_utf8(friendly_name).map_err(p12err("friendlyName"))?;
    let id = OctetString::new(local_key_id.to_vec()).map_err(p12err("localKeyId"))?;
    let attrs = vec![
        Attribute {
            oid: FRIENDLY_NAME,
            values: single(Any::encode_from(&name).map_err(p12err("friendlyName"))?)?,
        },
        Attribute {
            oid: LOCAL_KEY_ID,
            values: single(Any::encode_from(&id).map_err(p12err("localKeyId"))?)?,
        },
    ];
    SetOfVec::try_from(attrs).map_err(p12err("attributes"))
}

/// The MAC password: BMPString (UTF-16BE) with a trailing NUL (RFC 7292 B.1).
fn bmp_password(password: &str) -> Vec<u8> {
    let mut out: Vec<u8> = password.encode_utf16().flat_map(u16::to_be_bytes).collect();
    out.extend_from_slice(&[0, 0]);
    out
}

/// RFC 7292 appendix B.2 key derivation with SHA-256 (u = 32, v = 64).
pub fn pkcs12_kdf_sha256(
    password: &[u8],
    salt: &[u8],
    id: u8,
    iterations: u32,
    out_len: usize,
) -> Vec<u8> {
    const U: usize = 32;
    const V: usize = 64;
    let fill = |src: &[u8]| -> Vec<u8> {
        if src.is_empty() {
            return Vec::new();
        }
        let len = V * src.len().div_ceil(V);
        (0..len).map(|i| src[i % src.len()]).collect()
    };
    let d = [id; V];
    let mut i_buf = [fill(salt), fill(password)].concat();
    let mut out = Vec::with_capacity(out_len + U);
    loop {
        let mut a = Sha256::new()
            .chain_update(d)
            .chain_update(&i_buf)
            .finalize();
        for _ in 1..iterations {
            a = Sha256::digest(a);
        }
        out.extend_from_slice(&a);
        if out.len() >= out_len {
            out.truncate(out_len);
            return out;
        }
        let b: Vec<u8> = (0..V).map(|k| a[k % U]).collect();
        for block in i_buf.chunks_mut(V) {
            // block = (block + B + 1) mod 2^(8v), big-endian.
            let mut carry = 1u16;
            for k in (0..V).rev() {
                let sum = u16::from(block[k]) + u16::from(b[k]) + carry;
                block[k] = (sum & 0xff) as u8;
                carry = sum >> 8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bmp_password_has_terminator() {
        assert_eq!(bmp_password("ab"), vec![0, b'a', 0, b'b', 0, 0]);
    }

    #[test]
    fn kdf_is_deterministic_and_sized() {
        let a = pkcs12_kdf_sha256(&bmp_password("x"), b"saltsalt", 3, 2, 32);
        let b = pkcs12_kdf_sha256(&bmp_password("x"), b"saltsalt", 3, 2, 32);
        assert_eq!(a, b);
        assert_eq!(a.len(), 32);
        // Longer outputs exercise the I-block update; the first block must not change.
        let long = pkcs12_kdf_sha256(&bmp_password("x"), b"saltsalt", 3, 2, 80);
        assert_eq!(&long[..32], &a[..]);
        assert_ne!(&long[32..64], &a[..]);
    }
}
