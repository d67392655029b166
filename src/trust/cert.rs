//! Small accessors over x509-cert 0.3 (whose fields are private) that the profile and path
//! checks share: extensions, names, times, keys, and signature verification of certificates
//! and CRLs with the S/MIME core's `check_signature_with_key`.

use const_oid::ObjectIdentifier;
use const_oid::db::{rfc3280, rfc4519, rfc5912};
use der::{Decode, Encode};
use sha2::Digest;
use spki::SubjectPublicKeyInfoOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints,
    KeyUsage, SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::time::Time;

use crate::smime::algorithms::{DigestAlgorithm, oid_name};
use crate::smime::verify::check_signature_with_key;

use super::report::{CertSource, CertSummary};

/// id-ad-caIssuers (RFC 5280 §4.2.2.1).
pub const ID_AD_CA_ISSUERS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.2");
/// ecdsa-with-SHA1 (RFC 5758), absent from const-oid's table.
pub const ECDSA_WITH_SHA_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
/// id-dsa (RFC 3279).
pub const ID_DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");

/// Decodes one extension; a malformed or duplicated extension is an error message, not a panic.
pub fn ext<'a, T>(cert: &'a Certificate) -> Result<Option<(bool, T)>, String>
where
    T: Decode<'a> + const_oid::AssociatedOid,
    <T as Decode<'a>>::Error: std::fmt::Display,
{
    cert.tbs_certificate()
        .get_extension::<T>()
        .map_err(|e| format!("malformed or repeated extension {}: {e}", oid_name(&T::OID)))
}

pub fn to_datetime(t: &Time) -> OffsetDateTime {
    let secs = i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub fn fmt_time(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

pub fn not_before(cert: &Certificate) -> OffsetDateTime {
    to_datetime(&cert.tbs_certificate().validity().not_before)
}

pub fn not_after(cert: &Certificate) -> OffsetDateTime {
    to_datetime(&cert.tbs_certificate().validity().not_after)
}

pub fn subject(cert: &Certificate) -> String {
    cert.tbs_certificate().subject().to_string()
}

/// Distinguished-name equality: identical encodings, or equal after the RFC 5280 §7.1
/// simplification we apply (case-folded, whitespace-collapsed string forms).
pub fn name_eq(a: &Name, b: &Name) -> bool {
    if a == b {
        return true;
    }
    let norm = |n: &Name| {
        n.to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    norm(a) == norm(b)
}

pub fn is_self_issued(cert: &Certificate) -> bool {
    name_eq(
        cert.tbs_certificate().subject(),
        cert.tbs_certificate().issuer(),
    )
}

/// String values of every attribute of type `oid` in `name`.
pub fn name_values(name: &Name, oid: ObjectIdentifier) -> Vec<String> {
    name.iter()
        .filter(|atv| atv.oid == oid)
        .map(|atv| {
            x509_cert::ext::pkix::name::DirectoryString::try_from(&atv.value)
                .map(|d| d.value().into_owned())
                .or_else(|_| {
                    atv.value
                        .decode_as::<der::asn1::Ia5StringRef<'_>>()
                        .map(|s| s.as_str().to_string())
                })
                .unwrap_or_else(|_| format!("<undecodable {}>", oid_name(&oid)))
        })
        .collect()
}

pub fn common_names(name: &Name) -> Vec<String> {
    name_values(name, rfc4519::COMMON_NAME)
}

pub fn email_addresses(name: &Name) -> Vec<String> {
    name_values(name, rfc3280::EMAIL_ADDRESS)
}

/// The subjectAltName entries, empty when there is no SAN.
pub fn san(cert: &Certificate) -> Result<Vec<GeneralName>, String> {
    Ok(ext::<SubjectAltName>(cert)?
        .map(|(_, s)| s.0)
        .unwrap_or_default())
}

pub fn rfc822_names(names: &[GeneralName]) -> Vec<String> {
    names
        .iter()
        .filter_map(|n| match n {
            GeneralName::Rfc822Name(s) => Some(s.as_str().to_string()),
            _ => None,
        })
        .collect()
}

pub fn dns_names(names: &[GeneralName]) -> Vec<String> {
    names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DnsName(s) => Some(s.as_str().to_string()),
            _ => None,
        })
        .collect()
}

pub fn key_usage(cert: &Certificate) -> Result<Option<KeyUsage>, String> {
    Ok(ext::<KeyUsage>(cert)?.map(|(_, k)| k))
}

pub fn basic_constraints(cert: &Certificate) -> Result<Option<BasicConstraints>, String> {
    Ok(ext::<BasicConstraints>(cert)?.map(|(_, b)| b))
}

pub fn subject_key_id(cert: &Certificate) -> Option<Vec<u8>> {
    ext::<SubjectKeyIdentifier>(cert)
        .ok()
        .flatten()
        .map(|(_, s)| s.0.as_bytes().to_vec())
}

pub fn authority_key_id(cert: &Certificate) -> Option<Vec<u8>> {
    ext::<AuthorityKeyIdentifier>(cert)
        .ok()
        .flatten()
        .and_then(|(_, a)| a.key_identifier.map(|k| k.as_bytes().to_vec()))
}

/// The URIs of every CRL distribution point's full name, in order.
pub fn crl_urls(cert: &Certificate) -> Result<Vec<String>, String> {
    let Some((_, dps)) = ext::<CrlDistributionPoints>(cert)? else {
        return Ok(Vec::new());
    };
    Ok(dps
        .0
        .iter()
        .filter_map(|dp| match &dp.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(names),
            _ => None,
        })
        .flatten()
        .filter_map(|n| match n {
            GeneralName::UniformResourceIdentifier(u) => Some(u.as_str().to_string()),
            _ => None,
        })
        .collect())
}

