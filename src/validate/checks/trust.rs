//! VC-6xx: path validation from the signer to the supplied anchors, by the trust library
//! (`crate::trust`): intermediates from the SignedData and `--intermediate` (and AIA with
//! `--online`), validity along the path, CA constraints, CRLs from `--crl` (and the CRL DP
//! with `--online`), path length and name constraints. Every fetch is evidence on VC-602.

use crate::trust::fetch::parse_crl;
use crate::trust::{PathInput, PathOptions, TrustAnchor, TrustCheck};
use crate::validate::checks::certs::{CertInputs, emit_all, summary};
use crate::validate::engine::Findings;

/// The VC-6xx ids, in order.
pub const TRUST_CHECKS: [&str; 7] = [
    "VC-601", "VC-602", "VC-603", "VC-604", "VC-605", "VC-606", "VC-607",
];

pub fn run(inputs: &CertInputs, out: &mut Findings) {
    let path = &inputs.part_path;
    let Some(signer) = inputs.signer else {
        let why = inputs
            .missing_signer_reason
            .as_deref()
            .unwrap_or("no signer certificate");
        for id in TRUST_CHECKS {
            out.not_evaluated(id, path, format!("no signer certificate: {why}"));
        }
        return;
    };
    let options = inputs.options;
    if options.anchors.is_empty() {
        for id in TRUST_CHECKS {
            out.not_evaluated(id, path, "no --anchor given: nothing to build a path to");
        }
        return;
    }
    let anchors: Vec<TrustAnchor> = options
        .anchors
        .iter()
        .cloned()
        .map(TrustAnchor::from_certificate)
        .collect();
    let mut intermediates = inputs.certificates.to_vec();
    intermediates.extend(options.intermediates.iter().cloned());
    let mut crls = Vec::new();
    let mut unreadable = Vec::new();
    for (index, bytes) in options.crls.iter().enumerate() {
        match parse_crl(bytes) {
            Ok(crl) => crls.push(crl),
            Err(e) => unreadable.push(format!("--crl #{}: {e}", index + 1)),
        }
    }
    let input = PathInput {
        leaf: signer,
        intermediates: &intermediates,
        anchors: &anchors,
        crls: &crls,
        at: options.at,
    };
    let path_options = PathOptions {
        online: options.online,
        ..PathOptions::default()
    };
    let report = crate::trust::validate(&input, &path_options);
    let mut checks: Vec<TrustCheck> = report.checks.clone();
    // Every fetch, whatever its outcome, is evidence on VC-602 (TRUST-04).
    for fetch in &report.fetches {
        let outcome = match (&fetch.error, fetch.status) {
            (Some(e), _) => format!("failed: {e}"),
            (None, Some(status)) => format!("HTTP {status}, {} bytes", fetch.bytes),
            (None, None) => format!("{} bytes", fetch.bytes),
        };
        checks.push(TrustCheck::new(
            602,
            crate::trust::Outcome::Info,
            format!(
                "fetched {} ({:?}) in {} ms: {outcome}",
                fetch.url, fetch.purpose, fetch.duration_ms
            ),
        ));
    }
    // VC-607 says how the network was used even when no check needed it.
    if !checks.iter().any(|c| c.code == 607) {
        let detail = if options.online {
            "online: AIA and CRL distribution points may be fetched (every fetch is on VC-602)"
        } else {
            "offline: nothing on this path needed the network"
        };
        checks.push(TrustCheck::new(607, crate::trust::Outcome::Info, detail));
    }
    for problem in unreadable {
        checks.push(TrustCheck::new(
            605,
            crate::trust::Outcome::Warn,
            format!("a CRL file could not be read, so it was not used: {problem}"),
        ));
    }
    let about = match &report.path {
        Some(chain) => format!(
            "{}; path: {}",
            summary(signer),
            chain
                .iter()
                .map(|c| c.subject.as_str())
                .collect::<Vec<_>>()
                .join(" → ")
        ),
        None => summary(signer),
    };
    emit_all(&TRUST_CHECKS, &checks, path, &about, out);
}
