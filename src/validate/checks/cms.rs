//! VC-4xx: the CMS layers, read through the S/MIME core: the EnvelopedData (or
//! AuthEnvelopedData) and its RecipientInfos, then the detached SignedData.

use std::time::{Duration, SystemTime};

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use x509_cert::Certificate;

use crate::smime::algorithms::oid_name;
use crate::smime::identity::recipient_matches;
use crate::smime::verify::SignerReport;
use crate::smime::{ContentCipher, DigestAlgorithm, EnvelopeInfo, KeyTransport};
use crate::validate::checks::closed_envelope_reason;
use crate::validate::engine::Findings;
use crate::validate::finding::{Profile, Severity};
use crate::validate::message::{Decryption, MessageUnderValidation, SignatureLayer};
use crate::validate::options::ValidationOptions;

/// Clock skew tolerated for a signingTime in the future (VC-413).
const SKEW: Duration = Duration::from_secs(5 * 60);

pub fn run(m: &MessageUnderValidation, options: &ValidationOptions, out: &mut Findings) {
    let path = m.outer.path.as_str();
    match &m.envelope {
        None => {
            for id in ["VC-401", "VC-402", "VC-403", "VC-404", "VC-405"] {
                out.not_evaluated(
                    id,
                    path,
                    "the message is not enveloped (application/pkcs7-mime)",
                );
            }
        }
        Some(env) => match &env.info {
            Err(e) => {
                out.fail(
                    "VC-401",
                    path,
                    format!("the envelope does not parse: {e}"),
                    Vec::new(),
                );
                for id in ["VC-402", "VC-403", "VC-404", "VC-405"] {
                    out.not_evaluated(id, path, "the envelope does not parse (VC-401)");
                }
            }
            Ok(info) => {
                vc401(info, path, out);
                vc402(info, path, out);
                vc403(info, path, out);
                vc404(&env.decryption, info, &options.recipient_certs, path, out);
                vc405(info, path, out);
            }
        },
    }
    let ids = [
        "VC-406", "VC-407", "VC-408", "VC-409", "VC-410", "VC-411", "VC-412", "VC-413", "VC-414",
        "VC-415",
    ];
    let Some(layer) = &m.signature else {
        let reason = if m.envelope.is_some() && m.decrypted.is_none() {
            closed_envelope_reason(m)
        } else {
            "there is no multipart/signed entity".to_string()
        };
        for id in ids {
            out.not_evaluated(id, path, reason.clone());
        }
        return;
    };
    let sig_path = format!("{}/2", layer.path);
    let report = match &layer.report {
        Ok(r) => r,
        Err(e) => {
            out.fail(
                "VC-406",
                &sig_path,
                format!("no readable SignedData: {e}"),
                Vec::new(),
            );
            for id in &ids[1..] {
                out.not_evaluated(id, &sig_path, "the SignedData does not parse (VC-406)");
            }
            return;
        }
    };
    // VC-406: RFC 5652 §5.1 versions 1, 3, 4, 5.
    if [1, 3, 4, 5].contains(&report.version) {
        out.pass(
            "VC-406",
            &sig_path,
            format!("SignedData version {}", report.version),
        );
    } else {
        out.fail(
            "VC-406",
            &sig_path,
            format!("SignedData version {} is not valid", report.version),
            Vec::new(),
        );
    }
    if report.is_detached() {
        out.pass("VC-407", &sig_path, "detached: no eContent");
    } else {
        out.fail(
            "VC-407",
            &sig_path,
            "the SignedData carries eContent (not detached)",
            Vec::new(),
        );
    }
    vc408(report.certificates.len(), &report.signers, &sig_path, out);
    if report.signers.is_empty() {
        for id in [
            "VC-409", "VC-410", "VC-411", "VC-412", "VC-413", "VC-414", "VC-415",
        ] {
            out.not_evaluated(id, &sig_path, "the SignedData has no SignerInfo");
        }
        return;
    }
    vc409(&report.signers, &sig_path, out);
    vc410(&report.signers, &report.econtent_type, &sig_path, out);
    vc411(layer, &sig_path, out);
    vc412(&report.signers, out.profile(), &sig_path, out);
    vc413(&report.signers, options, &sig_path, out);
    vc414(&report.signers, &sig_path, out);
    vc415(&report.signers, &sig_path, out);
}

