//! VC-5xx: certificate profile checks on the signer's certificate (and the recipient's, when
//! given). The checks themselves belong to the trust module (`src/trust/`, written in
//! parallel); until it is wired in, each reports not evaluated, and says so. The engine already
//! hands over everything they need in `CertInputs`.

use x509_cert::Certificate;

use crate::trust::cert as tcert;
use crate::trust::cert::KeyKind;
use crate::trust::profile::{self, Binding, Role};
use crate::trust::{Outcome, TrustCheck};
use crate::validate::finding::{Profile, Severity};

use crate::validate::engine::Findings;
use crate::validate::grammar::address::{Mailbox, address_list, mailbox_list};
use crate::validate::message::{Decryption, MessageUnderValidation};
use crate::validate::options::ValidationOptions;

/// What the certificate and trust checks get from the engine.
#[derive(Debug)]
pub struct CertInputs<'a> {
    /// Where findings about the signer go (the signature part).
    pub part_path: String,
    /// The certificate of the (first verified, else first resolvable) signer.
    pub signer: Option<&'a Certificate>,
    /// Every certificate the SignedData carries (intermediates included).
    pub certificates: &'a [Certificate],
    /// The From address the signer must be bound to: the wrapped message's, else the outer.
    pub from: Option<Mailbox>,
    /// The recipient certificate: the one that selected the RecipientInfo, else the first
    /// `--recipient-cert`.
    pub recipient: Option<&'a Certificate>,
    pub options: &'a ValidationOptions,
    /// Why there is no signer certificate, when there is none.
    pub missing_signer_reason: Option<String>,
    /// The outer To addresses (the recipient certificate must be bound to one of them).
    pub to: Vec<String>,
    /// Where findings about the recipient certificate go (the envelope part).
    pub envelope_path: String,
}

impl<'a> CertInputs<'a> {
    pub fn from_message(m: &'a MessageUnderValidation, options: &'a ValidationOptions) -> Self {
        let layer = m.signature.as_ref();
        let report = layer.and_then(|l| l.report.as_ref().ok());
        let signer = layer.and_then(|l| l.signer_certificate());
        let certificates = report.map_or(&[][..], |r| r.certificates.as_slice());
        let from_holder = m.inner().unwrap_or(&m.outer);
        let from = from_holder
            .header
            .value("From")
            .and_then(|v| mailbox_list(v).ok())
            .and_then(|l| l.into_iter().next());
        let recipient = match m.envelope.as_ref().map(|e| &e.decryption) {
            Some(Decryption::Decrypted {
                recipient_cert: Some(c),
                ..
            }) => Some(&**c),
            _ => options.recipient_certs.first(),
        };
        let missing_signer_reason = if signer.is_some() {
            None
        } else if m.envelope.is_some() && m.decrypted.is_none() {
            Some(crate::validate::checks::closed_envelope_reason(m))
        } else if layer.is_none() {
            Some("the message is not signed".to_string())
        } else {
            Some("the SignedData names no included signer certificate".to_string())
        };
        let to = m
            .outer
            .header
            .value("To")
            .and_then(|v| address_list(v).ok())
            .map(|l| l.iter().map(Mailbox::addr_spec).collect())
            .unwrap_or_default();
        CertInputs {
            to,
            envelope_path: m.outer.path.clone(),
            part_path: layer.map_or_else(|| m.outer.path.clone(), |l| format!("{}/2", l.path)),
            signer,
            certificates,
            from,
            recipient,
            options,
            missing_signer_reason,
        }
    }
}

/// The VC-5xx ids, in order.
pub const CERT_CHECKS: [&str; 14] = [
    "VC-501", "VC-502", "VC-503", "VC-504", "VC-505", "VC-506", "VC-507", "VC-508", "VC-509",
    "VC-510", "VC-511", "VC-512", "VC-513", "VC-514",
];

