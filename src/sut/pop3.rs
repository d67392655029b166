//! The harness's POP3 client for the SUT's edge retrieval door: a hand-driven [`Session`]
//! (every command and response kept for the evidence, secrets masked, STLS on demand, every
//! read bounded) for the edge-pop3 cases, and [`fetch`], which reads a whole mailbox
//! read-only (no DELE) for the other areas.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The mailbox as read, with the dialogue (passwords masked).
#[derive(Clone, Debug, Default)]
pub struct Mailbox {
    pub messages: Vec<Vec<u8>>,
    pub transcript: String,
}

#[derive(Debug, thiserror::Error)]
#[error("POP3 {addr}: {message}")]
pub struct Pop3Error {
    pub addr: SocketAddr,
    pub message: String,
    pub transcript: String,
}

/// One status line: `+OK …` (ok) or `-ERR …`, and a SASL continuation (`+ …`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub ok: bool,
    pub continuation: bool,
    pub text: String,
}

impl Status {
    fn parse(line: &str) -> Status {
        Status {
            ok: line.starts_with("+OK"),
            continuation: line == "+" || line.starts_with("+ "),
            text: line.to_string(),
        }
    }
}

/// A POP3 session with the SUT.
pub struct Session {
    addr: SocketAddr,
    io: Option<BufReader<Box<dyn Io>>>,
    timeout: Duration,
    pub transcript: String,
    pub greeting: Status,
    tls: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("addr", &self.addr)
            .field("tls", &self.tls)
            .finish()
    }
}

