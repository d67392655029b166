//! VC-5xx: certificate profile checks on the signer's certificate (and the recipient's, when
//! given). The checks themselves belong to the trust module (`src/trust/`, written in
//! parallel); until it is wired in, each reports not evaluated, and says so. The engine already
//! hands over everything they need in `CertInputs`.

use x509_cert::Certificate;

use crate::validate::engine::Findings;
use crate::validate::grammar::address::{Mailbox, mailbox_list};
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
        CertInputs {
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

/// Reason given until the trust module's certificate profile checks are wired in.
pub const PENDING: &str = "pending trust module: certificate profile checks are not wired in yet";

pub fn run(inputs: &CertInputs, out: &mut Findings) {
    for id in CERT_CHECKS {
        check(id, inputs, out);
    }
}

/// One VC-5xx check. The lead replaces the body with calls into `crate::trust`.
pub fn check(id: &'static str, inputs: &CertInputs, out: &mut Findings) {
    let reason = match (&inputs.signer, &inputs.missing_signer_reason) {
        (None, Some(why)) => format!("no signer certificate: {why}"),
        _ => PENDING.to_string(),
    };
    out.not_evaluated(id, &inputs.part_path, reason);
}
