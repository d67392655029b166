//! VC-7xx: MDNs (RFC 3798 as the Direct Delivery Notification IG uses it). The family runs
//! when the content, once decrypted, is a disposition-notification report.

use crate::validate::checks::report::{ReportKind, field_blocks, find, typed_address, typed_value};
use crate::validate::correlation::Correlation;
use crate::validate::engine::Findings;
use crate::validate::grammar::address::{mailbox_list, msg_id};
use crate::validate::grammar::fields::Header;
use crate::validate::message::{Entity, MessageUnderValidation};

/// The report fields RFC 3798 §3.1 defines (lower case), plus Failure from the DN-IG.
const MDN_FIELDS: &[&str] = &[
    "reporting-ua",
    "mdn-gateway",
    "original-recipient",
    "final-recipient",
    "original-message-id",
    "disposition",
    "failure",
    "error",
    "warning",
];

/// The Direct extension field (MDN-10).
pub const FINAL_DELIVERY: &str = "X-DIRECT-FINAL-DESTINATION-DELIVERY";

pub fn run(m: &MessageUnderValidation, correlation: Option<&Correlation>, out: &mut Findings) {
    let Some(report) = find(m).filter(|r| r.kind == ReportKind::Mdn) else {
        return;
    };
    vc701(m, out);
    vc702(report.container, report.part, out);
    vc704(m, report.message, out);
    vc715(report.message, out);
    let Some(part) = report.part else {
        for id in [
            "VC-703", "VC-705", "VC-706", "VC-707", "VC-708", "VC-709", "VC-710", "VC-711",
            "VC-712", "VC-713", "VC-714",
        ] {
            out.not_evaluated(
                id,
                &report.container.path,
                "no message/disposition-notification part",
            );
        }
        return;
    };
    vc703(part, out);
    // The report fields, from the body; if the sender put them in the part's MIME header
    // instead (VC-703), read them there so that one defect is reported once.
    // An MDN has one block of fields; stray blank lines between them are tolerated (MDN-22),
    // so every block is read as one.
    let mut fields = Header::default();
    for block in field_blocks(&part.body) {
        fields.fields.extend(block.fields);
        fields.problems.extend(block.problems);
    }
    if fields.get("Disposition").is_none() && part.header.get("Disposition").is_some() {
        fields = part.header.clone();
    }
    let path = part.path.as_str();
    vc705(&fields, path, out);
    vc706(&fields, path, out);
    vc707(&fields, path, out);
    vc708(&fields, path, out);
    vc709(&fields, correlation, path, out);
    let disposition = vc710(&fields, path, out);
    vc711(
        m,
        report.message,
        part,
        &fields,
        disposition.as_ref(),
        correlation,
        out,
    );
    vc712(&fields, disposition.as_ref(), path, out);
    vc713(&fields, path, out);
    vc714(report.message, &fields, correlation, out);
}

pub fn vc701(m: &MessageUnderValidation, out: &mut Findings) {
    let path = &m.outer.path;
    let mut problems = Vec::new();
    if m.envelope.is_none() {
        problems.push("the MDN is not encrypted (no application/pkcs7-mime envelope)".to_string());
    }
    match &m.signature {
        None => problems.push("the MDN is not signed (no multipart/signed)".to_string()),
        Some(l)
            if l.report
                .as_ref()
                .map_or(true, |r| r.verified_signer().is_none()) =>
        {
            problems.push("the MDN's signature does not verify (VC-411)".to_string())
        }
        Some(_) => {}
    }
    out.verdict(
        "VC-701",
        path,
        "the MDN is signed and encrypted",
        "the MDN is not a Direct message",
        problems,
    );
}

pub fn vc702(container: &Entity, part: Option<&Entity>, out: &mut Findings) {
    let mut problems = Vec::new();
    if container.essence() != "multipart/report" {
        problems.push(format!(
            "the content is {}, not multipart/report",
            container.essence()
        ));
    } else if !container
        .param("report-type")
        .is_some_and(|t| t.eq_ignore_ascii_case("disposition-notification"))
    {
        problems.push(format!(
            "report-type is {:?}, not disposition-notification",
            container.param("report-type").unwrap_or_default()
        ));
    }
    if part.is_none() {
        problems.push("no message/disposition-notification part".to_string());
    }
    if !container
        .children
        .first()
        .is_some_and(|c| c.essence().starts_with("text/"))
    {
        problems.push("the first part is not a human-readable text part".to_string());
    }
    out.verdict(
        "VC-702",
        &container.path,
        "multipart/report; report-type=disposition-notification with a disposition part",
        "not a well-formed MDN report",
        problems,
    );
}

