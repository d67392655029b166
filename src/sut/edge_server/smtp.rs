//! EDGE-SRV's submission server: STARTTLS, then `AUTH PLAIN` only (offered only under TLS,
//! refused in clear with 530), MAIL/RCPT/DATA captured. Each finished session is kept with
//! its transcript and what the client did.

use std::net::{IpAddr, SocketAddr};

use super::{EdgeServerError, Log, SESSION_TIMEOUT, decode_plain};
use crate::hisp::conn::{LineConn, LineError};

/// RFC 5321 §4.5.3.1.4/6 limits, so that a runaway client cannot fill memory.
const MAX_LINE: usize = 1000;
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// The account the SUT's edge client logs in with.
#[derive(Clone, Debug)]
pub struct Account {
    pub user: String,
    pub password: String,
}

/// One message the client sent.
#[derive(Clone, Debug)]
pub struct Captured {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

/// One finished session.
#[derive(Clone, Debug, Default)]
pub struct SmtpSession {
    pub transcript: String,
    /// TLS was established.
    pub tls: bool,
    /// Why the TLS handshake failed (the client aborted it, or could not do it).
    pub tls_error: Option<String>,
    /// The client offered credentials before TLS was up.
    pub credentials_in_clear: bool,
    /// The SASL mechanism of the first AUTH under TLS.
    pub mechanism: Option<String>,
    pub authenticated: bool,
    pub messages: Vec<Captured>,
    /// The client ended with QUIT (not by dropping the connection).
    pub quit: bool,
}

/// A running submission server; stops when dropped.
pub type SmtpEdgeServer = super::Server<SmtpSession>;

impl super::Server<SmtpSession> {
    /// Listens on a free port of `bind` and serves until dropped.
    pub async fn start(
        bind: IpAddr,
        acceptor: tokio_rustls::TlsAcceptor,
        account: Account,
    ) -> Result<Self, EdgeServerError> {
        super::Server::listen(bind, move |conn, peer| {
            let (acceptor, account) = (acceptor.clone(), account.clone());
            async move { serve(conn, peer, &acceptor, &account).await }
        })
        .await
    }
}

struct Session<'a> {
    conn: LineConn,
    log: Log,
    rec: SmtpSession,
    account: &'a Account,
    from: Option<String>,
    to: Vec<String>,
}

