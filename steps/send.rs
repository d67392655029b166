//! What the harness prepares and sends to the SUT's backbone, in the vendor's words:
//! "a Direct message … signed with … encrypted with … delivered to the SUT's backbone".

use cucumber::{given, when};
use direct_conformance::mdn::{Disposition, DispositionKind, MdnSpec, build_mdn};
use direct_conformance::smime::{ContentCipher, DigestAlgorithm, KeyTransport};
use direct_conformance::sut::smtp;
use direct_conformance::sut::stimulus::{Form, Stimulus};
use x509_cert::Certificate;

use super::world::{DirectWorld, Sent};

/// The harness's default sender (TEST-CATALOGUE §b.1).
pub const SENDER: &str = "sender@hisp.direct.test";

fn start(w: &mut DirectWorld, roles: Vec<String>) -> Result<(), String> {
    let ctx = w.ctx()?;
    let mut to = Vec::new();
    for role in &roles {
        let r = ctx
            .sut
            .recipient(role)
            .ok_or_else(|| format!("sut.toml declares no `recipients.{role}`"))?;
        to.push(r.address.clone());
    }
    let id = format!("<{}@hisp.direct.test>", w.correlation_id);
    w.stimulus = Some(Stimulus::new(SENDER, &to, &id));
    w.roles = roles;
    Ok(())
}

#[given(regex = r"^a Direct message from the harness to the SUT's (\w+) recipient$")]
fn message_to(w: &mut DirectWorld, role: String) -> Result<(), String> {
    start(w, vec![role])
}

#[given(regex = r"^a Direct message from the harness to the SUT's (\w+) and (\w+) recipients$")]
fn message_to_two(w: &mut DirectWorld, a: String, b: String) -> Result<(), String> {
    start(w, vec![a, b])
}

#[given(regex = r#"^the message is signed with the "([\w.-]+)" certificate$"#)]
fn signed_with(w: &mut DirectWorld, name: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    if ctx.pki.credential(&name).is_none() {
        return Err(format!("the reference PKI has no credential {name:?}"));
    }
    w.signer = name;
    Ok(())
}

#[given(regex = r"^the signature uses (MD5|SHA-1|SHA-256|SHA-384|SHA-512)$")]
fn digest(w: &mut DirectWorld, d: String) -> Result<(), String> {
    w.stimulus_mut()?.digest = match d.as_str() {
        "MD5" => DigestAlgorithm::Md5,
        "SHA-1" => DigestAlgorithm::Sha1,
        "SHA-384" => DigestAlgorithm::Sha384,
        "SHA-512" => DigestAlgorithm::Sha512,
        _ => DigestAlgorithm::Sha256,
    };
    Ok(())
}

#[given(
    regex = r"^the content is encrypted with (AES-128-CBC|AES-192-CBC|AES-256-CBC|AES-128-GCM|AES-256-GCM|3DES|RC2-128)$"
)]
fn cipher(w: &mut DirectWorld, c: String) -> Result<(), String> {
    w.stimulus_mut()?.cipher = match c.as_str() {
        "AES-192-CBC" => ContentCipher::Aes192Cbc,
        "AES-256-CBC" => ContentCipher::Aes256Cbc,
        "AES-128-GCM" => ContentCipher::Aes128Gcm,
        "AES-256-GCM" => ContentCipher::Aes256Gcm,
        "3DES" => ContentCipher::DesEde3Cbc,
        "RC2-128" => ContentCipher::Rc2Cbc,
        _ => ContentCipher::Aes128Cbc,
    };
    Ok(())
}

#[given(
    regex = r"^the content-encryption key is transported with RSA-OAEP (using SHA-256|with default parameters)$"
)]
fn oaep(w: &mut DirectWorld, how: String) -> Result<(), String> {
    w.stimulus_mut()?.key_transport = if how == "using SHA-256" {
        KeyTransport::RsaOaepSha256
    } else {
        KeyTransport::RsaOaepSha1
    };
    Ok(())
}

#[given("the signature carries no intermediate certificates")]
fn no_chain(w: &mut DirectWorld) -> Result<(), String> {
    w.omit_chain = true;
    Ok(())
}

#[given("the message is not wrapped")]
fn unwrapped(w: &mut DirectWorld) -> Result<(), String> {
    w.stimulus_mut()?.wrap = false;
    Ok(())
}

#[given(regex = r"^the message's Disposition-Notification-Options header reads (.+)$")]
fn request_value(w: &mut DirectWorld, value: String) -> Result<(), String> {
    let s = w.stimulus_mut()?;
    s.request_notifications = true;
    s.request_value = Some(value);
    Ok(())
}

#[given("the message asks for no notifications")]
fn no_request(w: &mut DirectWorld) -> Result<(), String> {
    w.stimulus_mut()?.request_notifications = false;
    Ok(())
}

