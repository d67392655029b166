//! VC-2xx: MIME syntax of every entity of every layer (outer message, decrypted content,
//! wrapped message and their parts).

use crate::validate::engine::Findings;
use crate::validate::grammar::address::msg_id;
use crate::validate::grammar::mime::{check_boundary, content_disposition, transfer_encoding};
use crate::validate::message::{Entity, MessageUnderValidation};

pub fn run(m: &MessageUnderValidation, out: &mut Findings) {
    if let Some(line) = &m.mbox_line {
        out.info(
            "VC-208",
            &m.outer.path,
            "an mbox \"From \" line precedes the message; it was set aside",
            vec![line.clone()],
        );
    }
    for e in m.all_entities() {
        vc201(e, out);
        if e.essence().starts_with("multipart/") {
            vc202(e, out);
        }
        vc203(e, out);
        if e.header.get("Content-Disposition").is_some() {
            vc205(e, out);
        }
        if e.header.get("Content-ID").is_some() {
            vc206(e, out);
        }
        vc207(e, out);
        vc208(e, out);
        if e.is_base64() {
            vc209(e, out);
        }
    }
    // Line rules apply to whole layers as transmitted (and as signed). A file with no CRLF at
    // all was most likely converted when it was stored, not sent that way: a warning, not an
    // error; the decrypted layer is judged as is, since it is exactly what was signed.
    if !m.raw.windows(2).any(|w| w == b"\r\n") && m.raw.contains(&b'\n') {
        out.fail_at(
            "VC-204",
            crate::validate::finding::Severity::Warning,
            &m.outer.path,
            "the file has LF line ends only: stored after conversion? SMTP carries CRLF",
            Vec::new(),
        );
    } else {
        vc204(&m.outer.path, &m.raw, out);
    }
    if let Some(d) = &m.decrypted {
        vc204(&d.path, &d.raw, out);
    }
}

/// The names of MIME fields that appear more than once (RFC 2045 allows one of each).
fn duplicated(e: &Entity, name: &str) -> Option<String> {
    (e.header.all(name).count() > 1).then(|| format!("{name} appears more than once"))
}

pub fn vc201(e: &Entity, out: &mut Findings) {
    if let Some(d) = duplicated(e, "Content-Type") {
        out.fail("VC-201", &e.path, d, Vec::new());
        return;
    }
    match &e.content_type {
        None => out.pass("VC-201", &e.path, "no Content-Type (text/plain by default)"),
        Some(Ok(p)) => out.pass("VC-201", &e.path, format!("Content-Type {}", p.value)),
        Some(Err(err)) => out.fail(
            "VC-201",
            &e.path,
            format!("Content-Type: {err}"),
            e.header
                .value("Content-Type")
                .map(|v| vec![v.to_string()])
                .unwrap_or_default(),
        ),
    }
}

pub fn vc202(e: &Entity, out: &mut Findings) {
    let Some(Ok(ct)) = &e.content_type else {
        out.not_evaluated("VC-202", &e.path, "Content-Type does not parse (VC-201)");
        return;
    };
    match ct.param("boundary") {
        None => out.fail(
            "VC-202",
            &e.path,
            "multipart without a boundary parameter",
            Vec::new(),
        ),
        Some(b) => match check_boundary(b) {
            Ok(()) => out.pass("VC-202", &e.path, format!("boundary {:?}", b.value)),
            Err(err) => out.fail("VC-202", &e.path, err, vec![b.value.clone()]),
        },
    }
}

pub fn vc203(e: &Entity, out: &mut Findings) {
    if let Some(d) = duplicated(e, "Content-Transfer-Encoding") {
        out.fail("VC-203", &e.path, d, Vec::new());
        return;
    }
    let Some(raw) = e.header.value("Content-Transfer-Encoding") else {
        if e.body.iter().any(|b| *b > 127) {
            out.fail(
                "VC-203",
                &e.path,
                "no Content-Transfer-Encoding (7bit) but the body holds 8-bit octets",
                Vec::new(),
            );
        } else {
            out.pass("VC-203", &e.path, "7bit (default)");
        }
        return;
    };
    let cte = match transfer_encoding(raw) {
        Ok(c) => c,
        Err(err) => {
            out.fail(
                "VC-203",
                &e.path,
                format!("Content-Transfer-Encoding: {err}"),
                Vec::new(),
            );
            return;
        }
    };
    let essence = e.essence();
    let composite = essence.starts_with("multipart/") || essence.starts_with("message/");
    let allowed: &[&str] = if composite {
        &["7bit", "8bit", "binary"]
    } else {
        &["7bit", "quoted-printable", "base64"]
    };
    if !allowed.contains(&cte.as_str()) {
        out.fail(
            "VC-203",
            &e.path,
            format!(
                "{cte} is not allowed on {} ({})",
                essence,
                allowed.join(", ")
            ),
            Vec::new(),
        );
    } else if cte == "7bit" && e.body.iter().any(|b| *b > 127) {
        out.fail(
            "VC-203",
            &e.path,
            "declared 7bit but the body holds 8-bit octets",
            Vec::new(),
        );
    } else {
        out.pass("VC-203", &e.path, format!("{cte} on {essence}"));
    }
}