impl Session {
    pub async fn connect(addr: SocketAddr, timeout: Duration) -> Result<Session, Pop3Error> {
        let tcp = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| fail(addr, "connect timed out", ""))?
            .map_err(|e| fail(addr, format!("connect: {e}"), ""))?;
        let mut s = Session {
            addr,
            io: Some(BufReader::new(Box::new(tcp) as Box<dyn Io>)),
            timeout,
            transcript: format!("# connected to {addr}\n"),
            greeting: Status::parse(""),
            tls: false,
        };
        s.greeting = s.status().await?;
        Ok(s)
    }

    pub fn is_tls(&self) -> bool {
        self.tls
    }

    fn err(&self, message: impl Into<String>) -> Pop3Error {
        fail(self.addr, message, &self.transcript)
    }

    async fn line(&mut self) -> Result<Vec<u8>, Pop3Error> {
        let timeout = self.timeout;
        let io = self
            .io
            .as_mut()
            .ok_or_else(|| fail(self.addr, "closed", ""))?;
        let mut l = Vec::new();
        let n = tokio::time::timeout(timeout, io.read_until(b'\n', &mut l))
            .await
            .map_err(|_| self.err(format!("no answer within {timeout:?}")))?
            .map_err(|e| self.err(format!("read: {e}")))?;
        if n == 0 {
            return Err(self.err("connection closed"));
        }
        Ok(l)
    }

    async fn status(&mut self) -> Result<Status, Pop3Error> {
        let l = String::from_utf8_lossy(&self.line().await?)
            .trim_end()
            .to_string();
        self.transcript.push_str(&format!("S: {l}\n"));
        Ok(Status::parse(&l))
    }

    /// Sends one line as is; `shown` is what the transcript records.
    pub async fn send(&mut self, line: &str, shown: &str) -> Result<(), Pop3Error> {
        self.transcript.push_str(&format!("C: {shown}\n"));
        let timeout = self.timeout;
        let io = self
            .io
            .as_mut()
            .ok_or_else(|| fail(self.addr, "closed", ""))?;
        // A TLS stream may keep the records until flushed.
        let w = io.get_mut();
        let written = tokio::time::timeout(timeout, async {
            w.write_all(format!("{line}\r\n").as_bytes()).await?;
            w.flush().await
        })
        .await;
        match written {
            Err(_) => Err(self.err("write timed out")),
            Ok(Err(e)) => Err(self.err(format!("write: {e}"))),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// One command and its status line.
    pub async fn command(&mut self, line: &str, shown: &str) -> Result<Status, Pop3Error> {
        self.send(line, shown).await?;
        self.status().await
    }

    /// The command's status, then (when +OK) the dot-terminated lines, un-stuffed.
    pub async fn multiline(
        &mut self,
        line: &str,
        shown: &str,
    ) -> Result<(Status, Vec<u8>), Pop3Error> {
        let st = self.command(line, shown).await?;
        if !st.ok {
            return Ok((st, Vec::new()));
        }
        let mut body = Vec::new();
        let mut lines = 0usize;
        loop {
            let l = self.line().await?;
            if l == b".\r\n" || l == b".\n" {
                break;
            }
            lines += 1;
            let l = l.strip_prefix(b".").unwrap_or(&l);
            body.extend_from_slice(l);
        }
        if lines <= 20 && body.len() < 2000 {
            for l in String::from_utf8_lossy(&body).lines() {
                self.transcript.push_str(&format!("S: {l}\n"));
            }
        } else {
            self.transcript
                .push_str(&format!("S: <{lines} lines, {} octets>\n", body.len()));
        }
        self.transcript.push_str("S: .\n");
        Ok((st, body))
    }

    /// STLS, then the handshake verifying the server as `name`.
    pub async fn stls(
        &mut self,
        connector: &tokio_rustls::TlsConnector,
        name: &str,
    ) -> Result<Status, Pop3Error> {
        let st = self.command("STLS", "STLS").await?;
        if !st.ok {
            return Ok(st);
        }
        let plain = self
            .io
            .take()
            .ok_or_else(|| self.err("session closed"))?
            .into_inner();
        let tls = super::submission::client_handshake(connector, name, plain, self.timeout)
            .await
            .map_err(|e| self.err(e))?;
        self.transcript
            .push_str(&super::submission::established(&tls));
        self.io = Some(BufReader::new(Box::new(tls) as Box<dyn Io>));
        self.tls = true;
        Ok(st)
    }

    /// STLS, then a hand-built ClientHello (see [`super::tlsprobe`]) instead of a real
    /// handshake; the session is unusable afterwards. `None` when STLS was refused.
    pub async fn stls_probe(
        &mut self,
        probe: &super::tlsprobe::Probe,
        name: &str,
    ) -> Result<Option<super::tlsprobe::Answer>, Pop3Error> {
        let st = self.command("STLS", "STLS").await?;
        if !st.ok {
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

    /// CAPA's list (empty when refused).
    pub async fn capa(&mut self) -> Result<Vec<String>, Pop3Error> {
        let (st, body) = self.multiline("CAPA", "CAPA").await?;
        if !st.ok {
            return Ok(Vec::new());
        }
        Ok(String::from_utf8_lossy(&body)
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect())
    }

    /// USER then PASS (the password masked in the transcript); the PASS (or refused USER)
    /// status.
    pub async fn login(&mut self, user: &str, password: &str) -> Result<Status, Pop3Error> {
        let st = self
            .command(&format!("USER {user}"), &format!("USER {user}"))
            .await?;
        if !st.ok {
            return Ok(st);
        }
        self.command(&format!("PASS {password}"), "PASS ********")
            .await
    }

    /// Closes without a word (the server keeps the deletions pending: no UPDATE state).
    pub fn drop_connection(&mut self) {
        self.transcript.push_str("# connection dropped\n");
        self.io = None;
    }
}

fn fail(addr: SocketAddr, message: impl Into<String>, transcript: &str) -> Pop3Error {
    Pop3Error {
        addr,
        message: message.into(),
        transcript: transcript.to_string(),
    }
}

/// The connector that trusts the reference PKI's anchor (the harness trust anchor), built
/// once.
pub fn harness_connector() -> Option<tokio_rustls::TlsConnector> {
    static CONNECTOR: OnceLock<Option<tokio_rustls::TlsConnector>> = OnceLock::new();
    CONNECTOR
        .get_or_init(|| {
            crate::trust::fetch::install_crypto_provider();
            let pki = crate::pki::ReferencePki::load_default().ok()?;
            let root = pki.anchor()?.certificate_der.clone();
            crate::hisp::tls::connector(&[root]).ok()
        })
        .clone()
}

/// Reads every message of `user`'s mailbox. When the server accepts STLS, the session is
/// secured first (verified against the harness anchor, the name being the user's domain);
/// a server whose certificate the harness cannot verify is read in clear on a new
/// connection.
pub async fn fetch(
    addr: SocketAddr,
    user: &str,
    password: &str,
    timeout: Duration,
) -> Result<Mailbox, Pop3Error> {
    let s = secured(addr, user, timeout).await?;
    read_incremental(s, addr, user, password).await
}

/// A session secured by STLS when the server accepts it, else a fresh one in clear.
async fn secured(addr: SocketAddr, user: &str, timeout: Duration) -> Result<Session, Pop3Error> {
    let name = user.rsplit_once('@').map(|(_, d)| d).unwrap_or("localhost");
    let mut s = Session::connect(addr, timeout).await?;
    let Some(connector) = harness_connector() else {
        return Ok(s);
    };
    // STLS straight away (one round trip fewer than CAPA first: retrieval polls); a server
    // without it answers -ERR and the session goes on in clear.
    match s.stls(&connector, name).await {
        Ok(_) => Ok(s),
        Err(_) => {
            let note = format!("{}# STLS failed: reading in clear\n", s.transcript);
            let mut s = Session::connect(addr, timeout).await?;
            s.transcript = format!("{note}{}", s.transcript);
            Ok(s)
        }
    }
}

/// Messages already read, by server, user and UIDL: a poll RETRs new messages only, so
/// polling stays cheap however full a shared mailbox gets. A server whose UIDLs change
/// between sessions only costs more reads.
type Seen = std::collections::HashMap<(SocketAddr, String, String), Vec<u8>>;

fn seen() -> &'static std::sync::Mutex<Seen> {
    static SEEN: OnceLock<std::sync::Mutex<Seen>> = OnceLock::new();
    SEEN.get_or_init(Default::default)
}

/// Reads the mailbox through UIDL, taking the messages read before from the cache; a
/// server without UIDL is read whole.
async fn read_incremental(
    mut s: Session,
    addr: SocketAddr,
    user: &str,
    password: &str,
) -> Result<Mailbox, Pop3Error> {
    let st = s.login(user, password).await?;
    if !st.ok {
        return Err(s.err(format!("server said {:?}", st.text)));
    }
    let (st, listing) = s.multiline("UIDL", "UIDL").await?;
    if !st.ok {
        return read_listed(s).await;
    }
    let mut messages = Vec::new();
    let mut cached = 0usize;
    for line in String::from_utf8_lossy(&listing).lines() {
        let mut f = line.split_whitespace();
        let (Some(n), Some(uid)) = (f.next(), f.next()) else {
            return Err(s.err(format!("unreadable UIDL line {line:?}")));
        };
        let key = (addr, user.to_string(), uid.to_string());
        let known = seen()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        let m = match known {
            Some(m) => {
                cached += 1;
                m
            }
            None => {
                let (st, m) = s
                    .multiline(&format!("RETR {n}"), &format!("RETR {n}"))
                    .await?;
                if !st.ok {
                    // Another session (a scenario beside this one) may have deleted it since
                    // the listing: that message is gone, the rest is still readable.
                    s.transcript
                        .push_str(&format!("# RETR {n} refused: message {uid} skipped\n"));
                    continue;
                }
                seen()
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, m.clone());
                m
            }
        };
        messages.push(m);
    }
    if cached > 0 {
        s.transcript.push_str(&format!(
            "# {cached} message(s) read by an earlier poll not read again\n"
        ));
    }
    let _ = s.command("QUIT", "QUIT").await;
    Ok(Mailbox {
        messages,
        transcript: s.transcript,
    })
}

/// Reads every message of a logged-in session by STAT and RETR.
async fn read_listed(mut s: Session) -> Result<Mailbox, Pop3Error> {
    let stat = s.command("STAT", "STAT").await?;
    let n: usize = stat
        .text
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .filter(|_| stat.ok)
        .ok_or_else(|| s.err(format!("unreadable STAT answer {:?}", stat.text)))?;
    let mut messages = Vec::new();
    for i in 1..=n {
        let (st, m) = s
            .multiline(&format!("RETR {i}"), &format!("RETR {i}"))
            .await?;
        if !st.ok {
            return Err(s.err(format!("RETR {i}: {:?}", st.text)));
        }
        messages.push(m);
    }
    let _ = s.command("QUIT", "QUIT").await;
    Ok(Mailbox {
        messages,
        transcript: s.transcript,
    })
}
