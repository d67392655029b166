//! The `strict-notice-reading` fault switch's reader: it takes a notification only when it
//! is written exactly the way this HISP writes its own, the brittle reading ETT's malformed
//! MDN generators were made to catch (MDN-22, MDN-24). Nothing but that switch uses it.

use crate::smime::entity::{header_text, split_header_body};

/// Header names as this HISP spells them.
const CANONICAL: &[&str] = &[
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
];

/// Why the strict reader refuses a notification, or Ok when it takes it. `outer` is the
/// message as it came over SMTP, `inner` the decrypted, unwrapped notification.
pub fn well_formed(mail_from: &str, outer: &[u8], inner: &[u8]) -> Result<(), String> {
    if mail_from.trim().is_empty() {
        return Err("null reverse path".into());
    }
    let (head, body) = split_header_body(inner);
    let head = String::from_utf8_lossy(head);
    for line in head.lines().filter(|l| !l.starts_with([' ', '\t'])) {
        let Some((name, _)) = line.split_once(':') else {
            continue;
        };
        if name.ends_with([' ', '\t']) {
            return Err(format!("white space before the colon of {:?}", name.trim()));
        }
        if let Some(c) = CANONICAL
            .iter()
            .find(|c| c.eq_ignore_ascii_case(name) && **c != name)
        {
            return Err(format!("header name {name:?} is not spelt {c:?}"));
        }
    }
    let same = |a: Option<String>, b: Option<String>| {
        let norm = |v: Option<String>| v.map(|v| v.trim().to_ascii_lowercase());
        norm(a) == norm(b)
    };
    if let Some(sender) = header_text(inner, "Sender")
        && !same(Some(sender), header_text(inner, "From"))
    {
        return Err("Sender differs from From".into());
    }
    let outer_id = header_text(outer, "Message-ID");
    if outer_id.is_some() && !same(outer_id, header_text(inner, "Message-ID")) {
        return Err("the outer Message-ID differs from the inner one".into());
    }
    report_fields(body)
}

/// The report part's fields: one line each, `Name: value`, and the Disposition exactly as
/// `automatic-action/MDN-sent-automatically; <type>`.
fn report_fields(body: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let Some(at) = lower.find("content-type: message/disposition-notification") else {
        return Ok(()); // A DSN: nothing of the MDN styles to refuse.
    };
    let part = &text[at..];
    let Some(start) = part.find("\r\n\r\n") else {
        return Err("no report fields".into());
    };
    let fields = &part[start + 4..];
    let fields = &fields[..fields.find("\r\n--").unwrap_or(fields.len())];
    let mut disposition = false;
    for line in fields.split("\r\n").filter(|l| !l.is_empty()) {
        if line.starts_with([' ', '\t']) {
            return Err("a report field is folded over lines".into());
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("report line {line:?} is not a field"));
        };
        if name.ends_with([' ', '\t']) || value.starts_with("  ") {
            return Err(format!(
                "extra white space in report field {:?}",
                name.trim()
            ));
        }
        if name == "Disposition" {
            disposition = true;
            let v = value.trim();
            let ok = v
                .strip_prefix("automatic-action/MDN-sent-automatically; ")
                .is_some_and(|t| !t.is_empty() && !t.starts_with(' '));
            if !ok {
                return Err(format!("Disposition {v:?} is not written as expected"));
            }
        }
    }
    if disposition {
        Ok(())
    } else {
        Err("no Disposition field".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hisp::config::MdnStyle;
    use crate::mdn::{Disposition, DispositionKind, MdnSpec, build_mdn};

    fn mdn() -> Vec<u8> {
        build_mdn(&MdnSpec {
            from: "processeddispatched6@hisp.direct.test".into(),
            to: "recipient@sut.direct.test".into(),
            subject: "Dispatched: hello".into(),
            message_id: "<mdn-1@hisp.direct.test>".into(),
            date: time::OffsetDateTime::UNIX_EPOCH,
            original_message_id: "<m-1@sut.direct.test>".into(),
            reporting_ua: "hisp.direct.test; direct-conformance".into(),
            original_recipient: None,
            final_recipient: "processeddispatched6@hisp.direct.test".into(),
            disposition: Disposition::automatic(DispositionKind::Dispatched),
            final_delivery: true,
            failure: None,
            human_text: None,
        })
        .unwrap()
    }

    #[test]
    fn takes_its_own_mdns_and_refuses_every_style_written_in_the_mdn() {
        let plain = mdn();
        well_formed("a@hisp.direct.test", &plain, &plain).unwrap();
        for style in [
            MdnStyle::WhiteSpace,
            MdnStyle::ExtraLineBreak,
            MdnStyle::ExtraSpaceDisposition,
            MdnStyle::MissingDisposition,
            MdnStyle::DifferentSender,
            MdnStyle::WhiteSpace822,
            MdnStyle::DifferentCases822,
        ] {
            let m = style.rewrite(&plain, "hisp.direct.test");
            assert!(
                well_formed("a@hisp.direct.test", &m, &m).is_err(),
                "{style:?}:\n{}",
                String::from_utf8_lossy(&m)
            );
        }
    }

    #[test]
    fn refuses_a_null_sender_and_a_different_outer_message_id() {
        let plain = mdn();
        assert!(well_formed("", &plain, &plain).is_err());
        let outer = b"Message-ID: <other@hisp.direct.test>\r\n\r\nx".to_vec();
        assert!(well_formed("a@hisp.direct.test", &outer, &plain).is_err());
    }
}