/// The AIA caIssuers URIs, in order.
pub fn ca_issuers_urls(cert: &Certificate) -> Result<Vec<String>, String> {
    let Some((_, aia)) = ext::<AuthorityInfoAccessSyntax>(cert)? else {
        return Ok(Vec::new());
    };
    Ok(aia
        .0
        .iter()
        .filter(|ad| ad.access_method == ID_AD_CA_ISSUERS)
        .filter_map(|ad| match &ad.access_location {
            GeneralName::UniformResourceIdentifier(u) => Some(u.as_str().to_string()),
            _ => None,
        })
        .collect())
}

/// The digest a signature algorithm hashes with.
pub fn signature_digest(alg: &ObjectIdentifier) -> Option<DigestAlgorithm> {
    use DigestAlgorithm::*;
    let table = [
        (rfc5912::MD_5_WITH_RSA_ENCRYPTION, Md5),
        (rfc5912::SHA_1_WITH_RSA_ENCRYPTION, Sha1),
        (ECDSA_WITH_SHA_1, Sha1),
        (rfc5912::SHA_256_WITH_RSA_ENCRYPTION, Sha256),
        (rfc5912::ECDSA_WITH_SHA_256, Sha256),
        (rfc5912::SHA_384_WITH_RSA_ENCRYPTION, Sha384),
        (rfc5912::ECDSA_WITH_SHA_384, Sha384),
        (rfc5912::SHA_512_WITH_RSA_ENCRYPTION, Sha512),
        (rfc5912::ECDSA_WITH_SHA_512, Sha512),
    ];
    table.iter().find(|(o, _)| o == alg).map(|(_, d)| *d)
}

pub fn signature_algorithm_name(alg: &ObjectIdentifier) -> String {
    if *alg == ECDSA_WITH_SHA_1 {
        return "ecdsa-with-SHA1".into();
    }
    oid_name(alg)
}

/// Verifies a signature over `tbs` (the DER of the signed part) with `issuer`'s key.
pub fn verify_signed(
    tbs: &[u8],
    alg: &ObjectIdentifier,
    signature: &der::asn1::BitString,
    issuer: &SubjectPublicKeyInfoOwned,
) -> Result<(), String> {
    let digest = signature_digest(alg)
        .ok_or_else(|| format!("unsupported signature algorithm {}", oid_name(alg)))?;
    let sig = signature
        .as_bytes()
        .ok_or_else(|| "signature BIT STRING has unused bits".to_string())?;
    let hash = digest.digest(tbs);
    check_signature_with_key(issuer, *alg, digest, &hash, sig).map_err(|e| e.to_string())
}

