//! Checking one certificate against one CRL (RFC 5280 §6.3, simplified to what Direct uses:
//! complete CRLs issued by the certificate's issuer; no delta or indirect CRLs).

use const_oid::db::rfc5280::ID_CE_CRL_REASONS;
use der::Decode;
use spki::SubjectPublicKeyInfoOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{CrlReason, IssuingDistributionPoint, KeyUsage};
use x509_cert::name::Name;

use super::cert;

/// What a usable CRL says about a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrlVerdict {
    NotRevoked,
    Revoked {
        date: OffsetDateTime,
        reason: Option<String>,
    },
}

/// The certificate that issued the certificate being checked: its name, key, and, when known,
/// its certificate (for the cRLSign key usage).
pub struct CrlIssuer<'a> {
    pub name: &'a Name,
    pub spki: &'a SubjectPublicKeyInfoOwned,
    pub certificate: Option<&'a Certificate>,
}

/// Checks `target` against `crl`. `Err` means the CRL cannot be used for it (wrong issuer, bad
/// signature, not yet valid or past nextUpdate, out of scope), with the reason.
pub fn check(
    target: &Certificate,
    issuer: &CrlIssuer<'_>,
    crl: &CertificateList,
    at: OffsetDateTime,
) -> Result<CrlVerdict, String> {
    let tbs = &crl.tbs_cert_list;
    if !cert::name_eq(&tbs.issuer, issuer.name) {
        return Err(format!(
            "CRL issuer {} is not the certificate's issuer {}",
            tbs.issuer, issuer.name
        ));
    }
    if let Some(ic) = issuer.certificate
        && let Ok(Some((_, ku))) = cert::ext::<KeyUsage>(ic)
        && !ku.crl_sign()
    {
        return Err("the issuer's keyUsage lacks cRLSign".into());
    }
    cert::verify_crl(crl, issuer.spki)
        .map_err(|e| format!("CRL signature does not verify: {e}"))?;
    // A CRL issued after the validation time is still evidence (validating at a signing time in
    // the past uses today's CRL); one dated in the future of the real clock is not.
    let this_update = cert::to_datetime(&tbs.this_update);
    if this_update > OffsetDateTime::now_utc() + time::Duration::minutes(5) {
        return Err(format!(
            "CRL thisUpdate {} is in the future",
            cert::fmt_time(this_update)
        ));
    }
    if let Some(next) = &tbs.next_update {
        let next = cert::to_datetime(next);
        if next < at {
            return Err(format!(
                "CRL is past its nextUpdate {}",
                cert::fmt_time(next)
            ));
        }
    }
    if let Some(exts) = &tbs.crl_extensions {
        for e in exts.iter() {
            if e.extn_id == <IssuingDistributionPoint as const_oid::AssociatedOid>::OID {
                let idp = IssuingDistributionPoint::from_der(e.extn_value.as_bytes())
                    .map_err(|err| format!("malformed issuingDistributionPoint: {err}"))?;
                let is_ca = cert::basic_constraints(target)
                    .ok()
                    .flatten()
                    .is_some_and(|b| b.ca);
                if idp.only_contains_ca_certs && !is_ca {
                    return Err("CRL covers CA certificates only".into());
                }
                if idp.only_contains_user_certs && is_ca {
                    return Err("CRL covers end-entity certificates only".into());
                }
                if idp.indirect_crl {
                    return Err("indirect CRLs are not supported".into());
                }
            } else if e.critical {
                return Err(format!("unsupported critical CRL extension {}", e.extn_id));
            }
        }
    }
    let serial = target.tbs_certificate().serial_number();
    let entry = tbs
        .revoked_certificates
        .iter()
        .flatten()
        .find(|r| r.serial_number.as_bytes() == serial.as_bytes());
    let Some(entry) = entry else {
        return Ok(CrlVerdict::NotRevoked);
    };
    let reason = entry
        .crl_entry_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == ID_CE_CRL_REASONS)
        .map(|e| {
            CrlReason::from_der(e.extn_value.as_bytes())
                .map(|r| format!("{r:?}"))
                .unwrap_or_else(|_| "undecodable reason".into())
        });
    Ok(CrlVerdict::Revoked {
        date: cert::to_datetime(&entry.revocation_date),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::DecodePem;

    fn cert(pem: &str) -> Certificate {
        Certificate::from_pem(pem).expect("fixture certificate")
    }

    #[test]
    fn verdicts_for_listed_and_unlisted_certificates() {
        let ca = cert(include_str!("testdata/ca.pem"));
        let good = cert(include_str!("testdata/good.pem"));
        let bad = cert(include_str!("testdata/bad.pem"));
        let crl = CertificateList::from_pem(include_str!("testdata/ca.crl")).expect("fixture CRL");
        let issuer = CrlIssuer {
            name: ca.tbs_certificate().subject(),
            spki: ca.tbs_certificate().subject_public_key_info(),
            certificate: Some(&ca),
        };
        let now = OffsetDateTime::now_utc();
        assert_eq!(check(&good, &issuer, &crl, now), Ok(CrlVerdict::NotRevoked));
        match check(&bad, &issuer, &crl, now) {
            Ok(CrlVerdict::Revoked { reason, .. }) => {
                assert_eq!(reason.as_deref(), Some("KeyCompromise"))
            }
            other => panic!("expected revoked, got {other:?}"),
        }
        // Signed by another key: unusable.
        let other = good.tbs_certificate().subject_public_key_info();
        let forged = CrlIssuer {
            name: ca.tbs_certificate().subject(),
            spki: other,
            certificate: None,
        };
        assert!(check(&good, &forged, &crl, now).is_err_and(|e| e.contains("signature")));
        // Another issuer's name: unusable.
        let wrong = CrlIssuer {
            name: good.tbs_certificate().subject(),
            spki: ca.tbs_certificate().subject_public_key_info(),
            certificate: None,
        };
        assert!(check(&good, &wrong, &crl, now).is_err_and(|e| e.contains("issuer")));
        // Past nextUpdate: unusable.
        let far = now + time::Duration::days(365 * 200);
        assert!(check(&good, &issuer, &crl, far).is_err_and(|e| e.contains("nextUpdate")));
    }
}
