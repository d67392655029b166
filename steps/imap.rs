//! The SUT's IMAP door, in the words of a mail-client vendor (TEST-CATALOGUE §d.2):
//! capabilities, STARTTLS, logins, SELECT and FETCH, syntax and state errors, UID stability,
//! INBOX in any case and the TLS policy. Every exchange goes over a real socket and its
//! transcript is recorded; every expectation is kept with what was seen and judged by the
//! closing step.

use std::net::SocketAddr;
use std::time::Duration;

use cucumber::{then, when};
use direct_conformance::sut::imap::{ImapError, Reply, Session};
use direct_conformance::sut::stimulus::{CCDA, Stimulus};
use direct_conformance::sut::tlsprobe;

use super::world::DirectWorld;

const TIMEOUT: Duration = Duration::from_secs(15);

/// The IMAP door and the login of the mailbox the cases use (`recipients.imap`, else
/// `recipients.primary`).
fn door(w: &DirectWorld) -> Result<(SocketAddr, String, String), String> {
    let ctx = w.ctx()?;
    let addr = ctx.sut.imap.ok_or(
        "sut.toml declares no IMAP door ([edge.imap] addr, or [edge.retrieval] kind = \"imap\")",
    )?;
    let r = ctx
        .sut
        .recipient("imap")
        .or_else(|| ctx.sut.recipient("primary"))
        .ok_or("no recipients.primary")?;
    let password = r
        .password
        .clone()
        .ok_or("the IMAP mailbox's password is not declared in sut.toml")?;
    Ok((addr, r.user.clone(), password))
}

fn tls_name(w: &DirectWorld) -> Result<String, String> {
    Ok(w.ctx()?.sut.domain.clone())
}

fn e(err: ImapError) -> String {
    format!("{err}\n{}", err.transcript)
}

/// Keeps one expectation: `problem` is `None` when it was met.
fn expect(w: &mut DirectWorld, what: &str, problem: Option<String>) {
    w.imap_checks.push((what.to_string(), problem));
}

fn expect_ok(w: &mut DirectWorld, what: &str, r: &Reply) {
    let problem = (!r.ok()).then(|| format!("the SUT answered {:?}", r.text));
    expect(w, what, problem);
}

/// BAD or NO (a refusal); `bad_only` for syntax errors.
fn expect_refused(w: &mut DirectWorld, what: &str, r: &Reply, bad_only: bool) {
    let refused = if bad_only {
        r.is("BAD")
    } else {
        r.is("BAD") || r.is("NO")
    };
    let problem = (!refused).then(|| format!("the SUT answered {:?}", r.text));
    expect(w, what, problem);
}

/// Records a finished session's transcript as evidence.
fn keep(w: &mut DirectWorld, title: &str, s: &Session) {
    w.record("imap", title, s.transcript.clone());
}

fn take(w: &mut DirectWorld) -> Result<Session, String> {
    w.imap
        .take()
        .ok_or_else(|| "no IMAP session: start with `Given an IMAP session …`".into())
}

async fn connect(w: &DirectWorld) -> Result<Session, String> {
    let (addr, _, _) = door(w)?;
    Session::connect(addr, TIMEOUT).await.map_err(e)
}

/// STARTTLS with the harness trust anchor; an error when refused or when the handshake fails.
async fn secure(w: &DirectWorld, s: &mut Session) -> Result<(), String> {
    let connector = direct_conformance::sut::pop3::harness_connector()
        .ok_or("the harness trust anchor cannot be loaded")?;
    let r = s.starttls(&connector, &tls_name(w)?).await.map_err(e)?;
    if r.ok() {
        Ok(())
    } else {
        Err(format!("STARTTLS refused: {:?}\n{}", r.text, s.transcript))
    }
}

async fn secured(w: &DirectWorld) -> Result<Session, String> {
    let mut s = connect(w).await?;
    secure(w, &mut s).await?;
    Ok(s)
}

/// A session secured and logged in as the IMAP mailbox.
async fn logged_in(w: &DirectWorld) -> Result<Session, String> {
    let (_, user, password) = door(w)?;
    let mut s = secured(w).await?;
    let r = s.login(&user, &password).await.map_err(e)?;
    if !r.ok() {
        return Err(format!("LOGIN refused: {:?}\n{}", r.text, s.transcript));
    }
    Ok(s)
}

