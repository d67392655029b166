//! The SUT's POP3 retrieval door, in the words of a mail-client vendor (TEST-CATALOGUE §d.3):
//! capabilities, STLS, logins, the transaction commands, state and syntax errors, unique-id
//! stability and the TLS policy. Every exchange goes over a real socket and its transcript is
//! recorded; every expectation is kept with what was seen and judged by the closing step.

use std::net::SocketAddr;
use std::time::Duration;

use cucumber::{given, then, when};
use direct_conformance::sut::Retrieval;
use direct_conformance::sut::pop3::{Pop3Error, Session, Status};
use direct_conformance::sut::submission::auth_plain;
use direct_conformance::sut::tlsprobe;

use super::world::DirectWorld;

const TIMEOUT: Duration = Duration::from_secs(15);

/// The POP3 door and the login of the mailbox the cases use (`recipients.pop3`, else
/// `recipients.primary`).
fn door(w: &DirectWorld) -> Result<(SocketAddr, String, String), String> {
    let ctx = w.ctx()?;
    let Some(Retrieval::Pop3(addr)) = ctx.sut.retrieval.clone() else {
        return Err(
            "sut.toml declares no POP3 retrieval door ([edge.retrieval] kind = \"pop3\")".into(),
        );
    };
    let r = ctx
        .sut
        .recipient("pop3")
        .or_else(|| ctx.sut.recipient("primary"))
        .ok_or("no recipients.primary")?;
    let password = r
        .password
        .clone()
        .ok_or("the POP3 mailbox's password is not declared in sut.toml")?;
    Ok((addr, r.user.clone(), password))
}

fn role(w: &DirectWorld) -> Result<&'static str, String> {
    Ok(if w.ctx()?.sut.recipient("pop3").is_some() {
        "pop3"
    } else {
        "primary"
    })
}

fn tls_name(w: &DirectWorld) -> Result<String, String> {
    Ok(w.ctx()?.sut.domain.clone())
}

fn e(err: Pop3Error) -> String {
    format!("{err}\n{}", err.transcript)
}

/// Keeps one expectation: `problem` is `None` when it was met.
fn expect(w: &mut DirectWorld, what: &str, problem: Option<String>) {
    w.pop3_checks.push((what.to_string(), problem));
}

fn expect_ok(w: &mut DirectWorld, what: &str, st: &Status) {
    let problem = (!st.ok).then(|| format!("the SUT answered {:?}", st.text));
    expect(w, what, problem);
}

fn expect_err(w: &mut DirectWorld, what: &str, st: &Status) {
    let problem = st.ok.then(|| format!("the SUT answered {:?}", st.text));
    expect(w, what, problem);
}

/// Records a finished session's transcript as evidence.
fn keep(w: &mut DirectWorld, title: &str, s: &Session) {
    w.record("pop3", title, s.transcript.clone());
}

fn session(w: &mut DirectWorld) -> Result<&mut Session, String> {
    w.pop3
        .as_mut()
        .ok_or_else(|| "no POP3 session: start with `Given a POP3 session …`".into())
}

async fn connect(w: &DirectWorld) -> Result<Session, String> {
    let (addr, _, _) = door(w)?;
    Session::connect(addr, TIMEOUT).await.map_err(e)
}

/// STLS with the harness trust anchor; an error when refused or when the handshake fails.
async fn secure(w: &DirectWorld, s: &mut Session) -> Result<(), String> {
    let connector = direct_conformance::sut::pop3::harness_connector()
        .ok_or("the harness trust anchor cannot be loaded")?;
    let st = s.stls(&connector, &tls_name(w)?).await.map_err(e)?;
    if st.ok {
        Ok(())
    } else {
        Err(format!("STLS refused: {:?}\n{}", st.text, s.transcript))
    }
}

/// A session secured and logged in as the POP3 mailbox.
async fn logged_in(w: &DirectWorld) -> Result<Session, String> {
    let (_, user, password) = door(w)?;
    let mut s = connect(w).await?;
    secure(w, &mut s).await?;
    let st = s.login(&user, &password).await.map_err(e)?;
    if !st.ok {
        return Err(format!("login refused: {:?}\n{}", st.text, s.transcript));
    }
    Ok(s)
}

