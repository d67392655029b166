//! The contents of one mock LDAP server and the search semantics it needs: root DSE, naming
//! contexts (readable or denied), subtree/one-level/base scope, filter evaluation (And, Or,
//! Not, Equality, Present, Substring; anything else matches nothing) and attribute selection.
//! Pure data in, typed ldap3_proto values out; the network side is in [`super::ldap`].

use ldap3_proto::proto::{
    LdapFilter, LdapPartialAttribute, LdapResultCode, LdapSearchRequest, LdapSearchResultEntry,
    LdapSearchScope,
};

use crate::pki::ReferencePki;

use super::error::EnvError;
use super::fixture::{ContextAccess, LdapServerSpec};

const CERT_ATTR: &str = "userCertificate";

#[derive(Clone, Debug)]
struct Entry {
    dn: String,
    /// (attribute type as published, values)
    attrs: Vec<(String, Vec<Vec<u8>>)>,
}

#[derive(Clone, Debug)]
struct Context {
    entry: Entry,
    access: ContextAccess,
    entries: Vec<Entry>,
}

#[derive(Clone, Debug)]
pub struct Directory {
    contexts: Vec<Context>,
    /// The result a search inside a context gives when nothing matched (default success
    /// with no entries); a HISP fault switch answers an error instead.
    empty_result: Option<(LdapResultCode, String)>,
}

/// One published entry: its mail value, common name and certificates (DER).
#[derive(Clone, Debug)]
pub struct PublishedEntry {
    pub mail: String,
    pub cn: String,
    pub certificates: Vec<Vec<u8>>,
}

/// What a search produced.
#[derive(Debug)]
pub struct SearchOutcome {
    pub entries: Vec<LdapSearchResultEntry>,
    pub code: LdapResultCode,
    pub message: String,
}

impl Directory {
    pub fn build(spec: &LdapServerSpec, pki: &ReferencePki) -> Result<Self, EnvError> {
        let mut contexts = Vec::new();
        for ctx in &spec.contexts {
            let (attr, value) = ctx.dn.split_once('=').ok_or_else(|| {
                EnvError::fixture(format!(
                    "LDAP {}: naming context {:?} is not an RDN",
                    spec.name, ctx.dn
                ))
            })?;
            let ctx_entry = Entry {
                dn: ctx.dn.clone(),
                attrs: vec![
                    text("objectClass", &["top", "organizationalUnit"]),
                    text(attr.trim(), &[value.trim()]),
                ],
            };
            let mut entries = Vec::new();
            for e in &ctx.entries {
                let cn = e.cn().ok_or_else(|| {
                    EnvError::fixture(format!(
                        "LDAP {}: an entry for {} has neither cn nor credential",
                        spec.name, e.mail
                    ))
                })?;
                let mut attrs = vec![
                    text(
                        "objectClass",
                        &["top", "person", "organizationalPerson", "inetOrgPerson"],
                    ),
                    text("cn", &[cn]),
                    text("sn", &[cn]),
                    text("mail", &[e.mail.as_str()]),
                ];
                if let Some(c) = &e.credential {
                    let cred = pki.credential(c).ok_or_else(|| {
                        EnvError::fixture(format!("LDAP {}: unknown credential {c}", spec.name))
                    })?;
                    attrs.push((CERT_ATTR.to_string(), vec![cred.certificate_der.clone()]));
                }
                entries.push(Entry {
                    dn: format!("cn={cn},{}", ctx.dn),
                    attrs,
                });
            }
            contexts.push(Context {
                entry: ctx_entry,
                access: ctx.access,
                entries,
            });
        }
        Ok(Directory {
            contexts,
            empty_result: None,
        })
    }