/// Verifies `cert`'s signature with `issuer`'s key. The TBS part is re-encoded from the decoded
/// structure: exact for DER input (x509-cert rejects non-DER certificates on decode).
pub fn verify_certificate(
    cert: &Certificate,
    issuer: &SubjectPublicKeyInfoOwned,
) -> Result<(), String> {
    let tbs = cert
        .tbs_certificate()
        .to_der()
        .map_err(|e| format!("re-encoding the TBS certificate: {e}"))?;
    verify_signed(
        &tbs,
        &cert.signature_algorithm().oid,
        cert.signature(),
        issuer,
    )
}

pub fn verify_crl(crl: &CertificateList, issuer: &SubjectPublicKeyInfoOwned) -> Result<(), String> {
    let tbs = crl
        .tbs_cert_list
        .to_der()
        .map_err(|e| format!("re-encoding the TBS CRL: {e}"))?;
    verify_signed(&tbs, &crl.signature_algorithm.oid, &crl.signature, issuer)
}

/// The kind and size of a public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Rsa { bits: usize },
    Ec { curve: String },
    Dsa,
    Other(String),
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyKind::Rsa { bits } => write!(f, "RSA {bits}"),
            KeyKind::Ec { curve } => write!(f, "EC {curve}"),
            KeyKind::Dsa => write!(f, "DSA"),
            KeyKind::Other(s) => write!(f, "{s}"),
        }
    }
}

pub fn key_kind(spki: &SubjectPublicKeyInfoOwned) -> KeyKind {
    let alg = spki.algorithm.oid;
    if alg == rfc5912::RSA_ENCRYPTION {
        let bits = spki
            .subject_public_key
            .as_bytes()
            .and_then(|b| pkcs1::RsaPublicKey::<der::asn1::UintRef<'_>>::from_der(b).ok())
            .map(|k| modulus_bits(k.modulus.as_bytes()))
            .unwrap_or(0);
        return KeyKind::Rsa { bits };
    }
    if alg == rfc5912::ID_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        let name = match curve {
            Some(c) if c == rfc5912::SECP_256_R_1 => "P-256".to_string(),
            Some(c) if c == rfc5912::SECP_384_R_1 => "P-384".to_string(),
            Some(c) if c == rfc5912::SECP_521_R_1 => "P-521".to_string(),
            Some(c) => oid_name(&c),
            None => "without a named curve".to_string(),
        };
        return KeyKind::Ec { curve: name };
    }
    if alg == ID_DSA {
        return KeyKind::Dsa;
    }
    KeyKind::Other(oid_name(&alg))
}

fn modulus_bits(be: &[u8]) -> usize {
    let trimmed: &[u8] = {
        let start = be.iter().position(|b| *b != 0).unwrap_or(be.len());
        &be[start..]
    };
    match trimmed.first() {
        None => 0,
        Some(first) => trimmed.len() * 8 - first.leading_zeros() as usize,
    }
}

pub fn serial_hex(cert: &Certificate) -> String {
    hex_upper(cert.tbs_certificate().serial_number().as_bytes())
}

pub fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

pub fn sha256_hex(cert: &Certificate) -> String {
    let der = cert.to_der().unwrap_or_default();
    sha2::Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn summary(cert: &Certificate, source: CertSource) -> CertSummary {
    let tbs = cert.tbs_certificate();
    CertSummary {
        subject: tbs.subject().to_string(),
        issuer: tbs.issuer().to_string(),
        serial: serial_hex(cert),
        not_before: fmt_time(not_before(cert)),
        not_after: fmt_time(not_after(cert)),
        signature_algorithm: signature_algorithm_name(&cert.signature_algorithm().oid),
        key: key_kind(tbs.subject_public_key_info()).to_string(),
        sha256: sha256_hex(cert),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modulus_bits_counts_leading_zeros() {
        assert_eq!(modulus_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(modulus_bits(&[0x01]), 1);
        assert_eq!(modulus_bits(&[]), 0);
    }

    #[test]
    fn names_compare_case_insensitively() {
        use std::str::FromStr;
        let a = Name::from_str("CN=Direct Test CA,O=Example").expect("name");
        let b = Name::from_str("CN=direct test ca,O=EXAMPLE").expect("name");
        let c = Name::from_str("CN=Other").expect("name");
        assert!(name_eq(&a, &b));
        assert!(!name_eq(&a, &c));
    }
}
