//! EDGE-SRV's POP3 server (RFC 1939, STLS from RFC 2595, CAPA from RFC 2449): serves a fixed
//! mailbox to the SUT's edge client after STLS and USER/PASS (or AUTH PLAIN), refuses
//! credentials in clear, and can be told to answer some commands `-ERR` (POP22). Each finished
//! session is kept with its transcript and which messages were retrieved whole.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::smtp::Account;
use super::{EdgeServerError, Log, SESSION_TIMEOUT, decode_plain};
use crate::hisp::conn::{LineConn, LineError};

const MAX_LINE: usize = 512;

/// Commands the server answers `-ERR` on purpose (POP22).
#[derive(Clone, Debug, Default)]
pub struct Script {
    /// Verbs always refused (`UIDL`, `TOP`, ...).
    pub refuse: BTreeSet<String>,
    /// The first `RETR` of this message number is refused (later ones succeed).
    pub fail_first_retr_of: Option<usize>,
}

/// One finished session.
#[derive(Clone, Debug, Default)]
pub struct Pop3Session {
    pub transcript: String,
    pub tls: bool,
    pub tls_error: Option<String>,
    /// USER, PASS or AUTH before STLS.
    pub credentials_in_clear: bool,
    pub authenticated: bool,
    /// Message numbers sent whole by RETR.
    pub retrieved: BTreeSet<usize>,
    /// Commands answered `-ERR` by the script.
    pub scripted_errors: usize,
    /// Commands the client sent after the first scripted `-ERR`.
    pub commands_after_error: usize,
    pub quit: bool,
}

/// A running POP3 server over one mailbox; stops when dropped.
pub type Pop3EdgeServer = super::Server<Pop3Session>;

struct Mailbox {
    account: Account,
    messages: Vec<Vec<u8>>,
    script: Script,
}

impl super::Server<Pop3Session> {
    /// Listens on a free port of `bind` and serves `messages` to `account` until dropped.
    pub async fn start(
        bind: IpAddr,
        acceptor: tokio_rustls::TlsAcceptor,
        account: Account,
        messages: Vec<Vec<u8>>,
        script: Script,
    ) -> Result<Self, EdgeServerError> {
        let mailbox = Arc::new(Mailbox {
            account,
            messages,
            script,
        });
        super::Server::listen(bind, move |conn, peer| {
            let (acceptor, mailbox) = (acceptor.clone(), mailbox.clone());
            async move { serve(conn, peer, &acceptor, &mailbox).await }
        })
        .await
    }
}

/// A unique id per message that does not change between sessions (RFC 1939 §7).
fn uid(n: usize, message: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(message);
    let short: String = d[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("edge{n}-{short}")
}

struct Session<'a> {
    conn: LineConn,
    log: Log,
    rec: Pop3Session,
    mb: &'a Mailbox,
    user: Option<String>,
    deleted: BTreeSet<usize>,
    failed_once: BTreeSet<usize>,
}

impl Session<'_> {
    async fn send(&mut self, text: &str) -> Result<(), LineError> {
        self.log.line(format!("S: {text}"));
        self.conn
            .write_all(format!("{text}\r\n").as_bytes(), SESSION_TIMEOUT)
            .await
    }

    /// A multi-line response: the status line is logged, the body summarised.
    async fn send_multi(
        &mut self,
        status: &str,
        body: &[u8],
        shown: &str,
    ) -> Result<(), LineError> {
        self.log.line(format!("S: {status}"));
        self.log.line(format!("S: {shown}\nS: ."));
        let mut out = format!("{status}\r\n").into_bytes();
        out.extend_from_slice(&crate::hisp::smtp_client::dot_stuff(body));
        self.conn.write_all(&out, SESSION_TIMEOUT).await
    }

    fn scripted(&mut self, verb: &str) -> bool {
        if self.mb.script.refuse.contains(verb) {
            self.rec.scripted_errors += 1;
            return true;
        }
        false
    }

    fn message(&self, arg: &str) -> Option<usize> {
        let n: usize = arg.split_whitespace().next()?.parse().ok()?;
        (n >= 1 && n <= self.mb.messages.len() && !self.deleted.contains(&n)).then_some(n)
    }

    fn live(&self) -> impl Iterator<Item = (usize, &Vec<u8>)> {
        self.mb
            .messages
            .iter()
            .enumerate()
            .map(|(i, m)| (i + 1, m))
            .filter(|(n, _)| !self.deleted.contains(n))
    }
}