/// Line rules over a whole layer: CRLF only, no control characters but TAB, ≤ 998 octets.
pub fn vc204(path: &str, raw: &[u8], out: &mut Findings) {
    let mut problems = Vec::new();
    let mut line_no = 1usize;
    let mut line_len = 0usize;
    let mut i = 0;
    let note = |problems: &mut Vec<String>, text: String| {
        if problems.len() < 10 {
            problems.push(text);
        } else if problems.len() == 10 {
            problems.push("… (further problems not listed)".into());
        }
    };
    while i < raw.len() {
        match raw[i] {
            b'\r' if raw.get(i + 1) == Some(&b'\n') => {
                line_no += 1;
                line_len = 0;
                i += 2;
                continue;
            }
            b'\r' => note(&mut problems, format!("line {line_no}: bare CR")),
            b'\n' => {
                note(&mut problems, format!("line {line_no}: bare LF"));
                line_no += 1;
                line_len = 0;
                i += 1;
                continue;
            }
            b if b < 32 && b != b'\t' || b == 127 => note(
                &mut problems,
                format!("line {line_no}: control character 0x{b:02x}"),
            ),
            _ => {}
        }
        line_len += 1;
        if line_len == 999 {
            note(
                &mut problems,
                format!("line {line_no}: longer than 998 octets"),
            );
        }
        i += 1;
    }
    out.verdict(
        "VC-204",
        path,
        "CRLF line ends, no stray control characters, lines within 998 octets",
        "line-end or line-length rules broken",
        problems,
    );
}

pub fn vc205(e: &Entity, out: &mut Findings) {
    if let Some(d) = duplicated(e, "Content-Disposition") {
        out.fail("VC-205", &e.path, d, Vec::new());
        return;
    }
    let Some(v) = e.header.value("Content-Disposition") else {
        return;
    };
    match content_disposition(v) {
        Ok(d) if d.comments > 0 => out.fail(
            "VC-205",
            &e.path,
            "Content-Disposition holds comments (RFC 2183 forbids them)",
            vec![v.to_string()],
        ),
        Ok(d) => out.pass(
            "VC-205",
            &e.path,
            format!("Content-Disposition {}", d.value),
        ),
        Err(err) => out.fail(
            "VC-205",
            &e.path,
            format!("Content-Disposition: {err}"),
            vec![v.to_string()],
        ),
    }
}

pub fn vc206(e: &Entity, out: &mut Findings) {
    let Some(v) = e.header.value("Content-ID") else {
        return;
    };
    match msg_id(v) {
        Ok(id) => out.pass("VC-206", &e.path, format!("Content-ID {id}")),
        Err(err) => out.fail(
            "VC-206",
            &e.path,
            format!("Content-ID: {err}"),
            vec![v.to_string()],
        ),
    }
}

/// The MIME fields of RFC 2045, 2183, 3066, 2557, 1864.
const MIME_FIELDS: &[&str] = &[
    "content-type",
    "content-transfer-encoding",
    "content-id",
    "content-description",
    "content-disposition",
    "content-language",
    "content-location",
    "content-md5",
    "content-base",
    "content-duration",
    "content-features",
    "content-alternative",
];

pub fn vc207(e: &Entity, out: &mut Findings) {
    let odd: Vec<String> = e
        .header
        .fields
        .iter()
        .filter(|f| {
            let n = f.name.to_ascii_lowercase();
            n.starts_with("content-") && !MIME_FIELDS.contains(&n.as_str())
        })
        .map(|f| format!("line {}: {}", f.line, f.name))
        .collect();
    if odd.is_empty() {
        out.pass("VC-207", &e.path, "no unknown Content-* fields");
    } else {
        out.info(
            "VC-207",
            &e.path,
            "Content-* fields that are not MIME fields",
            odd,
        );
    }
}

pub fn vc208(e: &Entity, out: &mut Findings) {
    let mut problems: Vec<String> = e
        .header
        .problems
        .iter()
        .map(|p| format!("header line {}: {}", p.line, p.text))
        .collect();
    if let Some(s) = &e.structure_error {
        problems.push(s.clone());
    }
    out.verdict(
        "VC-208",
        &e.path,
        if e.children.is_empty() {
            "entity parses".to_string()
        } else {
            format!("multipart closes, {} part(s)", e.children.len())
        },
        "entity does not parse",
        problems,
    );
}

