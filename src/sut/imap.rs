//! The harness's IMAP client for the SUT's edge retrieval door: a hand-driven [`Session`]
//! (tagged commands, untagged responses with their literals, every exchange kept for the
//! evidence with secrets masked, STARTTLS on demand, every read bounded) for the edge-imap
//! cases, and [`fetch`], which reads a whole mailbox read-only (EXAMINE, BODY.PEEK) for the
//! other areas. Hand-written: the cases must send malformed and out-of-state commands and see
//! the server's answers as they are, which a client library does not allow.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::pop3::Mailbox;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Largest literal the harness accepts (a message with its attachments).
const MAX_LITERAL: usize = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
#[error("IMAP {addr}: {message}")]
pub struct ImapError {
    pub addr: SocketAddr,
    pub message: String,
    pub transcript: String,
}

/// One response line, with the literals it carried (`{n}` stays in the text where each was).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    pub literals: Vec<Vec<u8>>,
}

/// What a command got: untagged responses, then the tagged completion (or a continuation
/// request, `+ …`).
#[derive(Clone, Debug, Default)]
pub struct Reply {
    pub untagged: Vec<Line>,
    /// `OK`, `NO`, `BAD` (upper case), or `+` for a continuation request.
    pub status: String,
    /// The completion line as received.
    pub text: String,
}

impl Reply {
    pub fn ok(&self) -> bool {
        self.status == "OK"
    }

    pub fn is(&self, status: &str) -> bool {
        self.status.eq_ignore_ascii_case(status)
    }

    /// The untagged lines that start with `* <word>` (case-insensitive), e.g. `CAPABILITY`.
    pub fn data(&self, word: &str) -> Vec<&Line> {
        self.untagged
            .iter()
            .filter(|l| {
                l.text
                    .split_whitespace()
                    .nth(1)
                    .is_some_and(|w| w.eq_ignore_ascii_case(word))
            })
            .collect()
    }

    /// The number of an untagged `* n WORD` (EXISTS, RECENT).
    pub fn count(&self, word: &str) -> Option<u32> {
        self.untagged.iter().find_map(|l| {
            let mut w = l.text.split_whitespace().skip(1);
            let n = w.next()?.parse().ok()?;
            w.next()
                .is_some_and(|x| x.eq_ignore_ascii_case(word))
                .then_some(n)
        })
    }

    /// The number in a response code `[CODE n]` of an untagged OK or of the completion.
    pub fn code_number(&self, code: &str) -> Option<u32> {
        let want = format!("[{}", code.to_ascii_uppercase());
        self.untagged
            .iter()
            .map(|l| l.text.as_str())
            .chain([self.text.as_str()])
            .find_map(|t| {
                let at = t.to_ascii_uppercase().find(&want)?;
                t[at + want.len()..]
                    .trim_start()
                    .split([']', ' '])
                    .next()?
                    .parse()
                    .ok()
            })
    }

    /// The words of `* CAPABILITY …` (upper case).
    pub fn capabilities(&self) -> Vec<String> {
        self.data("CAPABILITY")
            .iter()
            .flat_map(|l| l.text.split_whitespace().skip(2))
            .map(str::to_ascii_uppercase)
            .collect()
    }

    /// The numbers of `* SEARCH …`.
    pub fn search(&self) -> Vec<u32> {
        self.data("SEARCH")
            .iter()
            .flat_map(|l| l.text.split_whitespace().skip(2))
            .filter_map(|n| n.parse().ok())
            .collect()
    }

    /// Every `* n FETCH (…)` response, read.
    pub fn fetched(&self) -> Vec<Fetched> {
        self.untagged.iter().filter_map(Fetched::parse).collect()
    }
}

/// The data items of one FETCH response the harness reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fetched {
    pub seq: u32,
    pub uid: Option<u32>,
    pub size: Option<u64>,
    pub flags: Vec<String>,
    /// The literal of `BODY[…]` or `RFC822`, with the item's name.
    pub body: Option<(String, Vec<u8>)>,
}