/// A logged-in session with INBOX selected (or examined): the session and SELECT's reply.
async fn opened(w: &DirectWorld, read_only: bool) -> Result<(Session, Reply), String> {
    let mut s = logged_in(w).await?;
    let verb = if read_only { "EXAMINE" } else { "SELECT" };
    let r = s.command(&format!("{verb} INBOX")).await.map_err(e)?;
    if !r.ok() {
        return Err(format!(
            "{verb} INBOX refused: {:?}\n{}",
            r.text, s.transcript
        ));
    }
    Ok((s, r))
}

fn bare(id: &str) -> String {
    id.trim().trim_matches(['<', '>']).to_ascii_lowercase()
}

/// UID and Message-ID of every message of the selected mailbox.
async fn listing(s: &mut Session) -> Result<Vec<(u32, String)>, String> {
    let r = s
        .command("UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        .await
        .map_err(e)?;
    // A server may say NO [EXPUNGEISSUED] when another session expunged some meanwhile.
    if !r.ok() && !r.text.to_ascii_uppercase().contains("EXPUNGEISSUED") {
        return Err(format!("UID FETCH refused: {:?}\n{}", r.text, s.transcript));
    }
    Ok(r.fetched()
        .into_iter()
        .filter_map(|f| {
            let uid = f.uid?;
            let (_, header) = f.body?;
            let text = String::from_utf8_lossy(&header).to_string();
            let id = text
                .split_once(':')
                .map(|(_, v)| bare(v))
                .unwrap_or_default();
            Some((uid, id))
        })
        .collect())
}

/// Opens INBOX until the message `id` is there (bounded by the accept window): the session,
/// SELECT's reply, the message's UID and the whole listing (UID, Message-ID).
async fn open_with(
    w: &mut DirectWorld,
    id: &str,
    read_only: bool,
) -> Result<(Session, Reply, u32, Vec<(u32, String)>), String> {
    let ctx = w.ctx()?;
    let want = bare(id);
    let deadline = tokio::time::Instant::now() + ctx.sut.windows.accept;
    loop {
        let (mut s, r) = opened(w, read_only).await?;
        let list = listing(&mut s).await?;
        if let Some(uid) = list.iter().find(|(_, m)| *m == want).map(|(u, _)| *u) {
            return Ok((s, r, uid, list));
        }
        let _ = s.command("LOGOUT").await;
        if tokio::time::Instant::now() >= deadline {
            keep(w, "the mailbox, last look", &s);
            return Err(format!(
                "the message {id} did not reach the IMAP mailbox within {:?}",
                ctx.sut.windows.accept
            ));
        }
        tokio::time::sleep_until(
            (tokio::time::Instant::now() + Duration::from_millis(250)).min(deadline),
        )
        .await;
    }
}

/// Expunges the scenario's own messages (by UID) so that the shared mailbox stays small.
async fn expunge_own(w: &mut DirectWorld, uids: &[u32]) -> Result<(), String> {
    if uids.is_empty() {
        return Ok(());
    }
    let (mut s, _) = opened(w, false).await?;
    let set: Vec<String> = uids.iter().map(u32::to_string).collect();
    let r = s
        .command(&format!(
            "UID STORE {} +FLAGS.SILENT (\\Deleted)",
            set.join(",")
        ))
        .await
        .map_err(e)?;
    expect_ok(w, "UID STORE +FLAGS.SILENT (\\Deleted) is accepted", &r);
    let r = s.command("EXPUNGE").await.map_err(e)?;
    expect_ok(w, "EXPUNGE is accepted", &r);
    let _ = s.command("LOGOUT").await;
    keep(w, "clean-up: the scenario's messages expunged", &s);
    Ok(())
}

#[cucumber::given("an IMAP session with the SUT's retrieval door")]
async fn given_session(w: &mut DirectWorld) -> Result<(), String> {
    let s = connect(w).await?;
    let ok = s.greeting.text.to_ascii_uppercase().starts_with("* OK");
    let problem = (!ok).then(|| format!("the greeting was {:?}", s.greeting.text));
    w.imap = Some(s);
    expect(w, "the greeting is * OK", problem);
    Ok(())
}

#[cucumber::given("an IMAP session secured with STARTTLS")]
async fn given_secured(w: &mut DirectWorld) -> Result<(), String> {
    let s = secured(w).await?;
    w.imap = Some(s);
    Ok(())
}

#[cucumber::given("an IMAP session logged in to the SUT's test mailbox")]
async fn given_logged_in(w: &mut DirectWorld) -> Result<(), String> {
    let s = logged_in(w).await?;
    w.imap = Some(s);
    Ok(())
}

fn has(list: &[String], cap: &str) -> bool {
    list.iter().any(|c| c.eq_ignore_ascii_case(cap))
}

#[when("the harness asks for the IMAP capabilities in clear and again after STARTTLS")]
async fn capabilities(w: &mut DirectWorld) -> Result<(), String> {
    let mut s = take(w)?;
    let clear = s.capabilities().await.map_err(e)?;
    for cap in ["IMAP4REV1", "STARTTLS", "LOGINDISABLED"] {
        let problem = (!has(&clear, cap)).then(|| format!("CAPABILITY in clear listed {clear:?}"));
        expect(w, &format!("CAPABILITY in clear lists {cap}"), problem);
    }
    let after = match secure(w, &mut s).await {
        Ok(()) => s.capabilities().await.map_err(e)?,
        Err(why) => {
            expect(w, "STARTTLS succeeds", Some(why));
            Vec::new()
        }
    };
    for cap in ["IMAP4REV1", "AUTH=PLAIN"] {
        let problem = (!has(&after, cap)).then(|| format!("CAPABILITY after TLS listed {after:?}"));
        expect(
            w,
            &format!("CAPABILITY after STARTTLS lists {cap}"),
            problem,
        );
    }
    for cap in ["STARTTLS", "LOGINDISABLED"] {
        let problem = has(&after, cap).then(|| format!("CAPABILITY after TLS listed {after:?}"));
        expect(
            w,
            &format!("CAPABILITY after STARTTLS no longer lists {cap}"),
            problem,
        );
    }
    let _ = s.command("LOGOUT").await;
    keep(w, "CAPABILITY in clear and after STARTTLS", &s);
    Ok(())
}

#[when("the harness sends NOOP over IMAP")]
async fn noop(w: &mut DirectWorld) -> Result<(), String> {
    let mut s = take(w)?;
    let r = s.command("NOOP").await.map_err(e)?;
    expect_ok(w, "NOOP (authenticated) is completed with OK", &r);
    let r = s.command("SELECT INBOX").await.map_err(e)?;
    if r.ok() {
        let r = s.command("NOOP").await.map_err(e)?;
        expect_ok(w, "NOOP (selected) is completed with OK", &r);
    }
    let _ = s.command("LOGOUT").await;
    keep(w, "NOOP", &s);
    Ok(())
}

#[when("the harness logs out of the IMAP session")]
async fn logout(w: &mut DirectWorld) -> Result<(), String> {
    let within = w.ctx()?.sut.windows.silence;
    let mut s = take(w)?;
    let r = s.command("LOGOUT").await.map_err(e)?;
    let bye = !r.data("BYE").is_empty();
    expect(
        w,
        "LOGOUT is answered with an untagged BYE",
        (!bye).then(|| format!("no BYE before {:?}", r.text)),
    );
    expect_ok(w, "LOGOUT is completed with OK", &r);
    let closed = s.closed(within).await;
    expect(
        w,
        "the server closes the connection after LOGOUT",
        (!closed).then(|| format!("the connection was still open {within:?} after LOGOUT")),
    );
    keep(w, "LOGOUT", &s);
    Ok(())
}

#[when("the harness starts TLS with IMAP STARTTLS")]
async fn starttls(w: &mut DirectWorld) -> Result<(), String> {
    let mut s = take(w)?;
    let r = secure(w, &mut s).await;
    expect(
        w,
        "STARTTLS is completed with OK and the handshake succeeds",
        r.err(),
    );
    if s.is_tls() {
        let r = s.command("CAPABILITY").await.map_err(e)?;
        let listed = !r.capabilities().is_empty();
        expect_ok(w, "CAPABILITY over TLS is completed with OK", &r);
        expect(
            w,
            "CAPABILITY over TLS lists the capabilities again",
            (!listed).then(|| "no untagged CAPABILITY over TLS".to_string()),
        );
        let _ = s.command("LOGOUT").await;
    }
    keep(w, "STARTTLS", &s);
    Ok(())
}

#[when(
    "the harness authenticates over IMAP with AUTHENTICATE PLAIN, with an initial response and after a continuation"
)]
async fn authenticate(w: &mut DirectWorld) -> Result<(), String> {
    let (_, user, password) = door(w)?;
    let mut s = take(w)?;
    let r = s
        .authenticate_plain(&user, &password, true)
        .await
        .map_err(e)?;
    expect_ok(
        w,
        "AUTHENTICATE PLAIN with an initial response is accepted",
        &r,
    );
    if r.ok() {
        let r = s.command("EXAMINE INBOX").await.map_err(e)?;
        expect_ok(w, "the session is authenticated (EXAMINE INBOX OK)", &r);
    }
    let _ = s.command("LOGOUT").await;
    keep(w, "AUTHENTICATE PLAIN with an initial response", &s);
    let mut s = secured(w).await?;
    let r = s
        .authenticate_plain(&user, &password, false)
        .await
        .map_err(e)?;
    expect_ok(
        w,
        "AUTHENTICATE PLAIN with the response after a continuation is accepted",
        &r,
    );
    let _ = s.command("LOGOUT").await;
    keep(w, "AUTHENTICATE PLAIN after a continuation", &s);
    Ok(())
}