async fn serve(
    conn: LineConn,
    peer: SocketAddr,
    acceptor: &tokio_rustls::TlsAcceptor,
    mb: &Mailbox,
) -> Pop3Session {
    let log = Log::default();
    log.line(format!("# connection from {peer}"));
    let mut s = Session {
        conn,
        log: log.clone(),
        rec: Pop3Session::default(),
        mb,
        user: None,
        deleted: BTreeSet::new(),
        failed_once: BTreeSet::new(),
    };
    if let Err(e) = run(&mut s, acceptor).await {
        log.line(format!("# session ended: {e}"));
    }
    s.conn.shutdown().await;
    s.rec.transcript = log.text();
    s.rec
}

async fn run(s: &mut Session<'_>, acceptor: &tokio_rustls::TlsAcceptor) -> Result<(), LineError> {
    s.send("+OK harness edge server POP3 ready").await?;
    loop {
        let raw = match s.conn.read_line(MAX_LINE, SESSION_TIMEOUT).await {
            Ok(r) => r,
            Err(LineError::TooLong(_)) => {
                s.send("-ERR line too long").await?;
                continue;
            }
            Err(e) => return Err(e),
        };
        let line = String::from_utf8_lossy(&raw)
            .trim_end_matches(['\r', '\n'])
            .to_string();
        let (verb, arg) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let verb = verb.to_ascii_uppercase();
        match verb.as_str() {
            "PASS" => s.log.line("C: PASS <password>"),
            "AUTH" => s.log.line(format!(
                "C: AUTH {} <credentials>",
                arg.split_whitespace().next().unwrap_or("")
            )),
            _ => s.log.line(format!("C: {line}")),
        }
        if s.rec.scripted_errors > 0 {
            s.rec.commands_after_error += 1;
        }
        if s.scripted(&verb) {
            s.send(&format!("-ERR {verb} is not available here (scripted)"))
                .await?;
            continue;
        }
        let authed = s.rec.authenticated;
        match (verb.as_str(), authed) {
            ("CAPA", _) => {
                let mut caps = String::from("+OK capability list follows\r\n");
                if !s.rec.tls {
                    caps.push_str("STLS\r\n");
                }
                caps.push_str("USER\r\nUIDL\r\nTOP\r\n");
                if s.rec.tls {
                    caps.push_str("SASL PLAIN\r\n");
                }
                caps.push_str(".\r\n");
                for l in caps.trim_end().split("\r\n") {
                    s.log.line(format!("S: {l}"));
                }
                s.conn.write_all(caps.as_bytes(), SESSION_TIMEOUT).await?;
            }
            ("STLS", false) if !s.rec.tls => {
                s.send("+OK begin TLS negotiation").await?;
                match s.conn.accept_tls(acceptor, SESSION_TIMEOUT).await {
                    Ok(()) => {
                        s.rec.tls = true;
                        s.log.line("# TLS established");
                    }
                    Err(e) => {
                        s.rec.tls_error = Some(e.to_string());
                        s.log.line(format!("# TLS handshake failed: {e}"));
                        return Ok(());
                    }
                }
            }
            ("USER" | "PASS" | "AUTH", false) if !s.rec.tls => {
                s.rec.credentials_in_clear = true;
                s.send("-ERR [SYS/PERM] STLS first: no credentials in clear")
                    .await?;
            }
            ("USER", false) => {
                s.user = Some(arg.trim().to_string());
                s.send("+OK send PASS").await?;
            }
            ("PASS", false) => {
                let ok = s.user.as_deref() == Some(s.mb.account.user.as_str())
                    && arg == s.mb.account.password;
                s.user = None;
                if ok {
                    s.rec.authenticated = true;
                    s.send("+OK logged in").await?;
                } else {
                    s.send("-ERR [AUTH] invalid login").await?;
                }
            }
            ("AUTH", false) => {
                let mut w = arg.split_whitespace();
                let mech = w.next().unwrap_or("").to_ascii_uppercase();
                if mech != "PLAIN" {
                    s.send("-ERR unsupported mechanism").await?;
                    continue;
                }
                let creds = match w.next() {
                    Some(i) => i.to_string(),
                    None => {
                        s.send("+ ").await?;
                        let raw = s.conn.read_line(MAX_LINE, SESSION_TIMEOUT).await?;
                        s.log.line("C: <credentials>");
                        String::from_utf8_lossy(&raw).trim().to_string()
                    }
                };
                match decode_plain(&creds) {
                    Some((u, p)) if u == s.mb.account.user && p == s.mb.account.password => {
                        s.rec.authenticated = true;
                        s.send("+OK logged in").await?;
                    }
                    _ => s.send("-ERR [AUTH] invalid login").await?,
                }
            }
            ("QUIT", _) => {
                s.rec.quit = true;
                s.send("+OK bye").await?;
                return Ok(());
            }
            ("NOOP", true) => s.send("+OK").await?,
            ("STAT", true) => {
                let (n, size) = s.live().fold((0, 0), |(n, z), (_, m)| (n + 1, z + m.len()));
                s.send(&format!("+OK {n} {size}")).await?;
            }
            ("LIST" | "UIDL", true) => {
                let one = |n: usize, m: &[u8]| {
                    if verb == "LIST" {
                        format!("{n} {}", m.len())
                    } else {
                        format!("{n} {}", uid(n, m))
                    }
                };
                if arg.trim().is_empty() {
                    let lines: Vec<String> = s.live().map(|(n, m)| one(n, m)).collect();
                    let body = lines.iter().map(|l| format!("{l}\r\n")).collect::<String>();
                    let shown = format!("<{} entries>", lines.len());
                    s.send_multi("+OK", body.as_bytes(), &shown).await?;
                } else if let Some(n) = s.message(arg) {
                    let l = one(n, &s.mb.messages[n - 1]);
                    s.send(&format!("+OK {l}")).await?;
                } else {
                    s.send("-ERR no such message").await?;
                }
            }
            ("RETR", true) => match s.message(arg) {
                Some(n) if s.mb.script.fail_first_retr_of == Some(n) && s.failed_once.insert(n) => {
                    s.rec.scripted_errors += 1;
                    s.send("-ERR message temporarily unavailable (scripted)")
                        .await?;
                }
                Some(n) => {
                    let m = s.mb.messages[n - 1].clone();
                    let shown = format!("<{} octets of message {n}>", m.len());
                    s.send_multi(&format!("+OK {} octets", m.len()), &m, &shown)
                        .await?;
                    s.rec.retrieved.insert(n);
                }
                None => s.send("-ERR no such message").await?,
            },
            ("TOP", true) => {
                let mut w = arg.split_whitespace();
                let n = w.next().and_then(|v| s.message(v));
                let lines: Option<usize> = w.next().and_then(|v| v.parse().ok());
                match (n, lines) {
                    (Some(n), Some(k)) => {
                        let m = &s.mb.messages[n - 1];
                        let text = String::from_utf8_lossy(m);
                        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
                        let mut out = format!("{head}\r\n\r\n");
                        for l in body.split("\r\n").take(k) {
                            out.push_str(l);
                            out.push_str("\r\n");
                        }
                        s.send_multi("+OK", out.as_bytes(), "<headers and lines>")
                            .await?;
                    }
                    _ => s.send("-ERR usage: TOP msg n").await?,
                }
            }
            ("DELE", true) => match s.message(arg) {
                Some(n) => {
                    s.deleted.insert(n);
                    s.send(&format!("+OK message {n} deleted")).await?;
                }
                None => s.send("-ERR no such message").await?,
            },
            ("RSET", true) => {
                s.deleted.clear();
                s.send("+OK").await?;
            }
            (_, false) => s.send("-ERR not logged in").await?,
            _ => s.send("-ERR unknown command").await?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_stable_and_distinct() {
        assert_eq!(uid(1, b"a"), uid(1, b"a"));
        assert_ne!(uid(1, b"a"), uid(2, b"a"));
    }
}
