//! How CMS names a certificate: IssuerAndSerialNumber or SubjectKeyIdentifier (RFC 5652
//! §5.3, §6.2.1), and finding the certificate so named.

use cms::cert::IssuerAndSerialNumber;
use cms::enveloped_data::RecipientIdentifier;
use cms::signed_data::SignerIdentifier;
use der::Encode;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

/// The issuer and serial number of `cert`, the identifier OpenSSL uses by default.
pub fn issuer_and_serial(cert: &Certificate) -> IssuerAndSerialNumber {
    IssuerAndSerialNumber {
        issuer: cert.tbs_certificate().issuer().clone(),
        serial_number: cert.tbs_certificate().serial_number().clone(),
    }
}

/// The certificate's subjectKeyIdentifier extension, when it has one.
pub fn subject_key_id(cert: &Certificate) -> Option<Vec<u8>> {
    match cert
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
    {
        Ok(Some((_, ski))) => Some(ski.0.as_bytes().to_vec()),
        _ => None,
    }
}

fn same_issuer_serial(a: &IssuerAndSerialNumber, cert: &Certificate) -> bool {
    // Compare encodings: Name equality in RFC 5280 is more lenient, but CMS peers copy the
    // issuer name byte for byte from the certificate.
    let tbs = cert.tbs_certificate();
    a.serial_number == *tbs.serial_number() && a.issuer.to_der().ok() == tbs.issuer().to_der().ok()
}

pub fn signer_matches(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => same_issuer_serial(ias, cert),
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            subject_key_id(cert).as_deref() == Some(ski.0.as_bytes())
        }
    }
}

pub fn recipient_matches(rid: &RecipientIdentifier, cert: &Certificate) -> bool {
    match rid {
        RecipientIdentifier::IssuerAndSerialNumber(ias) => same_issuer_serial(ias, cert),
        RecipientIdentifier::SubjectKeyIdentifier(ski) => {
            subject_key_id(cert).as_deref() == Some(ski.0.as_bytes())
        }
    }
}

/// A human-readable form of a recipient or signer identifier for reports.
pub fn describe_rid(rid: &RecipientIdentifier) -> String {
    match rid {
        RecipientIdentifier::IssuerAndSerialNumber(ias) => {
            format!("issuer \"{}\", serial {}", ias.issuer, ias.serial_number)
        }
        RecipientIdentifier::SubjectKeyIdentifier(ski) => {
            format!("subjectKeyIdentifier {}", hex(ski.0.as_bytes()))
        }
    }
}

pub fn describe_sid(sid: &SignerIdentifier) -> String {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            format!("issuer \"{}\", serial {}", ias.issuer, ias.serial_number)
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            format!("subjectKeyIdentifier {}", hex(ski.0.as_bytes()))
        }
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