fn vc401(info: &EnvelopeInfo, path: &str, out: &mut Findings) {
    let kind = if info.authenticated {
        "AuthEnvelopedData"
    } else {
        "EnvelopedData"
    };
    let mut problems = Vec::new();
    if info.recipients.is_empty() {
        problems.push("no RecipientInfo".to_string());
    }
    if info.encrypted_content_len == 0 {
        problems.push("no encrypted content".to_string());
    }
    // RFC 5652 §6.1 (EnvelopedData 0, 2, 3 or 4) and RFC 5083 §2.1 (AuthEnvelopedData 0).
    let versions: &[u8] = if info.authenticated {
        &[0]
    } else {
        &[0, 2, 3, 4]
    };
    if !versions.contains(&info.version) {
        problems.push(format!("{kind} version {} is not valid", info.version));
    }
    out.verdict(
        "VC-401",
        path,
        format!(
            "{kind} version {}, {} recipient(s)",
            info.version,
            info.recipients.len()
        ),
        format!("{kind} is not usable"),
        problems,
    );
}

/// The severity a content cipher earns under a profile (None: acceptable).
pub fn cipher_severity(cipher: Option<ContentCipher>, profile: Profile) -> Option<Severity> {
    use ContentCipher::*;
    match (cipher, profile) {
        (Some(Aes128Cbc | Aes192Cbc | Aes256Cbc), _) => None,
        (Some(Aes128Gcm | Aes192Gcm | Aes256Gcm), Profile::Ds13) => None,
        (Some(Aes128Gcm | Aes192Gcm | Aes256Gcm), Profile::Ats12) => Some(Severity::Warning),
        (Some(DesEde3Cbc), Profile::Ats12) => Some(Severity::Warning),
        _ => Some(Severity::Error),
    }
}

fn vc402(info: &EnvelopeInfo, path: &str, out: &mut Findings) {
    let name = info.cipher.map_or_else(
        || oid_name(&info.cipher_algorithm.oid),
        |c| c.name().to_string(),
    );
    match cipher_severity(info.cipher, out.profile()) {
        None => out.pass("VC-402", path, format!("content cipher {name}")),
        Some(s) => out.fail_at(
            "VC-402",
            s,
            path,
            format!(
                "content cipher {name} is not allowed under {}",
                out.profile().name()
            ),
            vec![info.cipher_algorithm.oid.to_string()],
        ),
    }
}

fn vc403(info: &EnvelopeInfo, path: &str, out: &mut Findings) {
    let mut problems = Vec::new();
    for (i, r) in info.recipients.iter().enumerate() {
        match (r.kind, r.key_transport, &r.parameter_problem) {
            (_, _, Some(p)) => problems.push(format!("RecipientInfo {}: {p}", i + 1)),
            ("ktri", Some(_), None) => {}
            (kind, _, None) => problems.push(format!(
                "RecipientInfo {} ({kind}): {} is not rsaEncryption or RSAES-OAEP",
                i + 1,
                r.key_encryption
                    .as_ref()
                    .map_or("no key transport".to_string(), oid_name)
            )),
        }
    }
    let used: Vec<&str> = info
        .recipients
        .iter()
        .filter_map(|r| r.key_transport.map(KeyTransport::name))
        .collect();
    out.verdict(
        "VC-403",
        path,
        format!("key transport: {}", used.join(", ")),
        "key transport is not RSA PKCS#1 v1.5 or consistent RSAES-OAEP",
        problems,
    );
}

