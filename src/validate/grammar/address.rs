//! RFC 5322 §3.4 addresses and §3.6.4 message identifiers. The parsers return the addr-specs
//! (or msg-ids) they found, or a reason the value does not match the grammar.

use crate::validate::grammar::lexer::Cursor;

/// A mailbox as found: the addr-spec `local@domain`, in its original spelling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailbox {
    pub local: String,
    pub domain: String,
}

impl Mailbox {
    pub fn addr_spec(&self) -> String {
        format!("{}@{}", self.local, self.domain)
    }
}

/// addr-spec on its own (as in an rfc822Name or an MDN Final-Recipient).
pub fn addr_spec(value: &str) -> Result<Mailbox, String> {
    let mut c = Cursor::new(value.as_bytes());
    c.skip_cfws()?;
    let m = parse_addr_spec(&mut c)?;
    c.skip_cfws()?;
    end(&c)?;
    Ok(m)
}

/// mailbox-list (From, Resent-From).
pub fn mailbox_list(value: &str) -> Result<Vec<Mailbox>, String> {
    list(value, |c| parse_mailbox(c).map(|m| vec![m]))
}

/// address-list (To, Cc, Reply-To, Bcc when non-empty).
pub fn address_list(value: &str) -> Result<Vec<Mailbox>, String> {
    list(value, parse_address)
}

/// A single mailbox (Sender).
pub fn mailbox(value: &str) -> Result<Mailbox, String> {
    let mut c = Cursor::new(value.as_bytes());
    let m = parse_mailbox(&mut c)?;
    c.skip_cfws()?;
    end(&c)?;
    Ok(m)
}

/// msg-id: [CFWS] "<" id-left "@" id-right ">" [CFWS]
pub fn msg_id(value: &str) -> Result<String, String> {
    let mut c = Cursor::new(value.as_bytes());
    let id = parse_msg_id(&mut c)?;
    c.skip_cfws()?;
    end(&c)?;
    Ok(id)
}

/// 1*msg-id (In-Reply-To, References).
pub fn msg_id_list(value: &str) -> Result<Vec<String>, String> {
    let mut c = Cursor::new(value.as_bytes());
    let mut ids = Vec::new();
    loop {
        c.skip_cfws()?;
        if c.at_end() {
            break;
        }
        ids.push(parse_msg_id(&mut c)?);
    }
    if ids.is_empty() {
        return Err("no msg-id".into());
    }
    Ok(ids)
}

fn end(c: &Cursor) -> Result<(), String> {
    if c.at_end() {
        Ok(())
    } else {
        Err(format!(
            "unexpected text at offset {}: {:?}",
            c.pos,
            String::from_utf8_lossy(c.rest())
        ))
    }
}

fn list(
    value: &str,
    item: impl Fn(&mut Cursor) -> Result<Vec<Mailbox>, String>,
) -> Result<Vec<Mailbox>, String> {
    let mut c = Cursor::new(value.as_bytes());
    let mut out = Vec::new();
    loop {
        out.extend(item(&mut c)?);
        c.skip_cfws()?;
        if c.at_end() {
            return Ok(out);
        }
        if !c.eat(b',') {
            end(&c)?;
        }
    }
}

fn parse_msg_id(c: &mut Cursor) -> Result<String, String> {
    c.skip_cfws()?;
    if !c.eat(b'<') {
        return Err("msg-id must start with '<'".into());
    }
    let left = c
        .dot_atom_text()
        .ok_or("msg-id: id-left must be a dot-atom")?
        .to_string();
    if !c.eat(b'@') {
        return Err("msg-id: '@' missing".into());
    }
    let right = match c.dot_atom_text() {
        Some(r) => r.to_string(),
        None => c
            .domain_literal()
            .ok_or("msg-id: id-right must be a dot-atom or [literal]")?
            .to_string(),
    };
    if !c.eat(b'>') {
        return Err("msg-id must end with '>'".into());
    }
    Ok(format!("<{left}@{right}>"))
}

/// address = mailbox / group
fn parse_address(c: &mut Cursor) -> Result<Vec<Mailbox>, String> {
    let save = c.pos;
    // A group is a display name followed by ':'.
    if parse_phrase(c)?.is_some() {
        c.skip_cfws()?;
        if c.eat(b':') {
            let mut members = Vec::new();
            loop {
                c.skip_cfws()?;
                if c.eat(b';') {
                    return Ok(members);
                }
                if !members.is_empty() && !c.eat(b',') {
                    return Err("group: ',' or ';' expected".into());
                }
                c.skip_cfws()?;
                if c.eat(b';') {
                    return Ok(members);
                }
                members.push(parse_mailbox(c)?);
            }
        }
    }
    c.pos = save;
    parse_mailbox(c).map(|m| vec![m])
}

