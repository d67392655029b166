//! VC-3xx: the S/MIME structure (RFC 5751 §3): the enveloped outer entity, the multipart/signed
//! inside it, and the wrapped message inside that.

use crate::smime::DigestAlgorithm;
use crate::validate::checks::closed_envelope_reason;
use crate::validate::engine::Findings;
use crate::validate::finding::Severity;
use crate::validate::grammar::mime::content_disposition;
use crate::validate::message::{Entity, MessageUnderValidation};

pub fn run(m: &MessageUnderValidation, out: &mut Findings) {
    let outer = &m.outer;
    vc301(outer, out);
    if outer.is_pkcs7_mime() {
        let authenticated = m
            .envelope
            .as_ref()
            .and_then(|e| e.info.as_ref().ok())
            .is_some_and(|i| i.authenticated);
        vc302(outer, authenticated, out);
        vc303(outer, out);
        vc304(outer, out);
        vc305(m, out);
    } else {
        for id in ["VC-302", "VC-303", "VC-304", "VC-305"] {
            out.not_evaluated(
                id,
                &outer.path,
                "the outer entity is not application/pkcs7-mime",
            );
        }
    }
    let signed_container = match (&m.envelope, &m.decrypted) {
        (Some(_), Some(d)) => {
            vc306(d, out);
            Some(d)
        }
        (Some(_), None) => {
            out.not_evaluated("VC-306", &outer.path, closed_envelope_reason(m));
            None
        }
        (None, _) => {
            out.not_evaluated("VC-306", &outer.path, "the message is not enveloped");
            (outer.essence() == "multipart/signed").then_some(outer)
        }
    };
    match signed_container.filter(|e| e.essence() == "multipart/signed") {
        Some(s) => {
            vc307(s, out);
            vc308(m, s, out);
            vc309(s, out);
            vc310(s, out);
            vc311(s, out);
            match m.inner() {
                Some(inner) => vc312(inner, out),
                None => out.not_evaluated("VC-312", &s.path, "not applicable: no wrapped message"),
            }
            vc313(s, out);
        }
        None => {
            let reason = if m.envelope.is_some() && m.decrypted.is_none() {
                closed_envelope_reason(m)
            } else {
                "there is no multipart/signed entity".to_string()
            };
            for id in [
                "VC-307", "VC-308", "VC-309", "VC-310", "VC-311", "VC-312", "VC-313",
            ] {
                out.not_evaluated(id, &outer.path, reason.clone());
            }
        }
    }
}

pub fn vc301(outer: &Entity, out: &mut Findings) {
    match outer.essence().as_str() {
        "application/pkcs7-mime" => out.pass("VC-301", &outer.path, "application/pkcs7-mime"),
        "application/x-pkcs7-mime" => out.info(
            "VC-301",
            &outer.path,
            "legacy application/x-pkcs7-mime (accepted; RFC 5751 names application/pkcs7-mime)",
            Vec::new(),
        ),
        other => out.fail(
            "VC-301",
            &outer.path,
            format!(
                "outer type is {other}, not application/pkcs7-mime: the message is not encrypted"
            ),
            Vec::new(),
        ),
    }
}

pub fn vc302(outer: &Entity, authenticated: bool, out: &mut Findings) {
    let want = if authenticated {
        "authenveloped-data"
    } else {
        "enveloped-data"
    };
    match outer.param("smime-type") {
        Some(v) if v.eq_ignore_ascii_case(want) => {
            out.pass("VC-302", &outer.path, format!("smime-type={v}"))
        }
        Some(v) => out.fail(
            "VC-302",
            &outer.path,
            format!("smime-type={v}, expected {want}"),
            Vec::new(),
        ),
        None => out.fail(
            "VC-302",
            &outer.path,
            "smime-type parameter missing",
            Vec::new(),
        ),
    }
}

pub fn vc303(outer: &Entity, out: &mut Findings) {
    match outer.param("name") {
        Some(v) if v.eq_ignore_ascii_case("smime.p7m") => {
            out.pass("VC-303", &outer.path, "name=smime.p7m")
        }
        Some(v) => out.fail(
            "VC-303",
            &outer.path,
            format!("name={v}, expected smime.p7m"),
            Vec::new(),
        ),
        None => out.fail("VC-303", &outer.path, "name parameter missing", Vec::new()),
    }
}

pub fn vc304(outer: &Entity, out: &mut Findings) {
    let filename = outer
        .header
        .value("Content-Disposition")
        .and_then(|v| content_disposition(v).ok())
        .and_then(|d| d.param("filename").map(|p| p.value.clone()));
    match filename {
        Some(f) if f.eq_ignore_ascii_case("smime.p7m") => {
            out.pass("VC-304", &outer.path, "filename=smime.p7m")
        }
        Some(f) => out.fail(
            "VC-304",
            &outer.path,
            format!("filename={f}, expected smime.p7m"),
            Vec::new(),
        ),
        None => out.fail(
            "VC-304",
            &outer.path,
            "no Content-Disposition with filename=smime.p7m",
            Vec::new(),
        ),
    }
}