fn vc404(
    decryption: &Decryption,
    info: &EnvelopeInfo,
    certs: &[Certificate],
    path: &str,
    out: &mut Findings,
) {
    match decryption {
        // Without a key, a given certificate still tells whether the envelope names it.
        Decryption::NotAttempted(why) if !certs.is_empty() => {
            let named = info.recipients.iter().any(|r| {
                r.rid
                    .as_ref()
                    .is_some_and(|rid| certs.iter().any(|c| recipient_matches(rid, c)))
            });
            if named {
                out.not_evaluated(
                    "VC-404",
                    path,
                    format!("a RecipientInfo names the given certificate; whether it decrypts needs the key ({why})"),
                );
            } else {
                out.fail(
                    "VC-404",
                    path,
                    "no RecipientInfo names the given recipient certificate",
                    info.recipients.iter().map(|r| r.rid_text.clone()).collect(),
                );
            }
        }
        Decryption::NotAttempted(why) => out.not_evaluated("VC-404", path, why.clone()),
        Decryption::Failed(errors) => out.fail(
            "VC-404",
            path,
            "no given recipient key opens the envelope (not for this recipient, or corrupt)",
            errors.clone(),
        ),
        Decryption::Decrypted {
            recipient_index,
            recipient_cert,
            ..
        } => out.pass(
            "VC-404",
            path,
            format!(
                "RecipientInfo {} ({}) decrypts{}",
                recipient_index + 1,
                info.recipients
                    .get(*recipient_index)
                    .map_or("?", |r| r.rid_text.as_str()),
                if recipient_cert.is_some() {
                    " and matches the given certificate"
                } else {
                    ""
                }
            ),
        ),
    }
}

fn vc405(info: &EnvelopeInfo, path: &str, out: &mut Findings) {
    let inventory = info
        .recipients
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "{}: {} v{} {} via {}",
                i + 1,
                r.kind,
                r.version,
                r.rid_text,
                r.key_transport.map_or_else(
                    || r.key_encryption.as_ref().map_or("?".to_string(), oid_name),
                    |k| k.name().to_string()
                )
            )
        })
        .collect();
    out.info(
        "VC-405",
        path,
        format!("{} RecipientInfo(s)", info.recipients.len()),
        inventory,
    );
}

fn vc408(cert_count: usize, signers: &[SignerReport], path: &str, out: &mut Findings) {
    if cert_count == 0 {
        out.fail(
            "VC-408",
            path,
            "the SignedData carries no certificate",
            Vec::new(),
        );
    } else if signers.iter().any(|s| s.certificate.is_some()) {
        out.pass(
            "VC-408",
            path,
            format!("{cert_count} certificate(s), signer's included"),
        );
    } else {
        out.fail(
            "VC-408",
            path,
            "the signer's certificate is not among the SignedData certificates",
            signers.iter().map(|s| s.sid.clone()).collect(),
        );
    }
}

/// The severity a signature digest earns under a profile (None: acceptable).
pub fn digest_severity(digest: Option<DigestAlgorithm>, profile: Profile) -> Option<Severity> {
    match (digest, profile) {
        (Some(DigestAlgorithm::Sha256 | DigestAlgorithm::Sha384 | DigestAlgorithm::Sha512), _) => {
            None
        }
        (Some(DigestAlgorithm::Sha1), Profile::Ats12) => Some(Severity::Warning),
        _ => Some(Severity::Error),
    }
}

fn vc409(signers: &[SignerReport], path: &str, out: &mut Findings) {
    let mut worst: Option<Severity> = None;
    let mut evidence = Vec::new();
    for s in signers {
        let name = s
            .digest
            .map_or_else(|| oid_name(&s.digest_oid), |d| d.name().to_string());
        if let Some(sev) = digest_severity(s.digest, out.profile()) {
            worst = worst.max(Some(sev));
            evidence.push(format!("{}: {name}", s.sid));
        }
    }
    let names: Vec<String> = signers
        .iter()
        .map(|s| {
            s.digest
                .map_or_else(|| oid_name(&s.digest_oid), |d| d.name().to_string())
        })
        .collect();
    match worst {
        None => out.pass("VC-409", path, format!("digest {}", names.join(", "))),
        Some(sev) => out.fail_at(
            "VC-409",
            sev,
            path,
            format!("digest not allowed under {}", out.profile().name()),
            evidence,
        ),
    }
}