#[given("a POP3 session with the SUT's retrieval door")]
async fn given_session(w: &mut DirectWorld) -> Result<(), String> {
    let s = connect(w).await?;
    let greeting = s.greeting.clone();
    w.pop3 = Some(s);
    expect_ok(w, "the greeting is +OK", &greeting);
    Ok(())
}

#[given("a POP3 session secured with STLS")]
async fn given_secured(w: &mut DirectWorld) -> Result<(), String> {
    let mut s = connect(w).await?;
    secure(w, &mut s).await?;
    w.pop3 = Some(s);
    Ok(())
}

#[given("a POP3 session logged in to the SUT's test mailbox")]
async fn given_logged_in(w: &mut DirectWorld) -> Result<(), String> {
    let s = logged_in(w).await?;
    w.pop3 = Some(s);
    Ok(())
}

#[when("the harness asks for the capabilities in clear and again after STLS")]
async fn capabilities(w: &mut DirectWorld) -> Result<(), String> {
    let clear = session(w)?.capa().await.map_err(e)?;
    let has = |list: &[String], cap: &str| {
        list.iter().any(|c| {
            c.split_whitespace()
                .next()
                .is_some_and(|k| k.eq_ignore_ascii_case(cap))
        })
    };
    for cap in ["STLS", "UIDL"] {
        let problem = (!has(&clear, cap)).then(|| format!("CAPA in clear listed {clear:?}"));
        expect(w, &format!("CAPA in clear lists {cap}"), problem);
    }
    let mut s = w.pop3.take().ok_or("no session")?;
    let secured = secure(w, &mut s).await;
    let after = match secured {
        Ok(()) => s.capa().await.map_err(e)?,
        Err(why) => {
            expect(w, "STLS succeeds", Some(why));
            Vec::new()
        }
    };
    for cap in ["USER", "UIDL"] {
        let problem = (!has(&after, cap)).then(|| format!("CAPA after STLS listed {after:?}"));
        expect(w, &format!("CAPA after STLS lists {cap}"), problem);
    }
    let _ = s.command("QUIT", "QUIT").await;
    keep(w, "CAPA in clear and after STLS", &s);
    Ok(())
}

#[when("the harness sends NOOP")]
async fn noop(w: &mut DirectWorld) -> Result<(), String> {
    let st = session(w)?.command("NOOP", "NOOP").await.map_err(e)?;
    expect_ok(w, "NOOP in TRANSACTION state is answered +OK", &st);
    let mut s = w.pop3.take().ok_or("no session")?;
    let _ = s.command("QUIT", "QUIT").await;
    keep(w, "NOOP", &s);
    Ok(())
}

#[when("the harness starts TLS with STLS")]
async fn stls(w: &mut DirectWorld) -> Result<(), String> {
    let mut s = w.pop3.take().ok_or("no session")?;
    let r = secure(w, &mut s).await;
    expect(
        w,
        "STLS is answered +OK and the handshake succeeds",
        r.err(),
    );
    if s.is_tls() {
        let st = s.command("NOOP", "NOOP").await.map_err(e);
        let problem = match st {
            Ok(st) if st.text.starts_with('+') || st.text.starts_with('-') => None,
            Ok(st) => Some(format!("after TLS the SUT answered {:?}", st.text)),
            Err(err) => Some(err),
        };
        expect(w, "the session goes on over TLS", problem);
        let _ = s.command("QUIT", "QUIT").await;
    }
    keep(w, "STLS", &s);
    Ok(())
}

#[when("the harness tries USER and PASS in clear, then after STLS")]
async fn user_pass(w: &mut DirectWorld) -> Result<(), String> {
    let (_, user, password) = door(w)?;
    let mut s = w.pop3.take().ok_or("no session")?;
    let caps = s.capa().await.map_err(e)?;
    let offered = caps.iter().any(|c| c.eq_ignore_ascii_case("USER"));
    let st = s.login(&user, &password).await.map_err(e)?;
    let problem = st.ok.then(|| {
        format!(
            "the SUT accepted USER/PASS before TLS (USER {}offered in CAPA)",
            if offered { "" } else { "not " }
        )
    });
    expect(w, "USER/PASS is refused in clear", problem);
    if !st.ok {
        let r = secure(w, &mut s).await;
        let ok = r.is_ok();
        expect(w, "STLS succeeds", r.err());
        if ok {
            let st = s.login(&user, &password).await.map_err(e)?;
            expect_ok(w, "USER/PASS is accepted after STLS", &st);
        }
    }
    let _ = s.command("QUIT", "QUIT").await;
    keep(w, "USER/PASS in clear, then after STLS", &s);
    Ok(())
}

