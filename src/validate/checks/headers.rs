//! VC-1xx: RFC 5322 header fields of the outer message and of the wrapped inner message.

use crate::validate::checks::{closed_envelope_reason, xdm};
use crate::validate::engine::Findings;
use crate::validate::finding::Severity;
use crate::validate::grammar::address::{address_list, mailbox, mailbox_list, msg_id, msg_id_list};
use crate::validate::grammar::datetime::date_time;
use crate::validate::grammar::fields::Header;
use crate::validate::grammar::mime::mime_version;
use crate::validate::message::{Entity, MessageUnderValidation};

pub fn run(m: &MessageUnderValidation, out: &mut Findings) {
    message_header(&m.outer, out);
    if let Some(inner) = m.inner() {
        message_header(inner, out);
        vc115(&m.outer, inner, out);
    } else if m.envelope.is_some() && m.decrypted.is_none() {
        out.not_evaluated("VC-115", &m.outer.path, closed_envelope_reason(m));
    } else {
        let why = "not applicable: the message is not wrapped";
        out.not_evaluated("VC-115", &m.outer.path, why);
    }
    match m.payload() {
        Some(payload) => {
            // Subject lives on the message that carries the content: the inner one, else the
            // outer one.
            let subject_holder = m.inner().unwrap_or(&m.outer);
            vc112(payload, subject_holder, out);
        }
        None => out.not_evaluated("VC-112", &m.outer.path, closed_envelope_reason(m)),
    }
}

/// The checks that apply to any message header.
fn message_header(e: &Entity, out: &mut Findings) {
    let (h, p) = (&e.header, e.path.as_str());
    vc101(h, p, out);
    vc102(h, p, out);
    vc103(h, p, out);
    vc104(h, p, out);
    vc105(h, p, out);
    vc106(h, p, out);
    vc107(h, p, out);
    vc108(h, p, out);
    vc109(h, p, out);
    vc110(h, p, out);
    vc111(h, p, out);
    vc113(h, p, out);
    vc114(h, p, out);
    vc116(h, p, out);
}

/// The single occurrence of a mandatory field, or the problem.
fn once<'a>(h: &'a Header, name: &'a str) -> Result<&'a str, String> {
    let mut all = h.all(name);
    let first = all.next().ok_or_else(|| format!("{name} is missing"))?;
    if all.next().is_some() {
        return Err(format!("{name} appears more than once"));
    }
    Ok(first.value.as_str())
}

pub fn vc101(h: &Header, path: &str, out: &mut Findings) {
    let mut problems = Vec::new();
    for f in &h.fields {
        let bad: Vec<u8> = f
            .raw
            .iter()
            .copied()
            .filter(|b| *b > 126 || (*b < 32 && !matches!(b, b'\t' | b'\r' | b'\n')))
            .collect();
        if let Some(b) = bad.first() {
            problems.push(format!(
                "line {}: {} holds octet 0x{b:02x} ({} non-US-ASCII or control octets); use RFC 2047 encoded-words",
                f.line,
                f.name,
                bad.len()
            ));
        }
        for p in crate::validate::grammar::encoded_word::encoded_word_problems(&f.value) {
            problems.push(format!(
                "line {}: {}: malformed encoded-word {p}",
                f.line, f.name
            ));
        }
    }
    out.verdict(
        "VC-101",
        path,
        "every header field is US-ASCII",
        "header fields hold octets outside US-ASCII",
        problems,
    );
}

pub fn vc102(h: &Header, path: &str, out: &mut Findings) {
    match once(h, "MIME-Version").and_then(mime_version) {
        Ok(v) => out.pass("VC-102", path, format!("MIME-Version {v}")),
        Err(e) => out.fail("VC-102", path, e, Vec::new()),
    }
}

pub fn vc103(h: &Header, path: &str, out: &mut Findings) {
    match once(h, "From").and_then(|v| mailbox_list(v).map(|l| (v, l))) {
        Ok((_, list)) if list.len() > 1 && h.get("Sender").is_none() => out.fail(
            "VC-103",
            path,
            "From names several mailboxes but there is no Sender (RFC 5322 §3.6.2)",
            list.iter().map(|m| m.addr_spec()).collect(),
        ),
        Ok((v, _)) => out.pass("VC-103", path, format!("From: {v}")),
        Err(e) => out.fail("VC-103", path, format!("From: {e}"), Vec::new()),
    }
}

