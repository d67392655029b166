//! The selection rules of DISC-14: validity, binding, key usage, then the path to the anchors
//! with revocation (the trust module; fetched AIA issuers and CRLs). Cheap local checks run
//! first, so that an expired certificate costs no network traffic.

use time::OffsetDateTime;
use x509_cert::Certificate;

use crate::trust::cert::{self, KeyKind};
use crate::trust::{Binding, PathReport, binding};

use super::names::DirectAddress;
use super::result::{DropReason, StepKind};

/// The checks that need no network.
pub fn local_checks(
    cert: &Certificate,
    step: StepKind,
    address: &DirectAddress,
    at: OffsetDateTime,
) -> Result<(), DropReason> {
    let (nb, na) = (cert::not_before(cert), cert::not_after(cert));
    let range = format!("{} .. {}", cert::fmt_time(nb), cert::fmt_time(na));
    if at < nb {
        return Err(DropReason::NotYetValid(range));
    }
    if at > na {
        return Err(DropReason::Expired(range));
    }
    check_binding(cert, step, address)?;
    check_key_usage(cert)
}

/// The fault knobs' extra (wrong) checks: a case-sensitive comparison of the bound name with
/// the recipient's spelling, and refusing a certificate with both SAN types.
pub fn fault_checks(
    cert: &Certificate,
    step: StepKind,
    address: &DirectAddress,
    knobs: &super::config::FaultKnobs,
) -> Result<(), DropReason> {
    let names = cert::san(cert).unwrap_or_default();
    let (mail, dns) = (cert::rfc822_names(&names), cert::dns_names(&names));
    if knobs.refuse_dual_san && !mail.is_empty() && !dns.is_empty() {
        return Err(DropReason::WrongBinding(
            "both an rfc822Name and a dNSName (fault refuse-dual-san)".into(),
        ));
    }
    if knobs.case_sensitive_binding {
        let exact = (step.is_address_bound() && mail.contains(&address.text()))
            || dns.contains(&address.domain);
        if !exact {
            return Err(DropReason::WrongBinding(format!(
                "no name spelled exactly {} (fault case-sensitive-binding)",
                address.text()
            )));
        }
    }
    Ok(())
}

/// Address-bound steps accept a certificate bound to the address, or to its domain (a dNSName
/// binds every address of the domain); domain-bound steps only a domain binding.
fn check_binding(
    cert: &Certificate,
    step: StepKind,
    address: &DirectAddress,
) -> Result<(), DropReason> {
    let want = if step.is_address_bound() {
        address.text()
    } else {
        address.domain.clone()
    };
    let got = binding(cert, &want);
    let ok = match got {
        Binding::Address => step.is_address_bound(),
        Binding::Domain => true,
        Binding::Mismatch | Binding::NoSan => false,
    };
    if ok {
        return Ok(());
    }
    let names = cert::san(cert).unwrap_or_default();
    let mut bound: Vec<String> = cert::rfc822_names(&names);
    bound.extend(cert::dns_names(&names));
    Err(DropReason::WrongBinding(format!(
        "{got:?}: wanted {want}, certificate binds [{}]",
        bound.join(", ")
    )))
}

/// CERT-05: key transport needs keyEncipherment (RSA) or keyAgreement (EC) when keyUsage is
/// present.
fn check_key_usage(cert: &Certificate) -> Result<(), DropReason> {
    let ku = match cert::key_usage(cert) {
        Ok(None) => return Ok(()),
        Ok(Some(ku)) => ku,
        Err(e) => return Err(DropReason::KeyUsage(format!("unreadable keyUsage: {e}"))),
    };
    let rsa = matches!(
        cert::key_kind(cert.tbs_certificate().subject_public_key_info()),
        KeyKind::Rsa { .. }
    );
    let (ok, needed) = if rsa {
        (ku.key_encipherment(), "keyEncipherment")
    } else {
        (ku.key_agreement(), "keyAgreement")
    };
    if ok {
        Ok(())
    } else {
        Err(DropReason::KeyUsage(format!(
            "keyUsage {} lacks {needed}",
            crate::trust::profile::key_usage_names(&ku)
        )))
    }
}

/// Revoked when any failed check is the revocation check (VC-605); otherwise untrusted.
pub fn path_verdict(report: &PathReport) -> Result<(), DropReason> {
    if report.trusted() {
        return Ok(());
    }
    let fails: Vec<String> = report
        .failures()
        .map(|c| format!("VC-{} {}", c.code, c.detail))
        .collect();
    if report.failures().any(|c| c.code == 605) {
        return Err(DropReason::Revoked(fails.join("; ")));
    }
    let why = if fails.is_empty() {
        report
            .checks
            .iter()
            .map(|c| format!("VC-{} {:?} {}", c.code, c.outcome, c.detail))
            .collect::<Vec<_>>()
            .join("; ")
    } else {
        fails.join("; ")
    };
    Err(DropReason::Untrusted(why))
}
