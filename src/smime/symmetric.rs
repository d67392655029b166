//! Content encryption and decryption for each [`ContentCipher`], with the algorithm parameters
//! CMS carries: the IV as an OCTET STRING for CBC modes (RFC 3565, RFC 3370), GCMParameters for
//! AES-GCM (RFC 5084), RC2CBCParameter for RC2 (RFC 3370 §5.2; built only for the RX-09
//! negative vector, read so that a receiver can be shown to refuse it after decryption).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit, KeyIvInit, block_padding::Pkcs7};
use der::asn1::OctetString;
use der::{Any, Decode, Encode, Sequence};
use rand_core::CryptoRng;
use spki::AlgorithmIdentifierOwned;

use crate::smime::algorithms::ContentCipher;
use crate::smime::error::SmimeError;

/// GCMParameters (RFC 5084 §3.2).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct GcmParameters {
    pub nonce: OctetString,
    #[asn1(default = "default_icv_len")]
    pub icv_len: u8,
}

fn default_icv_len() -> u8 {
    12
}

/// RC2-CBC parameters (RFC 3370 §5.2): the version encodes the effective key bits.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct Rc2CbcParameter {
    pub rc2_parameter_version: u32,
    pub iv: OctetString,
}

/// RFC 2268 §6: the parameter version for 128 effective key bits.
pub const RC2_VERSION_128: u32 = 58;

/// Effective key bits for an RC2 parameter version (RFC 2268 §6: 160, 120 and 58 stand for
/// 40, 64 and 128 bits; 256 and above are the bit count itself).
pub fn rc2_effective_bits(version: u32) -> Option<usize> {
    match version {
        160 => Some(40),
        120 => Some(64),
        58 => Some(128),
        v if v >= 256 => usize::try_from(v).ok(),
        _ => None,
    }
}

fn rc2(key: &[u8], bits: usize) -> Result<rc2::Rc2, String> {
    // rc2 copies the key into a 128-byte buffer: longer keys would panic there.
    if key.is_empty() || key.len() > 128 || bits == 0 || bits > 1024 {
        return Err(format!(
            "RC2 key of {} bytes, {bits} effective bits",
            key.len()
        ));
    }
    Ok(rc2::Rc2::new_with_eff_key_len(key, bits))
}

/// The result of encrypting content: ciphertext, the algorithm identifier to publish, and for
/// GCM the authentication tag (which CMS carries apart, in AuthEnvelopedData.mac).
pub struct Sealed {
    pub ciphertext: Vec<u8>,
    pub algorithm: AlgorithmIdentifierOwned,
    pub tag: Option<Vec<u8>>,
}

pub fn random_key<R: CryptoRng + ?Sized>(cipher: ContentCipher, rng: &mut R) -> Vec<u8> {
    let mut key = vec![0u8; cipher.key_len()];
    rng.fill_bytes(&mut key);
    key
}

pub fn encrypt<R: CryptoRng + ?Sized>(
    cipher: ContentCipher,
    key: &[u8],
    plaintext: &[u8],
    rng: &mut R,
) -> Result<Sealed, SmimeError> {
    let fail = |e: &dyn std::fmt::Display| SmimeError::Encrypt(format!("{}: {e}", cipher.name()));
    let cbc = |iv_len: usize, rng: &mut R| {
        let mut iv = vec![0u8; iv_len];
        rng.fill_bytes(&mut iv);
        iv
    };
    let (ciphertext, params, tag) = match cipher {
        ContentCipher::Aes128Cbc => {
            let iv = cbc(16, rng);
            let enc =
                cbc::Encryptor::<aes::Aes128>::new_from_slices(key, &iv).map_err(|e| fail(&e))?;
            (
                enc.encrypt_padded_vec::<Pkcs7>(plaintext),
                Any::encode_from(&OctetString::new(iv)?)?,
                None,
            )
        }
        ContentCipher::Aes192Cbc => {
            let iv = cbc(16, rng);
            let enc =
                cbc::Encryptor::<aes::Aes192>::new_from_slices(key, &iv).map_err(|e| fail(&e))?;
            (
                enc.encrypt_padded_vec::<Pkcs7>(plaintext),
                Any::encode_from(&OctetString::new(iv)?)?,
                None,
            )
        }
        ContentCipher::Aes256Cbc => {
            let iv = cbc(16, rng);
            let enc =
                cbc::Encryptor::<aes::Aes256>::new_from_slices(key, &iv).map_err(|e| fail(&e))?;
            (
                enc.encrypt_padded_vec::<Pkcs7>(plaintext),
                Any::encode_from(&OctetString::new(iv)?)?,
                None,
            )
        }
        ContentCipher::DesEde3Cbc => {
            let iv = cbc(8, rng);
            let enc =
                cbc::Encryptor::<des::TdesEde3>::new_from_slices(key, &iv).map_err(|e| fail(&e))?;
            (
                enc.encrypt_padded_vec::<Pkcs7>(plaintext),
                Any::encode_from(&OctetString::new(iv)?)?,
                None,
            )
        }
        ContentCipher::Aes128Gcm | ContentCipher::Aes192Gcm | ContentCipher::Aes256Gcm => {
            let mut nonce = [0u8; 12];
            rng.fill_bytes(&mut nonce);
            let mut out = gcm(cipher, key, &nonce, plaintext, true)?;
            let tag = out.split_off(out.len().saturating_sub(16));
            let params = GcmParameters {
                nonce: OctetString::new(nonce.to_vec())?,
                icv_len: 16,
            };
            (out, Any::encode_from(&params)?, Some(tag))
        }
        ContentCipher::Rc2Cbc => {
            let iv = cbc(8, rng);
            let inner = rc2(key, key.len() * 8).map_err(|e| fail(&e))?;
            let enc = cbc::Encryptor::<rc2::Rc2>::inner_iv_slice_init(inner, &iv)
                .map_err(|e| fail(&e))?;
            let params = Rc2CbcParameter {
                rc2_parameter_version: RC2_VERSION_128,
                iv: OctetString::new(iv)?,
            };
            (
                enc.encrypt_padded_vec::<Pkcs7>(plaintext),
                Any::encode_from(&params)?,
                None,
            )
        }
        ContentCipher::DesCbc => {
            return Err(SmimeError::Encrypt(format!(
                "{} is not produced",
                cipher.name()
            )));
        }
    };
    Ok(Sealed {
        ciphertext,
        algorithm: AlgorithmIdentifierOwned {
            oid: cipher.oid(),
            parameters: Some(params),
        },
        tag,
    })
}

