//! Attachments an edge receiver must take (TEST-CATALOGUE §d.1 SMTP25–29, EDGE-12, EDGE-18):
//! two attachments in each order, C-CDA with a broken or bad stylesheet reference, XDM with
//! bad XHTML, XDM as `application/octet-stream`, XDM whose METADATA.XML types the document
//! `application/xml`. The SUT is a HISP, so they reach it through BB-IN as Direct messages
//! (§d intro), and EDGE-RET decides: every attachment arrives byte-identical.

use cucumber::{given, then, when};
use direct_conformance::sut::content::{self, Stylesheet, XdmOptions};
use direct_conformance::sut::stimulus::Stimulus;
use mail_parser::MimeHeaders as _;

use super::send::{SENDER, excerpt};
use super::trust_send::sha256_hex;
use super::world::DirectWorld;

/// One attachment: file name, Content-Type, bytes.
type Part = (String, String, Vec<u8>);

fn xdm(o: XdmOptions) -> Result<Vec<u8>, String> {
    content::xdm(o).map_err(|e| e.to_string())
}

/// The attachment a phrase of the feature names.
fn part(what: &str) -> Result<Part, String> {
    // The odd XDM cases use the other ZIP form (Stored, no directory entries): between them
    // the cases carry both forms the ETT FAQ names.
    let plain_zip = XdmOptions {
        deflate_with_directories: false,
        ..XdmOptions::default()
    };
    let (name, ct, bytes) = match what {
        "text" => ("note.txt", "text/plain; charset=us-ascii", content::text()),
        "C-CDA" => ("ccda.xml", "text/xml", content::ccda(Stylesheet::None)),
        "PDF" => ("report.pdf", "application/pdf", content::pdf()),
        "XDM" => ("xdm.zip", "application/zip", xdm(XdmOptions::default())?),
        "C-CDA with a broken stylesheet reference" => {
            ("ccda.xml", "text/xml", content::ccda(Stylesheet::Broken))
        }
        "C-CDA with a bad stylesheet reference" => {
            ("ccda.xml", "text/xml", content::ccda(Stylesheet::Bad))
        }
        "XDM package whose INDEX.HTM is not well-formed XHTML" => (
            "xdm.zip",
            "application/zip",
            xdm(XdmOptions {
                bad_xhtml: true,
                ..plain_zip
            })?,
        ),
        "XDM package sent as application/octet-stream" => {
            ("xdm.zip", "application/octet-stream", xdm(plain_zip)?)
        }
        "XDM package whose METADATA.XML types the C-CDA application/xml" => (
            "xdm.zip",
            "application/zip",
            xdm(XdmOptions {
                metadata_mime: "application/xml",
                ..plain_zip
            })?,
        ),
        other => return Err(format!("no test content called {other:?}")),
    };
    Ok((name.to_string(), ct.to_string(), bytes))
}

