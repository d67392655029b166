//! The Direct certificate profile, VC-501..514 (TEST-CATALOGUE §f.6): facts about one
//! certificate, reported as Pass/Fail/Info. Which Fail is an error and which a warning depends
//! on the profile (ds-1.3, ats-1.2) and is the validator's decision, not this module's.

use const_oid::ObjectIdentifier;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{CertificatePolicies, ExtendedKeyUsage};

use super::cert::{self, KeyKind};
use super::report::{Outcome, TrustCheck};

/// What the certificate is being used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Role {
    /// Signs messages (digitalSignature).
    Signer,
    /// Receives encrypted messages (keyEncipherment for RSA key transport).
    Recipient,
    /// Issues certificates (keyCertSign, cA).
    Ca,
}

/// How a certificate binds to a Direct address (SIG-11, CERT-01, CERT-02, CERT-04).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Binding {
    /// An rfc822Name equals the address (case-insensitively).
    Address,
    /// A dNSName equals the address's domain (case-insensitively).
    Domain,
    /// The SAN has binding values, none of which fits.
    Mismatch,
    /// No rfc822Name or dNSName in a SAN (a subject emailAddress does not bind, CERT-04).
    NoSan,
}

/// id-kp-emailProtection and anyExtendedKeyUsage.
const ID_KP_EMAIL_PROTECTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4");
const ANY_EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");
/// The DirectTrust arc: CP `.0.1.x`, LoA `.1.x`, category `.2.x` (CERT-12).
const DIRECTTRUST_ARC: &str = "1.3.6.1.4.1.41179.";

/// Splits an address into local part and domain; a string without `@` is a bare domain.
fn split_address(address: &str) -> (Option<&str>, &str) {
    match address.rsplit_once('@') {
        Some((local, domain)) => (Some(local), domain),
        None => (None, address),
    }
}

/// How `cert` binds to `address` (an addr-spec, or a bare domain). An rfc822Name binding wins
/// over a dNSName one. Both parts compare case-insensitively, as the catalogue (VC-502) says.
pub fn binding(cert: &Certificate, address: &str) -> Binding {
    let names = cert::san(cert).unwrap_or_default();
    binding_in(&names, address)
}

fn binding_in(names: &[GeneralName], address: &str) -> Binding {
    let emails = cert::rfc822_names(names);
    let dns = cert::dns_names(names);
    if emails.is_empty() && dns.is_empty() {
        return Binding::NoSan;
    }
    let address = address.trim();
    let (local, domain) = split_address(address);
    if local.is_some() && emails.iter().any(|e| e.eq_ignore_ascii_case(address)) {
        return Binding::Address;
    }
    let domain = domain.trim_end_matches('.');
    if dns
        .iter()
        .any(|d| d.trim_end_matches('.').eq_ignore_ascii_case(domain))
    {
        return Binding::Domain;
    }
    Binding::Mismatch
}

/// Evaluates VC-501..514 for `cert` used in `role`, bound to `expected_address` when given,
/// at time `at`.
pub fn evaluate(
    cert: &Certificate,
    role: Role,
    expected_address: Option<&str>,
    at: OffsetDateTime,
) -> Vec<TrustCheck> {
    let subject = cert::subject(cert);
    let san = cert::san(cert);
    let names = san.as_ref().cloned().unwrap_or_default();
    let mut out = vec![
        check_subject(cert),
        check_binding(&san, role, expected_address),
        check_san_syntax(&san),
        check_email_attribute(cert, &names),
        check_validity(cert, at),
        check_key(cert, role),
        check_signature_algorithm(cert),
        check_key_usage(cert, role),
        check_eku(cert),
        check_wildcard(cert, &names),
        check_multiplicity(&names, role),
        check_basic_constraints(cert, role),
        check_policies(cert),
    ];
    out.extend(check_pointers(cert, role));
    out.into_iter().map(|c| c.about(subject.clone())).collect()
}

fn check_subject(cert: &Certificate) -> TrustCheck {
    let name = cert.tbs_certificate().subject();
    if name.is_empty() {
        TrustCheck::new(501, Outcome::Fail, "subject DN is empty")
    } else {
        TrustCheck::new(501, Outcome::Pass, format!("subject DN {name}"))
    }
}