/// Decrypts `ciphertext` under `algorithm`. For GCM, `tag` is AuthEnvelopedData.mac and `aad`
/// the DER of the authenticated attributes, if any.
pub fn decrypt(
    algorithm: &AlgorithmIdentifierOwned,
    key: &[u8],
    ciphertext: &[u8],
    tag: Option<&[u8]>,
    aad: &[u8],
) -> Result<Vec<u8>, SmimeError> {
    let cipher = ContentCipher::from_oid(&algorithm.oid)
        .ok_or(SmimeError::UnsupportedCipher(algorithm.oid))?;
    if key.len() != cipher.key_len() {
        return Err(SmimeError::ContentDecryption(format!(
            "{} needs a {}-byte key, the recipient info gave {} bytes",
            cipher.name(),
            cipher.key_len(),
            key.len()
        )));
    }
    let params = algorithm.parameters.as_ref().ok_or_else(|| {
        SmimeError::ContentDecryption(format!("{} without parameters", cipher.name()))
    })?;
    let params_der = params.to_der()?;
    let iv = || -> Result<Vec<u8>, SmimeError> {
        Ok(OctetString::from_der(&params_der)?.as_bytes().to_vec())
    };
    let bad = |e: &dyn std::fmt::Display| {
        SmimeError::ContentDecryption(format!("{}: {e}", cipher.name()))
    };
    match cipher {
        ContentCipher::Aes128Cbc => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, &iv()?)
            .map_err(|e| bad(&e))?
            .decrypt_padded_vec::<Pkcs7>(ciphertext)
            .map_err(|e| bad(&e)),
        ContentCipher::Aes192Cbc => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, &iv()?)
            .map_err(|e| bad(&e))?
            .decrypt_padded_vec::<Pkcs7>(ciphertext)
            .map_err(|e| bad(&e)),
        ContentCipher::Aes256Cbc => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, &iv()?)
            .map_err(|e| bad(&e))?
            .decrypt_padded_vec::<Pkcs7>(ciphertext)
            .map_err(|e| bad(&e)),
        ContentCipher::DesEde3Cbc => cbc::Decryptor::<des::TdesEde3>::new_from_slices(key, &iv()?)
            .map_err(|e| bad(&e))?
            .decrypt_padded_vec::<Pkcs7>(ciphertext)
            .map_err(|e| bad(&e)),
        ContentCipher::Aes128Gcm | ContentCipher::Aes192Gcm | ContentCipher::Aes256Gcm => {
            let p = GcmParameters::from_der(&params_der)?;
            let tag = tag.ok_or_else(|| bad(&"no authentication tag"))?;
            if usize::from(p.icv_len) != tag.len() || tag.len() != 16 {
                return Err(bad(&format!(
                    "tag of {} bytes, parameters say {} (only 16 is supported)",
                    tag.len(),
                    p.icv_len
                )));
            }
            let mut input = ciphertext.to_vec();
            input.extend_from_slice(tag);
            gcm_aad(cipher, key, p.nonce.as_bytes(), &input, aad, false)
        }
        ContentCipher::Rc2Cbc => {
            let p = Rc2CbcParameter::from_der(&params_der)?;
            let bits = rc2_effective_bits(p.rc2_parameter_version).ok_or_else(|| {
                bad(&format!(
                    "parameter version {} is not an RFC 2268 one",
                    p.rc2_parameter_version
                ))
            })?;
            let inner = rc2(key, bits).map_err(|e| bad(&e))?;
            cbc::Decryptor::<rc2::Rc2>::inner_iv_slice_init(inner, p.iv.as_bytes())
                .map_err(|e| bad(&e))?
                .decrypt_padded_vec::<Pkcs7>(ciphertext)
                .map_err(|e| bad(&e))
        }
        ContentCipher::DesCbc => Err(SmimeError::UnsupportedCipher(algorithm.oid)),
    }
}

