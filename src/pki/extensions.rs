//! The certificate profile of §a.1 turned into X.509 extensions and names, one function per
//! extension, all driven by a `CredentialSpec`.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc3280::EMAIL_ADDRESS;
use const_oid::db::rfc4519::CN;
use const_oid::db::rfc5280::{
    ID_AD_CA_ISSUERS, ID_KP_CLIENT_AUTH, ID_KP_EMAIL_PROTECTION, ID_KP_SERVER_AUTH,
};
use der::asn1::{Ia5String, OctetString, Utf8StringRef};
use der::flagset::FlagSet;
use der::{Any, Decode, Encode};
use sha1::{Digest, Sha1};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints,
    CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

use crate::keys::KeySpec;

use super::error::PkiError;
use super::spec::{CredentialSpec, ExtKeyUsageName, KeyUsageName, OmitExtension};

/// What the profile needs to know about the issuer.
pub struct IssuerInfo<'a> {
    pub name: &'a str,
    pub ski: &'a [u8],
    pub aia_p7c: bool,
}

/// RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits.
pub fn key_identifier(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec()
}

/// DCDT's subject: `EMAILADDRESS=<address>, CN=<credential>` for address-bound, `CN=<name>`
/// otherwise, encoded in that order.
pub fn subject_name(spec: &CredentialSpec) -> Result<Name, PkiError> {
    let ctx = || format!("credential {}: subject", spec.name);
    let cn = spec.subject_cn.as_deref().unwrap_or(&spec.name);
    let email = spec.subject_email.as_deref().or(spec.address.as_deref());
    let mut rdns = RdnSequence::default();
    if let Some(email) = email {
        let value = Any::encode_from(&Ia5String::new(email).map_err(PkiError::der(ctx()))?)
            .map_err(PkiError::der(ctx()))?;
        rdns.push(single_rdn(EMAIL_ADDRESS, value).map_err(PkiError::der(ctx()))?);
    }
    let value = Any::encode_from(&Utf8StringRef::new(cn).map_err(PkiError::der(ctx()))?)
        .map_err(PkiError::der(ctx()))?;
    rdns.push(single_rdn(CN, value).map_err(PkiError::der(ctx()))?);
    // Name has no public constructor from an RdnSequence without `hazmat`: go through DER.
    let der = rdns.to_der().map_err(PkiError::der(ctx()))?;
    Name::from_der(&der).map_err(PkiError::der(ctx()))
}

fn single_rdn(oid: ObjectIdentifier, value: Any) -> der::Result<RelativeDistinguishedName> {
    RelativeDistinguishedName::try_from(vec![AttributeTypeAndValue { oid, value }])
}

pub fn default_key_usage(spec: &CredentialSpec) -> Vec<KeyUsageName> {
    use KeyUsageName::*;
    let ec = matches!(spec.key, KeySpec::P256 | KeySpec::P384);
    match (spec.ca, ec) {
        (true, _) => vec![DigitalSignature, KeyEncipherment, KeyCertSign, CrlSign],
        (false, false) => vec![DigitalSignature, KeyEncipherment],
        // keyEncipherment has no meaning for an EC key.
        (false, true) => vec![DigitalSignature],
    }
}

/// The keyUsage bits the certificate carries, or `None` when the extension is left out.
pub fn effective_key_usage(spec: &CredentialSpec) -> Option<Vec<KeyUsageName>> {
    if spec.omits(OmitExtension::KeyUsage) {
        return None;
    }
    Some(
        spec.key_usage
            .clone()
            .unwrap_or_else(|| default_key_usage(spec)),
    )
}

fn key_usage_flag(k: KeyUsageName) -> KeyUsages {
    match k {
        KeyUsageName::DigitalSignature => KeyUsages::DigitalSignature,
        KeyUsageName::NonRepudiation => KeyUsages::NonRepudiation,
        KeyUsageName::KeyEncipherment => KeyUsages::KeyEncipherment,
        KeyUsageName::DataEncipherment => KeyUsages::DataEncipherment,
        KeyUsageName::KeyAgreement => KeyUsages::KeyAgreement,
        KeyUsageName::KeyCertSign => KeyUsages::KeyCertSign,
        KeyUsageName::CrlSign => KeyUsages::CRLSign,
    }
}

fn eku_oid(k: ExtKeyUsageName) -> ObjectIdentifier {
    match k {
        ExtKeyUsageName::ServerAuth => ID_KP_SERVER_AUTH,
        ExtKeyUsageName::ClientAuth => ID_KP_CLIENT_AUTH,
        ExtKeyUsageName::EmailProtection => ID_KP_EMAIL_PROTECTION,
    }
}

