//! Name constraints (RFC 5280 §4.2.1.10) for the name forms Direct uses: rfc822Name,
//! dNSName and directoryName. Other forms in a constraint are ignored (and said so).

use x509_cert::Certificate;
use x509_cert::ext::pkix::NameConstraints;
use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use super::cert;

/// The names of a certificate that name constraints apply to.
struct Subjects {
    dn: Option<Name>,
    emails: Vec<String>,
    dns: Vec<String>,
}

fn subjects(c: &Certificate) -> Result<Subjects, String> {
    let san = cert::san(c)?;
    let subject = c.tbs_certificate().subject();
    let mut emails = cert::rfc822_names(&san);
    // RFC 5280 §4.2.1.10: emailAddress attributes in the subject are constrained as rfc822Names.
    emails.extend(cert::email_addresses(subject));
    let mut dns = cert::dns_names(&san);
    dns.sort();
    dns.dedup();
    emails.sort();
    emails.dedup();
    let dn = (!subject.is_empty()).then(|| subject.clone());
    Ok(Subjects { dn, emails, dns })
}

/// An rfc822Name constraint: `user@host` is one mailbox, `host` every mailbox on that host,
/// `.domain` every mailbox on a host below that domain.
fn email_matches(base: &str, email: &str) -> bool {
    let email = email.to_ascii_lowercase();
    let base = base.to_ascii_lowercase();
    if base.contains('@') {
        return email == base;
    }
    let Some((_, host)) = email.rsplit_once('@') else {
        return false;
    };
    if let Some(suffix) = base.strip_prefix('.') {
        host.ends_with(&format!(".{suffix}"))
    } else {
        host == base
    }
}

/// A dNSName constraint matches the name itself and every name below it, on label boundaries.
fn dns_matches(base: &str, name: &str) -> bool {
    let base = base.trim_end_matches('.').to_ascii_lowercase();
    let base = base.strip_prefix('.').unwrap_or(&base).to_string();
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    base.is_empty() || name == base || name.ends_with(&format!(".{base}"))
}

/// A directoryName constraint matches names whose leading RDNs equal the base's.
fn dn_matches(base: &Name, name: &Name) -> bool {
    let b: Vec<_> = base.iter_rdn().collect();
    let n: Vec<_> = name.iter_rdn().collect();
    b.len() <= n.len()
        && b.iter()
            .zip(n.iter())
            .all(|(x, y)| x == y || x.to_string().to_lowercase() == y.to_string().to_lowercase())
}

enum Kind {
    Email,
    Dns,
    Dn,
    Other,
}

fn kind(g: &GeneralName) -> Kind {
    match g {
        GeneralName::Rfc822Name(_) => Kind::Email,
        GeneralName::DnsName(_) => Kind::Dns,
        GeneralName::DirectoryName(_) => Kind::Dn,
        _ => Kind::Other,
    }
}

fn subtree_matches(tree: &GeneralSubtree, s: &Subjects, which: &Kind, value: usize) -> bool {
    match (&tree.base, which) {
        (GeneralName::Rfc822Name(b), Kind::Email) => email_matches(b.as_str(), &s.emails[value]),
        (GeneralName::DnsName(b), Kind::Dns) => dns_matches(b.as_str(), &s.dns[value]),
        (GeneralName::DirectoryName(b), Kind::Dn) => {
            s.dn.as_ref().is_some_and(|dn| dn_matches(b, dn))
        }
        _ => false,
    }
}

fn describe(s: &Subjects, which: &Kind, value: usize) -> String {
    match which {
        Kind::Email => format!("rfc822Name {}", s.emails[value]),
        Kind::Dns => format!("dNSName {}", s.dns[value]),
        Kind::Dn => format!(
            "directoryName {}",
            s.dn.as_ref().map(|d| d.to_string()).unwrap_or_default()
        ),
        Kind::Other => String::new(),
    }
}

fn describe_base(g: &GeneralName) -> String {
    match g {
        GeneralName::Rfc822Name(b) => format!("rfc822Name {}", b.as_str()),
        GeneralName::DnsName(b) => format!("dNSName {}", b.as_str()),
        GeneralName::DirectoryName(b) => format!("directoryName {b}"),
        _ => "another name form".into(),
    }
}

/// Checks `c`'s names against `nc`. `Err` says which name broke which subtree.
pub fn check(nc: &NameConstraints, c: &Certificate) -> Result<(), String> {
    let s = subjects(c)?;
    let mut values: Vec<(Kind, usize)> = Vec::new();
    values.extend((0..s.emails.len()).map(|i| (Kind::Email, i)));
    values.extend((0..s.dns.len()).map(|i| (Kind::Dns, i)));
    if s.dn.is_some() {
        values.push((Kind::Dn, 0));
    }
    let same_kind = |t: &GeneralSubtree, k: &Kind| {
        std::mem::discriminant(&kind(&t.base)) == std::mem::discriminant(k)
    };
    if let Some(excluded) = &nc.excluded_subtrees {
        for (k, i) in &values {
            if let Some(t) = excluded.iter().find(|t| subtree_matches(t, &s, k, *i)) {
                return Err(format!(
                    "{} is inside the excluded subtree {}",
                    describe(&s, k, *i),
                    describe_base(&t.base)
                ));
            }
        }
    }
    if let Some(permitted) = &nc.permitted_subtrees {
        for (k, i) in &values {
            let of_kind: Vec<&GeneralSubtree> =
                permitted.iter().filter(|t| same_kind(t, k)).collect();
            if !of_kind.is_empty() && !of_kind.iter().any(|t| subtree_matches(t, &s, k, *i)) {
                let bases: Vec<String> = of_kind.iter().map(|t| describe_base(&t.base)).collect();
                return Err(format!(
                    "{} is outside the permitted subtrees ({})",
                    describe(&s, k, *i),
                    bases.join(", ")
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn email_forms() {
        assert!(email_matches("a@x.org", "A@X.org"));
        assert!(!email_matches("a@x.org", "b@x.org"));
        assert!(email_matches("x.org", "b@X.ORG"));
        assert!(!email_matches("x.org", "b@sub.x.org"));
        assert!(email_matches(".x.org", "b@sub.x.org"));
        assert!(!email_matches(".x.org", "b@x.org"));
    }

    #[test]
    fn dns_on_label_boundaries() {
        assert!(dns_matches("direct.test", "hisp.direct.test"));
        assert!(dns_matches("direct.test", "DIRECT.test"));
        assert!(!dns_matches("direct.test", "notdirect.test"));
        assert!(dns_matches("", "anything"));
    }

    #[test]
    fn dn_prefix() {
        let base = Name::from_str("O=Direct,C=US").expect("name");
        let inside = Name::from_str("CN=alice,O=Direct,C=US").expect("name");
        let outside = Name::from_str("CN=alice,O=Other,C=US").expect("name");
        assert!(dn_matches(&base, &inside));
        assert!(!dn_matches(&base, &outside));
    }
}
