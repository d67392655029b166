//! VC-6xx: path validation to the supplied anchors. The trust module (`src/trust/`, written in
//! parallel) does the work; until it is wired in, each check reports not evaluated and says
//! why. `CertInputs` carries the signer, the SignedData certificates and the options (anchors,
//! intermediates, CRLs, `online`, `at`).

use crate::validate::checks::certs::CertInputs;
use crate::validate::engine::Findings;

/// The VC-6xx ids, in order.
pub const TRUST_CHECKS: [&str; 7] = [
    "VC-601", "VC-602", "VC-603", "VC-604", "VC-605", "VC-606", "VC-607",
];

pub fn run(inputs: &CertInputs, out: &mut Findings) {
    for id in TRUST_CHECKS {
        check(id, inputs, out);
    }
}

/// One VC-6xx check. The lead replaces the body with calls into `crate::trust`.
pub fn check(id: &'static str, inputs: &CertInputs, out: &mut Findings) {
    if id == "VC-607" && !inputs.options.online {
        // Needs no path: it only says that the run was offline, so that a reader knows why
        // AIA- and CRL-dependent results are not evaluated.
        out.info(
            id,
            &inputs.part_path,
            "offline: no AIA or CRL distribution point was fetched (use --online); checks that need them report not evaluated",
            Vec::new(),
        );
        return;
    }
    let reason = if let (None, Some(why)) = (&inputs.signer, &inputs.missing_signer_reason) {
        format!("no signer certificate: {why}")
    } else if inputs.options.anchors.is_empty() && id != "VC-607" {
        "no --anchor given".to_string()
    } else {
        "pending trust module: path validation is not wired in yet".to_string()
    };
    out.not_evaluated(id, &inputs.part_path, reason);
}
