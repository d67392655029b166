//! VC-8xx: failure DSNs (RFC 3464) as Direct HISPs send them (MDN-23). The family runs when the
//! content, once decrypted, is a delivery-status report.

use crate::validate::checks::report::{ReportKind, field_blocks, find, typed_address, typed_value};
use crate::validate::correlation::Correlation;
use crate::validate::engine::Findings;
use crate::validate::grammar::address::msg_id;
use crate::validate::grammar::fields::Header;
use crate::validate::message::{Entity, MessageUnderValidation};

pub fn run(m: &MessageUnderValidation, correlation: Option<&Correlation>, out: &mut Findings) {
    let Some(report) = find(m).filter(|r| r.kind == ReportKind::Dsn) else {
        return;
    };
    vc801(report.container, report.part, out);
    let Some(part) = report.part else {
        for id in ["VC-802", "VC-803", "VC-805"] {
            out.not_evaluated(
                id,
                &report.container.path,
                "no message/delivery-status part",
            );
        }
        vc804(m, report.container, &[], correlation, out);
        return;
    };
    let blocks = field_blocks(&part.body);
    let (per_message, recipients) = match blocks.split_first() {
        Some((first, rest)) => (Some(first), rest),
        None => (None, &[][..]),
    };
    vc802(per_message, &part.path, out);
    vc803(recipients, &part.path, out);
    vc804(m, report.container, &blocks, correlation, out);
    vc805(recipients, &part.path, out);
}

pub fn vc801(container: &Entity, part: Option<&Entity>, out: &mut Findings) {
    let mut problems = Vec::new();
    if container.essence() != "multipart/report" {
        problems.push(format!(
            "the content is {}, not multipart/report",
            container.essence()
        ));
    } else if !container
        .param("report-type")
        .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"))
    {
        problems.push(format!(
            "report-type is {:?}, not delivery-status",
            container.param("report-type").unwrap_or_default()
        ));
    }
    if part.is_none() {
        problems.push("no message/delivery-status part".into());
    }
    out.verdict(
        "VC-801",
        &container.path,
        "multipart/report; report-type=delivery-status with a delivery-status part",
        "not a well-formed DSN",
        problems,
    );
}

pub fn vc802(per_message: Option<&Header>, path: &str, out: &mut Findings) {
    match per_message.and_then(|b| b.value("Reporting-MTA")) {
        None => out.fail(
            "VC-802",
            path,
            "per-message Reporting-MTA missing",
            Vec::new(),
        ),
        Some(v) => match typed_value(v) {
            Ok(_) => out.pass("VC-802", path, format!("Reporting-MTA: {v}")),
            Err(e) => out.fail("VC-802", path, format!("Reporting-MTA: {e}"), Vec::new()),
        },
    }
}

/// `class "." subject "." detail`, each 1–3 digits, class 2, 4 or 5 (RFC 3463).
pub fn parse_status(v: &str) -> Option<(u8, u16, u16)> {
    let code = v.split_whitespace().next()?;
    let mut it = code.split('.');
    let (a, b, c) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    let num = |s: &str| {
        (!s.is_empty() && s.len() <= 3 && s.bytes().all(|x| x.is_ascii_digit()))
            .then(|| s.parse::<u16>().ok())
            .flatten()
    };
    let class = num(a)?;
    if ![2, 4, 5].contains(&class) {
        return None;
    }
    Some((class as u8, num(b)?, num(c)?))
}

pub fn vc803(recipients: &[Header], path: &str, out: &mut Findings) {
    if recipients.is_empty() {
        out.fail("VC-803", path, "no per-recipient block", Vec::new());
        return;
    }
    let mut problems = Vec::new();
    let mut failed = 0;
    for (i, r) in recipients.iter().enumerate() {
        let n = i + 1;
        match r.value("Final-Recipient").map(typed_address) {
            None => problems.push(format!("recipient {n}: Final-Recipient missing")),
            Some(Err(e)) => problems.push(format!("recipient {n}: Final-Recipient: {e}")),
            Some(Ok(_)) => {}
        }
        let action = r.value("Action").map(|a| a.trim().to_ascii_lowercase());
        match action.as_deref() {
            None => problems.push(format!("recipient {n}: Action missing")),
            Some("failed") => {
                failed += 1;
                match r.value("Status").map(|s| (s, parse_status(s))) {
                    None => problems.push(format!("recipient {n}: Status missing")),
                    Some((s, None)) => problems.push(format!(
                        "recipient {n}: Status {s:?} is not class.subject.detail"
                    )),
                    Some((s, Some((c, _, _)))) if c != 5 => problems.push(format!(
                        "recipient {n}: Status {s} is not a permanent failure (5.x.x)"
                    )),
                    Some(_) => {}
                }
            }
            Some(_) => {}
        }
    }
    if failed == 0 {
        problems.push("no recipient block has Action: failed".into());
    }
    out.verdict(
        "VC-803",
        path,
        format!("{failed} failed recipient(s) with Final-Recipient and a 5.x.x Status"),
        "per-recipient fields incomplete",
        problems,
    );
}