#[when("the harness tries IMAP LOGIN in clear, then after STARTTLS")]
async fn login(w: &mut DirectWorld) -> Result<(), String> {
    let (_, user, password) = door(w)?;
    let mut s = take(w)?;
    let r = s.login(&user, &password).await.map_err(e)?;
    expect_refused(w, "LOGIN in clear is refused", &r, false);
    if !r.ok() {
        let secured = secure(w, &mut s).await;
        let ok = secured.is_ok();
        expect(w, "STARTTLS succeeds", secured.err());
        if ok {
            let r = s.login(&user, &password).await.map_err(e)?;
            expect_ok(w, "LOGIN after STARTTLS is accepted", &r);
        }
    }
    let _ = s.command("LOGOUT").await;
    keep(w, "LOGIN in clear, then after STARTTLS", &s);
    Ok(())
}

#[when("the harness selects INBOX over IMAP")]
async fn select(w: &mut DirectWorld) -> Result<(), String> {
    let mut s = take(w)?;
    let r = s.command("SELECT INBOX").await.map_err(e)?;
    expect_ok(w, "SELECT INBOX is completed with OK", &r);
    let exists = r.count("EXISTS");
    expect(
        w,
        "SELECT reports EXISTS",
        exists.is_none().then(|| "no `* n EXISTS`".to_string()),
    );
    let flags = !r.data("FLAGS").is_empty();
    expect(
        w,
        "SELECT reports FLAGS",
        (!flags).then(|| "no `* FLAGS (…)`".to_string()),
    );
    let validity = r.code_number("UIDVALIDITY");
    expect(
        w,
        "SELECT reports a non-zero UIDVALIDITY",
        validity
            .is_none_or(|v| v == 0)
            .then(|| "no `[UIDVALIDITY n]` response code".into()),
    );
    let _ = s.command("LOGOUT").await;
    keep(w, "SELECT INBOX", &s);
    Ok(())
}