/// The SAN entries: the binding first, then the extras.
pub fn subject_alt_names(spec: &CredentialSpec) -> Result<Vec<GeneralName>, PkiError> {
    let ctx = || format!("credential {}: subjectAltName", spec.name);
    let ia5 = |s: &str| Ia5String::new(s).map_err(PkiError::der(ctx()));
    let mut names = Vec::new();
    for a in spec.address.iter().chain(&spec.extra_addresses) {
        names.push(GeneralName::Rfc822Name(ia5(a)?));
    }
    for d in spec.domain.iter().chain(&spec.extra_domains) {
        names.push(GeneralName::DnsName(ia5(d)?));
    }
    Ok(names)
}

pub fn crl_url(spec: &CredentialSpec, base_url: &str, issuer: &IssuerInfo<'_>) -> String {
    spec.crl_url
        .clone()
        .unwrap_or_else(|| format!("{base_url}/{}.crl", issuer.name))
}

pub fn aia_url(spec: &CredentialSpec, base_url: &str, issuer: &IssuerInfo<'_>) -> String {
    spec.aia_url.clone().unwrap_or_else(|| {
        let ext = if issuer.aia_p7c { "p7c" } else { "cer" };
        format!("{base_url}/{}.{ext}", issuer.name)
    })
}

/// All extensions of one certificate, in a fixed order.
pub fn build_extensions(
    spec: &CredentialSpec,
    subject: &Name,
    spki: &SubjectPublicKeyInfoOwned,
    issuer: &IssuerInfo<'_>,
    base_url: &str,
) -> Result<Vec<Extension>, PkiError> {
    let ctx = format!("credential {}: extensions", spec.name);
    let err = |e: der::Error| PkiError::Der {
        context: ctx.clone(),
        error: e,
    };
    let mut exts: Vec<Extension> = Vec::new();
    let mut push = |e: Result<Extension, der::Error>| -> Result<(), PkiError> {
        exts.push(e.map_err(err)?);
        Ok(())
    };

    if !spec.omits(OmitExtension::BasicConstraints) {
        // DCDT: present, non-critical, no path length.
        let bc = BasicConstraints {
            ca: spec.ca,
            path_len_constraint: None,
        };
        push((false, &bc).to_extension(subject, &[]))?;
    }
    if let Some(bits) = effective_key_usage(spec)
        && !bits.is_empty()
    {
        let flags = bits.iter().fold(FlagSet::<KeyUsages>::default(), |acc, k| {
            acc | key_usage_flag(*k)
        });
        push((true, &KeyUsage(flags)).to_extension(subject, &[]))?;
    }
    if !spec.extended_key_usage.is_empty() {
        let eku = ExtendedKeyUsage(
            spec.extended_key_usage
                .iter()
                .map(|k| eku_oid(*k))
                .collect(),
        );
        push((false, &eku).to_extension(subject, &[]))?;
    }
    if !spec.omits(OmitExtension::SubjectKeyIdentifier) {
        let ski = SubjectKeyIdentifier(OctetString::new(key_identifier(spki)).map_err(err)?);
        push((false, &ski).to_extension(subject, &[]))?;
    }
    if !spec.is_self_signed() && !spec.omits(OmitExtension::AuthorityKeyIdentifier) {
        // keyIdentifier = the issuer's SKI (DCDT before 3.1.6 got this wrong).
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(issuer.ski.to_vec()).map_err(err)?),
            ..Default::default()
        };
        push((false, &aki).to_extension(subject, &[]))?;
    }
    let sans = subject_alt_names(spec)?;
    if !sans.is_empty() && !spec.omits(OmitExtension::SubjectAltName) {
        push((false, &SubjectAltName(sans)).to_extension(subject, &[]))?;
    }
    if !spec.is_self_signed() && !spec.omits(OmitExtension::CrlDistributionPoints) {
        let uri = Ia5String::new(&crl_url(spec, base_url, issuer)).map_err(err)?;
        let dp = CrlDistributionPoints(vec![DistributionPoint {
            distribution_point: Some(DistributionPointName::FullName(vec![
                GeneralName::UniformResourceIdentifier(uri),
            ])),
            reasons: None,
            crl_issuer: None,
        }]);
        push((false, &dp).to_extension(subject, &[]))?;
    }
    if !spec.is_self_signed() && !spec.omits(OmitExtension::AuthorityInfoAccess) {
        let uri = Ia5String::new(&aia_url(spec, base_url, issuer)).map_err(err)?;
        let aia = AuthorityInfoAccessSyntax(vec![AccessDescription {
            access_method: ID_AD_CA_ISSUERS,
            access_location: GeneralName::UniformResourceIdentifier(uri),
        }]);
        push((false, &aia).to_extension(subject, &[]))?;
    }
    Ok(exts)
}