#[when("the harness sends malformed commands")]
async fn malformed(w: &mut DirectWorld) -> Result<(), String> {
    let mut s = w.pop3.take().ok_or("no session")?;
    for cmd in ["XYZZY", "RETR abc", "DELE", "TOP 1", "LIST one"] {
        let st = s.command(cmd, cmd).await.map_err(e)?;
        expect_err(w, &format!("{cmd:?} is answered -ERR"), &st);
    }
    let st = s.command("STAT", "STAT").await.map_err(e)?;
    expect_ok(w, "the session is still usable (STAT +OK)", &st);
    let _ = s.command("QUIT", "QUIT").await;
    keep(w, "malformed commands", &s);
    Ok(())
}

#[when("the harness sends commands the state does not allow")]
async fn wrong_state(w: &mut DirectWorld) -> Result<(), String> {
    let (_, user, password) = door(w)?;
    let mut s = w.pop3.take().ok_or("no session")?;
    for cmd in ["RETR 1", "STAT", "DELE 1"] {
        let st = s.command(cmd, cmd).await.map_err(e)?;
        expect_err(w, &format!("{cmd} before login is answered -ERR"), &st);
    }
    let st = s
        .command(&format!("PASS {password}"), "PASS ********")
        .await
        .map_err(e)?;
    expect_err(w, "PASS without USER is answered -ERR", &st);
    let st = s.login(&user, &password).await.map_err(e)?;
    expect_ok(w, "USER then PASS logs in", &st);
    if st.ok {
        let st = s
            .command(&format!("USER {user}"), &format!("USER {user}"))
            .await
            .map_err(e)?;
        expect_err(w, "USER after login is answered -ERR", &st);
    }
    let _ = s.command("QUIT", "QUIT").await;
    keep(w, "commands out of state", &s);
    Ok(())
}

#[when("the harness walks through the AUTHORIZATION, TRANSACTION and UPDATE states")]
async fn states(w: &mut DirectWorld) -> Result<(), String> {
    let (_, user, password) = door(w)?;
    let mut s = w.pop3.take().ok_or("no session")?;
    let st = s.command("STAT", "STAT").await.map_err(e)?;
    expect_err(w, "AUTHORIZATION: STAT is refused", &st);
    let st = s.login(&user, &password).await.map_err(e)?;
    expect_ok(w, "AUTHORIZATION → TRANSACTION: USER/PASS accepted", &st);
    let st = s.command("STAT", "STAT").await.map_err(e)?;
    expect_ok(w, "TRANSACTION: STAT is accepted", &st);
    let st = s.command("QUIT", "QUIT").await.map_err(e)?;
    expect_ok(w, "UPDATE: QUIT is answered +OK", &st);
    // After QUIT the server closes the connection (RFC 1939 §6).
    let after = s.command("NOOP", "NOOP").await;
    let problem = match after {
        Err(_) => None,
        Ok(st) => Some(format!(
            "the session stayed open after QUIT and answered {:?}",
            st.text
        )),
    };
    expect(w, "UPDATE: the connection is closed after QUIT", problem);
    keep(w, "AUTHORIZATION, TRANSACTION, UPDATE", &s);
    Ok(())
}