impl Session<'_> {
    async fn reply(&mut self, text: &str) -> Result<(), LineError> {
        for l in text.split("\r\n") {
            self.log.line(format!("S: {l}"));
        }
        self.conn
            .write_all(format!("{text}\r\n").as_bytes(), SESSION_TIMEOUT)
            .await
    }

    async fn read(&mut self) -> Result<String, LineError> {
        let raw = self.conn.read_line(MAX_LINE, SESSION_TIMEOUT).await?;
        Ok(String::from_utf8_lossy(&raw)
            .trim_end_matches(['\r', '\n'])
            .to_string())
    }

    fn ehlo_text(&self) -> String {
        if self.rec.tls {
            format!("250-{}\r\n250-AUTH PLAIN\r\n250 8BITMIME", super::EDGE_HOST)
        } else {
            format!("250-{}\r\n250-STARTTLS\r\n250 8BITMIME", super::EDGE_HOST)
        }
    }

    async fn auth(&mut self, arg: &str) -> Result<(), LineError> {
        let mut words = arg.split_whitespace();
        let mech = words.next().unwrap_or("").to_ascii_uppercase();
        let initial = words.next().map(str::to_string);
        if !self.rec.tls {
            self.rec.credentials_in_clear = true;
            return self
                .reply("530 5.7.0 Must issue a STARTTLS command first")
                .await;
        }
        if self.rec.mechanism.is_none() {
            self.rec.mechanism = Some(mech.clone());
        }
        if mech != "PLAIN" {
            return self
                .reply("504 5.5.4 Unrecognized authentication type")
                .await;
        }
        let creds = match initial {
            Some(i) if i != "=" => i,
            _ => {
                self.reply("334 ").await?;
                let raw = self.conn.read_line(MAX_LINE, SESSION_TIMEOUT).await?;
                let line = String::from_utf8_lossy(&raw).trim().to_string();
                self.log.line("C: <credentials>");
                line
            }
        };
        match decode_plain(&creds) {
            Some((u, p)) if u == self.account.user && p == self.account.password => {
                self.rec.authenticated = true;
                self.reply("235 2.7.0 Authentication successful").await
            }
            _ => {
                self.reply("535 5.7.8 Authentication credentials invalid")
                    .await
            }
        }
    }

    async fn data(&mut self) -> Result<(), LineError> {
        if self.from.is_none() || self.to.is_empty() {
            return self.reply("503 5.5.1 Need MAIL and RCPT first").await;
        }
        self.reply("354 End data with <CR><LF>.<CR><LF>").await?;
        let mut data = Vec::new();
        let mut too_big = false;
        loop {
            let line = self.conn.read_line(MAX_LINE + 2, SESSION_TIMEOUT).await;
            let line = match line {
                Ok(l) => l,
                Err(LineError::TooLong(_)) => {
                    too_big = true;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if line == b".\r\n" || line == b".\n" {
                break;
            }
            let body = line.strip_prefix(b".").unwrap_or(&line);
            if data.len() + body.len() > MAX_MESSAGE {
                too_big = true;
            } else {
                data.extend_from_slice(body);
            }
        }
        self.log.line(format!(
            "C: <{} octets of message content>\nC: .",
            data.len()
        ));
        if too_big {
            self.from = None;
            self.to.clear();
            return self.reply("552 5.3.4 Message too big").await;
        }
        self.rec.messages.push(Captured {
            from: self.from.take().unwrap_or_default(),
            to: std::mem::take(&mut self.to),
            data,
        });
        self.reply("250 2.0.0 Captured by the harness edge server")
            .await
    }
}

async fn serve(
    conn: LineConn,
    peer: SocketAddr,
    acceptor: &tokio_rustls::TlsAcceptor,
    account: &Account,
) -> SmtpSession {
    let log = Log::default();
    log.line(format!("# connection from {peer}"));
    let mut s = Session {
        conn,
        log: log.clone(),
        rec: SmtpSession::default(),
        account,
        from: None,
        to: Vec::new(),
    };
    if let Err(e) = run(&mut s, acceptor).await {
        log.line(format!("# session ended: {e}"));
    }
    s.conn.shutdown().await;
    s.rec.transcript = log.text();
    s.rec
}

async fn run(s: &mut Session<'_>, acceptor: &tokio_rustls::TlsAcceptor) -> Result<(), LineError> {
    s.reply(&format!(
        "220 {} ESMTP harness edge server",
        super::EDGE_HOST
    ))
    .await?;
    loop {
        let line = s.read().await?;
        let (verb, arg) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let verb = verb.to_ascii_uppercase();
        if verb == "AUTH" {
            let mech = arg.split_whitespace().next().unwrap_or("");
            s.log.line(format!("C: AUTH {mech} <credentials>"));
        } else {
            s.log.line(format!("C: {line}"));
        }
        match verb.as_str() {
            "EHLO" => {
                let t = s.ehlo_text();
                s.reply(&t).await?
            }
            "HELO" => s.reply(&format!("250 {}", super::EDGE_HOST)).await?,
            "STARTTLS" if s.rec.tls => s.reply("503 5.5.1 TLS already active").await?,
            "STARTTLS" => {
                s.reply("220 2.0.0 Ready to start TLS").await?;
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
            "AUTH" => s.auth(arg).await?,
            "MAIL" if !s.rec.authenticated => s.reply("530 5.7.0 Authentication required").await?,
            "MAIL" => {
                s.from = Some(path(arg));
                s.to.clear();
                s.reply("250 2.1.0 OK").await?
            }
            "RCPT" if s.from.is_none() => s.reply("503 5.5.1 MAIL first").await?,
            "RCPT" => {
                s.to.push(path(arg));
                s.reply("250 2.1.5 OK").await?
            }
            "DATA" => s.data().await?,
            "RSET" => {
                s.from = None;
                s.to.clear();
                s.reply("250 2.0.0 OK").await?
            }
            "NOOP" => s.reply("250 2.0.0 OK").await?,
            "QUIT" => {
                s.rec.quit = true;
                s.reply("221 2.0.0 Bye").await?;
                return Ok(());
            }
            _ => s.reply("500 5.5.2 Command not recognized").await?,
        }
    }
}

/// The address inside `FROM:<a>` / `TO:<a>` (parameters dropped).
fn path(arg: &str) -> String {
    let rest = arg.split_once(':').map(|(_, r)| r).unwrap_or(arg).trim();
    let rest = rest.split_whitespace().next().unwrap_or("");
    rest.trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_takes_the_address() {
        assert_eq!(path("FROM:<a@b.test> SIZE=10"), "a@b.test");
        assert_eq!(path("TO: <c@d.test>"), "c@d.test");
        assert_eq!(path("FROM:<>"), "");
    }
}