#[when("the harness fetches the message over IMAP")]
async fn fetch(w: &mut DirectWorld) -> Result<(), String> {
    let id = w.sent()?.message_id.clone();
    let (mut s, _, uid, _) = open_with(w, &id, false).await?;
    let r = s
        .command(&format!("UID FETCH {uid} (RFC822.SIZE FLAGS)"))
        .await
        .map_err(e)?;
    expect_ok(w, "UID FETCH (RFC822.SIZE FLAGS) is completed with OK", &r);
    let size = r.fetched().into_iter().find_map(|f| f.size);
    let r = s
        .command(&format!("UID FETCH {uid} BODY[]"))
        .await
        .map_err(e)?;
    expect_ok(w, "UID FETCH BODY[] is completed with OK", &r);
    let body = r.fetched().into_iter().find_map(|f| f.body.map(|(_, b)| b));
    let Some(body) = body else {
        expect(
            w,
            "FETCH BODY[] returns the message",
            Some("no BODY[] literal".into()),
        );
        keep(w, "FETCH", &s);
        return Ok(());
    };
    w.record(
        "message",
        "as fetched over IMAP",
        super::send::excerpt(&body),
    );
    let problem = match size {
        Some(n) if n == body.len() as u64 => None,
        other => Some(format!(
            "RFC822.SIZE said {other:?}, BODY[] had {} octets",
            body.len()
        )),
    };
    expect(w, "BODY[] has RFC822.SIZE octets", problem);
    let got = mail_parser::MessageParser::default()
        .parse(&body)
        .and_then(|m| m.message_id().map(bare));
    expect(
        w,
        "BODY[] is the message the harness delivered (its Message-ID)",
        (got.as_deref() != Some(bare(&id).as_str())).then(|| format!("Message-ID {got:?}")),
    );
    let r = s
        .command(&format!("UID FETCH {uid} FLAGS"))
        .await
        .map_err(e)?;
    let seen = r.fetched().iter().any(|f| f.seen());
    expect(
        w,
        "after FETCH BODY[] the message is \\Seen",
        (!seen).then(|| "FLAGS without \\Seen".to_string()),
    );
    let _ = s.command("LOGOUT").await;
    keep(w, "FETCH BODY[]", &s);
    // A second session reads the same octets without marking anything.
    let (mut s, _) = opened(w, true).await?;
    let r = s
        .command(&format!("UID FETCH {uid} BODY.PEEK[]"))
        .await
        .map_err(e)?;
    let again = r.fetched().into_iter().find_map(|f| f.body.map(|(_, b)| b));
    expect(
        w,
        "BODY.PEEK[] in a new session gives the same octets",
        (again.as_deref() != Some(body.as_slice())).then(|| {
            format!(
                "{} octets, then {:?}",
                body.len(),
                again.as_ref().map(Vec::len)
            )
        }),
    );
    let _ = s.command("LOGOUT").await;
    keep(w, "FETCH BODY.PEEK[] in a second session", &s);
    expunge_own(w, &[uid]).await
}

