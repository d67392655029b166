//! The test PKI as data: the model of `reference-certs/pki.toml`. Later issues add credentials
//! by adding `[[credential]]` entries, not code. The committed file is embedded in the binary so
//! that `certs` runs anywhere.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::keys::KeySpec;

use super::error::PkiError;

/// The PKI description shipped with the harness (the committed `reference-certs/pki.toml`).
pub const EMBEDDED_SPEC: &str = include_str!("../../reference-certs/pki.toml");

/// `issuer` value of a self-signed CA.
pub const SELF_SIGNED: &str = "self";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PkiSpec {
    /// Generation time that validity periods are computed from (RFC 3339). Fixed, so that a
    /// regeneration is byte-for-byte identical.
    pub epoch: String,
    /// Where the harness HTTP server publishes CRLs and issuer certificates.
    pub base_url: String,
    /// The root vendors install; exported as `HARNESS-TRUST-ANCHOR.pem`/`.der`.
    pub anchor: String,
    /// nextUpdate of the committed CRLs, in days after the epoch.
    pub crl_next_update_days: i64,
    /// PBKDF2 and MAC iteration count of the PKCS#12 bundles.
    pub pkcs12_iterations: u32,
    /// Validity classes, by name, as offsets from the epoch.
    pub validity: BTreeMap<String, ValidityClass>,
    #[serde(rename = "credential")]
    pub credentials: Vec<CredentialSpec>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ValidityClass {
    pub not_before_days: i64,
    pub not_after_days: i64,
    #[serde(default)]
    pub description: String,
}

/// One certificate and its key: a CA or an end entity.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CredentialSpec {
    /// Credential name: folder name, CN (unless `subject_cn`), seed of its key.
    pub name: String,
    /// Name of the issuing CA (declared earlier), or `self`.
    pub issuer: String,
    #[serde(default)]
    pub ca: bool,
    /// Address binding: rfc822Name SAN and subject emailAddress.
    #[serde(default)]
    pub address: Option<String>,
    /// Domain binding: dNSName SAN.
    #[serde(default)]
    pub domain: Option<String>,
    /// Further SAN entries, for certificates that bind more than one name.
    #[serde(default)]
    pub extra_addresses: Vec<String>,
    #[serde(default)]
    pub extra_domains: Vec<String>,
    #[serde(default = "default_key")]
    pub key: KeySpec,
    #[serde(default = "default_validity")]
    pub validity: String,
    /// keyUsage bits; absent: the profile default (see `extensions::default_key_usage`).
    #[serde(default)]
    pub key_usage: Option<Vec<KeyUsageName>>,
    #[serde(default)]
    pub extended_key_usage: Vec<ExtKeyUsageName>,
    /// Digest of the issuer's signature over this certificate.
    #[serde(default = "default_signature")]
    pub signature: SignatureHash,
    /// CRL DP URL override (default `<base_url>/<issuer>.crl`).
    #[serde(default)]
    pub crl_url: Option<String>,
    /// AIA caIssuers URL override (default `<base_url>/<issuer>.cer`, or `.p7c`).
    #[serde(default)]
    pub aia_url: Option<String>,
    /// For a CA: the certificates it issues point their AIA at `<name>.p7c`.
    #[serde(default)]
    pub aia_p7c: bool,
    /// Standard extensions to leave out.
    #[serde(default)]
    pub omit: Vec<OmitExtension>,
    #[serde(default)]
    pub subject_cn: Option<String>,
    /// Subject emailAddress override (default: `address`).
    #[serde(default)]
    pub subject_email: Option<String>,
    /// Listed on the issuer's CRL.
    #[serde(default)]
    pub revoked: Option<Revocation>,
    /// Also write `malformed.der`/`.pem`: this certificate hand-encoded with a defect that no
    /// builder produces, re-signed by the issuer (RX-29).
    #[serde(default)]
    pub malformed: Option<Malformation>,
    pub purpose: String,
}