/// The inner message: a short text body, then each attachment in order (base64).
fn message(w: &DirectWorld, to: &str, id: &str, parts: &[Part]) -> Vec<u8> {
    let boundary = format!("=_dc_att_{}", w.correlation_id);
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    let mut out = format!(
        "From: {SENDER}\r\nTo: {to}\r\nSubject: direct-conformance attachments {corr}\r\nDate: {date}\r\nMessage-ID: {id}\r\nDisposition-Notification-To: {SENDER}\r\nDisposition-Notification-Options: X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nAttachments from the direct-conformance harness.\r\n",
        corr = w.correlation_id,
    )
    .into_bytes();
    for (name, ct, bytes) in parts {
        out.extend_from_slice(
            format!("--{boundary}\r\nContent-Type: {ct}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n").as_bytes(),
        );
        out.extend_from_slice(&direct_conformance::smime::entity::base64_lines(bytes));
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

fn prepare(w: &mut DirectWorld, parts: Vec<Part>) -> Result<(), String> {
    let ctx = w.ctx()?;
    let to = ctx
        .sut
        .recipient("primary")
        .map(|r| r.address.clone())
        .ok_or("sut.toml declares no recipients.primary")?;
    let id = format!("<{}@hisp.direct.test>", w.correlation_id);
    let inner = message(w, &to, &id, &parts);
    let mut listing = String::new();
    w.smtp.attachments.clear();
    for (name, ct, bytes) in &parts {
        let hash = sha256_hex(bytes);
        listing.push_str(&format!("{name} ({ct}, {} octets): {hash}\n", bytes.len()));
        w.smtp.attachments.push((name.clone(), hash));
    }
    w.record("note", "attachments sent, with SHA-256", listing);
    let mut stim = Stimulus::new(SENDER, &[to], &id);
    stim.body = Some(inner);
    w.stimulus = Some(stim);
    w.roles = vec!["primary".into()];
    Ok(())
}

#[given(
    regex = r"^a message for the SUT's primary recipient carrying (?:a|an) (text|C-CDA|PDF|XDM) attachment, then (?:a|an) (text|C-CDA|PDF|XDM) attachment$"
)]
fn two_attachments(w: &mut DirectWorld, first: String, second: String) -> Result<(), String> {
    let parts = vec![part(&first)?, part(&second)?];
    if parts[0].0 == parts[1].0 {
        return Err("two attachments of one kind: the case needs two kinds".into());
    }
    prepare(w, parts)
}

#[given(
    regex = r"^a message for the SUT's primary recipient carrying (?:a|an) (C-CDA with .+|XDM package .+)$"
)]
fn one_attachment(w: &mut DirectWorld, what: String) -> Result<(), String> {
    let p = part(&what)?;
    prepare(w, vec![p])
}

/// The route of §d intro: the SUT is a HISP (sut.toml always names its backbone), so the
/// message goes in as a Direct message through BB-IN.
#[when("the harness sends it to the SUT")]
async fn send(w: &mut DirectWorld) -> Result<(), String> {
    w.record(
        "note",
        "route",
        "BB-IN: a Direct message signed by the harness and encrypted to the recipient (the SUT is a HISP; TEST-CATALOGUE §d intro)",
    );
    super::send::deliver(w).await
}

#[then("the SUT's primary recipient receives every attachment byte-identical")]
async fn intact(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let sent = w.sent()?.clone();
    if !sent.smtp.accepted() {
        return Err(format!(
            "the SUT did not accept the message: {}",
            sent.smtp
                .data_reply
                .as_ref()
                .map(|(c, t)| format!("{c} {t}"))
                .or(sent.smtp.error.clone())
                .unwrap_or_default()
        ));
    }
    let window = ctx.sut.windows.accept;
    let (found, transcript) =
        super::verdict::wait_for_delivery(w, "primary", &sent.message_id, window).await?;
    w.record(
        "pop3",
        "edge retrieval for the primary recipient",
        transcript,
    );
    let Some(m) = found else {
        return Err(format!(
            "the message {} did not reach the primary recipient within {window:?}",
            sent.message_id
        ));
    };
    w.record("message", "as retrieved by the recipient", excerpt(&m));
    let parsed = mail_parser::MessageParser::default()
        .parse(&m)
        .ok_or("the retrieved message does not parse")?;
    let got: Vec<(String, String)> = parsed
        .attachments()
        .map(|a| {
            (
                a.attachment_name().unwrap_or("?").to_string(),
                sha256_hex(a.contents()),
            )
        })
        .collect();
    let mut text = String::new();
    let mut problems = Vec::new();
    for (name, hash) in &w.smtp.attachments {
        let seen = got.iter().find(|(n, _)| n == name).map(|(_, h)| h.clone());
        text.push_str(&format!(
            "{name}: sent {hash}, retrieved {}\n",
            seen.as_deref().unwrap_or("(missing)")
        ));
        match seen {
            Some(h) if &h == hash => {}
            Some(_) => problems.push(format!("{name} altered")),
            None => problems.push(format!("{name} missing")),
        }
    }
    w.record("note", "SHA-256 of each attachment at EDGE-RET", text);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "attachments not intact at the recipient: {}",
            problems.join("; ")
        ))
    }
}