#[when("the harness sends malformed IMAP commands")]
async fn malformed(w: &mut DirectWorld) -> Result<(), String> {
    let mut s = take(w)?;
    for cmd in [
        "CAPABILITYBAD",
        "NOOP extra",
        "SELECT",
        "FETCH",
        "FETCH 1 (FLAGS",
        "STORE 1 +FLAGS",
        "UID BOGUS 1",
        "LOGIN onlyuser",
    ] {
        let r = s.command(cmd).await.map_err(e)?;
        expect_refused(w, &format!("{cmd:?} is answered BAD"), &r, true);
    }
    // A tag and nothing else.
    s.send("T99", "T99").await.map_err(e)?;
    let r = s.until("T99").await.map_err(e)?;
    expect_refused(w, "a tag alone is answered BAD", &r, true);
    let r = s.command("NOOP").await.map_err(e)?;
    expect_ok(w, "the session is still usable (NOOP OK)", &r);
    let _ = s.command("LOGOUT").await;
    keep(w, "malformed commands", &s);
    Ok(())
}

#[when("the harness sends IMAP commands the state does not allow")]
async fn wrong_state(w: &mut DirectWorld) -> Result<(), String> {
    let (_, user, password) = door(w)?;
    let mut s = take(w)?;
    for cmd in ["SELECT INBOX", "LIST \"\" *", "FETCH 1 FLAGS", "EXPUNGE"] {
        let r = s.command(cmd).await.map_err(e)?;
        expect_refused(w, &format!("{cmd} before login is refused"), &r, false);
    }
    let r = s.login(&user, &password).await.map_err(e)?;
    expect_ok(w, "LOGIN is accepted", &r);
    if r.ok() {
        for cmd in [
            "FETCH 1 FLAGS",
            "STORE 1 +FLAGS (\\Seen)",
            "SEARCH ALL",
            "EXPUNGE",
        ] {
            let r = s.command(cmd).await.map_err(e)?;
            expect_refused(w, &format!("{cmd} before SELECT is refused"), &r, false);
        }
        let r = s.login(&user, &password).await.map_err(e)?;
        expect_refused(w, "LOGIN when already authenticated is refused", &r, false);
    }
    let _ = s.command("LOGOUT").await;
    keep(w, "commands out of state", &s);
    Ok(())
}