fn vc410(
    signers: &[SignerReport],
    econtent_type: &ObjectIdentifier,
    path: &str,
    out: &mut Findings,
) {
    let mut problems = Vec::new();
    for s in signers.iter().filter(|s| s.has_signed_attributes) {
        match s.content_type_attribute {
            None => problems.push(format!("{}: contentType attribute missing", s.sid)),
            Some(ct) if ct != *econtent_type => problems.push(format!(
                "{}: contentType {ct} differs from eContentType {econtent_type}",
                s.sid
            )),
            Some(_) => {}
        }
        match s.message_digest_matches {
            None => problems.push(format!("{}: messageDigest attribute missing", s.sid)),
            Some(false) => problems.push(format!(
                "{}: messageDigest does not match the content",
                s.sid
            )),
            Some(true) => {}
        }
    }
    if signers.iter().all(|s| !s.has_signed_attributes) {
        out.pass(
            "VC-410",
            path,
            "no signed attributes (the signature covers the content directly)",
        );
    } else {
        out.verdict(
            "VC-410",
            path,
            "signed attributes hold contentType and a matching messageDigest",
            "signed attributes incomplete or not matching",
            problems,
        );
    }
}

fn vc411(layer: &SignatureLayer, path: &str, out: &mut Findings) {
    let Ok(report) = &layer.report else {
        return;
    };
    if report.verified_signer().is_some() {
        if layer.verified_after_canonicalising {
            out.pass(
                "VC-411",
                path,
                "the signature verifies over the canonical (CRLF) form; the content arrived with bare LF (VC-204)",
            );
        } else {
            out.pass(
                "VC-411",
                path,
                "the signature verifies over the first part as transmitted",
            );
        }
    } else {
        out.fail(
            "VC-411",
            path,
            "the signature does not verify",
            report
                .signers
                .iter()
                .map(|s| match &s.outcome {
                    Ok(()) => format!("{}: ok", s.sid),
                    Err(e) => format!("{}: {e}", s.sid),
                })
                .collect(),
        );
    }
}

/// Whether a signature algorithm fits the signer's key and digest (SIG-10).
pub fn signature_fits(cert: &Certificate, s: &SignerReport) -> Result<String, String> {
    let spki = cert.tbs_certificate().subject_public_key_info();
    let key_alg = spki.algorithm.oid;
    let sig = s.signature_algorithm;
    let digest = s.digest;
    if key_alg == rfc5912::RSA_ENCRYPTION {
        let implied = [
            (rfc5912::SHA_1_WITH_RSA_ENCRYPTION, DigestAlgorithm::Sha1),
            (
                rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
                DigestAlgorithm::Sha256,
            ),
            (
                rfc5912::SHA_384_WITH_RSA_ENCRYPTION,
                DigestAlgorithm::Sha384,
            ),
            (
                rfc5912::SHA_512_WITH_RSA_ENCRYPTION,
                DigestAlgorithm::Sha512,
            ),
            (rfc5912::MD_5_WITH_RSA_ENCRYPTION, DigestAlgorithm::Md5),
        ];
        if sig == rfc5912::RSA_ENCRYPTION {
            return Ok("RSA PKCS#1 v1.5".into());
        }
        return match implied.iter().find(|(o, _)| *o == sig) {
            Some((_, d)) if Some(*d) == digest => Ok(format!("{} with RSA PKCS#1 v1.5", d.name())),
            Some((_, d)) => Err(format!(
                "signature algorithm implies {} but the digest algorithm is {}",
                d.name(),
                digest.map_or("unknown", |d| d.name())
            )),
            None => Err(format!(
                "{} is not RSA PKCS#1 v1.5 for an RSA key",
                oid_name(&sig)
            )),
        };
    }
    if key_alg == rfc5912::ID_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        let ok = match curve {
            Some(c) if c == rfc5912::SECP_256_R_1 => {
                sig == rfc5912::ECDSA_WITH_SHA_256 && digest == Some(DigestAlgorithm::Sha256)
            }
            Some(c) if c == rfc5912::SECP_384_R_1 => {
                sig == rfc5912::ECDSA_WITH_SHA_384 && digest == Some(DigestAlgorithm::Sha384)
            }
            _ => false,
        };
        let curve_name = curve.as_ref().map_or("unknown curve".to_string(), oid_name);
        return if ok {
            Ok(format!("{} on {curve_name}", oid_name(&sig)))
        } else {
            Err(format!(
                "{} with digest {} on {curve_name}: Direct allows P-256/SHA-256 and P-384/SHA-384",
                oid_name(&sig),
                digest.map_or("unknown", |d| d.name())
            ))
        };
    }
    Err(format!(
        "key algorithm {} is not RSA or EC",
        oid_name(&key_alg)
    ))
}

