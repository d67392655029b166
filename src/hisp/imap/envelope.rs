//! The ENVELOPE fetch item (RFC 3501 §7.4.2): date, subject, the address lists and the ids,
//! from the message's header (addresses as parsed by mail-parser, the rest as written).

use super::fetch::string;

fn nstring(s: Option<String>) -> String {
    s.map_or_else(|| "NIL".to_string(), |v| string(&v))
}

/// `((name NIL mailbox host) ...)` or NIL.
fn addresses(a: Option<&mail_parser::Address<'_>>) -> String {
    let Some(a) = a else {
        return "NIL".into();
    };
    let items: Vec<String> = a
        .iter()
        .filter_map(|x| {
            let address = x.address.as_deref()?;
            let (local, host) = address.rsplit_once('@').unwrap_or((address, ""));
            Some(format!(
                "({} NIL {} {})",
                nstring(x.name.as_deref().map(str::to_string)),
                string(local),
                string(host)
            ))
        })
        .collect();
    if items.is_empty() {
        "NIL".into()
    } else {
        format!("({})", items.join(""))
    }
}

pub fn envelope(message: &[u8]) -> String {
    let raw = |name: &str| crate::smime::entity::header_text(message, name);
    let parsed = mail_parser::MessageParser::default().parse_headers(message);
    let (from, sender, reply_to, to, cc, bcc) = match &parsed {
        Some(m) => (
            addresses(m.from()),
            addresses(m.sender().or(m.from())),
            addresses(m.reply_to().or(m.from())),
            addresses(m.to()),
            addresses(m.cc()),
            addresses(m.bcc()),
        ),
        None => Default::default(),
    };
    let or_nil = |s: String| if s.is_empty() { "NIL".to_string() } else { s };
    format!(
        "({} {} {} {} {} {} {} {} {} {})",
        nstring(raw("Date")),
        nstring(raw("Subject")),
        or_nil(from),
        or_nil(sender),
        or_nil(reply_to),
        or_nil(to),
        or_nil(cc),
        or_nil(bcc),
        nstring(raw("In-Reply-To")),
        nstring(raw("Message-ID")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_of_a_small_message() {
        let m = b"Date: Thu, 26 Nov 2026 09:00:00 +0000\r\nFrom: Ann <a@x.test>\r\nTo: b@y.test\r\nSubject: hi\r\nMessage-ID: <1@x.test>\r\n\r\nbody\r\n";
        assert_eq!(
            envelope(m),
            "(\"Thu, 26 Nov 2026 09:00:00 +0000\" \"hi\" ((\"Ann\" NIL \"a\" \"x.test\")) ((\"Ann\" NIL \"a\" \"x.test\")) ((\"Ann\" NIL \"a\" \"x.test\")) ((NIL NIL \"b\" \"y.test\")) NIL NIL NIL \"<1@x.test>\")"
        );
    }
}
