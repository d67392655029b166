//! Reading PKCS#12 (RFC 7292) files that vendors hand the validator with `--recipient-key
//! FILE.p12 --password PW`: the MAC is checked (HMAC-SHA-256 with the PKCS#12 KDF), the safes
//! and shrouded key bags are decrypted with PBES2, and the key and certificates come out.
//!
//! By hand on the same `der` types as the writer (`pkcs12.rs`), for the same reason: no PKCS#12
//! crate fits beside cms 0.3.0-rc.0. Legacy files (RC2/3DES PBE, SHA-1 MAC) get a clear error
//! that says how to re-export them, rather than a silent failure.

use cms::encrypted_data::EncryptedData;
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Decode, Encode};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use x509_cert::Certificate;

use crate::keys::PrivateKey;

use super::error::PkiError;
use super::pkcs12::{CertBag, Pfx, SafeBag, pkcs12_kdf_sha256};

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
const KEY_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.1");
const PKCS8_SHROUDED_KEY_BAG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.2");
const CERT_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.3");
const X509_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.22.1");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// What a PKCS#12 file holds: the first private key, and every certificate (the key's own
/// certificate first when the file pairs them by localKeyId, as OpenSSL and keytool do).
#[derive(Debug)]
pub struct Pkcs12Contents {
    pub key: Option<PrivateKey>,
    pub certificates: Vec<Certificate>,
}

const RE_EXPORT: &str = "re-export it with `openssl pkcs12 -export -keypbe AES-256-CBC \
                         -certpbe AES-256-CBC -macalg sha256`";

fn err(what: &str) -> impl Fn(der::Error) -> PkiError + '_ {
    move |e| PkiError::Pkcs12(format!("{what}: {e}"))
}

/// Opens a PKCS#12 file (DER, or BER as some tools write it) with `password`.
pub fn read_pkcs12(bytes: &[u8], password: &str) -> Result<Pkcs12Contents, PkiError> {
    let der = crate::smime::ber::to_der(bytes)
        .map_err(|e| PkiError::Pkcs12(format!("not a PKCS#12 file: {e}")))?;
    let pfx = Pfx::from_der(&der).map_err(err("not a PKCS#12 PFX"))?;
    if pfx.version != 3 {
        return Err(PkiError::Pkcs12(format!(
            "PFX version {} (only v3 exists)",
            pfx.version
        )));
    }
    if pfx.auth_safe.content_type != ID_DATA {
        return Err(PkiError::Pkcs12(format!(
            "authSafe is {} (public-key integrity mode is not supported)",
            pfx.auth_safe.content_type
        )));
    }
    let auth_safe = pfx
        .auth_safe
        .content
        .decode_as::<OctetString>()
        .map_err(err("authSafe content"))?;
    let auth_safe = auth_safe.as_bytes();
    match &pfx.mac_data {
        Some(mac_data) => check_mac(mac_data, auth_safe, password)?,
        None => {
            return Err(PkiError::Pkcs12(
                "the file has no MAC: its integrity cannot be checked".into(),
            ));
        }
    }
    let infos = Vec::<cms::content_info::ContentInfo>::from_der(auth_safe)
        .map_err(err("AuthenticatedSafe"))?;
    let mut bags = Vec::new();
    for info in infos {
        let safe = if info.content_type == ID_DATA {
            info.content
                .decode_as::<OctetString>()
                .map_err(err("data safe"))?
                .as_bytes()
                .to_vec()
        } else if info.content_type == ID_ENCRYPTED_DATA {
            decrypt_safe(
                &info
                    .content
                    .decode_as::<EncryptedData>()
                    .map_err(err("encrypted safe"))?,
                password,
            )?
        } else {
            return Err(PkiError::Pkcs12(format!(
                "a safe of type {} (only data and encryptedData are supported)",
                info.content_type
            )));
        };
        bags.extend(Vec::<SafeBag>::from_der(&safe).map_err(err("SafeContents"))?);
    }
    let mut key = None;
    let mut certificates = Vec::new();
    for bag in bags {
        let value = bag.bag_value.to_der().map_err(err("bag value"))?;
        if bag.bag_id == KEY_BAG && key.is_none() {
            key = Some(
                PrivateKey::from_pkcs8_der(&value)
                    .map_err(|e| PkiError::Pkcs12(format!("key bag: {e}")))?,
            );
        } else if bag.bag_id == PKCS8_SHROUDED_KEY_BAG && key.is_none() {
            let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(value.as_slice())
                .map_err(|e| PkiError::Pkcs12(format!("shrouded key bag: {e}")))?;
            if !matches!(info.encryption_algorithm, pkcs5::EncryptionScheme::Pbes2(_)) {
                return Err(PkiError::Pkcs12(format!(
                    "the key is protected by a legacy PBE scheme; {RE_EXPORT}"
                )));
            }
            let plain = info.decrypt(password).map_err(|e| {
                PkiError::Pkcs12(format!("cannot decrypt the key with this password: {e}"))
            })?;
            key = Some(
                PrivateKey::from_pkcs8_der(plain.as_bytes())
                    .map_err(|e| PkiError::Pkcs12(format!("shrouded key: {e}")))?,
            );
        } else if bag.bag_id == CERT_BAG {
            let cert_bag = CertBag::from_der(&value).map_err(err("cert bag"))?;
            if cert_bag.cert_id == X509_CERTIFICATE {
                certificates.push(
                    Certificate::from_der(cert_bag.cert_value.as_bytes())
                        .map_err(err("certificate in cert bag"))?,
                );
            }
        }
    }
    // The key's own certificate first, so that callers can pair them without attributes.
    if let Some(k) = &key
        && let Some(pos) = certificates
            .iter()
            .position(|c| k.matches(c.tbs_certificate().subject_public_key_info()))
    {
        let own = certificates.remove(pos);
        certificates.insert(0, own);
    }
    Ok(Pkcs12Contents { key, certificates })
}

