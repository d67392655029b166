//! A hand-driven SMTP session toward the SUT's edge submission door, for the edge-smtp cases:
//! each command and reply kept for the evidence (AUTH secrets masked), STARTTLS on demand,
//! every read bounded in time.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

#[derive(Debug, thiserror::Error)]
#[error("submission {addr}: {message}")]
pub struct SessionError {
    pub addr: SocketAddr,
    pub message: String,
}

/// One reply: code and text (lines joined with `\n`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

pub struct Session {
    addr: SocketAddr,
    io: Option<BufReader<Box<dyn Io>>>,
    timeout: Duration,
    pub transcript: String,
    pub greeting: Option<Reply>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("addr", &self.addr).finish()
    }
}

impl Session {
    pub async fn connect(addr: SocketAddr, timeout: Duration) -> Result<Session, SessionError> {
        let tcp = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| SessionError {
                addr,
                message: "connect timed out".into(),
            })?
            .map_err(|e| SessionError {
                addr,
                message: format!("connect: {e}"),
            })?;
        let mut s = Session {
            addr,
            io: Some(BufReader::new(Box::new(tcp) as Box<dyn Io>)),
            timeout,
            transcript: format!("# connected to {addr}\n"),
            greeting: None,
        };
        s.greeting = Some(s.reply().await?);
        Ok(s)
    }

    fn err(&self, message: impl Into<String>) -> SessionError {
        fail(self.addr, message)
    }

    async fn reply(&mut self) -> Result<Reply, SessionError> {
        let (addr, timeout) = (self.addr, self.timeout);
        let mut text = String::new();
        loop {
            let mut line = String::new();
            let io = self
                .io
                .as_mut()
                .ok_or_else(|| fail(addr, "session closed"))?;
            let n = tokio::time::timeout(timeout, io.read_line(&mut line))
                .await
                .map_err(|_| fail(addr, format!("no reply within {timeout:?}")))?
                .map_err(|e| fail(addr, format!("read: {e}")))?;
            if n == 0 {
                return Err(self.err("connection closed"));
            }
            let line = line.trim_end().to_string();
            self.transcript.push_str(&format!("S: {line}\n"));
            let code = line
                .get(..3)
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| self.err(format!("malformed reply {line:?}")))?;
            text.push_str(line.get(4..).unwrap_or(""));
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(Reply { code, text });
            }
            text.push('\n');
        }
    }

    /// Sends one command line; `shown` is what the transcript records.
    pub async fn command(&mut self, line: &str, shown: &str) -> Result<Reply, SessionError> {
        self.transcript.push_str(&format!("C: {shown}\n"));
        let (addr, timeout) = (self.addr, self.timeout);
        let io = self
            .io
            .as_mut()
            .ok_or_else(|| fail(addr, "session closed"))?;
        // A TLS stream may keep the records until flushed.
        let w = io.get_mut();
        tokio::time::timeout(timeout, async {
            w.write_all(format!("{line}\r\n").as_bytes()).await?;
            w.flush().await
        })
        .await
        .map_err(|_| fail(addr, "write timed out"))?
        .map_err(|e| fail(addr, format!("write: {e}")))?;
        self.reply().await
    }

    /// DATA, the message (dot-stuffed, with the end marker), and the final reply.
    pub async fn data(&mut self, message: &[u8]) -> Result<Reply, SessionError> {
        let r = self.command("DATA", "DATA").await?;
        if r.code != 354 {
            return Ok(r);
        }
        let (addr, timeout) = (self.addr, self.timeout);
        self.transcript.push_str(&format!(
            "C: <{} octets of message content>\nC: .\n",
            message.len()
        ));
        let stuffed = crate::hisp::smtp_client::dot_stuff(message);
        let io = self
            .io
            .as_mut()
            .ok_or_else(|| fail(addr, "session closed"))?;
        let w = io.get_mut();
        tokio::time::timeout(timeout, async {
            w.write_all(&stuffed).await?;
            w.flush().await
        })
        .await
        .map_err(|_| fail(addr, "sending DATA timed out"))?
        .map_err(|e| fail(addr, format!("sending DATA: {e}")))?;
        self.reply().await
    }

    /// STARTTLS, then the handshake verifying the server as `name`.
    pub async fn starttls(
        &mut self,
        connector: &tokio_rustls::TlsConnector,
        name: &str,
    ) -> Result<Reply, SessionError> {
        let r = self.command("STARTTLS", "STARTTLS").await?;
        if r.code != 220 {
            return Ok(r);
        }
        let plain = self
            .io
            .take()
            .ok_or_else(|| self.err("session closed"))?
            .into_inner();
        let tls = client_handshake(connector, name, plain, self.timeout)
            .await
            .map_err(|e| self.err(e))?;
        self.transcript.push_str("# TLS established\n");
        self.io = Some(BufReader::new(Box::new(tls) as Box<dyn Io>));
        Ok(r)
    }
}

impl Session {
    /// Where the session is connected.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Writes `bytes` as they are (no CRLF added, no dot-stuffing): malformed DATA endings
    /// and over-long lines (SMTP10, SMTP12). `shown` is what the transcript records.
    pub async fn write_raw(&mut self, bytes: &[u8], shown: &str) -> Result<(), SessionError> {
        self.transcript.push_str(&format!("C: {shown}\n"));
        let (addr, timeout) = (self.addr, self.timeout);
        let io = self
            .io
            .as_mut()
            .ok_or_else(|| fail(addr, "session closed"))?;
        let w = io.get_mut();
        tokio::time::timeout(timeout, async {
            w.write_all(bytes).await?;
            w.flush().await
        })
        .await
        .map_err(|_| fail(addr, "write timed out"))?
        .map_err(|e| fail(addr, format!("write: {e}")))
    }

