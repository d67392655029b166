//! What an SMTP server must refuse or end (TEST-CATALOGUE §d.1): DATA ended by bare CR, bare
//! LF or `\f\r.\f\r` (SMTP10), over-long lines and messages over SIZE (SMTP12), and a client
//! gone quiet after the 354 (SMTP13). Each runs on the door of the scenario's Given.

use std::time::Duration;

use cucumber::{given, then, when};
use direct_conformance::sut::submission::{Reply, advertised_size};

use super::smtp_door::{Door, content, expect, judge, next_id, stuffed, transaction};
use super::world::DirectWorld;

/// How long the harness waits for a reply to a malformed ending before it sends a proper one.
/// Short is safe: a server that took the malformed ending as the end still answers it first,
/// so the next reply read is its answer to that ending, however late it comes.
const QUIET: Duration = Duration::from_secs(1);
/// The codes SMTP12 accepts (TEST-CATALOGUE §d.1).
const LIMIT_CODES: &[u16] = &[500, 501, 552, 554];
/// RFC 5321 §4.5.3.2: the server timeout SHOULD be at least 5 minutes.
const RFC_MINIMUM: Duration = Duration::from_secs(300);
/// Above this advertised SIZE the harness does not send a message to exceed it.
const LARGEST_SIZE_SENT: usize = 64 * 1024 * 1024;

fn door(w: &DirectWorld) -> Door {
    w.smtp.door
}

fn mark_tap(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    if w.smtp.must_not_arrive.is_empty() {
        w.smtp.tap_mark = ctx.tap.captured().len();
    }
    Ok(())
}

/// SMTP10: one session per malformed ending.
#[when(
    "the harness ends DATA with a bare CR, a bare LF, and a form feed before each CR, one session each"
)]
async fn bad_endings(w: &mut DirectWorld) -> Result<(), String> {
    mark_tap(w)?;
    let ctx = w.ctx()?;
    let d = door(w);
    let endings: [(&str, &[u8], &str); 3] = [
        ("bare CR", b"\r.\r", "<CR>.<CR>"),
        ("bare LF", b"\n.\n", "<LF>.<LF>"),
        ("form feed and CR", b"\x0c\r.\x0c\r", "<FF><CR>.<FF><CR>"),
    ];
    for (label, ending, shown) in endings {
        let id = next_id(w, "smtp10");
        let message = content(w, d, &id, &[], 0).await?;
        let (mut s, _) = transaction(&ctx, d).await?;
        w.smtp.must_not_arrive.push(id);
        let outcome = async {
            let r = s.command("DATA", "DATA").await.map_err(|e| e.to_string())?;
            if r.code != 354 {
                return Ok::<_, String>(Some(r));
            }
            let mut bytes = stuffed(&message);
            bytes.extend_from_slice(ending);
            s.write_raw(&bytes, &format!("<the message, then {shown}>"))
                .await
                .map_err(|e| e.to_string())?;
            if let Some(r) = s.reply_within(QUIET).await.map_err(|e| e.to_string())? {
                return Ok(Some(r));
            }
            // The server still reads DATA (right: the ending was not one); a proper end
            // decides whether it takes content with bare CR or LF in it.
            s.write_raw(b"\r\n.\r\n", "<CRLF>.<CRLF>")
                .await
                .map_err(|e| e.to_string())?;
            s.reply_within(Duration::from_secs(30))
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        let problem = match &outcome {
            Ok(Some(r)) if r.code / 100 == 5 => None,
            Ok(Some(r)) => Some(format!("answered {} {}", r.code, r.text)),
            Ok(None) => Some("no reply within 30 s after the proper end of DATA".into()),
            // A closed session is the other refusal the row allows.
            Err(e) if super::smtp_door::closed(e) => None,
            Err(e) => Some(e.clone()),
        };
        let _ = s.command("QUIT", "QUIT").await;
        w.record(
            "smtp",
            format!("DATA ended by {label}"),
            s.transcript.clone(),
        );
        expect(
            w,
            format!("DATA ended by {label} is refused (5xx or close)"),
            problem,
        );
    }
    Ok(())
}

fn limit_problem(r: Result<Reply, String>) -> Option<String> {
    match r {
        Ok(r) if LIMIT_CODES.contains(&r.code) => None,
        Ok(r) => Some(format!("answered {} {}", r.code, r.text)),
        Err(e) => Some(e),
    }
}

/// SMTP12: a 600-octet command line, a 1100-octet text line, a message over SIZE.
#[when(
    "the harness sends a 600-octet command line, a 1100-octet text line, and a message larger than the advertised SIZE"
)]
async fn over_limits(w: &mut DirectWorld) -> Result<(), String> {
    mark_tap(w)?;
    let ctx = w.ctx()?;
    let d = door(w);
    // The command line: NOOP takes an argument, so only its length can be the reason.
    let (mut s, ehlo) = super::smtp_door::open(&ctx, d).await?;
    let line = format!("NOOP {}", "x".repeat(600 - 7));
    let r = s
        .command(&line, "NOOP <593 octets: a 600-octet line with CRLF>")
        .await
        .map_err(|e| e.to_string());
    let _ = s.command("QUIT", "QUIT").await;
    w.record("smtp", "a 600-octet command line", s.transcript.clone());
    expect(
        w,
        "a 600-octet command line is answered 500, 501, 552 or 554",
        limit_problem(r),
    );

    // The text line: refused, never delivered cut.
    let id = next_id(w, "smtp12-line");
    let long = "y".repeat(1100 - 2);
    let message = content(w, d, &id, &[long], 0).await?;
    let (mut s, _) = transaction(&ctx, d).await?;
    w.smtp.must_not_arrive.push(id);
    let r = super::smtp_door::send_data(&mut s, &message).await;
    let _ = s.command("QUIT", "QUIT").await;
    w.record("smtp", "a 1100-octet text line", s.transcript.clone());
    expect(
        w,
        "a message with a 1100-octet text line is answered 500, 501, 552 or 554",
        limit_problem(r),
    );

    // SIZE (RFC 1870): only when advertised, and small enough to exceed in a test.
    match advertised_size(&ehlo) {
        None | Some(0) => w.record(
            "note",
            "SIZE",
            "the SUT advertises no SIZE limit: there is no SIZE to exceed",
        ),
        Some(n) if n > LARGEST_SIZE_SENT => w.record(
            "note",
            "SIZE",
            format!("the SUT advertises SIZE {n}: above {LARGEST_SIZE_SENT} octets the harness does not send a message to exceed it"),
        ),
        Some(n) => {
            let id = next_id(w, "smtp12-size");
            // Base64 grows the filler by a third on the way (twice on the backbone).
            let filler = match d {
                Door::Submission => n + 1024,
                Door::Backbone => n * 3 / 5 + 1024,
            };
            let message = content(w, d, &id, &[], filler).await?;
            if message.len() <= n {
                return Err(format!(
                    "the harness built {} octets, not more than SIZE {n}",
                    message.len()
                ));
            }
            let (mut s, _) = transaction(&ctx, d).await?;
            w.smtp.must_not_arrive.push(id);
            let r = super::smtp_door::send_data(&mut s, &message).await;
            let _ = s.command("QUIT", "QUIT").await;
            w.record(
                "smtp",
                format!("a message of {} octets over SIZE {n}", message.len()),
                s.transcript.clone(),
            );
            expect(
                w,
                format!("a message over the advertised SIZE {n} is answered 500, 501, 552 or 554"),
                limit_problem(r),
            );
        }
    }
    Ok(())
}