#[given(
    regex = r"^the message (is altered after it was signed|is signed but not encrypted|is neither signed nor encrypted|is encrypted but not signed|carries an opaque signature \(signed-data with the content inside\) in its envelope)$"
)]
fn form(w: &mut DirectWorld, how: String) -> Result<(), String> {
    w.stimulus_mut()?.form = match how.as_str() {
        "is altered after it was signed" => Form::Tampered,
        "is signed but not encrypted" => Form::SignedOnly,
        "is neither signed nor encrypted" => Form::Plain,
        "is encrypted but not signed" => Form::EncryptedOnly,
        _ => Form::OpaqueSigned,
    };
    Ok(())
}

#[given(
    "the message uses the legacy media types application/x-pkcs7-mime and application/x-pkcs7-signature"
)]
fn legacy_types(w: &mut DirectWorld) -> Result<(), String> {
    w.stimulus_mut()?.legacy_types = true;
    Ok(())
}

/// RX-41: the envelope's header fields as the example writes them; `(absent)` leaves the
/// Content-Disposition out.
#[given(regex = r"^the envelope's header reads (Content-Type:.+) with Content-Disposition (.+)$")]
fn envelope_header(w: &mut DirectWorld, ct: String, cd: String) -> Result<(), String> {
    let mut h = format!("{}\r\nContent-Transfer-Encoding: base64\r\n", ct.trim());
    if cd.trim() != "(absent)" {
        h.push_str(&format!("Content-Disposition: {}\r\n", cd.trim()));
    }
    w.stimulus_mut()?.envelope_header = Some(h);
    Ok(())
}

#[given(
    regex = r#"^the message is signed with the hand-encoded "([\w.-]+)" certificate, whose Validity has no (notBefore|notAfter)$"#
)]
fn signed_malformed(w: &mut DirectWorld, name: String, missing: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let c = ctx
        .pki
        .credential(&name)
        .ok_or_else(|| format!("the reference PKI has no credential {name:?}"))?;
    let der = c.malformed_der.clone().ok_or_else(|| {
        format!("{name} has no malformed.der (regenerate reference-certs with `certs`)")
    })?;
    w.record(
        "note",
        "hand-encoded signer certificate",
        format!(
            "{name}/malformed.der: its Validity holds one time, {missing} is missing; the SignedData carries it in place of the well-formed twin"
        ),
    );
    w.signer = name;
    w.stimulus_mut()?.malformed_signer = Some(der);
    Ok(())
}

#[given(regex = r#"^the message is encrypted only for the harness certificate "([\w.-]+)"$"#)]
fn encrypted_for(w: &mut DirectWorld, name: String) -> Result<(), String> {
    w.encrypt_to = Some(name);
    Ok(())
}

#[given(regex = r#"^the signature's micalg parameter is written (.+)$"#)]
fn micalg(w: &mut DirectWorld, text: String) -> Result<(), String> {
    w.stimulus_mut()?.micalg = Some(text);
    Ok(())
}

#[given(regex = r#"^the wrapper's content type is "(.+)"$"#)]
fn wrapper_type(w: &mut DirectWorld, text: String) -> Result<(), String> {
    w.stimulus_mut()?.wrapper_type = Some(text);
    Ok(())
}

#[given(regex = r"^the message carries an extra attachment of (\d+) kB$")]
fn filler(w: &mut DirectWorld, kb: usize) -> Result<(), String> {
    w.stimulus_mut()?.filler = kb * 1024;
    Ok(())
}

#[given(
    regex = r"^the SMTP envelope also names the SUT's (\w+) recipient, which the message header does not$"
)]
fn envelope_extra(w: &mut DirectWorld, role: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let r = ctx
        .sut
        .recipient(&role)
        .ok_or_else(|| format!("sut.toml declares no `recipients.{role}`"))?;
    w.stimulus_mut()?.envelope_extra.push(r.address.clone());
    w.roles_extra.push(role);
    Ok(())
}

#[given(regex = r#"^the message is also encrypted for the harness certificate "([\w.-]+)"$"#)]
fn also_encrypted_for(w: &mut DirectWorld, name: String) -> Result<(), String> {
    w.also_encrypt_to.push(name);
    Ok(())
}

#[given("the message is a processed MDN for a message the SUT never sent")]
fn is_mdn(w: &mut DirectWorld) -> Result<(), String> {
    let stim = w.stimulus_mut()?;
    let to = stim.to.first().cloned().unwrap_or_default();
    let spec = MdnSpec {
        from: stim.from.clone(),
        to,
        subject: "Processed: an earlier message".into(),
        message_id: stim.message_id.clone(),
        date: time::OffsetDateTime::now_utc(),
        original_message_id: format!("<never-sent-{}>", stim.message_id.trim_matches(['<', '>'])),
        reporting_ua: "hisp.direct.test; direct-conformance".into(),
        original_recipient: None,
        final_recipient: stim.from.clone(),
        disposition: Disposition::automatic(DispositionKind::Processed),
        final_delivery: false,
        failure: None,
        human_text: None,
    };
    let raw = build_mdn(&spec).map_err(|e| format!("cannot build the MDN: {e}"))?;
    stim.body = Some(raw);
    Ok(())
}