fn default_key() -> KeySpec {
    KeySpec::Rsa2048
}
fn default_validity() -> String {
    "valid".into()
}
fn default_signature() -> SignatureHash {
    SignatureHash::Sha256
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum KeyUsageName {
    DigitalSignature,
    NonRepudiation,
    KeyEncipherment,
    DataEncipherment,
    KeyAgreement,
    KeyCertSign,
    CrlSign,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ExtKeyUsageName {
    ServerAuth,
    ClientAuth,
    EmailProtection,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureHash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum OmitExtension {
    BasicConstraints,
    KeyUsage,
    SubjectKeyIdentifier,
    AuthorityKeyIdentifier,
    SubjectAltName,
    CrlDistributionPoints,
    AuthorityInfoAccess,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Malformation {
    /// Validity holds only notAfter.
    NoNotBefore,
    /// Validity holds only notBefore.
    NoNotAfter,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RevocationReason {
    Unspecified,
    KeyCompromise,
    CaCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
    CertificateHold,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    pub reason: RevocationReason,
    /// Revocation date, in days after the epoch (negative: before).
    pub days: i64,
}

/// How a credential is bound to a Direct identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum Binding {
    Address(String),
    Domain(String),
    None,
}

impl CredentialSpec {
    pub fn binding(&self) -> Binding {
        match (&self.address, &self.domain) {
            (Some(a), _) => Binding::Address(a.clone()),
            (None, Some(d)) => Binding::Domain(d.clone()),
            (None, None) => Binding::None,
        }
    }

    pub fn is_self_signed(&self) -> bool {
        self.issuer == SELF_SIGNED
    }

    /// The name of the CA that signs this certificate (itself when self-signed).
    pub fn issuer_name(&self) -> &str {
        if self.is_self_signed() {
            &self.name
        } else {
            &self.issuer
        }
    }

    pub fn omits(&self, ext: OmitExtension) -> bool {
        self.omit.contains(&ext)
    }
}

impl PkiSpec {
    /// Parses and checks a description.
    pub fn parse(text: &str) -> Result<Self, PkiError> {
        let spec: PkiSpec = toml::from_str(text)?;
        spec.check()?;
        Ok(spec)
    }

    pub fn embedded() -> Result<Self, PkiError> {
        Self::parse(EMBEDDED_SPEC)
    }

    pub fn credential(&self, name: &str) -> Option<&CredentialSpec> {
        self.credentials.iter().find(|c| c.name == name)
    }

    pub fn cas(&self) -> impl Iterator<Item = &CredentialSpec> {
        self.credentials.iter().filter(|c| c.ca)
    }

    /// Names are unique and usable as folder names, issuers are CAs declared earlier,
    /// validity classes exist, bindings are single, the anchor is a self-signed CA.
    fn check(&self) -> Result<(), PkiError> {
        let bad = |m: String| Err(PkiError::SpecInvalid(m));
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut cas: BTreeSet<&str> = BTreeSet::new();
        for c in &self.credentials {
            let ok_name = !c.name.is_empty()
                && c.name != SELF_SIGNED
                && !c.name.starts_with('.')
                && c.name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch));
            if !ok_name {
                return bad(format!(
                    "credential name {:?} is not a plain file name",
                    c.name
                ));
            }
            if !seen.insert(&c.name) {
                return bad(format!("credential {} is declared twice", c.name));
            }
            if !c.is_self_signed() && !cas.contains(c.issuer.as_str()) {
                return bad(format!(
                    "credential {}: issuer {} is not a CA declared before it",
                    c.name, c.issuer
                ));
            }
            if c.is_self_signed() && !c.ca {
                return bad(format!("credential {}: only CAs are self-signed", c.name));
            }
            if c.address.is_some() && c.domain.is_some() {
                return bad(format!(
                    "credential {}: give address or domain, not both (use extra_domains)",
                    c.name
                ));
            }
            if let Some(a) = c
                .address
                .iter()
                .chain(&c.extra_addresses)
                .find(|a| !a.contains('@'))
            {
                return bad(format!("credential {}: address {a:?} has no @", c.name));
            }
            if c.aia_p7c && !c.ca {
                return bad(format!("credential {}: aia_p7c is for CAs", c.name));
            }
            if c.revoked.is_some() && c.is_self_signed() {
                return bad(format!(
                    "credential {}: a root cannot be on its own CRL",
                    c.name
                ));
            }
            if !self.validity.contains_key(&c.validity) {
                return bad(format!(
                    "credential {}: unknown validity class {}",
                    c.name, c.validity
                ));
            }
            if c.ca {
                cas.insert(&c.name);
            }
        }
        match self.credential(&self.anchor) {
            Some(a) if a.ca && a.is_self_signed() => {}
            _ => return bad(format!("anchor {} is not a self-signed CA", self.anchor)),
        }
        if self.pkcs12_iterations == 0 {
            return bad("pkcs12_iterations must be at least 1".into());
        }
        Ok(())
    }
}

/// SHA-256 of a description's text, recorded in the manifest.
pub fn spec_sha256(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_spec_parses_and_names_the_catalogue_credentials() {
        let spec = PkiSpec::embedded().expect("embedded spec");
        // Every credential of catalogue §a.1, §a.4 and §a.8.
        let catalogue = "direct.test_ca_root direct.test_ca_intermediate1 \
            direct.test_ca_intermediate2 direct.test_ca_untrusted direct.test_ca_bundle \
            D1_valA D1_invB D1_invC D1_invD D2_valB D2_invC D2_invD D3_valC D3_invD D4_valD \
            D5_invA D6_invB D7_invC D8_invD D9_valA D9_invA D10_valE D14_valA D15_valC D15_invE \
            D16_valC D16_valE D17_invB D17_invC D17_valA D17_invD D18_valA D18_invB D19_invA \
            D20_invA D21_invA D22_invS D22_valA D23_valA D24_valC D25_valC D26_valC D27_valA \
            D28_valA D29_valA D30_valA D31_valB D32_valC D33_valA D34_invA";
        for name in catalogue.split_whitespace() {
            assert!(spec.credential(name).is_some(), "{name} missing");
        }
        let revoked: Vec<&str> = spec
            .credentials
            .iter()
            .filter(|c| c.revoked.is_some() && c.issuer == "direct.test_ca_root")
            .map(|c| c.name.as_str())
            .collect();
        for name in ["D17_invB", "D17_invC", "D34_invA", "sender_revoked"] {
            assert!(revoked.contains(&name), "{name} not on the root CRL");
        }
        assert_eq!(
            spec.credential("D18_valA").map(|c| c.issuer.as_str()),
            Some("direct.test_ca_intermediate1")
        );
        assert_eq!(
            spec.credential("D33_valA").map(|c| c.issuer.as_str()),
            Some("direct.test_ca_intermediate2")
        );
        assert_eq!(
            spec.credential("D14_valA").map(|c| c.key),
            Some(KeySpec::Rsa4096)
        );
    }

    #[test]
    fn issuer_must_be_declared_first() {
        let text = r#"
            epoch = "2026-01-01T00:00:00Z"
            base_url = "http://x"
            anchor = "root"
            crl_next_update_days = 1
            pkcs12_iterations = 1
            [validity.valid]
            not_before_days = 0
            not_after_days = 1
            [[credential]]
            name = "leaf"
            issuer = "root"
            purpose = "p"
            [[credential]]
            name = "root"
            issuer = "self"
            ca = true
            purpose = "p"
        "#;
        assert!(matches!(
            PkiSpec::parse(text),
            Err(PkiError::SpecInvalid(_))
        ));
    }

    #[test]
    fn malformed_entries_are_refused() {
        for (from, to) in [
            (
                "address = \"d1@domain1.direct.test\"",
                "address = \"d1.domain1.direct.test\"",
            ),
            ("name = \"D1_valA\"", "name = \"../D1_valA\""),
            ("name = \"D1_invB\"", "name = \"D1_valA\""),
            ("validity = \"expired\"", "validity = \"stale\""),
            ("anchor = \"direct.test_ca_root\"", "anchor = \"D1_valA\""),
        ] {
            let text = EMBEDDED_SPEC.replacen(from, to, 1);
            assert_ne!(text, EMBEDDED_SPEC, "{from} not found");
            assert!(
                matches!(PkiSpec::parse(&text), Err(PkiError::SpecInvalid(_))),
                "{to} accepted"
            );
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let text = EMBEDDED_SPEC.replacen("ca = true", "ca = true\ncolour = \"red\"", 1);
        assert!(PkiSpec::parse(&text).is_err());
    }
}