fn check_mac(
    mac_data: &super::pkcs12::MacData,
    auth_safe: &[u8],
    password: &str,
) -> Result<(), PkiError> {
    if mac_data.mac.algorithm.oid != ID_SHA256 {
        return Err(PkiError::Pkcs12(format!(
            "MAC digest {} is not supported (SHA-256 only); {RE_EXPORT}",
            mac_data.mac.algorithm.oid
        )));
    }
    let mut bmp: Vec<u8> = password.encode_utf16().flat_map(u16::to_be_bytes).collect();
    bmp.extend_from_slice(&[0, 0]);
    let key = pkcs12_kdf_sha256(
        &bmp,
        mac_data.mac_salt.as_bytes(),
        3,
        mac_data.iterations,
        32,
    );
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key)
        .map_err(|e| PkiError::Pkcs12(format!("MAC key: {e}")))?;
    mac.update(auth_safe);
    mac.verify_slice(mac_data.mac.digest.as_bytes())
        .map_err(|_| PkiError::Pkcs12("wrong password (the MAC does not verify)".into()))
}

fn decrypt_safe(data: &EncryptedData, password: &str) -> Result<Vec<u8>, PkiError> {
    let info = &data.enc_content_info;
    let alg = info
        .content_enc_alg
        .to_der()
        .map_err(err("safe encryption algorithm"))?;
    let scheme =
        pkcs5::EncryptionScheme::from_der(&alg).map_err(err("safe encryption algorithm"))?;
    let pkcs5::EncryptionScheme::Pbes2(params) = scheme else {
        return Err(PkiError::Pkcs12(format!(
            "the certificates are protected by a legacy PBE scheme; {RE_EXPORT}"
        )));
    };
    let ciphertext = info
        .encrypted_content
        .as_ref()
        .ok_or_else(|| PkiError::Pkcs12("an encrypted safe without content".into()))?;
    params
        .decrypt(password, ciphertext.as_bytes())
        .map_err(|e| PkiError::Pkcs12(format!("cannot decrypt a safe with this password: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn credential() -> (PrivateKey, Certificate) {
        let pki = crate::pki::ReferencePki::load_default().expect("reference PKI");
        let c = pki
            .credentials()
            .find(|c| matches!(c.key, PrivateKey::Rsa(_)))
            .expect("an RSA credential");
        (c.key.clone(), c.certificate.clone())
    }

    #[test]
    fn round_trip_with_the_writer() {
        let (key, cert) = credential();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let p12 = super::super::pkcs12::build_pkcs12(&key, &cert, &[], "t", "pw", 2048, &mut rng)
            .expect("build");
        let read = read_pkcs12(&p12, "pw").expect("read");
        assert!(
            read.key
                .expect("key")
                .matches(cert.tbs_certificate().subject_public_key_info())
        );
        assert_eq!(read.certificates.first(), Some(&cert));
        let wrong = read_pkcs12(&p12, "not-pw").expect_err("wrong password");
        assert!(wrong.to_string().contains("wrong password"), "{wrong}");
    }

    #[test]
    fn garbage_and_truncation_are_errors() {
        let (key, cert) = credential();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(8);
        let p12 = super::super::pkcs12::build_pkcs12(&key, &cert, &[], "t", "pw", 2048, &mut rng)
            .expect("build");
        assert!(read_pkcs12(b"not a pfx", "pw").is_err());
        for cut in [1, 10, p12.len() / 2, p12.len() - 1] {
            assert!(read_pkcs12(&p12[..cut], "pw").is_err(), "cut at {cut}");
        }
    }
}