pub fn vc104(h: &Header, path: &str, out: &mut Findings) {
    match once(h, "To").and_then(|v| address_list(v).map(|l| (v, l))) {
        Ok((v, l)) if !l.is_empty() => out.pass("VC-104", path, format!("To: {v}")),
        Ok((v, _)) => out.fail(
            "VC-104",
            path,
            format!("To names no address: {v}"),
            Vec::new(),
        ),
        Err(e) => out.fail("VC-104", path, format!("To: {e}"), Vec::new()),
    }
}

pub fn vc105(h: &Header, path: &str, out: &mut Findings) {
    match once(h, "Date").and_then(|v| date_time(v).map(|d| (v, d))) {
        Ok((v, d)) => match d.oddity {
            None => out.pass("VC-105", path, format!("Date: {v}")),
            Some(odd) => out.fail_at(
                "VC-105",
                Severity::Warning,
                path,
                format!("Date parses, but with {odd}"),
                vec![v.to_string()],
            ),
        },
        Err(e) => out.fail("VC-105", path, format!("Date: {e}"), Vec::new()),
    }
}

pub fn vc106(h: &Header, path: &str, out: &mut Findings) {
    match once(h, "Message-ID").and_then(msg_id) {
        Ok(id) => out.pass("VC-106", path, format!("Message-ID {id}")),
        Err(e) => out.fail("VC-106", path, format!("Message-ID: {e}"), Vec::new()),
    }
}

pub fn vc107(h: &Header, path: &str, out: &mut Findings) {
    match h.get("Bcc") {
        None => out.pass("VC-107", path, "no Bcc"),
        Some(f) => out.fail(
            "VC-107",
            path,
            "Bcc is present; it should not travel with the message",
            vec![format!("line {}: Bcc: {}", f.line, f.value)],
        ),
    }
}