#[when(
    "the harness walks through the IMAP states: not authenticated, authenticated, selected and logout"
)]
async fn states(w: &mut DirectWorld) -> Result<(), String> {
    let (_, user, password) = door(w)?;
    let within = w.ctx()?.sut.windows.silence;
    let mut s = take(w)?;
    let r = s.command("EXAMINE INBOX").await.map_err(e)?;
    expect_refused(w, "not authenticated: EXAMINE is refused", &r, false);
    let r = s.login(&user, &password).await.map_err(e)?;
    expect_ok(w, "not authenticated → authenticated: LOGIN", &r);
    let r = s.command("UID FETCH 1:* (FLAGS)").await.map_err(e)?;
    expect_refused(w, "authenticated: FETCH is refused", &r, false);
    let r = s.command("SELECT INBOX").await.map_err(e)?;
    expect_ok(w, "authenticated → selected: SELECT INBOX", &r);
    let r = s.command("UID FETCH 1:* (FLAGS)").await.map_err(e)?;
    expect_ok(w, "selected: UID FETCH is accepted", &r);
    let r = s.command("CLOSE").await.map_err(e)?;
    expect_ok(w, "selected → authenticated: CLOSE", &r);
    let r = s.command("UID FETCH 1:* (FLAGS)").await.map_err(e)?;
    expect_refused(w, "authenticated again: FETCH is refused", &r, false);
    let r = s.command("LOGOUT").await.map_err(e)?;
    let bye = !r.data("BYE").is_empty();
    expect(
        w,
        "→ logout: BYE then OK",
        (!(bye && r.ok())).then(|| format!("BYE: {bye}, completion {:?}", r.text)),
    );
    let closed = s.closed(within).await;
    expect(
        w,
        "logout: the connection is closed",
        (!closed).then(|| "the connection stayed open".to_string()),
    );
    keep(w, "not authenticated, authenticated, selected, logout", &s);
    Ok(())
}

/// Delivers one more Direct message like the scenario's (its own Message-ID); its id.
async fn deliver_another(w: &mut DirectWorld, suffix: &str) -> Result<String, String> {
    let mut stim: Stimulus = w
        .stimulus
        .clone()
        .ok_or("no message prepared: start with `Given a Direct message …`")?;
    stim.message_id = format!("<{}-{suffix}@hisp.direct.test>", w.correlation_id);
    let id = stim.message_id.clone();
    w.stimulus = Some(stim);
    super::send::deliver(w).await?;
    if !w.sent()?.smtp.accepted() {
        return Err(format!("the SUT did not accept the {suffix} message"));
    }
    Ok(id)
}

/// UIDVALIDITY and the UID of each Message-ID, in a new session, once the message `last`
/// (the newest the scenario delivered) is there; the older ones were there before it, so a
/// missing one is a finding, not a reason to wait.
async fn uid_map(
    w: &mut DirectWorld,
    last: &str,
    title: &str,
) -> Result<(Option<u32>, Vec<(u32, String)>), String> {
    let (mut s, r, _, list) = open_with(w, last, true).await?;
    let _ = s.command("LOGOUT").await;
    keep(w, title, &s);
    Ok((r.code_number("UIDVALIDITY"), list))
}