pub fn vc703(part: &Entity, out: &mut Findings) {
    let misplaced: Vec<String> = part
        .header
        .fields
        .iter()
        .filter(|f| MDN_FIELDS.contains(&f.name.to_ascii_lowercase().as_str()))
        .map(|f| format!("{}: {}", f.name, f.value))
        .collect();
    out.verdict(
        "VC-703",
        &part.path,
        "report fields are in the body of the disposition part",
        "report fields are in the MIME header of the disposition part",
        misplaced,
    );
}

pub fn vc704(m: &MessageUnderValidation, message: &Entity, out: &mut Findings) {
    let mut found = Vec::new();
    for e in [&m.outer, message] {
        for f in &e.header.fields {
            if (f.is("Disposition-Notification-To") || f.is("Disposition-Notification-Options"))
                && !found.contains(&format!("{}: {}", e.path, f.name))
            {
                found.push(format!("{}: {}", e.path, f.name));
            }
        }
    }
    out.verdict(
        "VC-704",
        &message.path,
        "the MDN asks for no MDN",
        "the MDN requests a notification itself",
        found,
    );
}

pub fn vc705(fields: &Header, path: &str, out: &mut Findings) {
    match fields.value("Reporting-UA") {
        None => out.fail("VC-705", path, "Reporting-UA missing", Vec::new()),
        Some(v)
            if v.trim().is_empty() || v.split(';').next().is_some_and(|n| n.trim().is_empty()) =>
        {
            out.fail(
                "VC-705",
                path,
                format!("Reporting-UA {v:?} has no ua-name"),
                Vec::new(),
            )
        }
        Some(v) => out.pass("VC-705", path, format!("Reporting-UA: {v}")),
    }
}

pub fn vc706(fields: &Header, path: &str, out: &mut Findings) {
    match fields.value("MDN-Gateway") {
        None => out.pass("VC-706", path, "no MDN-Gateway"),
        Some(v) => match typed_value(v) {
            Ok(_) => out.pass("VC-706", path, format!("MDN-Gateway: {v}")),
            Err(e) => out.fail("VC-706", path, format!("MDN-Gateway: {e}"), Vec::new()),
        },
    }
}

pub fn vc707(fields: &Header, path: &str, out: &mut Findings) {
    match fields.value("Original-Recipient") {
        None => out.pass("VC-707", path, "no Original-Recipient"),
        Some(v) => match typed_address(v) {
            Ok(_) => out.pass("VC-707", path, format!("Original-Recipient: {v}")),
            Err(e) => out.fail(
                "VC-707",
                path,
                format!("Original-Recipient: {e}"),
                Vec::new(),
            ),
        },
    }
}

pub fn vc708(fields: &Header, path: &str, out: &mut Findings) {
    match fields
        .value("Final-Recipient")
        .map(|v| (v, typed_address(v)))
    {
        None => out.fail("VC-708", path, "Final-Recipient missing", Vec::new()),
        Some((_, Ok((t, a)))) if t == "rfc822" => {
            out.pass("VC-708", path, format!("Final-Recipient: rfc822; {a}"))
        }
        Some((v, Ok(_))) => out.fail(
            "VC-708",
            path,
            format!("Final-Recipient {v:?} is not rfc822"),
            Vec::new(),
        ),
        Some((_, Err(e))) => out.fail("VC-708", path, format!("Final-Recipient: {e}"), Vec::new()),
    }
}

pub fn vc709(fields: &Header, correlation: Option<&Correlation>, path: &str, out: &mut Findings) {
    let Some(v) = fields.value("Original-Message-ID") else {
        out.fail("VC-709", path, "Original-Message-ID missing", Vec::new());
        return;
    };
    match (msg_id(v), correlation) {
        (Err(e), _) => out.fail(
            "VC-709",
            path,
            format!("Original-Message-ID: {e}"),
            vec![v.to_string()],
        ),
        (Ok(id), None) => out.pass(
            "VC-709",
            path,
            format!("Original-Message-ID {id} (no correlation data given to match it against)"),
        ),
        (Ok(id), Some(c)) if c.knows(&id) => out.pass(
            "VC-709",
            path,
            format!("Original-Message-ID {id} matches the original message"),
        ),
        (Ok(id), Some(c)) => out.fail(
            "VC-709",
            path,
            format!("Original-Message-ID {id} matches no known message"),
            c.message_ids.clone(),
        ),
    }
}

