//! POP3 over the Maildir (RFC 1939, STLS from RFC 2595): CAPA, STLS, USER/PASS, STAT, LIST,
//! UIDL, RETR, DELE, RSET, NOOP, QUIT. Deletions happen at QUIT (the UPDATE state).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use super::conn::{LineConn, LineError};
use super::maildir::StoredMessage;
use super::{Core, Door, Transcript};

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

async fn say(conn: &mut LineConn, t: &mut Transcript, text: &str, timeout: Duration) -> bool {
    t.we_said(text);
    conn.write_all(format!("{text}\r\n").as_bytes(), timeout)
        .await
        .is_ok()
}

async fn session(core: &Arc<Core>, conn: &mut LineConn, t: &mut Transcript) {
    // RFC 1939 §3: the autologout timer is at least 10 minutes; bounded by the config.
    let timeout = Duration::from_secs(core.settings.timeouts.command_secs);
    let mut state = State::Authorization { user: None };
    if !say(conn, t, "+OK direct-conformance POP3 ready", timeout).await {
        return;
    }
    loop {
        let line = match conn.read_line(512, timeout).await {
            Ok(l) => l,
            Err(LineError::TooLong(_)) => {
                if !say(conn, t, "-ERR line too long", timeout).await {
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
        if cmd == "PASS" {
            t.peer_said("PASS [hidden]");
        } else {
            t.peer_said(&text);
        }
        if cmd == "QUIT" {
            if let State::Transaction {
                messages, deleted, ..
            } = &state
            {
                for i in deleted {
                    if let Some(m) = messages.get(*i) {
                        let _ = core.maildir.delete(m);
                    }
                }
            }
            say(conn, t, "+OK bye", timeout).await;
            conn.shutdown().await;
            return;
        }
        if cmd == "CAPA" {
            let mut caps = vec!["+OK capability list follows", "USER", "UIDL", "TOP"];
            if core.acceptor.is_some()
                && !conn.is_tls()
                && matches!(state, State::Authorization { .. })
            {
                caps.push("STLS");
            }
            caps.push(".");
            let mut ok = true;
            for c in caps {
                ok &= say(conn, t, c, timeout).await;
            }
            if !ok {
                return;
            }
            continue;
        }
        if cmd == "STLS" && matches!(state, State::Authorization { .. }) {
            let Some(acceptor) = core.acceptor.clone().filter(|_| !conn.is_tls()) else {
                if !say(conn, t, "-ERR STLS not available", timeout).await {
                    return;
                }
                continue;
            };
            if !say(conn, t, "+OK begin TLS negotiation", timeout).await {
                return;
            }
            if conn.accept_tls(&acceptor, timeout).await.is_err() {
                t.we_said("[TLS failed]");
                return;
            }
            t.we_said("[TLS established]");
            state = State::Authorization { user: None };
            continue;
        }
        let reply: String = match (&mut state, cmd.as_str()) {
            (State::Authorization { user }, "USER") => {
                if arg.is_empty() {
                    "-ERR USER needs a name".into()
                } else {
                    *user = Some(arg.clone());
                    "+OK".into()
                }
            }
            (State::Authorization { user }, "PASS") => match user.take() {
                None => "-ERR USER first".into(),
                Some(u) => {
                    let good = core
                        .settings
                        .address(&u)
                        .and_then(|a| a.password.as_deref())
                        .is_some_and(|p| p == arg);
                    if !good {
                        "-ERR [AUTH] invalid user name or password".into()
                    } else {
                        match core.maildir.list(&u) {
                            Ok(messages) => {
                                let n = messages.len();
                                state = State::Transaction {
                                    messages,
                                    deleted: BTreeSet::new(),
                                };
                                format!("+OK maildrop has {n} messages")
                            }
                            Err(e) => format!("-ERR [SYS/TEMP] {e}"),
                        }
                    }
                }
            },
            (State::Authorization { .. }, _) => "-ERR not allowed before login".into(),
            (
                State::Transaction {
                    messages, deleted, ..
                },
                c,
            ) => {
                let live = |i: usize| i < messages.len() && !deleted.contains(&i);
                let index = || -> Option<usize> {
                    let n: usize = arg.split_whitespace().next()?.parse().ok()?;
                    n.checked_sub(1)
                };
                match c {
                    "STAT" => {
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
                                format!("{} {}", i + 1, m.id)
                            }
                        };
                        if arg.is_empty() {
                            let mut ok = say(conn, t, "+OK", timeout).await;
                            for (i, m) in messages.iter().enumerate() {
                                if !deleted.contains(&i) {
                                    ok &= say(conn, t, &value(i, m), timeout).await;
                                }
                            }
                            ok &= say(conn, t, ".", timeout).await;
                            if !ok {
                                return;
                            }
                            continue;
                        }
                        match index().filter(|i| live(*i)) {
                            Some(i) => format!("+OK {}", value(i, &messages[i])),
                            None => "-ERR no such message".into(),
                        }
                    }
                    "RETR" | "TOP" => match index().filter(|i| live(*i)) {
                        None => "-ERR no such message".into(),
                        Some(i) => match core.maildir.read(&messages[i]) {
                            Err(e) => format!("-ERR {e}"),
                            Ok(bytes) => {
                                let body = if c == "TOP" {
                                    let n: usize = arg
                                        .split_whitespace()
                                        .nth(1)
                                        .and_then(|v| v.parse().ok())
                                        .unwrap_or(0);
                                    top(&bytes, n)
                                } else {
                                    bytes
                                };
                                t.we_said(&format!("+OK [{} octets]", body.len()));
                                let mut out = format!("+OK {} octets\r\n", body.len()).into_bytes();
                                out.extend_from_slice(&super::smtp_client::dot_stuff(&body));
                                if conn.write_all(&out, timeout).await.is_err() {
                                    return;
                                }
                                continue;
                            }
                        },
                    },
                    "DELE" => match index().filter(|i| live(*i)) {
                        Some(i) => {
                            deleted.insert(i);
                            format!("+OK message {} deleted", i + 1)
                        }
                        None => "-ERR no such message".into(),
                    },
                    "NOOP" => "+OK".into(),
                    "RSET" => {
                        deleted.clear();
                        "+OK".into()
                    }
                    "USER" | "PASS" | "STLS" => "-ERR already logged in".into(),
                    _ => "-ERR unknown command".into(),
                }
            }
        };
        if !say(conn, t, &reply, timeout).await {
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