#[when(
    "the harness has a second message delivered, lists the UIDs, reconnects, expunges the first and has a third delivered"
)]
async fn uids(w: &mut DirectWorld) -> Result<(), String> {
    let first = w.sent()?.message_id.clone();
    let second = deliver_another(w, "second").await?;
    let (v1, l1) = uid_map(w, &second, "UIDs, first session").await?;
    let (v2, l2) = uid_map(w, &second, "UIDs, second session").await?;
    let uid_of =
        |l: &[(u32, String)], id: &str| l.iter().find(|(_, m)| *m == bare(id)).map(|(u, _)| *u);
    for (label, l) in [("first", &l1), ("second", &l2)] {
        let mut u: Vec<u32> = l.iter().map(|(u, _)| *u).collect();
        let all = u.len();
        u.sort_unstable();
        u.dedup();
        expect(
            w,
            &format!("UIDs are unique ({label} session)"),
            (u.len() != all).then(|| format!("{l:?}")),
        );
    }
    expect(
        w,
        "UIDVALIDITY is the same in the second session",
        (v1.is_none() || v1 != v2).then(|| format!("{v1:?}, then {v2:?}")),
    );
    let unchanged = |a: &[(u32, String)], b: &[(u32, String)]| -> Option<String> {
        let moved: Vec<String> = a
            .iter()
            .filter_map(|(u, m)| {
                let now = b.iter().find(|(_, n)| n == m)?.0;
                (now != *u).then(|| format!("<{m}>: {u} → {now}"))
            })
            .collect();
        (!moved.is_empty()).then(|| moved.join(", "))
    };
    expect(
        w,
        "every message keeps its UID in the second session",
        unchanged(&l1, &l2),
    );
    // Expunge the first message.
    let Some(a) = uid_of(&l2, &first) else {
        expect(w, "the first message is listed", Some(format!("{l2:?}")));
        return Ok(());
    };
    let (mut s, _) = opened(w, false).await?;
    let r = s
        .command(&format!("UID STORE {a} +FLAGS.SILENT (\\Deleted)"))
        .await
        .map_err(e)?;
    expect_ok(w, "UID STORE \\Deleted on the first message", &r);
    let r = s.command("EXPUNGE").await.map_err(e)?;
    expect_ok(w, "EXPUNGE", &r);
    let _ = s.command("LOGOUT").await;
    keep(w, "the first message expunged", &s);
    let third = deliver_another(w, "third").await?;
    let (v3, l3) = uid_map(w, &third, "UIDs, after the expunge").await?;
    expect(
        w,
        "UIDVALIDITY is the same after the expunge",
        (v1 != v3).then(|| format!("{v1:?}, then {v3:?}")),
    );
    expect(
        w,
        "the expunged message is gone",
        uid_of(&l3, &first).map(|u| format!("UID {u} is still listed")),
    );
    expect(
        w,
        "the remaining messages keep their UIDs after the expunge",
        unchanged(&l2, &l3),
    );
    let max_before = l1.iter().chain(&l2).map(|(u, _)| *u).max().unwrap_or(0);
    let c = uid_of(&l3, &third);
    expect(
        w,
        "the new message's UID is larger than every UID seen before",
        c.is_none_or(|c| c <= max_before)
            .then(|| format!("new UID {c:?}, largest before {max_before}")),
    );
    let own: Vec<u32> = [uid_of(&l3, &second), c].into_iter().flatten().collect();
    expunge_own(w, &own).await
}

#[when(
    "the harness logs in over IMAP with a wrong password, with LOGIN and with AUTHENTICATE PLAIN"
)]
async fn wrong_password(w: &mut DirectWorld) -> Result<(), String> {
    let (_, user, password) = door(w)?;
    let wrong = format!("{password}-wrong");
    let mut s = take(w)?;
    let r = s.login(&user, &wrong).await.map_err(e)?;
    expect(
        w,
        "LOGIN with a wrong password is answered NO",
        (!r.is("NO")).then(|| format!("the SUT answered {:?}", r.text)),
    );
    let r = s.authenticate_plain(&user, &wrong, true).await.map_err(e)?;
    expect(
        w,
        "AUTHENTICATE PLAIN with a wrong password is answered NO",
        (!r.is("NO")).then(|| format!("the SUT answered {:?}", r.text)),
    );
    let r = s.command("EXAMINE INBOX").await.map_err(e)?;
    expect_refused(
        w,
        "the session is still not authenticated (EXAMINE refused)",
        &r,
        false,
    );
    let _ = s.command("LOGOUT").await;
    keep(w, "wrong password", &s);
    Ok(())
}

#[then("the message fetched over IMAP from the SUT's imap recipient has its attachment intact")]
async fn intact(w: &mut DirectWorld) -> Result<(), String> {
    let sent = w.sent()?.clone();
    if !sent.smtp.accepted() {
        return Err("the SUT did not accept the message over its backbone".into());
    }
    let (mut s, _, uid, _) = open_with(w, &sent.message_id, true).await?;
    let r = s
        .command(&format!("UID FETCH {uid} BODY.PEEK[]"))
        .await
        .map_err(e)?;
    let _ = s.command("LOGOUT").await;
    keep(w, "FETCH BODY.PEEK[]", &s);
    let body = r
        .fetched()
        .into_iter()
        .find_map(|f| f.body.map(|(_, b)| b))
        .ok_or("FETCH returned no BODY[] literal")?;
    w.record(
        "message",
        "as fetched over IMAP",
        super::send::excerpt(&body),
    );
    let parsed = mail_parser::MessageParser::default()
        .parse(&body)
        .ok_or("the fetched message does not parse")?;
    let ok = parsed.attachments().any(|a| a.contents() == CCDA);
    expunge_own(w, &[uid]).await?;
    if ok {
        Ok(())
    } else {
        Err("the C-CDA attachment is missing or altered in the message fetched over IMAP".into())
    }
}