/// A parsed Disposition field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disposition {
    pub action_mode: String,
    pub sending_mode: String,
    /// Lower-cased disposition type.
    pub kind: String,
    pub modifiers: Vec<String>,
}

impl Disposition {
    pub fn is_failure(&self) -> bool {
        matches!(self.kind.as_str(), "failed" | "error" | "denied")
            || self.modifiers.iter().any(|m| m == "error" || m == "failed")
    }
}

/// `action-mode "/" sending-mode ";" disposition-type ["/" modifier *("," modifier)]`, read
/// with any white space and case (MDN-22).
pub fn parse_disposition(value: &str) -> Result<Disposition, String> {
    let (modes, rest) = value
        .split_once(';')
        .ok_or_else(|| format!("{value:?}: \"action-mode/sending-mode; type\" expected"))?;
    let (action, sending) = modes
        .split_once('/')
        .ok_or_else(|| format!("{modes:?}: action-mode/sending-mode expected"))?;
    let (kind, modifiers) = match rest.split_once('/') {
        Some((k, m)) => (
            k,
            m.split(',')
                .map(|x| x.trim().to_ascii_lowercase())
                .collect(),
        ),
        None => (rest, Vec::new()),
    };
    let d = Disposition {
        action_mode: action.trim().to_ascii_lowercase(),
        sending_mode: sending.trim().to_ascii_lowercase(),
        kind: kind.trim().to_ascii_lowercase(),
        modifiers,
    };
    if !["manual-action", "automatic-action"].contains(&d.action_mode.as_str()) {
        return Err(format!("unknown action mode {:?}", d.action_mode));
    }
    if !["mdn-sent-manually", "mdn-sent-automatically"].contains(&d.sending_mode.as_str()) {
        return Err(format!("unknown sending mode {:?}", d.sending_mode));
    }
    const TYPES: &[&str] = &[
        "processed",
        "dispatched",
        "failed",
        "displayed",
        "deleted",
        "denied",
        "error",
    ];
    if !TYPES.contains(&d.kind.as_str()) {
        return Err(format!("unknown disposition type {:?}", d.kind));
    }
    if d.modifiers.iter().any(|m| m.is_empty()) {
        return Err("empty disposition modifier".into());
    }
    Ok(d)
}

pub fn vc710(fields: &Header, path: &str, out: &mut Findings) -> Option<Disposition> {
    let Some(v) = fields.value("Disposition") else {
        out.fail("VC-710", path, "Disposition missing", Vec::new());
        return None;
    };
    match parse_disposition(v) {
        Err(e) => {
            out.fail(
                "VC-710",
                path,
                format!("Disposition: {e}"),
                vec![v.to_string()],
            );
            None
        }
        Ok(d) => {
            if d.kind == "error" || d.modifiers.iter().any(|m| m == "error") {
                out.fail(
                    "VC-710",
                    path,
                    "legacy \"error\" disposition: the failure type is \"failed\" (MDN-13)",
                    vec![v.to_string()],
                );
            } else if d.action_mode != "automatic-action"
                || d.sending_mode != "mdn-sent-automatically"
            {
                out.fail(
                    "VC-710",
                    path,
                    "a HISP's MDN is automatic-action/MDN-sent-automatically",
                    vec![v.to_string()],
                );
            } else {
                out.pass("VC-710", path, format!("Disposition: {v}"));
            }
            Some(d)
        }
    }
}