/// Strict base64 (RFC 2045 §6.8): alphabet, padding only at the end, lines ≤ 76.
pub fn base64_problems(body: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut count = 0usize;
    let mut padding = 0usize;
    for (n, line) in body.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > 76 {
            problems.push(format!(
                "line {}: {} characters (76 allowed)",
                n + 1,
                line.len()
            ));
        }
        for b in line {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' if padding == 0 => count += 1,
                b'=' => {
                    padding += 1;
                    count += 1;
                }
                b' ' | b'\t' => {}
                other => {
                    problems.push(format!(
                        "line {}: {} in base64",
                        n + 1,
                        if padding > 0 {
                            "data after padding".to_string()
                        } else {
                            format!("character 0x{other:02x}")
                        }
                    ));
                    break;
                }
            }
        }
        if problems.len() > 5 {
            problems.push("… (further problems not listed)".into());
            return problems;
        }
    }
    if !count.is_multiple_of(4) || padding > 2 {
        problems.push(format!(
            "{count} base64 characters: not a whole number of quanta"
        ));
    }
    problems
}

pub fn vc209(e: &Entity, out: &mut Findings) {
    out.verdict(
        "VC-209",
        &e.path,
        "base64 decodes cleanly, lines within 76 characters",
        "base64 body is not clean",
        base64_problems(&e.body),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::finding::{Profile, Status};

    fn run_on(f: fn(&Entity, &mut Findings), raw: &str) -> Status {
        let mut out = Findings::new(Profile::Ds13);
        f(&Entity::parse("p", raw.as_bytes()), &mut out);
        out.items.first().map(|f| f.status).expect("a finding")
    }

    #[test]
    fn entity_checks_fire_and_stay_quiet() {
        use Status::{Failed, Info, Passed};
        type Check = fn(&Entity, &mut Findings);
        let cases: &[(Check, &str, Status)] = &[
            (
                vc201,
                "Content-Type: text/plain; charset=us-ascii\r\n\r\nx",
                Passed,
            ),
            (vc201, "Content-Type: text\r\n\r\nx", Failed),
            (
                vc201,
                "Content-Type: text/plain\r\nContent-Type: text/html\r\n\r\nx",
                Failed,
            ),
            (
                vc203,
                "Content-Transfer-Encoding: 7bit\r\nContent-Transfer-Encoding: base64\r\n\r\nx",
                Failed,
            ),
            (
                vc205,
                "Content-Disposition: inline\r\nContent-Disposition: inline\r\n\r\n",
                Failed,
            ),
            (
                vc202,
                "Content-Type: multipart/mixed; boundary=\"a:b\"\r\n\r\n--a:b--\r\n",
                Passed,
            ),
            (
                vc202,
                "Content-Type: multipart/mixed; boundary=\"a*b\"\r\n\r\n--a*b--\r\n",
                Failed,
            ),
            (
                vc203,
                "Content-Transfer-Encoding: base64\r\n\r\naGk=\r\n",
                Passed,
            ),
            (
                vc203,
                "Content-Type: multipart/mixed; boundary=a\r\nContent-Transfer-Encoding: base64\r\n\r\n--a--\r\n",
                Failed,
            ),
            (vc203, "Content-Transfer-Encoding: 8bit\r\n\r\nx", Failed),
            (vc203, "\r\ncaf\u{e9}", Failed),
            (
                vc205,
                "Content-Disposition: attachment; filename=\"smime.p7m\"\r\n\r\n",
                Passed,
            ),
            (
                vc205,
                "Content-Disposition: attachment (c); filename=x\r\n\r\n",
                Failed,
            ),
            (vc205, "Content-Disposition: ; x\r\n\r\n", Failed),
            (vc206, "Content-ID: <part1@x.test>\r\n\r\n", Passed),
            (vc206, "Content-ID: part1\r\n\r\n", Failed),
            (vc207, "Content-Type: text/plain\r\n\r\n", Passed),
            (vc207, "Content-Foo: bar\r\n\r\n", Info),
            (
                vc208,
                "Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n\r\nx\r\n--a--\r\n",
                Passed,
            ),
            (
                vc208,
                "Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n\r\nx\r\n",
                Failed,
            ),
            (vc208, "not a field\r\n\r\nx", Failed),
            (
                vc209,
                "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n",
                Passed,
            ),
            (
                vc209,
                "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=x\r\n",
                Failed,
            ),
            (
                vc209,
                "Content-Transfer-Encoding: base64\r\n\r\naGVsb\r\n",
                Failed,
            ),
        ];
        for (i, (f, raw, want)) in cases.iter().enumerate() {
            assert_eq!(run_on(*f, raw), *want, "case {i}: {raw}");
        }
        let long = format!(
            "Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            "QUFB".repeat(20)
        );
        assert_eq!(run_on(vc209, &long), Status::Failed);
    }

    #[test]
    fn line_rules() {
        let check = |raw: &[u8]| {
            let mut out = Findings::new(Profile::Ds13);
            vc204("p", raw, &mut out);
            out.items[0].status
        };
        assert_eq!(check(b"a\r\nb\r\n"), Status::Passed);
        assert_eq!(check(b"a\nb\r\n"), Status::Failed);
        assert_eq!(check(b"a\rb\r\n"), Status::Failed);
        assert_eq!(check(b"a\x00b\r\n"), Status::Failed);
        assert_eq!(check(&[b'x'; 999]), Status::Failed);
        assert_eq!(check(&[b'x'; 998]), Status::Passed);
    }
}