#[when(
    "the harness offers old protocol versions and weak cipher suites after IMAP STARTTLS, then TLS 1.2 and TLS 1.3"
)]
async fn tls_policy(w: &mut DirectWorld) -> Result<(), String> {
    let name = tls_name(w)?;
    if let Some(s) = w.imap.take() {
        keep(w, "greeting", &s);
    }
    for p in tlsprobe::WEAK {
        let mut s = connect(w).await?;
        let answer = s.starttls_probe(p, &name).await.map_err(e)?;
        let problem = tlsprobe::weak_offer_problem(answer.as_ref(), "STARTTLS");
        expect(w, &format!("{} is refused", p.label), problem);
        keep(w, &format!("ClientHello: {}", p.label), &s);
    }
    let ctx = w.ctx()?;
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
        let mut s = connect(w).await?;
        let problem = match s.starttls(&connector, &name).await {
            Ok(r) if r.ok() => None,
            Ok(r) => Some(format!("STARTTLS refused: {:?}", r.text)),
            Err(err) => Some(e(err)),
        };
        expect(w, &format!("{label} is accepted"), problem);
        if s.is_tls() {
            let _ = s.command("LOGOUT").await;
        }
        keep(w, &format!("handshake: {label}"), &s);
    }
    Ok(())
}

#[when("the harness selects inbox, InBoX and INBOX over IMAP")]
async fn inbox_case(w: &mut DirectWorld) -> Result<(), String> {
    let mut s = take(w)?;
    let mut validities = Vec::new();
    for name in ["inbox", "InBoX", "INBOX"] {
        let r = s.command(&format!("SELECT {name}")).await.map_err(e)?;
        expect_ok(w, &format!("SELECT {name} is completed with OK"), &r);
        let v = r.code_number("UIDVALIDITY");
        let exists = r.count("EXISTS").is_some();
        expect(
            w,
            &format!("SELECT {name} reports EXISTS and UIDVALIDITY"),
            (!(exists && v.is_some())).then(|| "EXISTS or UIDVALIDITY missing".to_string()),
        );
        validities.push(v);
    }
    let same = validities.windows(2).all(|p| p[0] == p[1]);
    expect(
        w,
        "every spelling opens the same mailbox (one UIDVALIDITY)",
        (!same).then(|| format!("UIDVALIDITY {validities:?}")),
    );
    let _ = s.command("LOGOUT").await;
    keep(w, "inbox, InBoX, INBOX", &s);
    Ok(())
}

#[then(
    regex = r"^(?:the IMAP capabilities list IMAP4rev1, STARTTLS and LOGINDISABLED in clear, and IMAP4rev1 and AUTH=PLAIN after STARTTLS|the SUT completes the IMAP NOOP with OK|the SUT says BYE, completes LOGOUT with OK and closes the connection|TLS is up and the SUT lists its IMAP capabilities again on request|the SUT accepts IMAP AUTHENTICATE PLAIN both ways|IMAP LOGIN is refused in clear and accepted after STARTTLS|the SUT reports EXISTS, FLAGS and UIDVALIDITY and completes SELECT with OK|the fetched bytes are the whole message, the same in every fetch, and reading it marks it seen|each malformed IMAP command is answered BAD|each IMAP command out of state is answered BAD or NO|each IMAP state accepts its own commands, in order, and only those|UIDVALIDITY stays the same, the remaining UIDs are unchanged and the new UID is larger|the SUT answers NO to both and the IMAP session stays not authenticated|over IMAP the old and weak offers are refused and the modern ones accepted|each spelling selects the same mailbox)$"
)]
async fn judged(w: &mut DirectWorld) -> Result<(), String> {
    let checks = w.imap_checks.clone();
    super::verdict::judge_expectations(w, "IMAP", checks)
}