pub fn vc108(h: &Header, path: &str, out: &mut Findings) {
    let is_resent = |n: &str| n.len() > 7 && n[..7].eq_ignore_ascii_case("resent-");
    let indexes: Vec<usize> = h
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| is_resent(&f.name))
        .map(|(i, _)| i)
        .collect();
    if indexes.is_empty() {
        out.pass("VC-108", path, "no Resent-* fields");
        return;
    }
    let mut problems = Vec::new();
    // Blocks: runs of consecutive Resent-* fields (trace fields may separate blocks).
    let mut blocks: Vec<Vec<usize>> = Vec::new();
    for i in indexes {
        match blocks.last_mut() {
            Some(b) if b.last().is_some_and(|l| l + 1 == i) => b.push(i),
            _ => blocks.push(vec![i]),
        }
    }
    for block in &blocks {
        let names: Vec<String> = block
            .iter()
            .map(|i| h.fields[*i].name.to_ascii_lowercase())
            .collect();
        for required in ["resent-date", "resent-from"] {
            let n = names.iter().filter(|x| *x == required).count();
            if n != 1 {
                problems.push(format!(
                    "a Resent block starting at line {} has {n} {required} field(s), one required",
                    h.fields[block[0]].line
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for n in &names {
            if !seen.insert(n) {
                problems.push(format!("{n} twice in one Resent block"));
            }
        }
        for i in block {
            let f = &h.fields[*i];
            let v = f.value.as_str();
            let result = match f.name.to_ascii_lowercase().as_str() {
                "resent-date" => date_time(v).map(|_| ()),
                "resent-from" => mailbox_list(v).map(|_| ()),
                "resent-sender" => mailbox(v).map(|_| ()),
                "resent-to" | "resent-cc" => address_list(v).map(|_| ()),
                "resent-bcc" if v.trim().is_empty() => Ok(()),
                "resent-bcc" => address_list(v).map(|_| ()),
                "resent-message-id" => msg_id(v).map(|_| ()),
                other => Err(format!("{other} is not an RFC 5322 Resent field")),
            };
            if let Err(e) = result {
                problems.push(format!("line {}: {}: {e}", f.line, f.name));
            }
        }
    }
    out.verdict(
        "VC-108",
        path,
        format!("{} Resent block(s), well-formed and grouped", blocks.len()),
        "Resent-* fields malformed or not grouped",
        problems,
    );
}

pub fn vc109(h: &Header, path: &str, out: &mut Findings) {
    let Some(sender) = h.get("Sender") else {
        out.pass("VC-109", path, "no Sender");
        return;
    };
    let sender = match mailbox(&sender.value) {
        Ok(s) => s.addr_spec(),
        Err(e) => {
            out.fail("VC-109", path, format!("Sender: {e}"), Vec::new());
            return;
        }
    };
    let from: Vec<String> = h
        .value("From")
        .and_then(|v| mailbox_list(v).ok())
        .unwrap_or_default()
        .iter()
        .map(|m| m.addr_spec())
        .collect();
    if from.iter().any(|f| f.eq_ignore_ascii_case(&sender)) {
        out.fail(
            "VC-109",
            path,
            "Sender repeats the From address (it should only name a different agent)",
            vec![sender],
        );
    } else {
        out.pass("VC-109", path, format!("Sender {sender} differs from From"));
    }
}

pub fn vc110(h: &Header, path: &str, out: &mut Findings) {
    let mut problems = Vec::new();
    for f in &h.fields {
        let result = match f.name.to_ascii_lowercase().as_str() {
            "reply-to" | "cc" => address_list(&f.value).map(|_| ()),
            "in-reply-to" | "references" => msg_id_list(&f.value).map(|_| ()),
            _ => continue,
        };
        if let Err(e) = result {
            problems.push(format!("line {}: {}: {e}", f.line, f.name));
        }
    }
    out.verdict(
        "VC-110",
        path,
        "Reply-To, Cc, In-Reply-To, References well-formed (where present)",
        "malformed Reply-To, Cc, In-Reply-To or References",
        problems,
    );
}

pub fn vc111(h: &Header, path: &str, out: &mut Findings) {
    let mut problems = Vec::new();
    for f in &h.fields {
        if f.is("Received") {
            // received = *received-token ";" date-time
            match f.value.rsplit_once(';') {
                Some((_, when)) => {
                    if let Err(e) = date_time(when) {
                        problems.push(format!("line {}: Received date-time: {e}", f.line));
                    }
                }
                None => problems.push(format!("line {}: Received has no \"; date-time\"", f.line)),
            }
        } else if f.is("Return-Path") {
            let v = f.value.trim();
            let ok = v.starts_with('<')
                && v.ends_with('>')
                && (v[1..v.len() - 1].trim().is_empty()
                    || crate::validate::grammar::address::addr_spec(&v[1..v.len() - 1]).is_ok());
            if !ok {
                problems.push(format!(
                    "line {}: Return-Path must be <addr-spec> or <>: {v:?}",
                    f.line
                ));
            }
        }
    }
    out.verdict(
        "VC-111",
        path,
        "Received and Return-Path well-formed (where present)",
        "malformed trace fields",
        problems,
    );
}

fn vc112(payload: &Entity, subject_holder: &Entity, out: &mut Findings) {
    let found: Vec<String> = payload
        .walk()
        .into_iter()
        .filter_map(|e| xdm::xdm_zip(e).map(|name| format!("{}: {name}", e.path)))
        .collect();
    if found.is_empty() {
        out.pass("VC-112", &payload.path, "no XDM package attached");
        return;
    }
    let subject = subject_holder.header.value("Subject").unwrap_or_default();
    if subject.contains("XDM/1.0/DDM") {
        out.pass(
            "VC-112",
            &subject_holder.path,
            "XDM package attached and Subject carries XDM/1.0/DDM",
        );
    } else {
        let mut evidence = found;
        evidence.push(format!("Subject: {subject:?}"));
        out.fail(
            "VC-112",
            &subject_holder.path,
            "an XDM package is attached but Subject lacks XDM/1.0/DDM",
            evidence,
        );
    }
}

pub fn vc113(h: &Header, path: &str, out: &mut Findings) {
    match h.get("Disposition-Notification-To") {
        None => out.pass("VC-113", path, "no Disposition-Notification-To"),
        Some(f) => match mailbox_list(&f.value) {
            Ok(_) => out.pass(
                "VC-113",
                path,
                format!("Disposition-Notification-To: {}", f.value),
            ),
            Err(e) => out.fail(
                "VC-113",
                path,
                format!("Disposition-Notification-To: {e}"),
                vec![f.value.clone()],
            ),
        },
    }
}

/// The parsed Disposition-Notification-Options (RFC 3798 §2.2): attribute, importance, values.
pub fn parse_dn_options(value: &str) -> Result<Vec<(String, String, Vec<String>)>, String> {
    let mut out = Vec::new();
    for item in value.split(';') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (attr, rest) = item
            .split_once('=')
            .ok_or_else(|| format!("{item:?}: attribute \"=\" importance \",\" value expected"))?;
        let attr = attr.trim();
        if attr.is_empty() || !attr.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(format!("bad attribute name {attr:?}"));
        }
        let mut parts = rest.split(',').map(str::trim);
        let importance = parts.next().unwrap_or_default().to_ascii_lowercase();
        if importance != "required" && importance != "optional" {
            return Err(format!(
                "importance of {attr} must be required or optional, found {importance:?}"
            ));
        }
        let values: Vec<String> = parts.map(str::to_string).collect();
        if values.is_empty() || values.iter().any(|v| v.is_empty()) {
            return Err(format!(
                "{attr}: at least one value expected after the importance"
            ));
        }
        out.push((attr.to_string(), importance, values));
    }
    if out.is_empty() {
        return Err("empty Disposition-Notification-Options".into());
    }
    Ok(out)
}

/// Whether a Disposition-Notification-Options value is the valid timely-and-reliable request
/// (MDN-08, case-insensitive per MDN-09).
pub fn requests_final_delivery(value: &str) -> bool {
    parse_dn_options(value).is_ok_and(|opts| {
        opts.iter().any(|(a, i, v)| {
            a.eq_ignore_ascii_case("X-DIRECT-FINAL-DESTINATION-DELIVERY")
                && i == "optional"
                && v.len() == 1
                && v[0].eq_ignore_ascii_case("true")
        })
    })
}

pub fn vc114(h: &Header, path: &str, out: &mut Findings) {
    let Some(f) = h.get("Disposition-Notification-Options") else {
        out.pass("VC-114", path, "no Disposition-Notification-Options");
        return;
    };
    match parse_dn_options(&f.value) {
        Err(e) => out.fail("VC-114", path, e, vec![f.value.clone()]),
        Ok(_) if requests_final_delivery(&f.value) => out.pass(
            "VC-114",
            path,
            "requests X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true",
        ),
        Ok(_) => out.fail(
            "VC-114",
            path,
            "Disposition-Notification-Options does not request X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true",
            vec![f.value.clone()],
        ),
    }
}

fn vc115(outer: &Entity, inner: &Entity, out: &mut Findings) {
    let mut problems = Vec::new();
    for name in ["From", "To", "Date", "Message-ID"] {
        let (o, i) = (outer.header.value(name), inner.header.value(name));
        let same = match (o, i) {
            (Some(o), Some(i)) => match name {
                "From" | "To" => normalise_addresses(o) == normalise_addresses(i),
                "Date" => match (date_time(o), date_time(i)) {
                    (Ok(a), Ok(b)) => a.value == b.value,
                    _ => o.trim() == i.trim(),
                },
                _ => o.trim() == i.trim(),
            },
            (None, None) => true,
            _ => false,
        };
        if !same {
            problems.push(format!(
                "{name}: outer {:?}, inner {:?}",
                o.unwrap_or("(absent)"),
                i.unwrap_or("(absent)")
            ));
        }
    }
    out.verdict(
        "VC-115",
        &outer.path,
        "outer From, To, Date and Message-ID agree with the wrapped message",
        "outer and inner headers disagree",
        problems,
    );
}

fn normalise_addresses(v: &str) -> Vec<String> {
    let mut list: Vec<String> = address_list(v)
        .map(|l| {
            l.iter()
                .map(|m| m.addr_spec().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_else(|_| vec![v.trim().to_ascii_lowercase()]);
    list.sort();
    list
}

pub fn vc116(h: &Header, path: &str, out: &mut Findings) {
    let optional: Vec<String> = h
        .fields
        .iter()
        .filter(|f| f.is("Comments") || f.is("Keywords"))
        .map(|f| format!("line {}: {}: {}", f.line, f.name, f.value))
        .collect();
    if optional.is_empty() {
        out.pass("VC-116", path, "no Comments or Keywords");
    } else {
        out.info("VC-116", path, "optional fields present", optional);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::finding::{Profile, Status};
    use crate::validate::grammar::fields::parse_header;

    fn status(
        f: fn(&Header, &str, &mut Findings),
        header: &str,
    ) -> (Status, crate::validate::finding::Severity) {
        let mut out = Findings::new(Profile::Ds13);
        f(&parse_header(header.as_bytes()), "message", &mut out);
        assert_eq!(out.items.len(), 1, "{:?}", out.items);
        (out.items[0].status, out.items[0].severity)
    }

    const GOOD: &str = "From: alice@hisp.direct.test\r\nTo: bob@sut.direct.test\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@hisp.direct.test>\r\nMIME-Version: 1.0\r\n";

    #[test]
    fn each_check_fires_and_stays_quiet() {
        use Status::{Failed, Passed};
        type Check = fn(&Header, &str, &mut Findings);
        let cases: &[(Check, &str, Status)] = &[
            (vc101, GOOD, Passed),
            (vc101, "Subject: caf\u{e9}\r\n", Failed),
            (vc101, "Subject: =?utf-8?B?Y2Fmw6k=?=\r\n", Passed),
            (vc101, "Subject: =?utf-8?B?Y2Fmw6k?=\r\n", Failed),
            (vc102, GOOD, Passed),
            (vc102, "MIME-Version: 1\r\n", Failed),
            (vc102, "From: a@b\r\n", Failed),
            (vc103, GOOD, Passed),
            (vc103, "From: alice\r\n", Failed),
            (vc103, "From: a@b.test, c@d.test\r\n", Failed),
            (vc104, GOOD, Passed),
            (vc104, "To: bob@\r\n", Failed),
            (vc105, GOOD, Passed),
            (vc105, "Date: 2026-11-25\r\n", Failed),
            (vc106, GOOD, Passed),
            (vc106, "Message-ID: 1@x\r\n", Failed),
            (vc107, GOOD, Passed),
            (vc107, "Bcc: a@b.test\r\n", Failed),
            (vc108, GOOD, Passed),
            (
                vc108,
                "Resent-Date: Wed, 25 Nov 2026 10:00:00 +0000\r\nResent-From: a@b.test\r\n",
                Passed,
            ),
            (
                vc108,
                "Resent-From: a@b.test\r\nSubject: x\r\nResent-Date: Wed, 25 Nov 2026 10:00:00 +0000\r\n",
                Failed,
            ),
            (vc109, GOOD, Passed),
            (vc109, "From: a@b.test\r\nSender: A@b.test\r\n", Failed),
            (vc110, "Cc: c@d.test\r\nReferences: <a@b> <c@d>\r\n", Passed),
            (vc110, "In-Reply-To: a@b\r\n", Failed),
            (
                vc111,
                "Received: from x by y; Wed, 25 Nov 2026 10:00:00 +0000\r\nReturn-Path: <>\r\n",
                Passed,
            ),
            (vc111, "Received: from x by y\r\n", Failed),
            (vc111, "Return-Path: a@b\r\n", Failed),
            (vc113, "Disposition-Notification-To: a@b.test\r\n", Passed),
            (vc113, "Disposition-Notification-To: nobody\r\n", Failed),
            (
                vc114,
                "Disposition-Notification-Options: X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true\r\n",
                Passed,
            ),
            (
                vc114,
                "Disposition-Notification-Options: x-direct-final-destination-delivery=OPTIONAL,TRUE\r\n",
                Passed,
            ),
            (
                vc114,
                "Disposition-Notification-Options: X-DIRECT-FINAL-DESTINATION-DELIVERY=optional\r\n",
                Failed,
            ),
            (
                vc114,
                "Disposition-Notification-Options: X-DIRECT-FINAL-DESTINATION-DELIVERY=required,true\r\n",
                Failed,
            ),
            (vc116, GOOD, Passed),
            (vc116, "Keywords: a, b\r\n", Status::Info),
        ];
        for (i, (f, h, want)) in cases.iter().enumerate() {
            assert_eq!(status(*f, h).0, *want, "case {i}: {h}");
        }
    }

    #[test]
    fn odd_date_spacing_is_a_warning() {
        let (s, sev) = status(vc105, "Date: Wed,  25 Nov 2026 10:00:00 +0000\r\n");
        assert_eq!((s, sev), (Status::Failed, Severity::Warning));
    }

    #[test]
    fn outer_and_inner_must_agree() {
        let outer = Entity::parse("message", format!("{GOOD}\r\n").as_bytes());
        let mut out = Findings::new(Profile::Ds13);
        vc115(&outer, &outer.clone(), &mut out);
        let other = Entity::parse(
            "inner",
            GOOD.replace("bob@", "carol@")
                .replace("\r\nMIME", "\r\n\r\nMIME")
                .as_bytes(),
        );
        vc115(&outer, &other, &mut out);
        assert_eq!(out.items[0].status, Status::Passed);
        assert_eq!(out.items[1].status, Status::Failed);
    }

    #[test]
    fn xdm_attachment_needs_the_subject_marker() {
        let zip = crate::validate::checks::xdm::tests::tiny_zip(&["IHE_XDM/SUBSET01/METADATA.XML"]);
        let b64 = String::from_utf8(crate::smime::entity::base64_lines(&zip)).expect("ascii");
        let msg = |subject: &str| {
            format!(
                "From: a@b.test\r\nSubject: {subject}\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}--x--\r\n"
            )
        };
        let status = |raw: &str| {
            let e = Entity::parse("message", raw.as_bytes());
            let mut out = Findings::new(Profile::Ds13);
            vc112(&e, &e, &mut out);
            (out.items[0].status, out.items[0].severity)
        };
        assert_eq!(status(&msg("XDM/1.0/DDM")).0, Status::Passed);
        assert_eq!(status(&msg("records")), (Status::Failed, Severity::Warning));
        assert_eq!(status(GOOD).0, Status::Passed);
    }
}