fn declared(w: &DirectWorld) -> Result<Duration, String> {
    w.ctx()?
        .sut
        .smtp
        .idle_timeout
        .ok_or_else(|| "sut.toml declares no smtp.idle_timeout".into())
}

/// SMTP13: DATA, 354, then silence; how long until the SUT closes.
#[when("the harness opens a transaction, sends DATA and stays silent after the 354")]
async fn goes_quiet(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let timeout = declared(w)?;
    let grace = ctx.sut.windows.accept;
    let (mut s, _) = transaction(&ctx, door(w)).await?;
    let r = s.command("DATA", "DATA").await.map_err(|e| e.to_string())?;
    if r.code != 354 {
        w.record("smtp", "idle session", s.transcript.clone());
        return Err(format!("DATA was answered {} {}", r.code, r.text));
    }
    s.transcript.push_str("# the harness says nothing more\n");
    let closed = s.wait_close(timeout + grace).await;
    w.record("smtp", "idle session", s.transcript.clone());
    w.smtp.closed_after = Some(closed);
    Ok(())
}

#[then("the SUT closes the session after its declared idle timeout, within the grace")]
fn closed_in_time(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let timeout = declared(w)?;
    let grace = ctx.sut.windows.accept;
    let closed = w.smtp.closed_after.ok_or(
        "no idle session was watched: a `When the harness … stays silent` step is missing",
    )?;
    // A close this much before the declared time contradicts the declaration.
    let early = (timeout / 10).max(Duration::from_secs(1));
    let problem = match closed {
        None => Some(format!(
            "the session was still open {:?} after the 354 (declared {timeout:?} + grace {grace:?})",
            timeout + grace
        )),
        Some(t) if t + early < timeout => Some(format!(
            "closed {t:.1?} after the 354, before the declared {timeout:?}"
        )),
        Some(_) => None,
    };
    expect(
        w,
        format!(
            "the idle session is closed between {:?} and {:?} after the 354",
            timeout.saturating_sub(early),
            timeout + grace
        ),
        problem,
    );
    judge(w)
}

#[given("the SUT's declared SMTP idle timeout")]
fn declared_timeout(w: &mut DirectWorld) -> Result<(), String> {
    let t = declared(w)?;
    w.record(
        "note",
        "declared idle timeout",
        format!("sut.toml smtp.idle_timeout = {} s", t.as_secs()),
    );
    Ok(())
}

#[then("it is not under the five minutes of RFC 5321 §4.5.3.2")]
fn not_under_minimum(w: &mut DirectWorld) -> Result<(), String> {
    let t = declared(w)?;
    if t < RFC_MINIMUM {
        return Err(format!(
            "the declared idle timeout {} s is under the {} s RFC 5321 §4.5.3.2 asks a server to wait",
            t.as_secs(),
            RFC_MINIMUM.as_secs()
        ));
    }
    Ok(())
}
