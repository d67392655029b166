//! The reference edge client's IMAP wire (RFC 3501): tagged commands, responses read with
//! their literals, STARTTLS in place, AUTHENTICATE PLAIN and IDLE (RFC 2177). Hand-written:
//! the client is driven step by step (no credential before TLS, BAD and NO survived) and every
//! line is kept for the evidence, which no IMAP client crate on the list offers.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use super::{EdgeClientError, TIMEOUT};
use crate::hisp::conn::{LineConn, LineError};
use crate::sut::edge_server::imap_syntax::{Token, tokens};

const MAX_LINE: usize = 64 * 1024;
/// The largest message the client takes in one literal.
const MAX_LITERAL: usize = 64 * 1024 * 1024;

/// One response line; `raw` keeps the literals' octets in place, `text` shows their sizes.
#[derive(Clone, Debug, Default)]
pub struct Line {
    pub raw: Vec<u8>,
    pub text: String,
}

impl Line {
    /// The line's tokens (`*`, number, FETCH, ...), `None` when it does not parse.
    pub fn tokens(&self) -> Option<Vec<Token>> {
        tokens(&self.raw).ok()
    }
}

/// A tagged command's answer.
#[derive(Clone, Debug, Default)]
pub struct Reply {
    pub untagged: Vec<Line>,
    /// `OK`, `NO` or `BAD`.
    pub status: String,
    pub text: String,
}

impl Reply {
    pub fn ok(&self) -> bool {
        self.status == "OK"
    }
}

pub struct Client {
    conn: LineConn,
    server: SocketAddr,
    next: u32,
    pub transcript: String,
}

impl Client {
    /// Connects and reads the greeting.
    pub async fn connect(server: SocketAddr) -> Result<(Client, Line), EdgeClientError> {
        let tcp = tokio::time::timeout(TIMEOUT, TcpStream::connect(server))
            .await
            .map_err(|_| EdgeClientError::Session(format!("{server}: connect timed out")))?
            .map_err(|e| EdgeClientError::Session(format!("{server}: connect: {e}")))?;
        let mut c = Client {
            conn: LineConn::new(tcp),
            server,
            next: 0,
            transcript: format!("# connected to {server}\n"),
        };
        let greeting = c.line(TIMEOUT).await?;
        Ok((c, greeting))
    }

    fn fail(&self, what: impl std::fmt::Display) -> EdgeClientError {
        EdgeClientError::Session(format!("IMAP {}: {what}", self.server))
    }

    fn tag(&mut self) -> String {
        self.next += 1;
        format!("c{}", self.next)
    }

    /// One response line with its literals.
    async fn line(&mut self, timeout: Duration) -> Result<Line, EdgeClientError> {
        self.read(timeout).await.map_err(|e| self.fail(e))
    }

    async fn read(&mut self, timeout: Duration) -> Result<Line, LineError> {
        let mut l = Line::default();
        loop {
            let part = self.conn.read_line(MAX_LINE, timeout).await?;
            let text = String::from_utf8_lossy(&part)
                .trim_end_matches(['\r', '\n'])
                .to_string();
            l.raw.extend_from_slice(&part);
            l.text.push_str(&text);
            let Some(n) = literal_at_end(&text) else {
                break;
            };
            if n > MAX_LITERAL {
                return Err(LineError::TooLong(MAX_LITERAL));
            }
            let data = self.conn.read_exact(n, TIMEOUT).await?;
            l.raw.extend_from_slice(&data);
            l.text.push_str(&format!(" <{n} octets>"));
        }
        while l.raw.last().is_some_and(|c| *c == b'\n' || *c == b'\r') {
            l.raw.pop();
        }
        self.transcript.push_str(&format!("S: {}\n", l.text));
        Ok(l)
    }

    async fn send(&mut self, raw: &str, shown: &str) -> Result<(), EdgeClientError> {
        self.transcript.push_str(&format!("C: {shown}\n"));
        self.conn
            .write_all(format!("{raw}\r\n").as_bytes(), TIMEOUT)
            .await
            .map_err(|e| self.fail(e))
    }

    /// Reads until the tagged answer to `tag`.
    async fn until(&mut self, tag: &str) -> Result<Reply, EdgeClientError> {
        let mut reply = Reply::default();
        loop {
            let l = self.line(TIMEOUT).await?;
            if let Some(rest) = l.text.strip_prefix(&format!("{tag} ")) {
                let (status, text) = rest.split_once(' ').unwrap_or((rest, ""));
                reply.status = status.to_ascii_uppercase();
                reply.text = text.to_string();
                return Ok(reply);
            }
            if l.text.starts_with('+') {
                return Err(self.fail("unexpected continuation request"));
            }
            reply.untagged.push(l);
        }
    }