fn check_binding(
    san: &Result<Vec<GeneralName>, String>,
    role: Role,
    expected: Option<&str>,
) -> TrustCheck {
    let names = match san {
        Ok(n) => n,
        Err(e) => return TrustCheck::new(502, Outcome::Fail, e.clone()),
    };
    if role == Role::Ca {
        return TrustCheck::new(
            502,
            Outcome::Info,
            "CA certificate: no address binding expected",
        );
    }
    let values = describe_names(names);
    let Some(address) = expected else {
        return TrustCheck::new(
            502,
            Outcome::NotEvaluated("no address to bind to was given".into()),
            format!("SAN: {values}"),
        );
    };
    match binding_in(names, address) {
        Binding::Address => {
            TrustCheck::new(502, Outcome::Pass, format!("rfc822Name binds {address}"))
        }
        Binding::Domain => TrustCheck::new(
            502,
            Outcome::Pass,
            format!("dNSName binds the domain of {address}"),
        ),
        Binding::Mismatch => TrustCheck::new(
            502,
            Outcome::Fail,
            format!("SAN ({values}) does not bind {address}"),
        ),
        Binding::NoSan => TrustCheck::new(
            502,
            Outcome::Fail,
            format!(
                "no rfc822Name or dNSName in subjectAltName (SAN: {values}); a subject emailAddress does not bind (CERT-04)"
            ),
        ),
    }
}