#[when("the harness authenticates with AUTH PLAIN")]
async fn auth(w: &mut DirectWorld) -> Result<(), String> {
    let (_, user, password) = door(w)?;
    let mut s = w.pop3.take().ok_or("no session")?;
    let caps = s.capa().await.map_err(e)?;
    let sasl = caps.iter().any(|c| {
        let mut words = c.split_whitespace();
        words.next().is_some_and(|k| k.eq_ignore_ascii_case("SASL"))
            && words.any(|m| m.eq_ignore_ascii_case("PLAIN"))
    });
    let problem = (!sasl).then(|| format!("CAPA after STLS listed {caps:?}"));
    expect(w, "CAPA after STLS advertises SASL PLAIN", problem);
    let st = s
        .command(
            &format!("AUTH PLAIN {}", auth_plain(&user, &password)),
            "AUTH PLAIN ********",
        )
        .await
        .map_err(e)?;
    expect_ok(w, "AUTH PLAIN with the right password is accepted", &st);
    if st.ok {
        let st = s.command("STAT", "STAT").await.map_err(e)?;
        expect_ok(w, "TRANSACTION after AUTH: STAT is accepted", &st);
    }
    let _ = s.command("QUIT", "QUIT").await;
    keep(w, "AUTH PLAIN after STLS", &s);
    Ok(())
}

#[when("the harness logs in with a wrong password")]
async fn wrong_password(w: &mut DirectWorld) -> Result<(), String> {
    let (_, user, password) = door(w)?;
    let mut s = w.pop3.take().ok_or("no session")?;
    let st = s
        .login(&user, &format!("{password}-wrong"))
        .await
        .map_err(e)?;
    expect_err(w, "USER/PASS with a wrong password is refused", &st);
    let st = s.command("STAT", "STAT").await.map_err(e)?;
    expect_err(w, "the session is still not logged in (STAT refused)", &st);
    let _ = s.command("QUIT", "QUIT").await;
    keep(w, "wrong password", &s);
    Ok(())
}

/// The message numbers and sizes of LIST.
async fn list(s: &mut Session) -> Result<Vec<(usize, u64)>, String> {
    let (st, body) = s.multiline("LIST", "LIST").await.map_err(e)?;
    if !st.ok {
        return Err(format!("LIST refused: {:?}", st.text));
    }
    Ok(String::from_utf8_lossy(&body)
        .lines()
        .filter_map(|l| {
            let mut p = l.split_whitespace();
            Some((p.next()?.parse().ok()?, p.next()?.parse().ok()?))
        })
        .collect())
}

/// The unique ids of UIDL, by message number.
async fn uidl(s: &mut Session) -> Result<Vec<(usize, String)>, String> {
    let (st, body) = s.multiline("UIDL", "UIDL").await.map_err(e)?;
    if !st.ok {
        return Err(format!("UIDL refused: {:?}", st.text));
    }
    Ok(String::from_utf8_lossy(&body)
        .lines()
        .filter_map(|l| {
            let mut p = l.split_whitespace();
            Some((p.next()?.parse().ok()?, p.next()?.to_string()))
        })
        .collect())
}

fn message_id_of(message: &[u8]) -> Option<String> {
    mail_parser::MessageParser::default()
        .parse(message)
        .and_then(|m| m.message_id().map(|s| s.to_ascii_lowercase()))
}

/// The number of the scenario's message in this session, found by RETR (newest first).
async fn find(s: &mut Session, id: &str) -> Result<Option<usize>, String> {
    let want = id.trim().trim_matches(['<', '>']).to_ascii_lowercase();
    let mut numbers: Vec<usize> = list(s).await?.into_iter().map(|(n, _)| n).collect();
    numbers.reverse();
    for n in numbers {
        let (st, m) = s
            .multiline(&format!("RETR {n}"), &format!("RETR {n}"))
            .await
            .map_err(e)?;
        if st.ok && message_id_of(&m).is_some_and(|got| got == want) {
            return Ok(Some(n));
        }
    }
    Ok(None)
}

/// Logs in until the scenario's message is there (bounded by the accept window): the
/// session and the message's number.
async fn session_with_message(w: &mut DirectWorld) -> Result<(Session, usize), String> {
    let ctx = w.ctx()?;
    let id = w.sent()?.message_id.clone();
    let deadline = tokio::time::Instant::now() + ctx.sut.windows.accept;
    loop {
        let mut s = logged_in(w).await?;
        if let Some(n) = find(&mut s, &id).await? {
            return Ok((s, n));
        }
        let _ = s.command("QUIT", "QUIT").await;
        if tokio::time::Instant::now() >= deadline {
            keep(w, "the mailbox, last look", &s);
            return Err(format!(
                "the message {id} did not reach the {} mailbox within {:?}",
                role(w)?,
                ctx.sut.windows.accept
            ));
        }
        tokio::time::sleep_until(
            (tokio::time::Instant::now() + Duration::from_millis(250)).min(deadline),
        )
        .await;
    }
}