pub fn vc711(
    m: &MessageUnderValidation,
    message: &Entity,
    part: &Entity,
    fields: &Header,
    disposition: Option<&Disposition>,
    correlation: Option<&Correlation>,
    out: &mut Findings,
) {
    let path = part.path.as_str();
    let requested = correlation.and_then(|c| c.final_delivery_requested);
    // nhin-d #191: the extension field written as a message or MIME header instead of a
    // report field.
    let misplaced: Vec<String> = [&m.outer, message, part]
        .iter()
        .filter(|e| e.header.get(FINAL_DELIVERY).is_some())
        .map(|e| format!("{FINAL_DELIVERY} in the header of {}", e.path))
        .collect();
    let in_body = fields.get(FINAL_DELIVERY).is_some() && part.header.get(FINAL_DELIVERY).is_none();
    let dispatched = disposition.is_some_and(|d| d.kind == "dispatched");
    if !misplaced.is_empty() {
        out.fail(
            "VC-711",
            path,
            format!("{FINAL_DELIVERY} is not in the report body"),
            misplaced,
        );
    } else if dispatched {
        // MDN-10/MDN-11: present exactly when the original's request was valid.
        match (requested, in_body) {
            (Some(true), true) | (Some(false), false) => out.pass(
                "VC-711",
                path,
                format!(
                    "dispatched MDN {} {FINAL_DELIVERY}, as the original's request {}",
                    if in_body { "carries" } else { "omits" },
                    if in_body { "was valid" } else { "was missing or malformed" }
                ),
            ),
            (Some(true), false) => out.fail(
                "VC-711",
                path,
                format!("the original requested final delivery, but the dispatched MDN lacks {FINAL_DELIVERY}"),
                Vec::new(),
            ),
            (Some(false), true) => out.fail(
                "VC-711",
                path,
                format!("{FINAL_DELIVERY} in a dispatched MDN although the original's request was missing or malformed"),
                Vec::new(),
            ),
            (None, true) => out.pass(
                "VC-711",
                path,
                format!("dispatched MDN carries {FINAL_DELIVERY} in the report body (the original request is not known)"),
            ),
            (None, false) => out.not_evaluated(
                "VC-711",
                path,
                format!(
                    "dispatched MDN without {FINAL_DELIVERY}: right only if the request was missing or malformed, and the original message is not known"
                ),
            ),
        }
    } else if in_body {
        out.fail(
            "VC-711",
            path,
            format!("{FINAL_DELIVERY} in an MDN that is not dispatched"),
            Vec::new(),
        );
    } else {
        out.pass("VC-711", path, "not a dispatched MDN; no extension field");
    }
}

pub fn vc712(fields: &Header, d: Option<&Disposition>, path: &str, out: &mut Findings) {
    match d {
        Some(d) if d.is_failure() => match fields.value("Failure") {
            Some(v) if !v.trim().is_empty() => out.pass("VC-712", path, format!("Failure: {v}")),
            _ => out.fail(
                "VC-712",
                path,
                "a failed MDN without a Failure field",
                Vec::new(),
            ),
        },
        Some(_) => out.pass("VC-712", path, "not a failure MDN"),
        None => out.not_evaluated("VC-712", path, "the Disposition does not parse (VC-710)"),
    }
}

pub fn vc713(fields: &Header, path: &str, out: &mut Findings) {
    let mut problems = Vec::new();
    for f in &fields.fields {
        let name = f.name.to_ascii_lowercase();
        if ["error", "warning", "failure"].contains(&name.as_str()) {
            if f.value.trim().is_empty() {
                problems.push(format!("{} is empty", f.name));
            }
        } else if !MDN_FIELDS.contains(&name.as_str()) && !name.starts_with("x-") {
            problems.push(format!(
                "{} is not an RFC 3798 field or an X- extension",
                f.name
            ));
        }
        if f.raw.iter().any(|b| *b > 126) {
            problems.push(format!("{} holds non-ASCII octets", f.name));
        }
    }
    for p in &fields.problems {
        problems.push(format!("line {}: {}", p.line, p.text));
    }
    out.verdict(
        "VC-713",
        path,
        "Error, Warning and extension fields well-formed",
        "malformed report fields",
        problems,
    );
}