impl Fetched {
    fn parse(l: &Line) -> Option<Fetched> {
        let mut w = l.text.split_whitespace();
        if w.next()? != "*" {
            return None;
        }
        let seq: u32 = w.next()?.parse().ok()?;
        if !w.next()?.eq_ignore_ascii_case("FETCH") {
            return None;
        }
        let rest = l.text.split_once('(').map(|(_, r)| r)?;
        let tokens: Vec<&str> = rest.split_whitespace().collect();
        let mut f = Fetched {
            seq,
            ..Default::default()
        };
        let mut k = 0;
        while k < tokens.len() {
            let t = tokens[k].trim_matches(|c| c == '(' || c == ')');
            let next = tokens.get(k + 1).map(|n| n.trim_end_matches(')'));
            match t.to_ascii_uppercase().as_str() {
                "UID" => f.uid = next.and_then(|n| n.parse().ok()),
                "RFC822.SIZE" => f.size = next.and_then(|n| n.parse().ok()),
                "FLAGS" => {
                    // FLAGS (\Seen \Deleted): up to the closing parenthesis.
                    let mut j = k + 1;
                    while j < tokens.len() {
                        let tok = tokens[j];
                        let name = tok.trim_matches(|c| c == '(' || c == ')');
                        if !name.is_empty() {
                            f.flags.push(name.to_string());
                        }
                        if tok.ends_with(')') {
                            break;
                        }
                        j += 1;
                    }
                }
                _ => {}
            }
            k += 1;
        }
        // Each literal belongs to the item just before its `{n}`: the body is the first one
        // named BODY[…] or RFC822.
        let upper = l.text.to_ascii_uppercase();
        for (j, at) in literal_marks(&l.text).into_iter().enumerate() {
            let before = &upper[..at];
            let start = before.rfind("BODY[").max(before.rfind("RFC822"));
            let Some(start) = start else { continue };
            let name = before[start..].trim().to_string();
            if f.body.is_none()
                && (name.starts_with("BODY[") || name == "RFC822")
                && let Some(data) = l.literals.get(j)
            {
                f.body = Some((name, data.clone()));
            }
        }
        Some(f)
    }

    pub fn seen(&self) -> bool {
        self.flags.iter().any(|f| f.eq_ignore_ascii_case("\\Seen"))
    }
}

/// An IMAP session with the SUT.
pub struct Session {
    addr: SocketAddr,
    io: Option<BufReader<Box<dyn Io>>>,
    timeout: Duration,
    pub transcript: String,
    pub greeting: Line,
    tls: bool,
    tags: u32,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("addr", &self.addr)
            .field("tls", &self.tls)
            .finish()
    }
}

fn fail(addr: SocketAddr, message: impl Into<String>, transcript: &str) -> ImapError {
    ImapError {
        addr,
        message: message.into(),
        transcript: transcript.to_string(),
    }
}

