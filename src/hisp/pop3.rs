//! POP3 over the Maildir: RFC 1939 (USER/PASS, STAT, LIST, UIDL, RETR, TOP, DELE, RSET,
//! NOOP, QUIT), CAPA (RFC 2449), STLS (RFC 2595) and AUTH PLAIN (RFC 5034). Deletions happen
//! at QUIT (the UPDATE state). When a TLS identity is configured, credentials are accepted
//! only after STLS (SEC-01), and CAPA lists USER and SASL PLAIN only where they may be used.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::conn::{LineConn, LineError};
use super::maildir::StoredMessage;
use super::{Core, Door, Fault, Transcript};

/// POP3 states (RFC 1939 §3).
enum State {
    /// AUTHORIZATION, with the USER given so far.
    Authorization { user: Option<String> },
    Transaction {
        messages: Vec<StoredMessage>,
        deleted: BTreeSet<usize>,
    },
}

pub async fn serve(core: Arc<Core>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((tcp, peer)) = accepted else { continue };
                let core = core.clone();
                tokio::spawn(async move {
                    let mut t = Transcript::new(Door::Pop3, peer);
                    let mut conn = LineConn::new(tcp);
                    session(&core, &mut conn, &mut t).await;
                    core.transcript(t);
                });
            }
        }
    }
}

/// One session's connection, transcript and bound.
struct Io<'a> {
    conn: &'a mut LineConn,
    t: &'a mut Transcript,
    timeout: Duration,
}

impl Io<'_> {
    async fn say(&mut self, text: &str) -> bool {
        self.t.we_said(text);
        self.conn
            .write_all(format!("{text}\r\n").as_bytes(), self.timeout)
            .await
            .is_ok()
    }

    async fn say_all(&mut self, lines: &[String]) -> bool {
        let mut ok = true;
        for l in lines {
            ok &= self.say(l).await;
        }
        ok
    }
}

/// What a session may do with credentials right now.
fn login_allowed(core: &Core, conn: &LineConn) -> bool {
    conn.is_tls() || core.acceptor.is_none() || core.faults().on(Fault::Pop3UserInClear)
}

fn stls_offered(core: &Core, conn: &LineConn) -> bool {
    core.acceptor.is_some() && !conn.is_tls() && !core.faults().on(Fault::Pop3NoStls)
}

fn password_ok(core: &Core, user: &str, password: &str) -> bool {
    let Some(a) = core.settings.address(user) else {
        return false;
    };
    core.faults().on(Fault::Pop3AcceptBadPassword)
        || a.password.as_deref().is_some_and(|p| p == password)
}

/// Opens the maildrop after a successful login.
fn open(core: &Core, user: &str, state: &mut State) -> String {
    match core.maildir.list(user) {
        Ok(messages) => {
            let n = messages.len();
            *state = State::Transaction {
                messages,
                deleted: BTreeSet::new(),
            };
            format!("+OK maildrop has {n} messages")
        }
        Err(e) => format!("-ERR [SYS/TEMP] {e}"),
    }
}

/// A refusal, or `+OK` under the lenient-commands fault.
fn refuse(core: &Core, text: &str) -> String {
    if core.faults().on(Fault::Pop3LenientCommands) {
        "+OK".into()
    } else {
        format!("-ERR {text}")
    }
}

/// The AUTH PLAIN response (RFC 4616): authzid NUL authcid NUL password; an authzid other
/// than the authcid is refused.
fn plain_credentials(b64: &str) -> Option<(String, String)> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let mut parts = raw.split(|b| *b == 0);
    let authz = std::str::from_utf8(parts.next()?).ok()?;
    let user = std::str::from_utf8(parts.next()?).ok()?.to_string();
    let password = std::str::from_utf8(parts.next()?).ok()?.to_string();
    if parts.next().is_some() || user.is_empty() || !(authz.is_empty() || authz == user) {
        return None;
    }
    Some((user, password))
}