pub fn vc714(
    message: &Entity,
    fields: &Header,
    correlation: Option<&Correlation>,
    out: &mut Findings,
) {
    let path = message.path.as_str();
    let Some(final_recipient) = fields
        .value("Final-Recipient")
        .and_then(|v| typed_address(v).ok())
        .map(|(_, a)| a)
    else {
        out.not_evaluated(
            "VC-714",
            path,
            "no usable Final-Recipient to compare with (VC-708)",
        );
        return;
    };
    let from = message
        .header
        .value("From")
        .and_then(|v| mailbox_list(v).ok())
        .and_then(|l| l.into_iter().next());
    let Some(from) = from else {
        out.fail("VC-714", path, "the MDN has no usable From", Vec::new());
        return;
    };
    let domain = |a: &str| {
        a.rsplit('@')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    let from_addr = from.addr_spec();
    let mut problems = Vec::new();
    if !from_addr.eq_ignore_ascii_case(&final_recipient)
        && domain(&from_addr) != domain(&final_recipient)
    {
        problems.push(format!(
            "From {from_addr} is neither the final recipient {final_recipient} nor its domain"
        ));
    }
    // To is judged only when the original is known.
    let to_note = match correlation.filter(|c| !c.notify_to.is_empty()) {
        None => " (To not compared: the original message is not known)",
        Some(c) => {
            let to: Vec<String> = message
                .header
                .value("To")
                .and_then(|v| crate::validate::grammar::address::address_list(v).ok())
                .map(|l| l.iter().map(|m| m.addr_spec()).collect())
                .unwrap_or_default();
            let expected = |a: &String| c.notify_to.iter().any(|n| n.eq_ignore_ascii_case(a));
            if to.is_empty() || !to.iter().all(expected) {
                problems.push(format!(
                    "To {} is not the original's Disposition-Notification-To or From ({})",
                    to.join(", "),
                    c.notify_to.join(", ")
                ));
            }
            ""
        }
    };
    out.verdict(
        "VC-714",
        path,
        format!("From {from_addr} answers for the final recipient{to_note}"),
        "the MDN's From or To is not where it should be",
        problems,
    );
}

pub fn vc715(message: &Entity, out: &mut Findings) {
    if message.header.get("Subject").is_some() {
        out.pass("VC-715", &message.path, "Subject present");
    } else {
        out.fail(
            "VC-715",
            &message.path,
            "the MDN has no Subject",
            Vec::new(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions() {
        let d = parse_disposition("automatic-action/MDN-sent-automatically;processed").unwrap();
        assert_eq!(d.kind, "processed");
        assert!(!d.is_failure());
        let d = parse_disposition(" Automatic-Action / MDN-Sent-Automatically ; Processed/Error ")
            .unwrap();
        assert!(d.is_failure());
        assert!(parse_disposition("automatic-action; processed").is_err());
        assert!(parse_disposition("automatic-action/MDN-sent-automatically; eaten").is_err());
        assert!(parse_disposition("processed").is_err());
    }

    use crate::validate::finding::{Profile, Status};
    use crate::validate::options::ValidationOptions;

    pub const MDN: &str = "From: bob@sut.direct.test\r\nTo: alice@hisp.direct.test\r\nSubject: Processed: hi\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <mdn-1@sut.direct.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=r\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nYour message was processed.\r\n--r\r\nContent-Type: message/disposition-notification\r\n\r\nReporting-UA: sut.direct.test; Direct HISP\r\nFinal-Recipient: rfc822; bob@sut.direct.test\r\nOriginal-Message-ID: <1@hisp.direct.test>\r\nDisposition: automatic-action/MDN-sent-automatically; processed\r\n\r\n--r--\r\n";

    /// Status of each VC-7xx finding for a (plain) message.
    fn statuses(raw: &str) -> Vec<(&'static str, Status)> {
        statuses_with(raw, None)
    }

    fn statuses_with(raw: &str, c: Option<&Correlation>) -> Vec<(&'static str, Status)> {
        let options = ValidationOptions::default();
        let m = MessageUnderValidation::analyse("t", raw.as_bytes(), &options);
        let mut out = Findings::new(Profile::Ds13);
        run(&m, c, &mut out);
        out.items.iter().map(|f| (f.id, f.status)).collect()
    }

    fn status_of(raw: &str, id: &str) -> Status {
        statuses(raw)
            .into_iter()
            .find(|(i, _)| *i == id)
            .map(|(_, s)| s)
            .unwrap_or_else(|| panic!("{id} not reported"))
    }

    #[test]
    fn a_good_plain_mdn_fails_only_701() {
        for (id, s) in statuses(MDN) {
            let want = if id == "VC-701" {
                Status::Failed
            } else {
                Status::Passed
            };
            assert_eq!(s, want, "{id}");
        }
    }

    #[test]
    fn each_mdn_check_fires() {
        use Status::{Failed, NotEvaluated, Passed};
        let dispatched = MDN.replace("; processed", "; dispatched");
        let cases: Vec<(String, &str, Status)> = vec![
            (MDN.replace("report-type=disposition-notification", "report-type=delivery-statu"), "VC-702", Failed),
            (MDN.replace("Content-Type: message/disposition-notification\r\n", "Content-Type: message/disposition-notification\r\nDisposition: automatic-action/MDN-sent-automatically; processed\r\n"), "VC-703", Failed),
            (MDN.replace("MIME-Version", "Disposition-Notification-To: a@b.test\r\nMIME-Version"), "VC-704", Failed),
            (MDN.replace("Reporting-UA: sut.direct.test; Direct HISP\r\n", ""), "VC-705", Failed),
            (MDN.replace("Reporting-UA", "MDN-Gateway: dns; gw.test\r\nReporting-UA"), "VC-706", Passed),
            (MDN.replace("Reporting-UA", "MDN-Gateway: gw.test\r\nReporting-UA"), "VC-706", Failed),
            (MDN.replace("Reporting-UA", "Original-Recipient: rfc822; bob@sut.direct.test\r\nReporting-UA"), "VC-707", Passed),
            (MDN.replace("Reporting-UA", "Original-Recipient: rfc822; bob\r\nReporting-UA"), "VC-707", Failed),
            (MDN.replace("Final-Recipient: rfc822; bob@sut.direct.test\r\n", ""), "VC-708", Failed),
            (MDN.replace("rfc822; bob@sut", "bob@sut"), "VC-708", Failed),
            (MDN.replace("<1@hisp.direct.test>", "1@hisp.direct.test"), "VC-709", Failed),
            (MDN.replace("; processed", "; error"), "VC-710", Failed),
            (MDN.replace("automatic-action/", ""), "VC-710", Failed),
            (MDN.replace(" processed\r\n", " processed\r\nX-DIRECT-FINAL-DESTINATION-DELIVERY:\r\n").replace("; processed", "; dispatched"), "VC-711", Passed),
            (dispatched.clone(), "VC-711", NotEvaluated),
            (MDN.replace("MIME-Version", "X-DIRECT-FINAL-DESTINATION-DELIVERY:\r\nMIME-Version").replace("; processed", "; dispatched"), "VC-711", Failed),
            (MDN.replace("; processed", "; failed"), "VC-712", Failed),
            (MDN.replace("; processed", "; failed\r\nFailure: mailbox full"), "VC-712", Passed),
            (MDN.replace("; processed", "; processed\r\nWarning: "), "VC-713", Failed),
            (MDN.replace("; processed", "; processed\r\nBogus: x"), "VC-713", Failed),
            (MDN.replace("From: bob@sut.direct.test", "From: mallory@evil.test"), "VC-714", Failed),
            (MDN.replace("From: bob@sut.direct.test", "From: postmaster@sut.direct.test"), "VC-714", Passed),
            (MDN.replace("Original-Message-ID: ", "\r\noriginal-message-id:   "), "VC-709", Passed),
            (MDN.replace("Subject: Processed: hi\r\n", ""), "VC-715", Failed),
        ];
        for (i, (raw, id, want)) in cases.iter().enumerate() {
            assert_eq!(status_of(raw, id), *want, "case {i} ({id})");
        }
    }

    #[test]
    fn correlation_decides_709_711_714() {
        let get = |raw: &str, c: &Correlation, id: &str| {
            statuses_with(raw, Some(c))
                .into_iter()
                .find(|(i, _)| *i == id)
                .map(|(_, s)| s)
        };
        let requested = Correlation::from_original(b"From: alice@hisp.direct.test\r\nMessage-ID: <1@hisp.direct.test>\r\nDisposition-Notification-To: alice@hisp.direct.test\r\nDisposition-Notification-Options: X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true\r\n\r\n");
        let plain = Correlation::from_original(
            b"From: carol@hisp.direct.test\r\nMessage-ID: <2@hisp.direct.test>\r\n\r\n",
        );
        let dispatched = MDN.replace("; processed", "; dispatched");
        let with_ext = MDN.replace(
            "; processed",
            "; dispatched\r\nX-DIRECT-FINAL-DESTINATION-DELIVERY:",
        );
        assert_eq!(get(MDN, &requested, "VC-709"), Some(Status::Passed));
        assert_eq!(get(MDN, &plain, "VC-709"), Some(Status::Failed));
        assert_eq!(get(&with_ext, &requested, "VC-711"), Some(Status::Passed));
        assert_eq!(get(&dispatched, &requested, "VC-711"), Some(Status::Failed));
        assert_eq!(get(&dispatched, &plain, "VC-711"), Some(Status::Passed));
        assert_eq!(get(&with_ext, &plain, "VC-711"), Some(Status::Failed));
        assert_eq!(get(MDN, &requested, "VC-714"), Some(Status::Passed));
        assert_eq!(get(MDN, &plain, "VC-714"), Some(Status::Failed));
    }

    #[test]
    fn ordinary_messages_get_no_mdn_findings() {
        assert!(statuses("From: a@b.test\r\n\r\nhello\r\n").is_empty());
    }
}