pub fn vc305(m: &MessageUnderValidation, out: &mut Findings) {
    let path = &m.outer.path;
    if !m.outer.is_base64() {
        out.fail(
            "VC-305",
            path,
            format!(
                "enveloped entity is {}, not base64",
                m.outer
                    .transfer_encoding()
                    .unwrap_or_else(|| "7bit (no Content-Transfer-Encoding)".into())
            ),
            Vec::new(),
        );
        return;
    }
    match m.envelope.as_ref().map(|e| &e.der) {
        Some(Ok(der)) => out.pass(
            "VC-305",
            path,
            format!("base64, {} octets of CMS", der.len()),
        ),
        Some(Err(e)) => out.fail(
            "VC-305",
            path,
            format!("base64 does not decode: {e}"),
            Vec::new(),
        ),
        None => out.not_evaluated("VC-305", path, "no envelope"),
    }
}

pub fn vc306(decrypted: &Entity, out: &mut Findings) {
    let essence = decrypted.essence();
    if essence == "multipart/signed" {
        out.pass(
            "VC-306",
            &decrypted.path,
            "decrypted content is multipart/signed",
        );
    } else {
        out.fail(
            "VC-306",
            &decrypted.path,
            format!("decrypted content is {essence}, not multipart/signed (sign, then encrypt)"),
            Vec::new(),
        );
    }
}

pub fn vc307(s: &Entity, out: &mut Findings) {
    match s.param("protocol") {
        Some(p) if p.eq_ignore_ascii_case("application/pkcs7-signature") => out.pass(
            "VC-307",
            &s.path,
            "protocol=\"application/pkcs7-signature\"",
        ),
        Some(p) if p.eq_ignore_ascii_case("application/x-pkcs7-signature") => out.info(
            "VC-307",
            &s.path,
            "legacy protocol application/x-pkcs7-signature (accepted)",
            Vec::new(),
        ),
        Some(p) => out.fail("VC-307", &s.path, format!("protocol={p}"), Vec::new()),
        None => out.fail("VC-307", &s.path, "protocol parameter missing", Vec::new()),
    }
}

pub fn vc308(m: &MessageUnderValidation, s: &Entity, out: &mut Findings) {
    let Some(micalg) = s.param("micalg") else {
        out.fail("VC-308", &s.path, "micalg parameter missing", Vec::new());
        return;
    };
    let Some(alg) = DigestAlgorithm::from_micalg(&micalg) else {
        out.fail(
            "VC-308",
            &s.path,
            format!("micalg={micalg} names no known digest"),
            Vec::new(),
        );
        return;
    };
    let signer_digest = m
        .signature
        .as_ref()
        .and_then(|l| l.report.as_ref().ok())
        .and_then(|r| r.signers.first())
        .map(|si| si.digest);
    match signer_digest {
        None => out.not_evaluated(
            "VC-308",
            &s.path,
            format!("micalg={micalg} parses, but there is no SignerInfo to compare it with"),
        ),
        Some(d) if d != Some(alg) => out.fail(
            "VC-308",
            &s.path,
            format!(
                "micalg={micalg} but the SignerInfo digest is {}",
                d.map_or("unknown".to_string(), |d| d.name().to_string())
            ),
            Vec::new(),
        ),
        Some(_) if !micalg.eq_ignore_ascii_case(alg.micalg()) => out.fail_at(
            "VC-308",
            Severity::Info,
            &s.path,
            format!(
                "micalg={micalg} matches the SignerInfo; RFC 5751 spells it {}",
                alg.micalg()
            ),
            Vec::new(),
        ),
        Some(_) => out.pass(
            "VC-308",
            &s.path,
            format!("micalg={micalg} matches the SignerInfo"),
        ),
    }
}

pub fn vc309(s: &Entity, out: &mut Findings) {
    if s.children.len() == 2 {
        out.pass("VC-309", &s.path, "two parts");
    } else {
        out.fail(
            "VC-309",
            &s.path,
            format!("{} part(s), exactly two required", s.children.len()),
            s.structure_error.iter().cloned().collect(),
        );
    }
}

pub fn vc310(s: &Entity, out: &mut Findings) {
    let Some(sig) = s.children.get(1) else {
        out.fail("VC-310", &s.path, "no second (signature) part", Vec::new());
        return;
    };
    let essence = sig.essence();
    let type_ok =
        essence == "application/pkcs7-signature" || essence == "application/x-pkcs7-signature";
    let mut problems = Vec::new();
    if !type_ok {
        problems.push(format!(
            "second part is {essence}, not application/pkcs7-signature"
        ));
    }
    if !sig.is_base64() {
        problems.push("signature part is not base64".into());
    }
    out.verdict(
        "VC-310",
        &sig.path,
        format!("{essence}, base64"),
        "the signature part is not a base64 application/pkcs7-signature",
        problems,
    );
}