fn stat_of(st: &Status) -> Option<(usize, u64)> {
    let mut p = st.text.split_whitespace().skip(1);
    Some((p.next()?.parse().ok()?, p.next()?.parse().ok()?))
}

#[when("the harness counts, retrieves, deletes and resets the message over POP3")]
async fn transaction(w: &mut DirectWorld) -> Result<(), String> {
    let (mut s, n) = session_with_message(w).await?;
    let st = s.command("STAT", "STAT").await.map_err(e)?;
    let listed = list(&mut s).await?;
    let (count, size) = (listed.len(), listed.iter().map(|(_, z)| z).sum::<u64>());
    let problem = match stat_of(&st) {
        Some(got) if st.ok && got == (count, size) => None,
        _ => Some(format!(
            "STAT said {:?}; LIST gave {count} messages, {size} octets",
            st.text
        )),
    };
    expect(w, "STAT agrees with LIST (count and octets)", problem);
    let st = s
        .command(&format!("DELE {n}"), &format!("DELE {n}"))
        .await
        .map_err(e)?;
    expect_ok(w, "DELE of the message is accepted", &st);
    let st = s.command("STAT", "STAT").await.map_err(e)?;
    let problem = match stat_of(&st) {
        Some((c, _)) if c + 1 == count => None,
        _ => Some(format!("after DELE, STAT said {:?} (was {count})", st.text)),
    };
    expect(w, "after DELE, STAT counts one message fewer", problem);
    let st = s
        .command(&format!("RETR {n}"), &format!("RETR {n}"))
        .await
        .map_err(e)?;
    expect_err(w, "RETR of a deleted message is refused", &st);
    let st = s.command("RSET", "RSET").await.map_err(e)?;
    expect_ok(w, "RSET is accepted", &st);
    let st = s.command("STAT", "STAT").await.map_err(e)?;
    let problem = match stat_of(&st) {
        Some((c, _)) if c == count => None,
        _ => Some(format!("after RSET, STAT said {:?} (was {count})", st.text)),
    };
    expect(w, "RSET undoes the DELE", problem);
    let st = s.command("QUIT", "QUIT").await.map_err(e)?;
    expect_ok(w, "QUIT is answered +OK", &st);
    keep(w, "STAT, LIST, RETR, DELE, RSET, QUIT", &s);

    // A new session still has the message (RSET undid the deletion); DELE and QUIT remove it.
    let id = w.sent()?.message_id.clone();
    let mut s = logged_in(w).await?;
    let again = find(&mut s, &id).await?;
    let problem = again
        .is_none()
        .then(|| "the message was gone although its DELE was undone by RSET".to_string());
    expect(w, "after RSET and QUIT the message is still there", problem);
    if let Some(n) = again {
        let st = s
            .command(&format!("DELE {n}"), &format!("DELE {n}"))
            .await
            .map_err(e)?;
        expect_ok(w, "DELE is accepted", &st);
        // Dropped without QUIT: no UPDATE state, so nothing may be deleted.
        s.drop_connection();
        keep(w, "DELE, then the connection dropped without QUIT", &s);
        let mut s = logged_in(w).await?;
        let still = find(&mut s, &id).await?;
        let problem = still
            .is_none()
            .then(|| "the message was deleted although the session never reached QUIT".to_string());
        expect(w, "without QUIT nothing is deleted", problem);
        if let Some(n) = still {
            let st = s
                .command(&format!("DELE {n}"), &format!("DELE {n}"))
                .await
                .map_err(e)?;
            expect_ok(w, "DELE is accepted", &st);
        }
        let st = s.command("QUIT", "QUIT").await.map_err(e)?;
        expect_ok(w, "QUIT is answered +OK", &st);
        keep(w, "DELE and QUIT", &s);
        let mut s = logged_in(w).await?;
        let gone = find(&mut s, &id).await?;
        let problem = gone.map(|n| format!("message {n} is still there after DELE and QUIT"));
        expect(w, "after DELE and QUIT the message is gone", problem);
        let _ = s.command("QUIT", "QUIT").await;
        keep(w, "the mailbox after QUIT", &s);
    }
    Ok(())
}