/// mailbox = name-addr / addr-spec
fn parse_mailbox(c: &mut Cursor) -> Result<Mailbox, String> {
    let save = c.pos;
    // name-addr: [display-name] angle-addr
    let _ = parse_phrase(c)?;
    c.skip_cfws()?;
    if c.eat(b'<') {
        c.skip_cfws()?;
        let m = parse_addr_spec(c)?;
        c.skip_cfws()?;
        if !c.eat(b'>') {
            return Err("'>' missing after the address".into());
        }
        c.skip_cfws()?;
        return Ok(m);
    }
    c.pos = save;
    c.skip_cfws()?;
    let m = parse_addr_spec(c)?;
    c.skip_cfws()?;
    Ok(m)
}

/// phrase = 1*word (obs-phrase's "." tolerated, as real display names carry initials).
fn parse_phrase(c: &mut Cursor) -> Result<Option<String>, String> {
    let mut words = Vec::new();
    loop {
        let save = c.pos;
        c.skip_cfws()?;
        if let Some(a) = c.atom_text() {
            words.push(a.to_string());
        } else if let Some(q) = c.quoted_string()? {
            words.push(q.to_string());
        } else if !words.is_empty() && c.eat(b'.') {
            words.push(".".into());
        } else {
            c.pos = save;
            break;
        }
    }
    Ok((!words.is_empty()).then(|| words.join(" ")))
}

fn parse_addr_spec(c: &mut Cursor) -> Result<Mailbox, String> {
    let local = if let Some(q) = c.quoted_string()? {
        q.to_string()
    } else {
        c.dot_atom_text()
            .ok_or_else(|| {
                format!(
                    "addr-spec expected at offset {}: {:?}",
                    c.pos,
                    String::from_utf8_lossy(c.rest())
                )
            })?
            .to_string()
    };
    if !c.eat(b'@') {
        return Err(format!("'@' missing after local part {local:?}"));
    }
    let domain = match c.dot_atom_text() {
        Some(d) => d.to_string(),
        None => c
            .domain_literal()
            .ok_or("domain expected after '@'")?
            .to_string(),
    };
    Ok(Mailbox { local, domain })
}

/// An LDH host name (RFC 1123 labels of letters, digits and hyphens), as a dNSName must be.
pub fn is_ldh_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_lists() {
        let m = mailbox_list("Alice Smith <alice@hisp.direct.test>, bob@x.test (Bob)").unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].addr_spec(), "alice@hisp.direct.test");
        assert!(mailbox_list("alice").is_err());
        assert!(mailbox_list("<alice@x").is_err());
        assert!(mailbox_list("a@b, ").is_err());
        assert!(mailbox_list("").is_err());
        assert!(mailbox_list("\"A, B\" <a@b.test>").is_ok());
        assert!(mailbox_list("Dr. J. Who <who@b.test>").is_ok());
    }

    #[test]
    fn address_lists_take_groups() {
        let a = address_list("team: a@x.test, b@y.test;, c@z.test").unwrap();
        assert_eq!(a.len(), 3);
        assert!(address_list("undisclosed-recipients:;").unwrap().is_empty());
        assert!(address_list("a@x.test b@y.test").is_err());
    }

    #[test]
    fn msg_ids() {
        assert_eq!(msg_id(" <a.b@c.d> ").unwrap(), "<a.b@c.d>");
        assert!(msg_id("a.b@c.d").is_err());
        assert!(msg_id("<a b@c>").is_err());
        assert!(msg_id("<ab>").is_err());
        assert_eq!(msg_id_list("<a@b> <c@[d]>").unwrap().len(), 2);
        assert!(msg_id_list("").is_err());
    }

    #[test]
    fn ldh_names() {
        assert!(is_ldh_name("hisp.direct.test"));
        assert!(!is_ldh_name("*.direct.test"));
        assert!(!is_ldh_name("-a.test"));
        assert!(!is_ldh_name("a..test"));
        assert!(addr_spec("a@b.test").is_ok());
        assert!(addr_spec("a@").is_err());
    }
}
