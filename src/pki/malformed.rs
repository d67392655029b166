//! Certificates that no builder will make (RX-29: a Validity without notBefore or notAfter).
//! The well-formed certificate is taken apart as generic DER, the defect applied, and the TBS
//! signed again by the issuer, so that only the intended defect differs.

use der::asn1::BitString;
use der::{Any, Decode, Encode, Tag, Tagged};
use x509_cert::Certificate;

use super::error::PkiError;
use super::issue::signature_bits;
use super::sign::CertSigner;
use super::spec::Malformation;

/// Position of `validity` in TBSCertificate when the explicit `[0] version` is present.
const VALIDITY_INDEX: usize = 4;

pub fn malform(
    cert: &Certificate,
    defect: Malformation,
    issuer: &CertSigner<'_>,
) -> Result<Vec<u8>, PkiError> {
    let ctx = || format!("malformed ({defect:?}) certificate");
    let tbs_der = cert
        .tbs_certificate()
        .to_der()
        .map_err(PkiError::der(ctx()))?;
    let mut fields: Vec<Any> = Vec::<Any>::from_der(&tbs_der).map_err(PkiError::der(ctx()))?;
    let validity = fields
        .get(VALIDITY_INDEX)
        .ok_or_else(|| PkiError::Sign(format!("{}: TBS too short", ctx())))?;
    if validity.tag() != Tag::Sequence {
        return Err(PkiError::Sign(format!(
            "{}: validity not at index 4",
            ctx()
        )));
    }
    let mut times: Vec<Any> = validity
        .decode_as::<Vec<Any>>()
        .map_err(PkiError::der(ctx()))?;
    if times.len() != 2 {
        return Err(PkiError::Sign(format!(
            "{}: validity has {} times",
            ctx(),
            times.len()
        )));
    }
    match defect {
        Malformation::NoNotBefore => times.remove(0),
        Malformation::NoNotAfter => times.remove(1),
    };
    fields[VALIDITY_INDEX] = Any::encode_from(&times).map_err(PkiError::der(ctx()))?;
    let tbs = fields.to_der().map_err(PkiError::der(ctx()))?;
    let signature: BitString = signature_bits(issuer, &tbs)?;
    let outer: Vec<Any> = vec![
        Any::from_der(&tbs).map_err(PkiError::der(ctx()))?,
        Any::encode_from(cert.signature_algorithm()).map_err(PkiError::der(ctx()))?,
        Any::encode_from(&signature).map_err(PkiError::der(ctx()))?,
    ];
    outer.to_der().map_err(PkiError::der(ctx()))
}
