//! The submission door's command handling (TEST-CATALOGUE §d.1): commands out of sequence,
//! STARTTLS with an argument. Sessions and replies are `edge`'s.

use cucumber::{then, when};
use direct_conformance::sut::submission::Session;

use super::edge::{keep, last, record_transcript, session};
use super::world::DirectWorld;

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

#[when("the harness sends RCPT before MAIL, DATA before MAIL, and DATA before EHLO")]
async fn out_of_sequence(w: &mut DirectWorld) -> Result<(), String> {
    let s = session(w)?;
    let rcpt = s
        .command(
            "RCPT TO:<good@hisp.direct.test>",
            "RCPT TO:<good@hisp.direct.test>",
        )
        .await
        .map_err(|e| e.to_string())?;
    let data = s.command("DATA", "DATA").await.map_err(|e| e.to_string())?;
    keep(w, "RCPT before MAIL", rcpt);
    keep(w, "DATA before MAIL", data);
    // A second session, at the same door, that skips EHLO altogether.
    let addr = session(w)?.addr();
    let mut fresh = Session::connect(addr, TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    let data = fresh
        .command("DATA", "DATA")
        .await
        .map_err(|e| e.to_string())?;
    let _ = fresh.command("QUIT", "QUIT").await;
    w.record("smtp", "a session without EHLO", fresh.transcript.clone());
    keep(w, "DATA before EHLO", data);
    Ok(())
}

#[then("the SUT answers 503 to each")]
fn bad_sequence(w: &mut DirectWorld) -> Result<(), String> {
    record_transcript(w);
    let mut wrong = Vec::new();
    for what in ["RCPT before MAIL", "DATA before MAIL", "DATA before EHLO"] {
        let r = last(w, what)?;
        if r.code != 503 {
            wrong.push(format!("{what}: {} {}", r.code, r.text));
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "expected 503 (RFC 5321 §4.1.4) to each; got {}",
            wrong.join("; ")
        ))
    }
}

#[when(regex = r#"^the harness sends "(STARTTLS [^"]+)"$"#)]
async fn starttls_with_argument(w: &mut DirectWorld, line: String) -> Result<(), String> {
    let r = session(w)?
        .command(&line, &line)
        .await
        .map_err(|e| e.to_string())?;
    keep(w, "STARTTLS with an argument", r);
    Ok(())
}

#[then("the SUT answers 501 and the session is still usable")]
async fn refused_and_usable(w: &mut DirectWorld) -> Result<(), String> {
    let r = last(w, "STARTTLS with an argument")?;
    let noop = session(w)?.command("NOOP", "NOOP").await;
    record_transcript(w);
    if r.code != 501 {
        return Err(format!(
            "the SUT answered {} {} to STARTTLS with an argument; expected 501 (RFC 3207 §4)",
            r.code, r.text
        ));
    }
    match noop {
        Ok(n) if n.code == 250 => Ok(()),
        Ok(n) => Err(format!("after the 501, NOOP got {} {}", n.code, n.text)),
        Err(e) => Err(format!("after the 501, the session broke: {e}")),
    }
}
