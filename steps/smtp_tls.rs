//! TLS on the SUT's SMTP doors (TEST-CATALOGUE §d.1): the TLS policy after STARTTLS
//! (SMTP-A2, as POP-A2), and the backbone's STARTTLS offer, recorded as information (SMTP-A4).

use cucumber::{then, when};
use direct_conformance::sut::submission::capabilities;
use direct_conformance::sut::tlsprobe;

use super::edge::keep;
use super::smtp_door::{Door, expect, open};
use super::world::DirectWorld;

#[when(
    "the harness offers old protocol versions and weak cipher suites after STARTTLS, then TLS 1.2 and TLS 1.3"
)]
async fn tls_policy(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let door = w.smtp.door;
    let name = ctx.sut.domain.clone();
    for p in tlsprobe::WEAK {
        let (mut s, _) = open(&ctx, door).await?;
        let answer = s
            .starttls_probe(p, &name)
            .await
            .map_err(|e| e.to_string())?;
        let problem = tlsprobe::weak_offer_problem(answer.as_ref(), "STARTTLS");
        w.record(
            "smtp",
            format!("ClientHello: {}", p.label),
            s.transcript.clone(),
        );
        expect(w, format!("{} is refused", p.label), problem);
    }
    let roots: Vec<Vec<u8>> = ctx
        .pki
        .anchor()
        .map(|a| vec![a.certificate_der.clone()])
        .unwrap_or_default();
    for (label, version) in [
        ("TLS 1.2 (AEAD suites)", &rustls::version::TLS12),
        ("TLS 1.3", &rustls::version::TLS13),
    ] {
        let connector = super::pop3::connector(&roots, version)?;
        let (mut s, _) = open(&ctx, door).await?;
        let problem = match s.starttls(&connector, &name).await {
            Ok(r) if r.code == 220 => None,
            Ok(r) => Some(format!("STARTTLS answered {} {}", r.code, r.text)),
            Err(e) => Some(e.to_string()),
        };
        if problem.is_none() {
            let _ = s.command("QUIT", "QUIT").await;
        }
        w.record("smtp", format!("handshake: {label}"), s.transcript.clone());
        expect(w, format!("{label} is accepted"), problem);
    }
    Ok(())
}

#[when("the harness greets the SUT's backbone door with EHLO")]
async fn backbone_ehlo(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let (mut s, ehlo) = open(&ctx, Door::Backbone).await?;
    let _ = s.command("QUIT", "QUIT").await;
    w.record("smtp", "harness → SUT backbone", s.transcript.clone());
    keep(w, "backbone EHLO", ehlo);
    Ok(())
}

/// SMTP-A4 is information (SEC-04 is a SHOULD the catalogue records, never fails): the
/// capability list is the evidence; only a backbone that does not answer EHLO fails it.
#[then("the capability list is recorded, and whether it offers STARTTLS")]
fn starttls_recorded(w: &mut DirectWorld) -> Result<(), String> {
    let ehlo = super::edge::last(w, "backbone EHLO")?;
    let caps = capabilities(&ehlo);
    w.record("note", "backbone EHLO capabilities", caps.join("\n"));
    let offered = caps.iter().any(|c| c.eq_ignore_ascii_case("STARTTLS"));
    w.record(
        "note",
        "SEC-04 (information)",
        if offered {
            "STARTTLS is offered on the backbone".to_string()
        } else {
            "STARTTLS is NOT offered on the backbone: recorded, not failed (SEC-04 is a SHOULD; S/MIME protects the content)".to_string()
        },
    );
    w.record(
        "note",
        "how this case is judged",
        "information only (TEST-CATALOGUE §d.1 SMTP-A4): a missing STARTTLS never fails it; it fails only when the backbone does not answer EHLO with 250",
    );
    Ok(())
}