fn certificate(w: &DirectWorld, reference: &str) -> Result<Certificate, String> {
    let ctx = w.ctx()?;
    // `pki:NAME` or a bare credential name; anything else is a file.
    let name = reference
        .strip_prefix("pki:")
        .or(Some(reference).filter(|r| !r.contains('/')));
    if let Some(c) = name.and_then(|n| ctx.pki.credential(n)) {
        return Ok(c.certificate.clone());
    }
    let bytes = std::fs::read(reference).map_err(|e| format!("certificate {reference}: {e}"))?;
    direct_conformance::trust::fetch::parse_certificates(&bytes)
        .map_err(|e| format!("certificate {reference}: {e}"))?
        .into_iter()
        .next()
        .ok_or_else(|| format!("certificate {reference}: empty"))
}

#[when("the harness delivers it to the SUT's backbone")]
async fn deliver(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let stim = w
        .stimulus
        .clone()
        .ok_or("no message prepared: start with `Given a Direct message …`")?;
    let signer = ctx
        .pki
        .credential(&w.signer)
        .ok_or_else(|| format!("no credential {}", w.signer))?
        .clone();
    let chain: Vec<Certificate> = if w.omit_chain {
        Vec::new()
    } else {
        ctx.pki
            .chain(&w.signer)
            .map(|v| {
                v.iter()
                    .skip(1)
                    .filter(|c| !c.entry.is_self_signed())
                    .map(|c| c.certificate.clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut recipients = Vec::new();
    for extra in &w.also_encrypt_to {
        recipients.push(certificate(w, extra)?);
    }
    match &w.encrypt_to {
        Some(name) => recipients.push(certificate(w, name)?),
        None => {
            for role in &w.roles {
                let r = ctx
                    .sut
                    .recipient(role)
                    .ok_or_else(|| format!("no recipients.{role}"))?;
                recipients.push(certificate(w, &r.certificate)?);
            }
        }
    }
    // RSA in a debug build is slow: keep it off the async workers.
    let build_stim = stim.clone();
    let data = tokio::task::spawn_blocking(move || {
        build_stim.build((&signer.certificate, &signer.key, &chain), &recipients)
    })
    .await
    .map_err(|e| format!("building the message: {e}"))?
    .map_err(|e| e.to_string())?;
    w.record(
        "message",
        format!("sent by the harness, signed by {}", w.signer),
        excerpt(&data),
    );
    let started = std::time::Instant::now();
    let outcome = smtp::send(
        ctx.sut.backbone,
        "hisp.direct.test",
        SENDER,
        &stim.envelope_recipients(),
        &data,
        // The harness's patience per SMTP reply, not a verdict window: a loaded machine
        // must not turn a slow 250 into a failure.
        ctx.sut
            .windows
            .accept
            .max(std::time::Duration::from_secs(30)),
    )
    .await;
    w.record(
        "smtp",
        format!("harness → SUT backbone {}", ctx.sut.backbone),
        outcome.transcript.clone(),
    );
    if let Some(e) = &outcome.error {
        w.record("note", "SMTP session ended early", e.clone());
    }
    w.sent = Some(Sent {
        message_id: stim.message_id.clone(),
        recipients: stim.envelope_recipients(),
        smtp: outcome,
        elapsed: started.elapsed(),
        at: std::time::Instant::now(),
    });
    Ok(())
}

/// A message for the evidence: whole when small, head and tail otherwise.
pub fn excerpt(data: &[u8]) -> String {
    const LIMIT: usize = 6000;
    let text = String::from_utf8_lossy(data);
    if text.len() <= LIMIT {
        return text.to_string();
    }
    let head: String = text.chars().take(LIMIT / 2).collect();
    let tail: String = text
        .chars()
        .rev()
        .take(LIMIT / 4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{head}\n… ({} octets in all) …\n{tail}", data.len())
}

/// A scenario naming an optional recipient role that the SUT does not declare (RX-23, RX-37,
/// RX-47, RX-50 …) is skipped, with the reason (TEST-CATALOGUE §b.1: "skipped when not
/// declared").
pub fn undeclared_role(
    sut: &direct_conformance::sut::SutModel,
    s: &cucumber::gherkin::Scenario,
) -> Option<String> {
    let re = regex::Regex::new(r"the SUT's (\w+)(?: and (\w+))? recipients?\b").ok()?;
    s.steps
        .iter()
        .flat_map(|step| re.captures_iter(&step.value).collect::<Vec<_>>())
        .flat_map(|c| [c.get(1), c.get(2)])
        .flatten()
        .map(|m| m.as_str())
        .find(|role| sut.recipient(role).is_none())
        .map(|role| format!("sut.toml declares no `recipients.{role}`"))
}