async fn session(core: &Arc<Core>, conn: &mut LineConn, t: &mut Transcript) {
    // RFC 1939 §3: the autologout timer is at least 10 minutes; bounded by the config.
    let timeout = Duration::from_secs(core.settings.timeouts.command_secs);
    let mut io = Io { conn, t, timeout };
    let mut state = State::Authorization { user: None };
    // Unique ids are stable across sessions unless the fault makes each session's differ.
    let uid_suffix = if core.faults().on(Fault::Pop3UnstableUidl) {
        format!(".{:x}", rand::random::<u64>())
    } else {
        String::new()
    };
    if !io.say("+OK direct-conformance POP3 ready").await {
        return;
    }
    loop {
        let line = match io.conn.read_line(512, timeout).await {
            Ok(l) => l,
            Err(LineError::TooLong(_)) => {
                if !io.say("-ERR line too long").await {
                    return;
                }
                continue;
            }
            Err(_) => return,
        };
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        let (cmd, arg) = match text.split_once(' ') {
            Some((c, a)) => (c.to_ascii_uppercase(), a.trim().to_string()),
            None => (text.to_ascii_uppercase(), String::new()),
        };
        match cmd.as_str() {
            "PASS" => io.t.peer_said("PASS [hidden]"),
            "AUTH" if arg.contains(' ') => io.t.peer_said("AUTH PLAIN [hidden]"),
            _ => io.t.peer_said(&text),
        }
        if cmd == "QUIT" {
            // UPDATE state: the deletions of the session take effect now (RFC 1939 §6).
            if let State::Transaction { messages, deleted } = &state {
                for i in deleted {
                    if let Some(m) = messages.get(*i) {
                        let _ = core.maildir.delete(m);
                    }
                }
            }
            io.say("+OK bye").await;
            io.conn.shutdown().await;
            return;
        }
        if cmd == "CAPA" {
            let mut caps = vec!["+OK capability list follows".to_string()];
            caps.extend(["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE"].map(String::from));
            let authorizing = matches!(state, State::Authorization { .. });
            if authorizing && login_allowed(core, io.conn) {
                caps.push("USER".into());
                caps.push("SASL PLAIN".into());
            }
            if authorizing && stls_offered(core, io.conn) {
                caps.push("STLS".into());
            }
            caps.push("IMPLEMENTATION direct-conformance".into());
            caps.push(".".into());
            if !io.say_all(&caps).await {
                return;
            }
            continue;
        }
        if cmd == "STLS" && matches!(state, State::Authorization { .. }) {
            let acceptor = core
                .acceptor
                .clone()
                .filter(|_| stls_offered(core, io.conn));
            let Some(acceptor) = acceptor else {
                if !io.say("-ERR STLS not available").await {
                    return;
                }
                continue;
            };
            if !arg.is_empty() {
                if !io.say("-ERR STLS takes no argument").await {
                    return;
                }
                continue;
            }
            if !io.say("+OK begin TLS negotiation").await {
                return;
            }
            if io.conn.accept_tls(&acceptor, timeout).await.is_err() {
                io.t.we_said("[TLS failed]");
                return;
            }
            io.t.we_said("[TLS established]");
            state = State::Authorization { user: None };
            continue;
        }
        let reply: String = match (&mut state, cmd.as_str()) {
            (State::Authorization { .. }, "USER" | "PASS" | "AUTH")
                if !login_allowed(core, io.conn) =>
            {
                "-ERR [AUTH] credentials only after STLS".into()
            }
            (State::Authorization { user }, "USER") => {
                if arg.is_empty() || arg.contains(' ') {
                    "-ERR USER needs one name".into()
                } else {
                    *user = Some(arg.clone());
                    "+OK".into()
                }
            }
            (State::Authorization { user }, "PASS") => match user.take() {
                None => "-ERR USER first".into(),
                Some(u) if password_ok(core, &u, &arg) => open(core, &u, &mut state),
                Some(_) => "-ERR [AUTH] invalid user name or password".into(),
            },
            (State::Authorization { .. }, "AUTH") => {
                let (mech, initial) = match arg.split_once(' ') {
                    Some((m, i)) => (m.to_ascii_uppercase(), Some(i.trim().to_string())),
                    None => (arg.to_ascii_uppercase(), None),
                };
                if mech != "PLAIN" {
                    "-ERR unsupported SASL mechanism".into()
                } else {
                    let response = match initial {
                        Some(i) => i,
                        None => {
                            // RFC 5034 §4: an empty challenge, then the client's response.
                            if !io.say("+ ").await {
                                return;
                            }
                            match io.conn.read_line(2048, timeout).await {
                                Ok(l) => {
                                    io.t.peer_said("[SASL response hidden]");
                                    String::from_utf8_lossy(&l).trim().to_string()
                                }
                                Err(_) => return,
                            }
                        }
                    };
                    if response == "*" {
                        "-ERR authentication cancelled".into()
                    } else {
                        match plain_credentials(&response) {
                            None => "-ERR malformed PLAIN response".into(),
                            Some((u, p)) if password_ok(core, &u, &p) => open(core, &u, &mut state),
                            Some(_) => "-ERR [AUTH] invalid user name or password".into(),
                        }
                    }
                }
            }
            (State::Authorization { .. }, _) => refuse(core, "not allowed before login"),
            (State::Transaction { messages, deleted }, c) => {
                let live = |i: usize| i < messages.len() && !deleted.contains(&i);
                // A message number: one decimal argument (two for TOP), nothing else.
                let argv: Vec<&str> = arg.split_whitespace().collect();
                let index = |want: usize| -> Option<usize> {
                    if argv.len() != want {
                        return None;
                    }
                    let n: usize = argv.first()?.parse().ok()?;
                    n.checked_sub(1)
                };
                match c {
                    "STAT" if argv.is_empty() => {
                        let (n, size) = messages
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| !deleted.contains(i))
                            .fold((0, 0), |(n, s), (_, m)| (n + 1, s + m.size));
                        format!("+OK {n} {size}")
                    }
                    "LIST" | "UIDL" => {
                        let value = |i: usize, m: &StoredMessage| {
                            if c == "LIST" {
                                format!("{} {}", i + 1, m.size)
                            } else {
                                format!("{} {}{uid_suffix}", i + 1, m.id)
                            }
                        };
                        if argv.is_empty() {
                            let mut lines = vec!["+OK".to_string()];
                            for (i, m) in messages.iter().enumerate() {
                                if !deleted.contains(&i) {
                                    lines.push(value(i, m));
                                }
                            }
                            lines.push(".".into());
                            if !io.say_all(&lines).await {
                                return;
                            }
                            continue;
                        }
                        match index(1).filter(|i| live(*i)) {
                            Some(i) => format!("+OK {}", value(i, &messages[i])),
                            None => "-ERR no such message".into(),
                        }
                    }
                    "RETR" | "TOP" => {
                        let found = if c == "TOP" { index(2) } else { index(1) };
                        let lines: Option<usize> = if c == "TOP" {
                            argv.get(1).and_then(|v| v.parse().ok())
                        } else {
                            None
                        };
                        match found.filter(|i| live(*i)) {
                            None => "-ERR no such message".into(),
                            Some(_) if c == "TOP" && lines.is_none() => {
                                "-ERR TOP needs a line count".into()
                            }
                            Some(i) => match core.maildir.read(&messages[i]) {
                                Err(e) => format!("-ERR {e}"),
                                Ok(bytes) => {
                                    let body = match lines {
                                        Some(n) => top(&bytes, n),
                                        None => bytes,
                                    };
                                    io.t.we_said(&format!("+OK [{} octets]", body.len()));
                                    let mut out =
                                        format!("+OK {} octets\r\n", body.len()).into_bytes();
                                    out.extend_from_slice(&super::smtp_client::dot_stuff(&body));
                                    if io.conn.write_all(&out, timeout).await.is_err() {
                                        return;
                                    }
                                    continue;
                                }
                            },
                        }
                    }
                    "DELE" => match index(1).filter(|i| live(*i)) {
                        Some(i) => {
                            deleted.insert(i);
                            format!("+OK message {} deleted", i + 1)
                        }
                        None => "-ERR no such message".into(),
                    },
                    "NOOP" if argv.is_empty() => {
                        if core.faults().on(Fault::Pop3NoNoop) {
                            "-ERR unknown command".into()
                        } else {
                            "+OK".into()
                        }
                    }
                    "RSET" if argv.is_empty() => {
                        if !core.faults().on(Fault::Pop3NoRset) {
                            deleted.clear();
                        }
                        let n = messages.len() - deleted.len();
                        format!("+OK maildrop has {n} messages")
                    }
                    "STAT" | "NOOP" | "RSET" => "-ERR no argument expected".into(),
                    "USER" | "PASS" | "STLS" | "AUTH" => refuse(core, "already logged in"),
                    _ => refuse(core, "unknown command"),
                }
            }
        };
        if !io.say(&reply).await {
            return;
        }
    }
}

/// The header and the first `n` body lines (RFC 1939 TOP).
fn top(bytes: &[u8], n: usize) -> Vec<u8> {
    let (head, body) = crate::smime::entity::split_header_body(bytes);
    let mut out = head.to_vec();
    out.extend_from_slice(b"\r\n");
    for line in body.split_inclusive(|b| *b == b'\n').take(n) {
        out.extend_from_slice(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_response_needs_matching_authzid() {
        let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(
            plain_credentials(&enc("\0u@x\0pw")),
            Some(("u@x".into(), "pw".into()))
        );
        assert_eq!(
            plain_credentials(&enc("u@x\0u@x\0pw")),
            Some(("u@x".into(), "pw".into()))
        );
        assert_eq!(plain_credentials(&enc("other\0u@x\0pw")), None);
        assert_eq!(plain_credentials(&enc("\0u@x")), None);
        assert_eq!(plain_credentials("!!!"), None);
    }
}