fn gcm(
    cipher: ContentCipher,
    key: &[u8],
    nonce: &[u8],
    data: &[u8],
    encrypt: bool,
) -> Result<Vec<u8>, SmimeError> {
    gcm_aad(cipher, key, nonce, data, &[], encrypt)
}

fn gcm_aad(
    cipher: ContentCipher,
    key: &[u8],
    nonce: &[u8],
    data: &[u8],
    aad: &[u8],
    encrypt: bool,
) -> Result<Vec<u8>, SmimeError> {
    fn run<C: Aead + KeyInit>(
        key: &[u8],
        nonce: &[u8],
        data: &[u8],
        aad: &[u8],
        encrypt: bool,
    ) -> Result<Vec<u8>, String> {
        let c = C::new_from_slice(key).map_err(|e| e.to_string())?;
        let nonce = aes_gcm::aead::Nonce::<C>::try_from(nonce)
            .map_err(|_| format!("nonce of {} bytes (12 expected)", nonce.len()))?;
        let payload = Payload { msg: data, aad };
        if encrypt {
            c.encrypt(&nonce, payload)
        } else {
            c.decrypt(&nonce, payload)
        }
        .map_err(|_| "authentication failed".to_string())
    }
    let r =
        match cipher {
            ContentCipher::Aes128Gcm => run::<aes_gcm::Aes128Gcm>(key, nonce, data, aad, encrypt),
            ContentCipher::Aes192Gcm => run::<
                aes_gcm::AesGcm<aes::Aes192, aes_gcm::aead::consts::U12>,
            >(key, nonce, data, aad, encrypt),
            _ => run::<aes_gcm::Aes256Gcm>(key, nonce, data, aad, encrypt),
        };
    r.map_err(|e| {
        if encrypt {
            SmimeError::Encrypt(format!("{}: {e}", cipher.name()))
        } else {
            SmimeError::ContentDecryption(format!("{}: {e}", cipher.name()))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_producible_cipher_round_trips() {
        let mut rng = rand::rng();
        for cipher in ContentCipher::ALL {
            if cipher == ContentCipher::DesCbc {
                continue;
            }
            let key = random_key(cipher, &mut rng);
            let sealed = encrypt(cipher, &key, b"patient summary", &mut rng).unwrap();
            let plain = decrypt(
                &sealed.algorithm,
                &key,
                &sealed.ciphertext,
                sealed.tag.as_deref(),
                &[],
            )
            .unwrap();
            assert_eq!(plain, b"patient summary", "{cipher:?}");
            let wrong = vec![0u8; key.len()];
            if cipher.is_authenticated() {
                assert!(
                    decrypt(
                        &sealed.algorithm,
                        &wrong,
                        &sealed.ciphertext,
                        sealed.tag.as_deref(),
                        &[]
                    )
                    .is_err()
                );
            }
        }
    }

    #[test]
    fn rc2_parameters_say_128_effective_bits() {
        let mut rng = rand::rng();
        let key = random_key(ContentCipher::Rc2Cbc, &mut rng);
        let sealed = encrypt(ContentCipher::Rc2Cbc, &key, b"x", &mut rng).unwrap();
        let der = sealed.algorithm.parameters.unwrap().to_der().unwrap();
        let p = Rc2CbcParameter::from_der(&der).unwrap();
        assert_eq!(p.rc2_parameter_version, 58);
        assert_eq!(p.iv.as_bytes().len(), 8);
        assert_eq!(rc2_effective_bits(58), Some(128));
        assert_eq!(rc2_effective_bits(160), Some(40));
        assert_eq!(rc2_effective_bits(7), None);
    }

    #[test]
    fn short_key_and_missing_parameters_are_errors() {
        let alg = AlgorithmIdentifierOwned {
            oid: ContentCipher::Aes128Cbc.oid(),
            parameters: None,
        };
        assert!(decrypt(&alg, &[0; 16], &[0; 16], None, &[]).is_err());
        assert!(decrypt(&alg, &[0; 3], &[0; 16], None, &[]).is_err());
    }
}