#[when("the harness lists the unique ids in two sessions")]
async fn uids(w: &mut DirectWorld) -> Result<(), String> {
    let (mut s, n) = session_with_message(w).await?;
    let first = uidl(&mut s).await?;
    let _ = s.command("QUIT", "QUIT").await;
    keep(w, "UIDL, first session", &s);
    let id = w.sent()?.message_id.clone();
    let mut s = logged_in(w).await?;
    let second_n = find(&mut s, &id).await?;
    let second = uidl(&mut s).await?;
    let _ = s.command("QUIT", "QUIT").await;
    keep(w, "UIDL, second session", &s);
    for (label, l) in [("first", &first), ("second", &second)] {
        let mut ids: Vec<&String> = l.iter().map(|(_, u)| u).collect();
        let all = ids.len();
        ids.sort();
        ids.dedup();
        let problem = (ids.len() != all).then(|| format!("{label} session: duplicate ids {l:?}"));
        expect(
            w,
            &format!("UIDL ids are unique ({label} session)"),
            problem,
        );
    }
    let uid_of =
        |l: &[(usize, String)], n: usize| l.iter().find(|(m, _)| *m == n).map(|(_, u)| u.clone());
    let a = uid_of(&first, n);
    let b = second_n.and_then(|m| uid_of(&second, m));
    let problem = match (&a, &b) {
        (Some(x), Some(y)) if x == y => None,
        _ => Some(format!(
            "the message's id was {a:?} in the first session and {b:?} in the second"
        )),
    };
    expect(
        w,
        "the message keeps its unique id across sessions",
        problem,
    );
    Ok(())
}

#[when(
    "the harness offers old protocol versions and weak cipher suites after STLS, then TLS 1.2 and TLS 1.3"
)]
async fn tls_policy(w: &mut DirectWorld) -> Result<(), String> {
    let name = tls_name(w)?;
    for p in tlsprobe::WEAK {
        let mut s = connect(w).await?;
        let answer = s.stls_probe(p, &name).await.map_err(e)?;
        let problem = tlsprobe::weak_offer_problem(answer.as_ref(), "STLS");
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
        let connector = connector(&roots, version)?;
        let mut s = connect(w).await?;
        let r = s.stls(&connector, &name).await.map_err(e);
        let problem = match r {
            Ok(st) if st.ok => None,
            Ok(st) => Some(format!("STLS refused: {:?}", st.text)),
            Err(err) => Some(err),
        };
        expect(w, &format!("{label} is accepted"), problem);
        if s.is_tls() {
            let _ = s.command("QUIT", "QUIT").await;
        }
        keep(w, &format!("handshake: {label}"), &s);
    }
    Ok(())
}

/// A connector that offers one protocol version only (rustls offers AEAD suites only).
pub(super) fn connector(
    roots: &[Vec<u8>],
    version: &'static rustls::SupportedProtocolVersion,
) -> Result<tokio_rustls::TlsConnector, String> {
    let mut store = rustls::RootCertStore::empty();
    for r in roots {
        store
            .add(rustls::pki_types::CertificateDer::from(r.clone()))
            .map_err(|e| e.to_string())?;
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .map_err(|e| e.to_string())?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(std::sync::Arc::new(
        config,
    )))
}

#[then(
    regex = r"^(?:the capabilities list STLS and UIDL in clear, and USER and UIDL after STLS|the SUT answers \+OK|TLS is up|credentials are refused in clear and accepted after STLS|each is answered -ERR|each state accepts only its own commands, and QUIT ends the session|the counts are right, RSET undoes DELE, and deletion happens only at QUIT|the ids are unique and the message keeps its id|the SUT accepts AUTH PLAIN and the session is logged in|the SUT refuses the login and stays in AUTHORIZATION|the old and weak offers are refused and the modern ones accepted)$"
)]
async fn judged(w: &mut DirectWorld) -> Result<(), String> {
    let checks = w.pop3_checks.clone();
    super::verdict::judge_expectations(w, "POP3", checks)
}