fn vc412(signers: &[SignerReport], profile: Profile, path: &str, out: &mut Findings) {
    let with_cert: Vec<(&SignerReport, &Certificate)> = signers
        .iter()
        .filter_map(|s| s.certificate.as_ref().map(|c| (s, c)))
        .collect();
    if with_cert.is_empty() {
        out.not_evaluated(
            "VC-412",
            path,
            "no signer certificate to compare the key with (VC-415)",
        );
        return;
    }
    let mut fits = Vec::new();
    let mut problems = Vec::new();
    for (s, c) in with_cert {
        match signature_fits(c, s) {
            Ok(t) => fits.push(t),
            Err(e) => problems.push(format!("{}: {e}", s.sid)),
        }
    }
    let ec_note = if profile == Profile::Ats12 && fits.iter().any(|f| f.contains("ecdsa")) {
        " (ECDSA is reported, not expected, under ats-1.2)"
    } else {
        ""
    };
    out.verdict(
        "VC-412",
        path,
        format!("{}{ec_note}", fits.join(", ")),
        "signature algorithm does not fit the key",
        problems,
    );
}

fn vc413(signers: &[SignerReport], options: &ValidationOptions, path: &str, out: &mut Findings) {
    let now: SystemTime = options.at.into();
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for s in signers {
        let Some(t) = s.signing_time else { continue };
        let when = time::OffsetDateTime::from(t);
        seen.push(when.to_string());
        if t > now + SKEW {
            problems.push(format!("{}: signingTime {when} is in the future", s.sid));
        }
        if let Some(c) = &s.certificate {
            let v = c.tbs_certificate().validity();
            let (nb, na) = (v.not_before.to_system_time(), v.not_after.to_system_time());
            if t < nb || t > na {
                problems.push(format!(
                    "{}: signingTime {when} is outside the signer's validity",
                    s.sid
                ));
            }
        }
    }
    if seen.is_empty() {
        out.pass("VC-413", path, "no signingTime attribute");
    } else {
        out.verdict(
            "VC-413",
            path,
            format!(
                "signingTime {} inside the signer's validity",
                seen.join(", ")
            ),
            "signingTime implausible",
            problems,
        );
    }
}

fn vc414(signers: &[SignerReport], path: &str, out: &mut Findings) {
    let caps: Vec<String> = signers
        .iter()
        .flat_map(|s| s.smime_capabilities.iter().map(oid_name))
        .collect();
    if caps.is_empty() {
        out.info("VC-414", path, "no SMIMECapabilities attribute", Vec::new());
    } else {
        out.info("VC-414", path, "SMIMECapabilities (advisory)", caps);
    }
}

