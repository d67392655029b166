//! The signed trust bundle the PKI site serves at `/bundles/direct-test.p7m` (RX-52..54), and
//! the issues the scenarios switch it to: the standard one (`direct.test_ca_bundle`, signed by
//! `bundle_signer` under the harness root), one reissued without that anchor (RX-53), and a
//! tampered one re-signed with a foreign key that adds `direct.test_ca_untrusted` (RX-54).

use crate::pki::ReferencePki;
use crate::trust::bundle::build_signed_bundle;

use super::error::EnvError;

/// Where the bundle is served, on the HTTP and the HTTPS port alike.
pub const BUNDLE_PATH: &str = "/bundles/direct-test.p7m";
/// The URL a SUT subscribes to (TEST-CATALOGUE §b.1 RX-52).
pub const BUNDLE_URL: &str = "https://pki.direct.test:10443/bundles/direct-test.p7m";

/// Which bundle is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleIssue {
    /// `direct.test_ca_bundle`, signed by `bundle_signer`.
    Standard,
    /// Reissued by `bundle_signer` without any anchor: `direct.test_ca_bundle` withdrawn.
    Withdrawn,
    /// `direct.test_ca_bundle` and `direct.test_ca_untrusted`, signed by
    /// `bundle_signer_foreign` (under `direct.test_ca_untrusted`).
    Tampered,
}

impl BundleIssue {
    pub fn describe(self) -> &'static str {
        match self {
            BundleIssue::Standard => {
                "direct.test_ca_bundle, signed by bundle_signer (under direct.test_ca_root)"
            }
            BundleIssue::Withdrawn => {
                "no anchors (direct.test_ca_bundle withdrawn), signed by bundle_signer"
            }
            BundleIssue::Tampered => {
                "direct.test_ca_bundle and direct.test_ca_untrusted, re-signed by bundle_signer_foreign (under direct.test_ca_untrusted)"
            }
        }
    }

    /// The bundle's bytes: freshly signed (signing time now).
    pub fn build(self, pki: &ReferencePki) -> Result<Vec<u8>, EnvError> {
        let cert = |n: &str| {
            pki.credential(n)
                .map(|c| c.certificate.clone())
                .ok_or_else(|| EnvError::build("trust bundle", format!("no credential {n}")))
        };
        let (anchors, signer) = match self {
            BundleIssue::Standard => (vec![cert("direct.test_ca_bundle")?], "bundle_signer"),
            BundleIssue::Withdrawn => (Vec::new(), "bundle_signer"),
            BundleIssue::Tampered => (
                vec![
                    cert("direct.test_ca_bundle")?,
                    cert("direct.test_ca_untrusted")?,
                ],
                "bundle_signer_foreign",
            ),
        };
        let s = pki
            .credential(signer)
            .ok_or_else(|| EnvError::build("trust bundle", format!("no credential {signer}")))?;
        build_signed_bundle(&anchors, &s.certificate, &s.key)
            .map_err(|e| EnvError::build("trust bundle", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::bundle::read_bundle;

    #[test]
    fn each_issue_reads_as_described() {
        let pki = ReferencePki::load_default().expect("pki");
        let name = |c: &x509_cert::Certificate| c.tbs_certificate().subject().to_string();
        let std = read_bundle(&BundleIssue::Standard.build(&pki).unwrap(), true, true).unwrap();
        assert_eq!(std.anchors.len(), 1);
        assert!(name(&std.anchors[0]).contains("direct.test_ca_bundle"));
        let w = read_bundle(&BundleIssue::Withdrawn.build(&pki).unwrap(), true, true).unwrap();
        assert!(w.anchors.is_empty());
        let t = read_bundle(&BundleIssue::Tampered.build(&pki).unwrap(), true, true).unwrap();
        assert_eq!(t.anchors.len(), 2);
        let signer = t.signer.unwrap().0;
        assert!(name(&signer).contains("bundle_signer_foreign"));
    }
}
