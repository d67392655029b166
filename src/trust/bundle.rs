//! Trust bundles (Direct Trust Bundle IG, TRUST-12): a certs-only PKCS#7 (`.p7b`) of anchors,
//! optionally signed: a CMS SignedData whose eContent is that certs-only PKCS#7 (`.p7m`, as the
//! Java RI's `DefaultBundleRefreshProcessorImpl` reads it). Reading and the CMS signature are
//! checked here; whether the signer's certificate is trusted (its path to the configured signer
//! anchors) is the caller's decision, made with the path validator.

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use const_oid::db::rfc5911;
use der::{Decode, Encode};
use x509_cert::Certificate;

use crate::smime::verify::verify_attached;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    #[error("not a trust bundle (a certs-only PKCS#7 or a SignedData holding one): {0}")]
    NotBundle(String),
    #[error("the bundle's signature does not verify: {0}")]
    BadSignature(String),
    #[error("the bundle is not signed, and a bundle signer is configured")]
    Unsigned,
}

/// A bundle read from its bytes.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// The anchors it delivers.
    pub anchors: Vec<Certificate>,
    /// Signed bundles: the signer's certificate (its signature verified unless the caller
    /// asked not to), and the other certificates the SignedData carried, for its path.
    pub signer: Option<(Certificate, Vec<Certificate>)>,
}

/// Reads a bundle. A signed one has its CMS signature verified when `verify` is set (a bundle
/// whose signature fails is an error); `require_signed` refuses an unsigned one.
pub fn read_bundle(
    bytes: &[u8],
    verify: bool,
    require_signed: bool,
) -> Result<Bundle, BundleError> {
    let bad = |e: &dyn std::fmt::Display| BundleError::NotBundle(e.to_string());
    let der = crate::smime::ber::to_der(bytes).map_err(|e| bad(&e))?;
    let ci = ContentInfo::from_der(&der).map_err(|e| bad(&e))?;
    if ci.content_type != rfc5911::ID_SIGNED_DATA {
        return Err(bad(&format!("content type {}", ci.content_type)));
    }
    let sd_der = ci.content.to_der().map_err(|e| bad(&e))?;
    let sd = SignedData::from_der(&sd_der).map_err(|e| bad(&e))?;
    let signed = sd.encap_content_info.econtent.is_some() && !sd.signer_infos.0.is_empty();
    if !signed {
        if require_signed {
            return Err(BundleError::Unsigned);
        }
        let anchors = crate::smime::verify::signed_data_certificates(&sd);
        return Ok(Bundle {
            anchors,
            signer: None,
        });
    }
    let report = verify_attached(&der).map_err(|e| BundleError::BadSignature(e.to_string()))?;
    let signer = match report.verified_signer().and_then(|s| s.certificate.clone()) {
        Some(c) => c,
        None if verify => {
            let why = report
                .signers
                .iter()
                .find_map(|s| s.outcome.as_ref().err().map(|e| e.to_string()))
                .unwrap_or_else(|| "no signer".into());
            return Err(BundleError::BadSignature(why));
        }
        // Not verifying: take the first signer's certificate as it claims to be.
        None => report
            .signers
            .iter()
            .find_map(|s| s.certificate.clone())
            .ok_or_else(|| BundleError::BadSignature("no signer certificate".into()))?,
    };
    let content = report.econtent.clone().unwrap_or_default();
    let anchors = certs_only(&content).map_err(|e| bad(&e))?;
    let others = report
        .certificates
        .iter()
        .filter(|c| **c != signer)
        .cloned()
        .collect();
    Ok(Bundle {
        anchors,
        signer: Some((signer, others)),
    })
}

/// The certificates of a certs-only PKCS#7; none is a valid bundle (every anchor withdrawn).
fn certs_only(bytes: &[u8]) -> Result<Vec<Certificate>, String> {
    let der = crate::smime::ber::to_der(bytes).map_err(|e| e.to_string())?;
    let ci = ContentInfo::from_der(&der).map_err(|e| e.to_string())?;
    if ci.content_type != rfc5911::ID_SIGNED_DATA {
        return Err(format!("signed content type {}", ci.content_type));
    }
    let sd_der = ci.content.to_der().map_err(|e| e.to_string())?;
    let sd = SignedData::from_der(&sd_der).map_err(|e| e.to_string())?;
    Ok(crate::smime::verify::signed_data_certificates(&sd))
}

/// Builds a signed bundle: `anchors` as a certs-only PKCS#7, signed opaquely with SHA-256 by
/// `signer` (the harness serves these, RX-52..54).
pub fn build_signed_bundle(
    anchors: &[Certificate],
    signer: &Certificate,
    key: &crate::keys::PrivateKey,
) -> Result<Vec<u8>, crate::smime::SmimeError> {
    let inner = ContentInfo::try_from(anchors.to_vec())?.to_der()?;
    crate::smime::sign::sign_opaque(
        &inner,
        signer,
        key,
        &crate::smime::sign::SignOptions {
            signing_time: true,
            smime_capabilities: false,
            ..Default::default()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::ReferencePki;

    fn pki() -> ReferencePki {
        ReferencePki::load_default().expect("pki")
    }

    #[test]
    fn a_signed_bundle_reads_back_with_its_signer() {
        let pki = pki();
        let ca = pki.credential("direct.test_ca_bundle").unwrap();
        let s = pki.credential("bundle_signer").unwrap();
        let p7m = build_signed_bundle(
            std::slice::from_ref(&ca.certificate),
            &s.certificate,
            &s.key,
        )
        .unwrap();
        let b = read_bundle(&p7m, true, true).unwrap();
        assert_eq!(b.anchors, vec![ca.certificate.clone()]);
        assert_eq!(b.signer.unwrap().0, s.certificate);
    }

    #[test]
    fn a_tampered_bundle_fails_and_an_unsigned_one_is_refused_when_required() {
        let pki = pki();
        let ca = pki.credential("direct.test_ca_bundle").unwrap();
        let s = pki.credential("bundle_signer").unwrap();
        let mut p7m = build_signed_bundle(
            std::slice::from_ref(&ca.certificate),
            &s.certificate,
            &s.key,
        )
        .unwrap();
        // Flip a byte inside the anchor's encoding (the signed content).
        let ca_der = ca.certificate.to_der().unwrap();
        let at = p7m
            .windows(ca_der.len())
            .position(|w| w == ca_der.as_slice())
            .unwrap();
        p7m[at + 200] ^= 0x01;
        assert!(matches!(
            read_bundle(&p7m, true, true),
            Err(BundleError::BadSignature(_)) | Err(BundleError::NotBundle(_))
        ));
        let p7b = ContentInfo::try_from(vec![ca.certificate.clone()])
            .unwrap()
            .to_der()
            .unwrap();
        assert_eq!(
            read_bundle(&p7b, true, true).unwrap_err(),
            BundleError::Unsigned
        );
        let b = read_bundle(&p7b, true, false).unwrap();
        assert!(b.signer.is_none() && b.anchors.len() == 1);
        assert!(read_bundle(b"not a bundle", true, false).is_err());
    }
}
