//! The `accept-incomplete-validity` fault's certificate reader: what a lenient X.509 parser
//! does with a Validity that lacks notBefore or notAfter (CERT-07): it reads the certificate
//! anyway, as if it had no validity bounds. The certificate is taken apart as generic DER
//! (no certificate type can hold the defect) and given both times back.

use der::{Any, Decode, Encode, Tag, Tagged};
use x509_cert::Certificate;

/// The earliest time the der crate represents (1970) and the latest GeneralizedTime: no bound.
const FROM: &[u8] = b"700101000000Z";
const UNTIL: &[u8] = b"99991231235959Z";

/// `der` read leniently: a certificate whose Validity holds a single time comes back with
/// unbounded validity. None when it is malformed in any other way.
pub fn read_without_bounds(der: &[u8]) -> Option<Certificate> {
    let mut outer: Vec<Any> = Vec::from_der(der).ok()?;
    let mut tbs: Vec<Any> = outer.first()?.decode_as().ok()?;
    // validity follows version [0] (when present), serial, signature algorithm and issuer.
    let at = if tbs.first()?.tag().is_context_specific() {
        4
    } else {
        3
    };
    let times: Vec<Any> = tbs.get(at)?.decode_as().ok()?;
    if times.len() != 1 {
        return None;
    }
    let bounds = vec![
        Any::new(Tag::UtcTime, FROM).ok()?,
        Any::new(Tag::GeneralizedTime, UNTIL).ok()?,
    ];
    tbs[at] = Any::encode_from(&bounds).ok()?;
    outer[0] = Any::encode_from(&tbs).ok()?;
    Certificate::from_der(&outer.to_der().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validity_with_one_time_is_read_unbounded() {
        let pki = crate::pki::ReferencePki::load_default().expect("pki");
        for name in ["sender_no_not_before", "sender_no_not_after"] {
            let c = pki.credential(name).expect(name);
            let bad = c.malformed_der.as_ref().expect("malformed.der");
            assert!(Certificate::from_der(bad).is_err(), "{name} must not parse");
            let read = read_without_bounds(bad).expect(name);
            assert_eq!(
                read.tbs_certificate().subject_public_key_info(),
                c.certificate.tbs_certificate().subject_public_key_info()
            );
        }
        // A well-formed certificate is not "repaired".
        let good = pki.credential("hisp_sender").expect("hisp_sender");
        assert!(read_without_bounds(&good.certificate_der).is_none());
    }
}