fn describe_names(names: &[GeneralName]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for n in names {
        match n {
            GeneralName::Rfc822Name(s) => parts.push(format!("rfc822Name {}", s.as_str())),
            GeneralName::DnsName(s) => parts.push(format!("dNSName {}", s.as_str())),
            GeneralName::UniformResourceIdentifier(s) => parts.push(format!("URI {}", s.as_str())),
            GeneralName::DirectoryName(d) => parts.push(format!("directoryName {d}")),
            _ => parts.push("other name".into()),
        }
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// An LDH host name (RFC 1034 §3.5 with RFC 1123 digits first): labels of 1..63 letters,
/// digits and hyphens, no hyphen at either end, 253 characters at most. A leading `*.` is
/// tolerated here because VC-510 reports wildcards on their own.
pub fn is_ldh_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    let name = name.strip_prefix("*.").unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// An RFC 5322 addr-spec with a dot-atom or quoted-string local part and an LDH domain.
pub fn is_addr_spec(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let local_ok = if local.len() >= 2 && local.starts_with('"') && local.ends_with('"') {
        let inner = &local[1..local.len() - 1];
        let mut chars = inner.chars();
        let mut ok = true;
        while let Some(c) = chars.next() {
            if c == '\\' {
                ok &= chars
                    .next()
                    .is_some_and(|n| n.is_ascii() && !n.is_ascii_control() || n == '\t');
            } else {
                ok &= c.is_ascii() && (c == ' ' || c.is_ascii_graphic()) && c != '"';
            }
        }
        ok
    } else {
        !local.is_empty()
            && local
                .split('.')
                .all(|a| !a.is_empty() && a.chars().all(atext))
    };
    local_ok && !domain.starts_with("*.") && is_ldh_name(domain)
}

fn check_san_syntax(san: &Result<Vec<GeneralName>, String>) -> TrustCheck {
    let names = match san {
        Ok(n) => n,
        Err(e) => return TrustCheck::new(503, Outcome::Fail, e.clone()),
    };
    let mut bad = Vec::new();
    for e in cert::rfc822_names(names) {
        if !is_addr_spec(&e) {
            bad.push(format!("rfc822Name {e:?} is not an addr-spec"));
        }
    }
    for d in cert::dns_names(names) {
        if !is_ldh_name(&d) {
            bad.push(format!("dNSName {d:?} is not an LDH name"));
        }
    }
    if names.is_empty() {
        TrustCheck::new(503, Outcome::Pass, "no subjectAltName values to check")
    } else if bad.is_empty() {
        TrustCheck::new(503, Outcome::Pass, "SAN values well-formed")
    } else {
        TrustCheck::new(503, Outcome::Fail, bad.join("; "))
    }
}

fn check_email_attribute(cert: &Certificate, names: &[GeneralName]) -> TrustCheck {
    let in_subject = cert::email_addresses(cert.tbs_certificate().subject());
    if in_subject.is_empty() {
        return TrustCheck::new(504, Outcome::Pass, "no emailAddress in the subject");
    }
    let sans = cert::rfc822_names(names);
    let stray: Vec<&String> = in_subject
        .iter()
        .filter(|e| !sans.iter().any(|s| s.eq_ignore_ascii_case(e)))
        .collect();
    if stray.is_empty() {
        TrustCheck::new(
            504,
            Outcome::Pass,
            format!(
                "subject emailAddress {} equals the SAN rfc822Name",
                in_subject.join(", ")
            ),
        )
    } else {
        TrustCheck::new(
            504,
            Outcome::Fail,
            format!(
                "subject emailAddress {} not among the SAN rfc822Names ({})",
                stray
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                if sans.is_empty() {
                    "none".to_string()
                } else {
                    sans.join(", ")
                }
            ),
        )
    }
}

/// VC-505 (also used for VC-603 on path certificates).
pub fn validity_check(code: u16, cert: &Certificate, at: OffsetDateTime) -> TrustCheck {
    let nb = cert::not_before(cert);
    let na = cert::not_after(cert);
    let range = format!("{} .. {}", cert::fmt_time(nb), cert::fmt_time(na));
    let at_s = cert::fmt_time(at);
    if at < nb {
        TrustCheck::new(
            code,
            Outcome::Fail,
            format!("not yet valid at {at_s} (validity {range})"),
        )
    } else if at > na {
        TrustCheck::new(
            code,
            Outcome::Fail,
            format!("expired at {at_s} (validity {range})"),
        )
    } else {
        TrustCheck::new(
            code,
            Outcome::Pass,
            format!("valid at {at_s} (validity {range})"),
        )
    }
}

fn check_validity(cert: &Certificate, at: OffsetDateTime) -> TrustCheck {
    validity_check(505, cert, at)
}

fn check_key(cert: &Certificate, role: Role) -> TrustCheck {
    let kind = cert::key_kind(cert.tbs_certificate().subject_public_key_info());
    match &kind {
        KeyKind::Rsa { bits } if *bits >= 2048 => {
            TrustCheck::new(506, Outcome::Pass, format!("RSA {bits} bits"))
        }
        KeyKind::Rsa { bits } => TrustCheck::new(
            506,
            Outcome::Fail,
            format!("RSA {bits} bits, fewer than 2048"),
        ),
        KeyKind::Ec { curve } if curve == "P-256" || curve == "P-384" => {
            if role == Role::Recipient {
                TrustCheck::new(
                    506,
                    Outcome::Warn,
                    format!("EC {curve}: Direct key transport needs an RSA key (ENC-10)"),
                )
            } else {
                let bits = if curve == "P-256" { 256 } else { 384 };
                TrustCheck::new(506, Outcome::Pass, format!("EC {curve} ({bits} bits)"))
            }
        }
        KeyKind::Ec { curve } => TrustCheck::new(
            506,
            Outcome::Fail,
            format!("EC curve {curve} is not P-256 or P-384"),
        ),
        KeyKind::Dsa => TrustCheck::new(506, Outcome::Fail, "DSA keys are not allowed"),
        KeyKind::Other(alg) => TrustCheck::new(
            506,
            Outcome::Fail,
            format!("unsupported key algorithm {alg}"),
        ),
    }
}

fn check_signature_algorithm(cert: &Certificate) -> TrustCheck {
    use crate::smime::algorithms::DigestAlgorithm as D;
    let alg = cert.signature_algorithm().oid;
    let name = cert::signature_algorithm_name(&alg);
    match cert::signature_digest(&alg) {
        Some(D::Sha256 | D::Sha384 | D::Sha512) => {
            TrustCheck::new(507, Outcome::Pass, format!("signed with {name}"))
        }
        Some(d) => TrustCheck::new(
            507,
            Outcome::Fail,
            format!("signed with {name} ({} is weaker than SHA-256)", d.name()),
        ),
        None => TrustCheck::new(
            507,
            Outcome::Fail,
            format!("signed with {name}, not an RSA or ECDSA SHA-2 algorithm"),
        ),
    }
}

fn check_key_usage(cert: &Certificate, role: Role) -> TrustCheck {
    let ku = match cert::key_usage(cert) {
        Ok(Some(ku)) => ku,
        Ok(None) => return TrustCheck::new(508, Outcome::Pass, "keyUsage absent: no restriction"),
        Err(e) => return TrustCheck::new(508, Outcome::Fail, e),
    };
    let listed = key_usage_names(&ku);
    let rsa = matches!(
        cert::key_kind(cert.tbs_certificate().subject_public_key_info()),
        KeyKind::Rsa { .. }
    );
    let (ok, needed) = match role {
        Role::Signer => (ku.digital_signature(), "digitalSignature"),
        Role::Recipient if rsa => (ku.key_encipherment(), "keyEncipherment"),
        Role::Recipient => (ku.key_agreement(), "keyAgreement"),
        Role::Ca => (ku.key_cert_sign(), "keyCertSign"),
    };
    if ok {
        TrustCheck::new(
            508,
            Outcome::Pass,
            format!("keyUsage {listed} includes {needed}"),
        )
    } else {
        TrustCheck::new(
            508,
            Outcome::Fail,
            format!("keyUsage {listed} lacks {needed} for a {role:?}"),
        )
    }
}

/// The asserted keyUsage bits by their RFC 5280 names.
pub fn key_usage_names(ku: &x509_cert::ext::pkix::KeyUsage) -> String {
    let bits = [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "nonRepudiation"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ];
    let names: Vec<&str> = bits.iter().filter(|(on, _)| *on).map(|(_, n)| *n).collect();
    if names.is_empty() {
        "(none)".into()
    } else {
        names.join(",")
    }
}

fn check_eku(cert: &Certificate) -> TrustCheck {
    match cert::ext::<ExtendedKeyUsage>(cert) {
        Err(e) => TrustCheck::new(509, Outcome::Fail, e),
        Ok(None) => TrustCheck::new(509, Outcome::Pass, "extendedKeyUsage absent"),
        Ok(Some((_, eku))) => {
            let names: Vec<String> = eku
                .0
                .iter()
                .map(crate::smime::algorithms::oid_name)
                .collect();
            if eku.0.contains(&ID_KP_EMAIL_PROTECTION) || eku.0.contains(&ANY_EXTENDED_KEY_USAGE) {
                TrustCheck::new(
                    509,
                    Outcome::Pass,
                    format!(
                        "extendedKeyUsage {} allows emailProtection",
                        names.join(", ")
                    ),
                )
            } else {
                TrustCheck::new(
                    509,
                    Outcome::Fail,
                    format!(
                        "extendedKeyUsage {} lacks emailProtection",
                        names.join(", ")
                    ),
                )
            }
        }
    }
}

fn check_wildcard(cert: &Certificate, names: &[GeneralName]) -> TrustCheck {
    let mut wild: Vec<String> = cert::common_names(cert.tbs_certificate().subject())
        .into_iter()
        .filter(|c| c.contains('*'))
        .map(|c| format!("CN {c}"))
        .collect();
    wild.extend(
        cert::dns_names(names)
            .into_iter()
            .filter(|d| d.contains('*'))
            .map(|d| format!("dNSName {d}")),
    );
    if wild.is_empty() {
        TrustCheck::new(510, Outcome::Pass, "no wildcard in CN or dNSName")
    } else {
        TrustCheck::new(
            510,
            Outcome::Fail,
            format!("wildcard in {}", wild.join(", ")),
        )
    }
}

fn check_multiplicity(names: &[GeneralName], role: Role) -> TrustCheck {
    let emails = cert::rfc822_names(names);
    let dns = cert::dns_names(names);
    let count = emails.len() + dns.len();
    if role == Role::Ca || count <= 1 {
        TrustCheck::new(
            511,
            Outcome::Pass,
            format!("{count} binding value(s) in the SAN"),
        )
    } else {
        TrustCheck::new(
            511,
            Outcome::Fail,
            format!(
                "{count} binding values ({} rfc822Name, {} dNSName): one is expected (CERT-09)",
                emails.len(),
                dns.len()
            ),
        )
    }
}

fn check_basic_constraints(cert: &Certificate, role: Role) -> TrustCheck {
    let bc = match cert::basic_constraints(cert) {
        Ok(bc) => bc,
        Err(e) => return TrustCheck::new(512, Outcome::Fail, e),
    };
    let ca = bc.as_ref().is_some_and(|b| b.ca);
    match (role, ca) {
        (Role::Ca, true) => TrustCheck::new(512, Outcome::Pass, "basicConstraints cA true"),
        (Role::Ca, false) => TrustCheck::new(
            512,
            Outcome::Fail,
            "CA certificate without basicConstraints cA",
        ),
        (_, true) => TrustCheck::new(
            512,
            Outcome::Fail,
            "end-entity certificate asserts basicConstraints cA",
        ),
        (_, false) => TrustCheck::new(
            512,
            Outcome::Pass,
            if bc.is_some() {
                "basicConstraints cA false"
            } else {
                "basicConstraints absent (not a CA)"
            },
        ),
    }
}

fn check_policies(cert: &Certificate) -> TrustCheck {
    match cert::ext::<CertificatePolicies>(cert) {
        Err(e) => TrustCheck::new(513, Outcome::Info, e),
        Ok(None) => TrustCheck::new(513, Outcome::Info, "no certificatePolicies"),
        Ok(Some((_, p))) => {
            let listed: Vec<String> =
                p.0.iter()
                    .map(|pi| {
                        let s = pi.policy_identifier.to_string();
                        if s.starts_with(DIRECTTRUST_ARC) {
                            format!("{s} (DirectTrust)")
                        } else {
                            s
                        }
                    })
                    .collect();
            TrustCheck::new(
                513,
                Outcome::Info,
                format!("certificatePolicies {}", listed.join(", ")),
            )
        }
    }
}

fn check_pointers(cert: &Certificate, role: Role) -> Vec<TrustCheck> {
    let mut out = Vec::new();
    match cert::crl_urls(cert) {
        Err(e) => out.push(TrustCheck::new(514, Outcome::Fail, e)),
        Ok(urls) if urls.is_empty() => {
            let self_signed = cert::is_self_issued(cert) && role == Role::Ca;
            let detail = if self_signed {
                "no CRL distribution point (self-issued CA)"
            } else {
                "no CRL distribution point"
            };
            out.push(TrustCheck::new(514, Outcome::Info, detail));
        }
        Ok(urls) => {
            if urls.iter().any(|u| is_http(u)) {
                out.push(TrustCheck::new(
                    514,
                    Outcome::Pass,
                    format!("CRL DP {}", urls.join(", ")),
                ));
            } else {
                out.push(TrustCheck::new(
                    514,
                    Outcome::Fail,
                    format!("CRL DP without an http URL: {}", urls.join(", ")),
                ));
            }
        }
    }
    match cert::ca_issuers_urls(cert) {
        Err(e) => out.push(TrustCheck::new(514, Outcome::Fail, e)),
        Ok(urls) if urls.is_empty() => {
            out.push(TrustCheck::new(514, Outcome::Info, "no AIA caIssuers"))
        }
        Ok(urls) if urls.iter().any(|u| is_http(u)) => out.push(TrustCheck::new(
            514,
            Outcome::Pass,
            format!("AIA caIssuers {}", urls.join(", ")),
        )),
        Ok(urls) => out.push(TrustCheck::new(
            514,
            Outcome::Info,
            format!("AIA caIssuers without an http URL: {}", urls.join(", ")),
        )),
    }
    out
}

fn is_http(url: &str) -> bool {
    url.get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::asn1::Ia5String;

    fn email(s: &str) -> GeneralName {
        GeneralName::Rfc822Name(Ia5String::new(s).expect("ia5"))
    }
    fn dns(s: &str) -> GeneralName {
        GeneralName::DnsName(Ia5String::new(s).expect("ia5"))
    }

    #[test]
    fn binding_by_address_domain_mismatch_and_none() {
        let names = vec![email("Alice@HISP.direct.test")];
        assert_eq!(
            binding_in(&names, "alice@hisp.direct.test"),
            Binding::Address
        );
        assert_eq!(
            binding_in(&names, "bob@hisp.direct.test"),
            Binding::Mismatch
        );
        let org = vec![dns("hisp.direct.test")];
        assert_eq!(binding_in(&org, "anyone@HISP.direct.test"), Binding::Domain);
        assert_eq!(
            binding_in(&org, "anyone@other.direct.test"),
            Binding::Mismatch
        );
        assert_eq!(binding_in(&org, "hisp.direct.test"), Binding::Domain);
        assert_eq!(binding_in(&[], "a@b.c"), Binding::NoSan);
    }

    #[test]
    fn addr_spec_and_ldh() {
        for ok in [
            "a@b.c",
            "first.last@hisp.direct.test",
            "\"odd one\"@x.org",
            "a+tag@x-y.org",
        ] {
            assert!(is_addr_spec(ok), "{ok}");
        }
        for bad in [
            "a", "a@", "@b.c", "a..b@c.d", "a@-b.c", "a b@c.d", "a@b_c.d", "a@*.b.c",
        ] {
            assert!(!is_addr_spec(bad), "{bad}");
        }
        assert!(is_ldh_name("hisp.direct.test"));
        assert!(is_ldh_name("*.hisp.direct.test"));
        assert!(is_ldh_name("1st.example."));
        assert!(!is_ldh_name("under_score.test"));
        assert!(!is_ldh_name("-lead.test"));
        assert!(!is_ldh_name("a..b"));
        assert!(!is_ldh_name(&"a".repeat(64)));
    }
}