    /// One command; `shown` is what the transcript records (secrets masked).
    pub async fn command(&mut self, cmd: &str, shown: &str) -> Result<Reply, EdgeClientError> {
        let tag = self.tag();
        self.send(&format!("{tag} {cmd}"), &format!("{tag} {shown}"))
            .await?;
        self.until(&tag).await
    }

    /// STARTTLS and the handshake; a handshake failure (a refused certificate) is an error.
    pub async fn starttls(
        &mut self,
        connector: &tokio_rustls::TlsConnector,
        name: &str,
    ) -> Result<Reply, EdgeClientError> {
        let r = self.command("STARTTLS", "STARTTLS").await?;
        if !r.ok() {
            return Ok(r);
        }
        let server_name = rustls::pki_types::ServerName::try_from(name.to_string())
            .map_err(|e| self.fail(format!("server name {name}: {e}")))?;
        self.conn
            .connect_tls(connector, server_name, TIMEOUT)
            .await
            .map_err(|e| EdgeClientError::Tls {
                server: self.server,
                message: e.to_string(),
            })?;
        self.transcript.push_str("# TLS established\n");
        Ok(r)
    }

    /// AUTHENTICATE PLAIN, credentials after the server's `+`.
    pub async fn authenticate_plain(
        &mut self,
        user: &str,
        password: &str,
    ) -> Result<Reply, EdgeClientError> {
        let tag = self.tag();
        self.send(
            &format!("{tag} AUTHENTICATE PLAIN"),
            &format!("{tag} AUTHENTICATE PLAIN"),
        )
        .await?;
        let l = self.line(TIMEOUT).await?;
        if !l.text.starts_with('+') {
            let mut r = Reply::default();
            let rest = l.text.strip_prefix(&format!("{tag} ")).unwrap_or(&l.text);
            let (status, text) = rest.split_once(' ').unwrap_or((rest, ""));
            r.status = status.to_ascii_uppercase();
            r.text = text.into();
            return Ok(r);
        }
        let creds = crate::sut::submission::auth_plain(user, password);
        self.send(&creds, "<credentials>").await?;
        self.until(&tag).await
    }

    /// Starts IDLE: the tag when the server said `+`, else its refusal.
    pub async fn idle(&mut self) -> Result<Result<String, Reply>, EdgeClientError> {
        let tag = self.tag();
        self.send(&format!("{tag} IDLE"), &format!("{tag} IDLE"))
            .await?;
        loop {
            let l = self.line(TIMEOUT).await?;
            if l.text.starts_with('+') {
                return Ok(Ok(tag));
            }
            if let Some(rest) = l.text.strip_prefix(&format!("{tag} ")) {
                let (status, text) = rest.split_once(' ').unwrap_or((rest, ""));
                return Ok(Err(Reply {
                    untagged: Vec::new(),
                    status: status.to_ascii_uppercase(),
                    text: text.into(),
                }));
            }
        }
    }

    /// The next untagged line during IDLE, or `None` when `wait` passes first.
    pub async fn idle_line(&mut self, wait: Duration) -> Result<Option<Line>, EdgeClientError> {
        if wait.is_zero() {
            return Ok(None);
        }
        match self.read(wait).await {
            Ok(l) => Ok(Some(l)),
            // Nothing arrived: the connection is still usable for DONE.
            Err(LineError::Timeout(_)) => Ok(None),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Ends IDLE with DONE.
    pub async fn done(&mut self, tag: &str) -> Result<Reply, EdgeClientError> {
        self.send("DONE", "DONE").await?;
        self.until(tag).await
    }
}

/// `{n}` at the end of a response line.
fn literal_at_end(text: &str) -> Option<usize> {
    let inner = text.strip_suffix('}')?;
    let digits = &inner[inner.rfind('{')? + 1..];
    (!digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()))
        .then(|| digits.parse().unwrap_or(usize::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_sizes() {
        assert_eq!(literal_at_end("* 1 FETCH (BODY[] {12}"), Some(12));
        assert_eq!(literal_at_end("* 1 FETCH (UID 1)"), None);
        assert_eq!(literal_at_end("{}"), None);
    }
}