    /// The next reply if one starts within `wait`; `Ok(None)` when the server stays quiet.
    /// Waiting on the buffer (not on a line) keeps a late reply whole for the next read.
    pub async fn reply_within(&mut self, wait: Duration) -> Result<Option<Reply>, SessionError> {
        let addr = self.addr;
        let io = self
            .io
            .as_mut()
            .ok_or_else(|| fail(addr, "session closed"))?;
        match tokio::time::timeout(wait, io.fill_buf()).await {
            Err(_) => Ok(None),
            Ok(Err(e)) => Err(fail(addr, format!("read: {e}"))),
            Ok(Ok([])) => Err(fail(addr, "connection closed")),
            Ok(Ok(_)) => self.reply().await.map(Some),
        }
    }

    /// Reads whatever the server says until it closes the connection or `within` passes:
    /// how long the close took (None: still open), the lines kept in the transcript.
    pub async fn wait_close(&mut self, within: Duration) -> Option<Duration> {
        let started = tokio::time::Instant::now();
        let deadline = started + within;
        let io = self.io.as_mut()?;
        loop {
            let mut line = String::new();
            match tokio::time::timeout_at(deadline, io.read_line(&mut line)).await {
                Err(_) => return None,
                Ok(Ok(0)) | Ok(Err(_)) => {
                    let took = started.elapsed();
                    self.transcript
                        .push_str(&format!("# closed by the server after {took:.1?}\n"));
                    self.io = None;
                    return Some(took);
                }
                Ok(Ok(_)) => self
                    .transcript
                    .push_str(&format!("S: {}\n", line.trim_end())),
            }
        }
    }

    /// STARTTLS, then the probe's hand-made ClientHello instead of a handshake (SMTP-A2): the
    /// server's answer, or None when STARTTLS itself was refused.
    pub async fn starttls_probe(
        &mut self,
        probe: &super::tlsprobe::Probe,
        name: &str,
    ) -> Result<Option<super::tlsprobe::Answer>, SessionError> {
        let r = self.command("STARTTLS", "STARTTLS").await?;
        if r.code != 220 {
            return Ok(None);
        }
        let mut plain = self
            .io
            .take()
            .ok_or_else(|| self.err("session closed"))?
            .into_inner();
        let answer = super::tlsprobe::probe(&mut plain, probe, name, self.timeout).await;
        self.transcript
            .push_str(&super::tlsprobe::note(probe, &answer));
        Ok(Some(answer))
    }
}

/// The EHLO keywords of a reply's text (`SIZE 1024`, `STARTTLS`), the greeting line left out.
pub fn capabilities(ehlo: &Reply) -> Vec<String> {
    ehlo.text
        .lines()
        .skip(1)
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The SIZE an EHLO reply advertises (RFC 1870); None when absent, 0 when unlimited.
pub fn advertised_size(ehlo: &Reply) -> Option<usize> {
    capabilities(ehlo).iter().find_map(|c| {
        let mut words = c.split_whitespace();
        let key = words.next()?;
        if !key.eq_ignore_ascii_case("SIZE") {
            return None;
        }
        Some(words.next().and_then(|n| n.parse().ok()).unwrap_or(0))
    })
}

/// The client side of STARTTLS/STLS for the harness's edge clients: the handshake verifying
/// the server as `name`, bounded by `timeout`; the error says which part failed.
pub(crate) async fn client_handshake<S>(
    connector: &tokio_rustls::TlsConnector,
    name: &str,
    plain: S,
    timeout: Duration,
) -> Result<tokio_rustls::client::TlsStream<S>, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let server = rustls::pki_types::ServerName::try_from(name.to_string())
        .map_err(|e| format!("TLS name {name}: {e}"))?;
    tokio::time::timeout(timeout, connector.connect(server, plain))
        .await
        .map_err(|_| "TLS handshake timed out".to_string())?
        .map_err(|e| format!("TLS handshake: {e}"))
}

/// The transcript line for an established client TLS session: version and cipher suite.
pub(crate) fn established<S>(tls: &tokio_rustls::client::TlsStream<S>) -> String {
    let (_, conn) = tls.get_ref();
    let version = conn
        .protocol_version()
        .map(|v| format!("{v:?}"))
        .unwrap_or_default();
    let suite = conn
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()))
        .unwrap_or_default();
    format!("# TLS established ({version}, {suite})\n")
}

fn fail(addr: SocketAddr, message: impl Into<String>) -> SessionError {
    SessionError {
        addr,
        message: message.into(),
    }
}

/// `AUTH PLAIN` initial response for `user` / `password`.
pub fn auth_plain(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ehlo_keywords_and_size() {
        let r = Reply {
            code: 250,
            text: "mx greets you\nSIZE 4096\nSTARTTLS\nHELP".into(),
        };
        assert_eq!(capabilities(&r), vec!["SIZE 4096", "STARTTLS", "HELP"]);
        assert_eq!(advertised_size(&r), Some(4096));
        let none = Reply {
            code: 250,
            text: "mx".into(),
        };
        assert_eq!(advertised_size(&none), None);
    }
}