/// Where each `{n}` literal mark stands in a response's text.
fn literal_marks(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for (i, c) in b.iter().enumerate() {
        if *c != b'{' {
            continue;
        }
        let digits = b[i + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
        let close = i + 1 + digits;
        let close = if b.get(close) == Some(&b'+') {
            close + 1
        } else {
            close
        };
        if digits > 0 && b.get(close) == Some(&b'}') {
            out.push(i);
        }
    }
    out
}

/// The literal length a line announces at its end (`{n}` or `{n+}`).
fn literal_at_end(line: &str) -> Option<usize> {
    let t = line.trim_end_matches(['\r', '\n']);
    let open = t.rfind('{')?;
    let inner = t[open + 1..].strip_suffix('}')?;
    inner.trim_end_matches('+').parse().ok()
}

impl Session {
    pub async fn connect(addr: SocketAddr, timeout: Duration) -> Result<Session, ImapError> {
        let tcp = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| fail(addr, "connect timed out", ""))?
            .map_err(|e| fail(addr, format!("connect: {e}"), ""))?;
        let mut s = Session {
            addr,
            io: Some(BufReader::new(Box::new(tcp) as Box<dyn Io>)),
            timeout,
            transcript: format!("# connected to {addr}\n"),
            greeting: Line::default(),
            tls: false,
            tags: 0,
        };
        s.greeting = s.response().await?;
        Ok(s)
    }

    pub fn is_tls(&self) -> bool {
        self.tls
    }

    pub fn err(&self, message: impl Into<String>) -> ImapError {
        fail(self.addr, message, &self.transcript)
    }

    fn io(&mut self) -> Result<&mut BufReader<Box<dyn Io>>, ImapError> {
        let addr = self.addr;
        let t = self.transcript.clone();
        self.io.as_mut().ok_or_else(|| fail(addr, "closed", &t))
    }

    async fn raw_line(&mut self) -> Result<String, ImapError> {
        let timeout = self.timeout;
        let mut l = Vec::new();
        let io = self.io()?;
        let n = tokio::time::timeout(timeout, io.read_until(b'\n', &mut l)).await;
        let n = match n {
            Err(_) => return Err(self.err(format!("no answer within {timeout:?}"))),
            Ok(Err(e)) => return Err(self.err(format!("read: {e}"))),
            Ok(Ok(n)) => n,
        };
        if n == 0 {
            self.transcript
                .push_str("# connection closed by the server\n");
            return Err(self.err("connection closed"));
        }
        Ok(String::from_utf8_lossy(&l).to_string())
    }

    /// One response line with its literals.
    pub async fn response(&mut self) -> Result<Line, ImapError> {
        let mut line = Line::default();
        loop {
            let part = self.raw_line().await?;
            let trimmed = part.trim_end_matches(['\r', '\n']).to_string();
            line.text.push_str(&trimmed);
            let Some(n) = literal_at_end(&trimmed) else {
                break;
            };
            if n > MAX_LITERAL {
                return Err(self.err(format!("a literal of {n} octets is too large")));
            }
            let timeout = self.timeout;
            let mut data = vec![0u8; n];
            let io = self.io()?;
            let read = tokio::time::timeout(timeout, io.read_exact(&mut data)).await;
            match read {
                Err(_) => return Err(self.err(format!("literal not sent within {timeout:?}"))),
                Ok(Err(e)) => return Err(self.err(format!("literal: {e}"))),
                Ok(Ok(_)) => {}
            }
            line.literals.push(data);
        }
        let shown = if line.literals.is_empty() {
            line.text.clone()
        } else {
            // Small text literals (header fields) are shown; message bodies by size only.
            let sizes: Vec<String> = line
                .literals
                .iter()
                .map(|l| match std::str::from_utf8(l) {
                    Ok(t) if l.len() <= 200 => format!("{:?}", t.trim_end()),
                    _ => format!("{} octets", l.len()),
                })
                .collect();
            format!("{} [literals: {}]", line.text, sizes.join(", "))
        };
        self.transcript.push_str(&format!("S: {shown}\n"));
        Ok(line)
    }

    /// Sends one line as is; `shown` is what the transcript records.
    pub async fn send(&mut self, line: &str, shown: &str) -> Result<(), ImapError> {
        self.transcript.push_str(&format!("C: {shown}\n"));
        let timeout = self.timeout;
        let io = self.io()?;
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

    /// Reads until the completion tagged `tag` (or a continuation request).
    pub async fn until(&mut self, tag: &str) -> Result<Reply, ImapError> {
        let mut reply = Reply::default();
        loop {
            let l = self.response().await?;
            let first = l.text.split_whitespace().next().unwrap_or_default();
            if first == "+" {
                reply.status = "+".into();
                reply.text = l.text;
                return Ok(reply);
            }
            if first == tag {
                reply.status = l
                    .text
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_ascii_uppercase();
                reply.text = l.text;
                return Ok(reply);
            }
            reply.untagged.push(l);
        }
    }

    fn next_tag(&mut self) -> String {
        self.tags += 1;
        format!("H{:03}", self.tags)
    }

    /// A tagged command; `shown` is what the transcript records (secrets masked).
    pub async fn command_shown(&mut self, command: &str, shown: &str) -> Result<Reply, ImapError> {
        let tag = self.next_tag();
        self.send(&format!("{tag} {command}"), &format!("{tag} {shown}"))
            .await?;
        self.until(&tag).await
    }

    pub async fn command(&mut self, command: &str) -> Result<Reply, ImapError> {
        self.command_shown(command, command).await
    }

    /// STARTTLS, then the handshake verifying the server as `name`.
    pub async fn starttls(
        &mut self,
        connector: &tokio_rustls::TlsConnector,
        name: &str,
    ) -> Result<Reply, ImapError> {
        let r = self.command("STARTTLS").await?;
        if !r.ok() {
            return Ok(r);
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
        Ok(r)
    }

    /// STARTTLS, then a hand-built ClientHello (see [`super::tlsprobe`]) instead of a real
    /// handshake; the session is unusable afterwards. `None` when STARTTLS was refused.
    pub async fn starttls_probe(
        &mut self,
        probe: &super::tlsprobe::Probe,
        name: &str,
    ) -> Result<Option<super::tlsprobe::Answer>, ImapError> {
        let r = self.command("STARTTLS").await?;
        if !r.ok() {
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

    /// CAPABILITY's words (upper case; empty when refused).
    pub async fn capabilities(&mut self) -> Result<Vec<String>, ImapError> {
        Ok(self.command("CAPABILITY").await?.capabilities())
    }

    /// LOGIN with the password masked in the transcript.
    pub async fn login(&mut self, user: &str, password: &str) -> Result<Reply, ImapError> {
        self.command_shown(
            &format!("LOGIN {} {}", quoted(user), quoted(password)),
            &format!("LOGIN {} ********", quoted(user)),
        )
        .await
    }

    /// AUTHENTICATE PLAIN, with the initial response on the command line (RFC 4959) or
    /// after the server's continuation request.
    pub async fn authenticate_plain(
        &mut self,
        user: &str,
        password: &str,
        initial: bool,
    ) -> Result<Reply, ImapError> {
        let response = super::submission::auth_plain(user, password);
        if initial {
            return self
                .command_shown(
                    &format!("AUTHENTICATE PLAIN {response}"),
                    "AUTHENTICATE PLAIN ********",
                )
                .await;
        }
        let tag = self.next_tag();
        self.send(
            &format!("{tag} AUTHENTICATE PLAIN"),
            &format!("{tag} AUTHENTICATE PLAIN"),
        )
        .await?;
        let r = self.until(&tag).await?;
        if r.status != "+" {
            return Ok(r);
        }
        self.send(&response, "********").await?;
        self.until(&tag).await
    }

    /// True when the server closed the connection (read end reached within `timeout`).
    pub async fn closed(&mut self, timeout: Duration) -> bool {
        let Some(io) = self.io.as_mut() else {
            return true;
        };
        let mut buf = [0u8; 1];
        match tokio::time::timeout(timeout, io.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                self.transcript
                    .push_str("# connection closed by the server\n");
                true
            }
            Ok(Ok(_)) => {
                self.transcript
                    .push_str("# the server sent more after the end of the session\n");
                false
            }
            Err(_) => {
                self.transcript
                    .push_str(&format!("# connection still open after {timeout:?}\n"));
                false
            }
        }
    }

    /// Closes without a word.
    pub fn drop_connection(&mut self) {
        self.transcript.push_str("# connection dropped\n");
        self.io = None;
    }
}

/// An IMAP quoted string.
pub fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A session secured by STARTTLS when the server accepts it (verified against the harness
/// anchor, the name being the user's domain), else a fresh one in clear.
async fn secured(addr: SocketAddr, user: &str, timeout: Duration) -> Result<Session, ImapError> {
    let name = user.rsplit_once('@').map(|(_, d)| d).unwrap_or("localhost");
    let mut s = Session::connect(addr, timeout).await?;
    let Some(connector) = super::pop3::harness_connector() else {
        return Ok(s);
    };
    match s.starttls(&connector, name).await {
        Ok(r) if r.ok() => Ok(s),
        _ => {
            let note = format!("{}# STARTTLS failed: reading in clear\n", s.transcript);
            let mut s = Session::connect(addr, timeout).await?;
            s.transcript = format!("{note}{}", s.transcript);
            Ok(s)
        }
    }
}

/// Messages already read, by server, user, UIDVALIDITY and UID: a poll fetches new messages
/// only.
type Seen = std::collections::HashMap<(SocketAddr, String, u32, u32), Vec<u8>>;

fn seen() -> &'static std::sync::Mutex<Seen> {
    static SEEN: OnceLock<std::sync::Mutex<Seen>> = OnceLock::new();
    SEEN.get_or_init(Default::default)
}

/// Reads every message of `user`'s INBOX without changing it (EXAMINE, BODY.PEEK[]).
pub async fn fetch(
    addr: SocketAddr,
    user: &str,
    password: &str,
    timeout: Duration,
) -> Result<Mailbox, ImapError> {
    let mut s = secured(addr, user, timeout).await?;
    let r = s.login(user, password).await?;
    if !r.ok() {
        return Err(s.err(format!("LOGIN: the server said {:?}", r.text)));
    }
    let r = s.command("EXAMINE INBOX").await?;
    if !r.ok() {
        return Err(s.err(format!("EXAMINE INBOX: the server said {:?}", r.text)));
    }
    let validity = r.code_number("UIDVALIDITY").unwrap_or(0);
    let mut messages = Vec::new();
    if r.count("EXISTS").unwrap_or(0) > 0 {
        let listing = s.command("UID FETCH 1:* (UID)").await?;
        if !listing.ok() {
            return Err(s.err(format!("UID FETCH: the server said {:?}", listing.text)));
        }
        let mut cached = 0usize;
        for uid in listing.fetched().into_iter().filter_map(|f| f.uid) {
            let key = (addr, user.to_string(), validity, uid);
            let known = seen()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&key)
                .cloned();
            if let Some(m) = known {
                cached += 1;
                messages.push(m);
                continue;
            }
            let r = s.command(&format!("UID FETCH {uid} BODY.PEEK[]")).await?;
            // Another session may have expunged it since the listing: skip it.
            let Some((_, body)) = r.fetched().into_iter().find_map(|f| f.body) else {
                s.transcript
                    .push_str(&format!("# UID {uid} not fetched: skipped\n"));
                continue;
            };
            if validity != 0 {
                seen()
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, body.clone());
            }
            messages.push(body);
        }
        if cached > 0 {
            s.transcript.push_str(&format!(
                "# {cached} message(s) read by an earlier poll not fetched again\n"
            ));
        }
    }
    let _ = s.command("LOGOUT").await;
    Ok(Mailbox {
        messages,
        transcript: s.transcript,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_responses_are_read() {
        let l = Line {
            text: "* 3 FETCH (UID 17 RFC822.SIZE 5 FLAGS (\\Seen \\Recent) BODY[] {5})".into(),
            literals: vec![b"hello".to_vec()],
        };
        let f = Fetched::parse(&l).unwrap();
        assert_eq!(f.seq, 3);
        assert_eq!(f.uid, Some(17));
        assert_eq!(f.size, Some(5));
        assert!(f.seen());
        assert_eq!(f.body, Some(("BODY[]".into(), b"hello".to_vec())));
        assert_eq!(literal_at_end("* 1 FETCH (BODY[] {12}"), Some(12));
        let l = Line {
            text: "* 1 FETCH (UID 4 BODY[HEADER.FIELDS (MESSAGE-ID)] {9})".into(),
            literals: vec![b"M: <a>\r\n".to_vec()],
        };
        let f = Fetched::parse(&l).unwrap();
        assert_eq!(f.uid, Some(4));
        assert_eq!(
            f.body,
            Some((
                "BODY[HEADER.FIELDS (MESSAGE-ID)]".into(),
                b"M: <a>\r\n".to_vec()
            ))
        );
        assert_eq!(literal_at_end("A1 OK done"), None);
    }

    #[test]
    fn reply_codes_and_counts() {
        let r = Reply {
            untagged: vec![
                Line {
                    text: "* 4 EXISTS".into(),
                    literals: vec![],
                },
                Line {
                    text: "* OK [UIDVALIDITY 99] ok".into(),
                    literals: vec![],
                },
                Line {
                    text: "* CAPABILITY IMAP4rev1 starttls".into(),
                    literals: vec![],
                },
            ],
            status: "OK".into(),
            text: "H001 OK [READ-WRITE] done".into(),
        };
        assert_eq!(r.count("EXISTS"), Some(4));
        assert_eq!(r.code_number("UIDVALIDITY"), Some(99));
        assert_eq!(r.capabilities(), vec!["IMAP4REV1", "STARTTLS"]);
    }
}