fn vc415(signers: &[SignerReport], path: &str, out: &mut Findings) {
    let unresolved: Vec<String> = signers
        .iter()
        .filter(|s| s.certificate.is_none())
        .map(|s| format!("{}: no included certificate", s.sid))
        .collect();
    out.verdict(
        "VC-415",
        path,
        format!("{} SignerInfo sid(s) resolve", signers.len()),
        "SignerInfo sid does not resolve to an included certificate",
        unresolved,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cipher_policy_by_profile() {
        use ContentCipher::*;
        assert_eq!(cipher_severity(Some(Aes128Cbc), Profile::Ds13), None);
        assert_eq!(cipher_severity(Some(Aes256Gcm), Profile::Ds13), None);
        assert_eq!(
            cipher_severity(Some(DesEde3Cbc), Profile::Ds13),
            Some(Severity::Error)
        );
        assert_eq!(
            cipher_severity(Some(DesEde3Cbc), Profile::Ats12),
            Some(Severity::Warning)
        );
        assert_eq!(
            cipher_severity(Some(Rc2Cbc), Profile::Ats12),
            Some(Severity::Error)
        );
        assert_eq!(cipher_severity(None, Profile::Ds13), Some(Severity::Error));
    }

    #[test]
    fn digest_policy_by_profile() {
        use DigestAlgorithm::*;
        assert_eq!(digest_severity(Some(Sha384), Profile::Ds13), None);
        assert_eq!(
            digest_severity(Some(Sha1), Profile::Ds13),
            Some(Severity::Error)
        );
        assert_eq!(
            digest_severity(Some(Sha1), Profile::Ats12),
            Some(Severity::Warning)
        );
        assert_eq!(
            digest_severity(Some(Md5), Profile::Ats12),
            Some(Severity::Error)
        );
    }

    use crate::validate::finding::Status;
    use crate::validate::message::MessageUnderValidation;

    fn statuses(raw: &[u8]) -> Vec<(&'static str, Status)> {
        let options = ValidationOptions::default();
        let m = MessageUnderValidation::analyse("t", raw, &options);
        let mut out = Findings::new(Profile::Ds13);
        crate::validate::checks::smime::run(&m, &mut out);
        run(&m, &options, &mut out);
        out.items.iter().map(|f| (f.id, f.status)).collect()
    }

    fn status(raw: &[u8], id: &str) -> Status {
        statuses(raw)
            .into_iter()
            .find(|(i, _)| *i == id)
            .map(|(_, s)| s)
            .expect("reported")
    }

    const HEAD: &str = "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n";

    #[test]
    fn broken_envelopes_fail_401_and_305() {
        // base64 of a DER SEQUENCE that is no ContentInfo
        let not_cms = format!("{HEAD}MAMCAQA=\r\n");
        assert_eq!(status(not_cms.as_bytes(), "VC-401"), Status::Failed);
        assert_eq!(status(not_cms.as_bytes(), "VC-305"), Status::Passed);
        assert_eq!(status(not_cms.as_bytes(), "VC-402"), Status::NotEvaluated);
        let not_b64 = format!("{HEAD}@@@@ not base64 @@@@\r\n");
        assert_eq!(status(not_b64.as_bytes(), "VC-305"), Status::Failed);
        assert_eq!(status(not_b64.as_bytes(), "VC-401"), Status::Failed);
        let seven_bit = HEAD.replace("Content-Transfer-Encoding: base64\r\n", "");
        assert_eq!(
            status(format!("{seven_bit}MAMCAQA=").as_bytes(), "VC-305"),
            Status::Failed
        );
    }

    #[test]
    fn a_plain_message_is_not_evaluated_not_passed() {
        for (id, s) in statuses(b"From: a@b.test\r\n\r\nhello\r\n") {
            if id.starts_with("VC-4") {
                assert_eq!(s, Status::NotEvaluated, "{id}");
            }
        }
    }
}