pub fn vc804(
    m: &MessageUnderValidation,
    container: &Entity,
    blocks: &[Header],
    correlation: Option<&Correlation>,
    out: &mut Findings,
) {
    let mut found: Vec<String> = Vec::new();
    // The returned message or headers part.
    for c in &container.children {
        let holder = match c.essence().as_str() {
            "message/rfc822" => c.embedded.as_deref().map(|e| &e.header),
            "text/rfc822-headers" => None,
            _ => continue,
        };
        let headers;
        let h = match holder {
            Some(h) => h,
            None => {
                headers = crate::validate::grammar::fields::parse_header(&c.body);
                &headers
            }
        };
        if let Some(v) = h.value("Message-ID") {
            found.push(format!("{}: Message-ID {v}", c.path));
        }
    }
    // X-Original-Message-ID anywhere a HISP may put it.
    let outer_and_inner = [Some(&m.outer), m.inner()];
    for h in outer_and_inner
        .iter()
        .flatten()
        .map(|e| &e.header)
        .chain(blocks.iter())
    {
        if let Some(v) = h.value("X-Original-Message-ID") {
            found.push(format!("X-Original-Message-ID {v}"));
        }
    }
    let valid: Vec<(&String, String)> = found
        .iter()
        .filter_map(|f| {
            let id = msg_id(f.rsplit(' ').next()?).ok()?;
            Some((f, id))
        })
        .collect();
    let known = valid
        .iter()
        .find(|(_, id)| correlation.is_none_or(|c| c.knows(id)));
    match (known, valid.first()) {
        (Some((label, _)), _) => out.pass("VC-804", &container.path, (*label).clone()),
        (None, Some(_)) => out.fail(
            "VC-804",
            &container.path,
            "the Message-ID the DSN carries matches no known message",
            found,
        ),
        (None, None) => out.fail(
            "VC-804",
            &container.path,
            "the original Message-ID is not carried (headers part, message part or X-Original-Message-ID)",
            found,
        ),
    }
}

pub fn vc805(recipients: &[Header], path: &str, out: &mut Findings) {
    let others: Vec<String> = recipients
        .iter()
        .filter(|r| {
            !r.value("Action")
                .is_some_and(|a| a.trim().eq_ignore_ascii_case("failed"))
        })
        .map(|r| {
            format!(
                "{} (Action: {})",
                r.value("Final-Recipient").unwrap_or("?"),
                r.value("Action").unwrap_or("?")
            )
        })
        .collect();
    out.verdict(
        "VC-805",
        path,
        "only failed recipients are listed",
        "the DSN lists recipients that did not fail",
        others,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes() {
        assert_eq!(parse_status("5.1.1"), Some((5, 1, 1)));
        assert_eq!(parse_status("5.7.31 (trust)"), Some((5, 7, 31)));
        assert_eq!(parse_status("4.4.7"), Some((4, 4, 7)));
        assert_eq!(parse_status("550"), None);
        assert_eq!(parse_status("3.1.1"), None);
    }

    use crate::validate::finding::{Profile, Status};
    use crate::validate::options::ValidationOptions;

    pub const DSN: &str = "From: postmaster@sut.direct.test\r\nTo: alice@hisp.direct.test\r\nSubject: Undeliverable\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <dsn-1@sut.direct.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; sut.direct.test\r\n\r\nFinal-Recipient: rfc822; nobody@sut.direct.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <1@hisp.direct.test>\r\n\r\n--r--\r\n";

    fn status_of(raw: &str, id: &str) -> Status {
        status_with(raw, id, None)
    }

    fn status_with(raw: &str, id: &str, c: Option<&Correlation>) -> Status {
        let m = MessageUnderValidation::analyse("t", raw.as_bytes(), &ValidationOptions::default());
        let mut out = Findings::new(Profile::Ds13);
        run(&m, c, &mut out);
        out.items
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.status)
            .unwrap_or_else(|| panic!("{id} not reported"))
    }

    #[test]
    fn each_dsn_check_fires_and_stays_quiet() {
        use Status::{Failed, Passed};
        for id in ["VC-801", "VC-802", "VC-803", "VC-804", "VC-805"] {
            assert_eq!(status_of(DSN, id), Passed, "{id}");
        }
        let cases: Vec<(String, &str, Status)> = vec![
            (DSN.replace("report-type=delivery-status", "report-type=delivery"), "VC-801", Failed),
            (DSN.replace("Reporting-MTA: dns; sut.direct.test", "Arrival-Date: Wed, 25 Nov 2026 10:00:00 +0000"), "VC-802", Failed),
            (DSN.replace("Status: 5.1.1", "Status: 4.4.7"), "VC-803", Failed),
            (DSN.replace("Action: failed", "Action: delayed"), "VC-803", Failed),
            (DSN.replace("Final-Recipient: rfc822; nobody@sut.direct.test\r\n", ""), "VC-803", Failed),
            (DSN.replace("Message-ID: <1@hisp.direct.test>", "Subject: x"), "VC-804", Failed),
            (DSN.replace("Message-ID: <1@hisp.direct.test>", "Subject: x").replace("MIME-Version", "X-Original-Message-ID: <1@hisp.direct.test>\r\nMIME-Version"), "VC-804", Passed),
            (DSN.replace("Status: 5.1.1\r\n", "Status: 5.1.1\r\n\r\nFinal-Recipient: rfc822; ok@sut.direct.test\r\nAction: delivered\r\nStatus: 2.0.0\r\n"), "VC-805", Failed),
        ];
        for (i, (raw, id, want)) in cases.iter().enumerate() {
            assert_eq!(status_of(raw, id), *want, "case {i} ({id})");
        }
    }

    #[test]
    fn correlation_decides_804() {
        let known = Correlation::from_original(b"Message-ID: <1@hisp.direct.test>\r\n\r\n");
        let other = Correlation::from_original(b"Message-ID: <9@hisp.direct.test>\r\n\r\n");
        assert_eq!(status_with(DSN, "VC-804", Some(&known)), Status::Passed);
        assert_eq!(status_with(DSN, "VC-804", Some(&other)), Status::Failed);
    }
}