    /// A directory made from data rather than the fixture (a HISP publishing its own
    /// certificates): readable naming contexts (`ou=NAME`), each with its entries.
    pub fn published(contexts: Vec<(String, Vec<PublishedEntry>)>) -> Self {
        let contexts = contexts
            .into_iter()
            .map(|(ou, entries)| {
                let dn = format!("ou={ou}");
                Context {
                    entry: Entry {
                        dn: dn.clone(),
                        attrs: vec![
                            text("objectClass", &["top", "organizationalUnit"]),
                            text("ou", &[ou.as_str()]),
                        ],
                    },
                    access: ContextAccess::Read,
                    entries: entries
                        .into_iter()
                        .map(|e| {
                            let mut attrs = vec![
                                text(
                                    "objectClass",
                                    &["top", "person", "organizationalPerson", "inetOrgPerson"],
                                ),
                                text("cn", &[e.cn.as_str()]),
                                text("sn", &[e.cn.as_str()]),
                                text("mail", &[e.mail.as_str()]),
                            ];
                            if !e.certificates.is_empty() {
                                attrs.push((CERT_ATTR.to_string(), e.certificates));
                            }
                            Entry {
                                dn: format!("cn={},{dn}", e.cn),
                                attrs,
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        Directory {
            contexts,
            empty_result: None,
        }
    }

    /// Searches inside a context that match nothing answer `code` instead of success.
    pub fn with_empty_result(mut self, code: LdapResultCode, message: &str) -> Self {
        self.empty_result = Some((code, message.to_string()));
        self
    }

    pub fn naming_contexts(&self) -> Vec<String> {
        self.contexts.iter().map(|c| c.entry.dn.clone()).collect()
    }

    fn root_dse(&self) -> Entry {
        let mut attrs = vec![text("objectClass", &["top"])];
        attrs.push((
            "namingContexts".into(),
            self.naming_contexts()
                .into_iter()
                .map(String::into_bytes)
                .collect(),
        ));
        attrs.push(text("supportedLDAPVersion", &["3"]));
        Entry {
            dn: String::new(),
            attrs,
        }
    }

    pub fn search(&self, req: &LdapSearchRequest) -> SearchOutcome {
        let base = normalize_dn(&req.base);
        let mut matched: Vec<&Entry> = Vec::new();
        let root;
        if base.is_empty() {
            // Only the root DSE lives at the empty DN; nothing is beneath it here.
            if req.scope == LdapSearchScope::Base {
                root = self.root_dse();
                matched.push(&root);
            }
        } else {
            let Some(ctx) = self.contexts.iter().find(|c| {
                base == normalize_dn(&c.entry.dn)
                    || base.ends_with(&format!(",{}", normalize_dn(&c.entry.dn)))
            }) else {
                return outcome(
                    Vec::new(),
                    LdapResultCode::NoSuchObject,
                    "no such naming context",
                );
            };
            if ctx.access == ContextAccess::Denied {
                return outcome(
                    Vec::new(),
                    LdapResultCode::InsufficentAccessRights,
                    "anonymous access to this naming context is denied",
                );
            }
            let at_context = base == normalize_dn(&ctx.entry.dn);
            let target = if at_context {
                Some(&ctx.entry)
            } else {
                ctx.entries.iter().find(|e| normalize_dn(&e.dn) == base)
            };
            let Some(target) = target else {
                return outcome(Vec::new(), LdapResultCode::NoSuchObject, "no such object");
            };
            match req.scope {
                LdapSearchScope::Base => matched.push(target),
                LdapSearchScope::OneLevel | LdapSearchScope::Children => {
                    if at_context {
                        matched.extend(ctx.entries.iter());
                    }
                }
                LdapSearchScope::Subtree => {
                    matched.push(target);
                    if at_context {
                        matched.extend(ctx.entries.iter());
                    }
                }
            }
        }
        let limit = usize::try_from(req.sizelimit).ok().filter(|n| *n > 0);
        let mut entries = Vec::new();
        for e in matched.into_iter().filter(|e| matches(&req.filter, e)) {
            if limit.is_some_and(|n| entries.len() >= n) {
                return outcome(entries, LdapResultCode::SizeLimitExceeded, "");
            }
            entries.push(select(e, &req.attrs, req.typesonly));
        }
        if entries.is_empty()
            && !base.is_empty()
            && let Some((code, message)) = &self.empty_result
        {
            return outcome(entries, code.clone(), message);
        }
        outcome(entries, LdapResultCode::Success, "")
    }
}

fn outcome(
    entries: Vec<LdapSearchResultEntry>,
    code: LdapResultCode,
    message: &str,
) -> SearchOutcome {
    SearchOutcome {
        entries,
        code,
        message: message.to_string(),
    }
}

fn text(name: &str, values: &[&str]) -> (String, Vec<Vec<u8>>) {
    (
        name.to_string(),
        values.iter().map(|v| v.as_bytes().to_vec()).collect(),
    )
}

/// Lower case, no spaces around `=` and `,` (enough for the DNs of this fixture).
fn normalize_dn(dn: &str) -> String {
    dn.split(',')
        .map(|rdn| match rdn.split_once('=') {
            Some((a, v)) => format!("{}={}", a.trim(), v.trim()),
            None => rdn.trim().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase()
}

/// Attribute type without options (`userCertificate;binary` → `usercertificate`).
fn base_type(t: &str) -> String {
    t.split(';').next().unwrap_or(t).trim().to_ascii_lowercase()
}

fn values<'e>(e: &'e Entry, attr: &str) -> Option<&'e Vec<Vec<u8>>> {
    let want = base_type(attr);
    e.attrs
        .iter()
        .find(|(t, _)| base_type(t) == want)
        .map(|(_, v)| v)
}

fn matches(f: &LdapFilter, e: &Entry) -> bool {
    match f {
        LdapFilter::And(fs) => fs.iter().all(|f| matches(f, e)),
        LdapFilter::Or(fs) => fs.iter().any(|f| matches(f, e)),
        LdapFilter::Not(f) => !matches(f, e),
        LdapFilter::Present(a) => values(e, a).is_some_and(|v| !v.is_empty()),
        LdapFilter::Equality(a, want) => values(e, a).is_some_and(|vs| {
            // caseIgnore matching: mail, cn, ou, objectClass are all case-insensitive strings.
            vs.iter()
                .any(|v| std::str::from_utf8(v).is_ok_and(|s| s.eq_ignore_ascii_case(want)))
        }),
        LdapFilter::Substring(a, sub) => values(e, a).is_some_and(|vs| {
            vs.iter().any(|v| {
                let Ok(s) = std::str::from_utf8(v) else {
                    return false;
                };
                let s = s.to_ascii_lowercase();
                let mut rest = s.as_str();
                if let Some(init) = &sub.initial {
                    match rest.strip_prefix(init.to_ascii_lowercase().as_str()) {
                        Some(r) => rest = r,
                        None => return false,
                    }
                }
                for any in &sub.any {
                    let any = any.to_ascii_lowercase();
                    match rest.find(any.as_str()) {
                        Some(i) => rest = &rest[i + any.len()..],
                        None => return false,
                    }
                }
                match &sub.final_ {
                    Some(fin) => rest.ends_with(fin.to_ascii_lowercase().as_str()),
                    None => true,
                }
            })
        }),
        // Ordering, approximate and extensible matches: undefined here, so no match.
        _ => false,
    }
}

/// Attribute selection (RFC 4511 §4.5.1.8): none listed or `*` → all; `1.1` → none. The
/// certificate is answered under the spelling asked for (`userCertificate` or
/// `userCertificate;binary`); "all" gives both.
fn select(e: &Entry, wanted: &[String], typesonly: bool) -> LdapSearchResultEntry {
    let all = wanted.is_empty() || wanted.iter().any(|a| a == "*");
    let mut attributes = Vec::new();
    let mut push = |atype: String, vals: &Vec<Vec<u8>>| {
        attributes.push(LdapPartialAttribute {
            atype,
            vals: if typesonly { Vec::new() } else { vals.clone() },
        });
    };
    if all {
        for (t, v) in &e.attrs {
            if t == CERT_ATTR {
                push(format!("{CERT_ATTR};binary"), v);
            }
            push(t.clone(), v);
        }
    } else {
        for w in wanted {
            if w == "1.1" {
                continue;
            }
            if let Some(v) = values(e, w) {
                push(w.clone(), v);
            }
        }
    }
    LdapSearchResultEntry {
        dn: e.dn.clone(),
        attributes,
    }
}

/// RFC 4515 text of a filter, for the log (values are not escaped).
pub fn filter_string(f: &LdapFilter) -> String {
    let list = |op: &str, fs: &[LdapFilter]| {
        format!("({op}{})", fs.iter().map(filter_string).collect::<String>())
    };
    match f {
        LdapFilter::And(fs) => list("&", fs),
        LdapFilter::Or(fs) => list("|", fs),
        LdapFilter::Not(f) => format!("(!{})", filter_string(f)),
        LdapFilter::Equality(a, v) => format!("({a}={v})"),
        LdapFilter::Present(a) => format!("({a}=*)"),
        LdapFilter::Substring(a, s) => {
            let mut parts = vec![s.initial.clone().unwrap_or_default()];
            parts.extend(s.any.iter().cloned());
            parts.push(s.final_.clone().unwrap_or_default());
            format!("({a}={})", parts.join("*"))
        }
        LdapFilter::GreaterOrEqual(a, v) => format!("({a}>={v})"),
        LdapFilter::LessOrEqual(a, v) => format!("({a}<={v})"),
        LdapFilter::Approx(a, v) => format!("({a}~={v})"),
        LdapFilter::Extensible(_) => "(extensible match)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::fixture::Fixture;
    use ldap3_proto::proto::LdapDerefAliases;

    fn dir(name: &str) -> (Directory, ReferencePki) {
        let f = Fixture::embedded().expect("fixture");
        let pki = ReferencePki::load_default().expect("pki");
        let spec = f.ldap_server(name).expect("server");
        (Directory::build(spec, &pki).expect("dir"), pki)
    }

    /// ldap3_proto's text parser does not take attribute options (`;binary`): build it.
    fn dcdt_filter(mail: &str) -> LdapFilter {
        LdapFilter::And(vec![
            LdapFilter::Equality("mail".into(), mail.into()),
            LdapFilter::Or(vec![
                LdapFilter::Present("userCertificate;binary".into()),
                LdapFilter::Present("userCertificate".into()),
            ]),
        ])
    }

    fn req(base: &str, scope: LdapSearchScope, filter: &str, attrs: &[&str]) -> LdapSearchRequest {
        let filter = if let Some(mail) = filter.strip_prefix("dcdt:") {
            dcdt_filter(mail)
        } else {
            ldap3_proto::parse_ldap_filter_str(filter).expect("filter")
        };
        LdapSearchRequest {
            base: base.into(),
            scope,
            aliases: LdapDerefAliases::Never,
            sizelimit: 0,
            timelimit: 0,
            typesonly: false,
            filter,
            attrs: attrs.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn dcdt_filter_finds_the_certificate() {
        let (d, pki) = dir("L1");
        let out = d.search(&req(
            "ou=dcdt",
            LdapSearchScope::Subtree,
            "dcdt:D3@Domain2.direct.test",
            &["userCertificate;binary"],
        ));
        assert_eq!(out.code, LdapResultCode::Success);
        assert_eq!(out.entries.len(), 1);
        let e = &out.entries[0];
        assert_eq!(e.dn, "cn=D3_valC,ou=dcdt");
        assert_eq!(e.attributes[0].atype, "userCertificate;binary");
        let der = &pki.credential("D3_valC").expect("cred").certificate_der;
        assert_eq!(&e.attributes[0].vals[0], der);
        // the bare form, domain entries: two under mail=domain2
        let out = d.search(&req(
            "ou=dcdt",
            LdapSearchScope::Subtree,
            "(mail=domain2.direct.test)",
            &[],
        ));
        assert_eq!(out.entries.len(), 2);
    }

    #[test]
    fn root_dse_and_contexts() {
        let (d, _) = dir("L6");
        let out = d.search(&req(
            "",
            LdapSearchScope::Base,
            "(objectClass=*)",
            &["namingContexts"],
        ));
        assert_eq!(out.entries.len(), 1);
        let vals: Vec<_> = out.entries[0].attributes[0]
            .vals
            .iter()
            .map(|v| String::from_utf8_lossy(v).to_string())
            .collect();
        assert_eq!(vals, ["ou=denied", "ou=empty", "ou=dcdt"]);
        let denied = d.search(&req("ou=denied", LdapSearchScope::Subtree, "(mail=x)", &[]));
        assert_eq!(denied.code, LdapResultCode::InsufficentAccessRights);
        let empty = d.search(&req(
            "ou=empty",
            LdapSearchScope::Subtree,
            "(mail=d32@domain24.direct.test)",
            &[],
        ));
        assert_eq!(
            (empty.code, empty.entries.len()),
            (LdapResultCode::Success, 0)
        );
        let missing = d.search(&req("ou=nope", LdapSearchScope::Subtree, "(mail=x)", &[]));
        assert_eq!(missing.code, LdapResultCode::NoSuchObject);
    }

    #[test]
    fn entry_without_certificate_fails_the_dcdt_filter() {
        let (d, _) = dir("L4");
        let dcdt = "dcdt:d26@domain18.direct.test";
        assert!(
            d.search(&req("ou=dcdt", LdapSearchScope::Subtree, dcdt, &[]))
                .entries
                .is_empty()
        );
        let bare = d.search(&req(
            "ou=dcdt",
            LdapSearchScope::Subtree,
            "(mail=d26@domain18.direct.test)",
            &[],
        ));
        assert_eq!(bare.entries.len(), 1);
        assert!(
            bare.entries[0]
                .attributes
                .iter()
                .all(|a| !a.atype.starts_with("userCertificate"))
        );
    }
}