pub fn run(inputs: &CertInputs, out: &mut Findings) {
    match inputs.signer {
        Some(signer) => {
            let from = inputs.from.as_ref().map(|m| m.addr_spec());
            let checks = by_profile(
                profile::evaluate(signer, Role::Signer, from.as_deref(), inputs.options.at),
                signer,
                inputs.options.profile,
            );
            emit_all(
                &CERT_CHECKS,
                &checks,
                &inputs.part_path,
                &summary(signer),
                out,
            );
        }
        None => {
            let why = inputs
                .missing_signer_reason
                .clone()
                .unwrap_or_else(|| "no signer certificate".to_string());
            for id in CERT_CHECKS {
                out.not_evaluated(
                    id,
                    &inputs.part_path,
                    format!("no signer certificate: {why}"),
                );
            }
        }
    }
    // The recipient's certificate, when the caller gave or selected one: bound to one of the
    // addressees, fit for key transport (ENC-10, CERT-05).
    if let Some(recipient) = inputs.recipient {
        let address = inputs
            .to
            .iter()
            .find(|a| {
                matches!(
                    profile::binding(recipient, a),
                    Binding::Address | Binding::Domain
                )
            })
            .or(inputs.to.first());
        let checks = by_profile(
            profile::evaluate(
                recipient,
                Role::Recipient,
                address.map(String::as_str),
                inputs.options.at,
            ),
            recipient,
            inputs.options.profile,
        );
        let path = format!("{} (recipient certificate)", inputs.envelope_path);
        emit_all(&CERT_CHECKS, &checks, &path, &summary(recipient), out);
    }
}

/// The profile rules the catalogue states beside a check's severity (§f.6): under ats-1.2 an
/// RSA key under 2048 bits is a warning and an EC key is "reported, not expected"
/// (REQUIREMENTS §1.4), so a warning; a CRL DP that is not http is a warning in both.
fn by_profile(
    mut checks: Vec<TrustCheck>,
    cert: &Certificate,
    profile: Profile,
) -> Vec<TrustCheck> {
    let key = tcert::key_kind(cert.tbs_certificate().subject_public_key_info());
    for check in &mut checks {
        match (check.code, &check.outcome, &key, profile) {
            (506, Outcome::Fail, KeyKind::Rsa { .. }, Profile::Ats12) => {
                check.outcome = Outcome::Warn;
            }
            (506, Outcome::Pass, KeyKind::Ec { curve }, Profile::Ats12) => {
                check.outcome = Outcome::Warn;
                check.detail = format!("EC key ({curve}): reported, not expected under ats-1.2");
            }
            (514, Outcome::Fail, _, _) => check.outcome = Outcome::Warn,
            _ => {}
        }
    }
    checks
}

/// One line that identifies a certificate in evidence.
pub fn summary(cert: &Certificate) -> String {
    format!(
        "certificate {} (serial {}, sha256 {})",
        tcert::subject(cert),
        tcert::serial_hex(cert),
        tcert::sha256_hex(cert)
    )
}

/// Turns the trust library's facts into findings. The library judges nothing by profile: a
/// `Fail` takes the catalogue severity of the profile, a `Warn` is at most a warning.
pub fn emit_all(
    ids: &[&'static str],
    checks: &[TrustCheck],
    path: &str,
    about: &str,
    out: &mut Findings,
) {
    for id in ids {
        let mine: Vec<&TrustCheck> = checks
            .iter()
            .filter(|c| format!("VC-{}", c.code) == *id)
            .collect();
        if mine.is_empty() {
            out.not_evaluated(
                id,
                path,
                "the trust library reported nothing for this check",
            );
        }
        for check in mine {
            emit(id, check, path, about, out);
        }
    }
}

fn emit(id: &'static str, check: &TrustCheck, path: &str, about: &str, out: &mut Findings) {
    let subject = check
        .subject
        .as_deref()
        .map(|s| format!("{s}: "))
        .unwrap_or_default();
    let message = format!("{subject}{}", check.detail);
    let evidence = vec![about.to_string()];
    match &check.outcome {
        Outcome::Pass => out.pass(id, path, message),
        Outcome::Fail => out.fail(id, path, message, evidence),
        Outcome::Warn => {
            let severity = out.severity(id).min(Severity::Warning);
            out.fail_at(id, severity, path, message, evidence);
        }
        Outcome::Info => out.info(id, path, message, evidence),
        Outcome::NotEvaluated(reason) => out.not_evaluated(id, path, format!("{subject}{reason}")),
    }
}
