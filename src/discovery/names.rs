//! Direct addresses and the DNS owner names of RFC 4398 §3 (address-bound and domain-bound).

use hickory_resolver::proto::rr::Name;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AddressError {
    #[error("not an address or domain: {0:?}")]
    Malformed(String),
    #[error("not a DNS name: {0}")]
    BadName(String),
}

/// An address (`local@domain`) or a bare domain, spelling kept as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectAddress {
    pub local: Option<String>,
    pub domain: String,
}

impl DirectAddress {
    pub fn parse(s: &str) -> Result<Self, AddressError> {
        let s = s.trim();
        let (local, domain) = match s.rsplit_once('@') {
            Some((l, d)) => (Some(l.to_string()), d),
            None => (None, s),
        };
        let domain = domain.trim_end_matches('.').to_string();
        if domain.is_empty()
            || domain.contains(['@', ' '])
            || local.as_deref().is_some_and(|l| l.is_empty())
        {
            return Err(AddressError::Malformed(s.into()));
        }
        Ok(DirectAddress { local, domain })
    }

    /// `local@domain`, or the domain.
    pub fn text(&self) -> String {
        match &self.local {
            Some(l) => format!("{l}@{}", self.domain),
            None => self.domain.clone(),
        }
    }

    /// The domain as a fully qualified DNS name.
    pub fn domain_name(&self) -> Result<Name, AddressError> {
        fqdn(&self.domain)
    }

    /// Address-bound owner names, in the order asked: the local part as one label (RFC 4398
    /// §3: a dot inside it is escaped, `d27\.dotted`), then, when the local part has dots,
    /// one label per dot as the RIs and DCDT do (DISC-18, REQUIREMENTS §12.14).
    pub fn address_names(&self) -> Result<Vec<Name>, AddressError> {
        let Some(local) = &self.local else {
            return Ok(Vec::new());
        };
        let domain = self.domain_name()?;
        let mut labels: Vec<&[u8]> = vec![local.as_bytes()];
        labels.extend(self.domain.split('.').map(str::as_bytes));
        let escaped =
            Name::from_labels(labels).map_err(|e| AddressError::BadName(e.to_string()))?;
        let mut out = vec![escaped];
        if local.contains('.') {
            let split = fqdn(local)?
                .append_domain(&domain)
                .map_err(|e| AddressError::BadName(e.to_string()))?;
            out.push(split);
        }
        for n in &mut out {
            n.set_fqdn(true);
        }
        Ok(out)
    }

    /// `_ldap._tcp.<domain>`.
    pub fn srv_name(&self) -> Result<Name, AddressError> {
        fqdn(&format!("_ldap._tcp.{}", self.domain))
    }
}

fn fqdn(s: &str) -> Result<Name, AddressError> {
    let mut n = Name::from_ascii(s).map_err(|e| AddressError::BadName(format!("{s}: {e}")))?;
    n.set_fqdn(true);
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_names_escape_then_split_dots() {
        let a = DirectAddress::parse("d27.dotted@domain19.direct.test").expect("parse");
        let names: Vec<String> = a
            .address_names()
            .expect("names")
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(
            names,
            [
                "d27\\.dotted.domain19.direct.test.",
                "d27.dotted.domain19.direct.test."
            ]
        );
        let b = DirectAddress::parse("D28@Domain20.Direct.Test").expect("parse");
        assert_eq!(b.address_names().expect("names").len(), 1);
        assert_eq!(
            b.srv_name().expect("srv").to_string(),
            "_ldap._tcp.Domain20.Direct.Test."
        );
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for s in ["", "@domain", "a@", "a@b c"] {
            assert!(DirectAddress::parse(s).is_err(), "{s:?}");
        }
        assert_eq!(
            DirectAddress::parse("domain1.direct.test")
                .expect("domain")
                .local,
            None
        );
    }
}