pub fn vc311(s: &Entity, out: &mut Findings) {
    let Some(first) = s.children.first() else {
        out.fail("VC-311", &s.path, "no first part", Vec::new());
        return;
    };
    let essence = first.essence();
    if essence == "message/rfc822" {
        out.pass(
            "VC-311",
            &first.path,
            "wrapped: the first part is message/rfc822",
        );
    } else {
        out.fail(
            "VC-311",
            &first.path,
            format!("unwrapped: the first part is {essence}, not message/rfc822"),
            Vec::new(),
        );
    }
}

pub fn vc312(inner: &Entity, out: &mut Findings) {
    let missing: Vec<String> = ["From", "To", "Date", "Message-ID", "MIME-Version"]
        .iter()
        .filter(|n| inner.header.get(n).is_none())
        .map(|n| format!("{n} missing"))
        .collect();
    out.verdict(
        "VC-312",
        &inner.path,
        "the wrapped message has From, To, Date, Message-ID and MIME-Version",
        "the wrapped message lacks mandatory fields",
        missing,
    );
}

pub fn vc313(s: &Entity, out: &mut Findings) {
    let layers: Vec<String> = s
        .children
        .first()
        .map(|first| first.walk())
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.is_pkcs7_mime() || e.essence() == "multipart/signed")
        .map(|e| format!("{}: {}", e.path, e.essence()))
        .collect();
    if layers.is_empty() {
        out.pass("VC-313", &s.path, "no further security layers inside");
    } else {
        out.info(
            "VC-313",
            &s.path,
            "further signing or encryption layers inside",
            layers,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::finding::{Profile, Status};

    fn one(f: impl Fn(&Entity, &mut Findings), raw: &str, profile: Profile) -> (Status, Severity) {
        let mut out = Findings::new(profile);
        f(&Entity::parse("message", raw.as_bytes()), &mut out);
        (out.items[0].status, out.items[0].severity)
    }

    const ENV: &str = "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Disposition: attachment; filename=smime.p7m\r\n\r\n";

    #[test]
    fn outer_parameters() {
        let p = Profile::Ds13;
        assert_eq!(one(vc301, ENV, p).0, Status::Passed);
        assert_eq!(
            one(vc301, "Content-Type: application/x-pkcs7-mime\r\n\r\n", p).0,
            Status::Info
        );
        assert_eq!(
            one(vc301, "Content-Type: text/plain\r\n\r\n", p).0,
            Status::Failed
        );
        assert_eq!(one(|e, o| vc302(e, false, o), ENV, p).0, Status::Passed);
        assert_eq!(
            one(|e, o| vc302(e, true, o), ENV, p),
            (Status::Failed, Severity::Warning)
        );
        assert_eq!(one(vc303, ENV, p).0, Status::Passed);
        assert_eq!(
            one(vc303, "Content-Type: application/pkcs7-mime\r\n\r\n", p).0,
            Status::Failed
        );
        assert_eq!(one(vc304, ENV, p).0, Status::Passed);
        assert_eq!(
            one(vc304, "Content-Type: application/pkcs7-mime\r\n\r\n", p).0,
            Status::Failed
        );
        assert_eq!(
            one(vc306, "Content-Type: text/plain\r\n\r\n", p).0,
            Status::Failed
        );
    }

    const SIGNED: &str = "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: a@b.test\r\nTo: c@d.test\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@b.test>\r\nMIME-Version: 1.0\r\n\r\nhi\r\n--b\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b--\r\n";
    const UNWRAPPED: &str = "Content-Type: multipart/signed; micalg=sha-256; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: text/plain\r\n\r\nAAAA\r\n--b\r\n\r\nx\r\n--b--\r\n";

    #[test]
    fn signed_structure() {
        let p = Profile::Ds13;
        for f in [vc307, vc309, vc310, vc311, vc313] {
            assert_eq!(one(f, SIGNED, p).0, Status::Passed);
        }
        for f in [vc307, vc309, vc310, vc311] {
            assert_eq!(one(f, UNWRAPPED, p).0, Status::Failed);
        }
        // unwrapped: a warning under ds-1.3, an error under ats-1.2
        assert_eq!(one(vc311, UNWRAPPED, Profile::Ds13).1, Severity::Warning);
        assert_eq!(one(vc311, UNWRAPPED, Profile::Ats12).1, Severity::Error);
        let e = Entity::parse("m", SIGNED.as_bytes());
        let inner = e.children[0].embedded.as_deref().expect("inner");
        let mut out = Findings::new(p);
        vc312(inner, &mut out);
        let bare = Entity::parse("i", b"From: a@b.test\r\n\r\nx");
        vc312(&bare, &mut out);
        assert_eq!(out.items[0].status, Status::Passed);
        assert_eq!(out.items[1].status, Status::Failed);
        let nested = SIGNED.replace(
            "Content-Type: message/rfc822\r\n\r\nFrom",
            "Content-Type: message/rfc822\r\n\r\nContent-Type: application/pkcs7-mime\r\nFrom",
        );
        assert_eq!(one(vc313, &nested, p).0, Status::Info);
    }
}
