//! The SMTP server session (backbone and submission): smtp-proto parses each command line,
//! this loop keeps the state (RFC 5321 §4.1.4 order, 503 otherwise), reads DATA line by line
//! (bare CR or LF refused, RFC 5321 §2.3.8; text lines over 1000 octets refused, §4.5.3.1.6),
//! enforces SIZE (552), STARTTLS (RFC 3207) and, on submission, AUTH PLAIN/LOGIN (RFC 4954).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use smtp_proto::{AUTH_LOGIN, AUTH_PLAIN, Request};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::conn::{LineConn, LineError};
use super::{Core, Door, Fault, HispEvent, Transcript};

/// Command lines: 512 octets with CRLF (RFC 5321 §4.5.3.1.4).
const MAX_COMMAND: usize = 512;
/// Text lines: 1000 octets with CRLF (§4.5.3.1.6).
const MAX_TEXT: usize = 1000;
/// AUTH exchanges may be longer (RFC 4954 §4: 12288).
const MAX_AUTH: usize = 12288;

/// An SMTP reply: code and text (which starts with the enhanced status code).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

impl Reply {
    pub fn new(code: u16, text: impl Into<String>) -> Self {
        Reply {
            code,
            text: text.into(),
        }
    }

    pub fn is_positive(&self) -> bool {
        self.code < 400
    }
}

/// The envelope and content of one transaction.
#[derive(Clone, Debug)]
pub struct Envelope {
    pub door: Door,
    pub peer: SocketAddr,
    pub mail_from: String,
    pub recipients: Vec<String>,
    pub data: Vec<u8>,
    /// The authenticated user (submission).
    pub user: Option<String>,
}

/// Where the session is in RFC 5321's order.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// Before EHLO/HELO (and again after STARTTLS).
    Connected,
    Greeted,
    Mail {
        from: String,
    },
    Rcpt {
        from: String,
        rcpts: Vec<String>,
    },
}

/// What DATA produced.
enum Data {
    Message(Vec<u8>),
    Refused(Reply),
}

/// Accepts sessions until `stop`.
pub async fn serve(
    core: Arc<Core>,
    listener: TcpListener,
    door: Door,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((tcp, peer)) = accepted else { continue };
                let core = core.clone();
                tokio::spawn(async move {
                    let mut s = Session::new(core.clone(), door, tcp, peer);
                    s.run().await;
                    core.transcript(s.transcript);
                });
            }
        }
    }
}

struct Session {
    core: Arc<Core>,
    door: Door,
    conn: LineConn,
    peer: SocketAddr,
    transcript: Transcript,
    phase: Phase,
    user: Option<String>,
}

impl Session {
    fn new(core: Arc<Core>, door: Door, tcp: tokio::net::TcpStream, peer: SocketAddr) -> Self {
        Session {
            core,
            door,
            conn: LineConn::new(tcp),
            peer,
            transcript: Transcript::new(door, peer),
            phase: Phase::Connected,
            user: None,
        }
    }

    fn command_timeout(&self) -> Duration {
        Duration::from_secs(self.core.settings.timeouts.command_secs)
    }

    fn data_timeout(&self) -> Duration {
        if self.core.faults().on(Fault::NoIdleTimeout) {
            return Duration::from_secs(24 * 3600);
        }
        Duration::from_secs(self.core.settings.timeouts.data_secs)
    }

    /// Whether this door offers STARTTLS (a TLS identity, and no fault switch against it).
    fn starttls_offered(&self) -> bool {
        let switched_off = match self.door {
            Door::Submission => Fault::SubmissionNoStarttls,
            _ => Fault::NoBackboneStarttls,
        };
        self.core.acceptor.is_some() && !self.core.faults().on(switched_off)
    }

    async fn send(&mut self, code: u16, text: &str) -> bool {
        let line = format!("{code} {text}\r\n");
        self.transcript.we_said(&line);
        let t = self.command_timeout();
        self.conn.write_all(line.as_bytes(), t).await.is_ok()
    }

    async fn reply(&mut self, r: Reply) -> bool {
        self.send(r.code, &r.text.clone()).await
    }

    async fn send_multi(&mut self, code: u16, lines: &[String]) -> bool {
        let mut out = String::new();
        for (i, l) in lines.iter().enumerate() {
            let sep = if i + 1 == lines.len() { ' ' } else { '-' };
            out.push_str(&format!("{code}{sep}{l}\r\n"));
        }
        for l in out.lines() {
            self.transcript.we_said(l);
        }
        let t = self.command_timeout();
        self.conn.write_all(out.as_bytes(), t).await.is_ok()
    }

    fn auth_allowed(&self) -> bool {
        self.door == Door::Submission
            && (self.conn.is_tls() || self.core.faults().on(Fault::PlainAuthWithoutTls))
    }

    async fn run(&mut self) {
        let greeting = format!(
            "{} ESMTP direct-conformance reference HISP ({})",
            self.core.settings.hostname,
            self.door.name()
        );
        if !self.send(220, &greeting).await {
            return;
        }
        loop {
            let t = self.command_timeout();
            let max = if self.core.faults().on(Fault::NoLineLimit) {
                MAX_AUTH
            } else {
                MAX_COMMAND
            };
            let line = match self.conn.read_line(max, t).await {
                Ok(l) => l,
                Err(LineError::TooLong(_)) => {
                    self.transcript.peer_said("[command line over 512 octets]");
                    if !self.send(500, "5.5.2 Line too long").await {
                        return;
                    }
                    continue;
                }
                Err(LineError::Timeout(_)) => {
                    let host = self.core.settings.hostname.clone();
                    self.send(421, &format!("4.4.2 {host} Timeout, closing connection"))
                        .await;
                    return;
                }
                Err(_) => return,
            };
            let text = String::from_utf8_lossy(&line).to_string();
            if text.to_ascii_uppercase().starts_with("AUTH ") {
                let mech = text
                    .split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ");
                self.transcript
                    .peer_said(&format!("{mech} [credentials hidden]"));
            } else {
                self.transcript.peer_said(&text);
            }
            if !line.ends_with(b"\r\n") || line[..line.len() - 2].contains(&b'\r') {
                // Only CRLF ends a line (RFC 5321 §2.3.8).
                if !self
                    .send(500, "5.5.2 Bare CR or LF: lines must end with CRLF")
                    .await
                {
                    return;
                }
                continue;
            }
            let upper = text.trim_end().to_ascii_uppercase();
            let line = if upper.starts_with("STARTTLS ")
                && self.core.faults().on(Fault::StarttlsIgnoresArgument)
            {
                b"STARTTLS\r\n".to_vec()
            } else {
                line
            };
            if upper.starts_with("STARTTLS")
                && upper != "STARTTLS"
                && !self.core.faults().on(Fault::StarttlsIgnoresArgument)
            {
                if !self.send(501, "5.5.4 STARTTLS takes no parameters").await {
                    return;
                }
                continue;
            }
            let parsed = Request::parse(&mut line.iter()).map(|r| r.into_owned());
            let keep_going = match parsed {
                Ok(req) => self.command(req).await,
                Err(e) => {
                    let r = parse_error_reply(&e);
                    self.reply(r).await
                }
            };
            if !keep_going {
                return;
            }
        }
    }

    /// One command; false ends the session.
    async fn command(&mut self, req: Request<String>) -> bool {
        match req {
            Request::Ehlo { host } => self.ehlo(&host, true).await,
            Request::Helo { host } => self.ehlo(&host, false).await,
            Request::Lhlo { .. } => self.send(500, "5.5.1 LHLO is for LMTP").await,
            Request::StartTls => self.starttls().await,
            Request::Auth {
                mechanism,
                initial_response,
            } => self.auth(mechanism, initial_response).await,
            Request::Mail { from } => self.mail(from.address, from.size).await,
            Request::Rcpt { to } => self.rcpt(to.address).await,
            Request::Data => self.data().await,
            Request::Rset => {
                if self.phase != Phase::Connected {
                    self.phase = Phase::Greeted;
                }
                self.send(250, "2.0.0 Reset").await
            }
            Request::Noop { .. } => self.send(250, "2.0.0 OK").await,
            Request::Vrfy { .. } if self.core.faults().on(Fault::NoVrfy) => {
                self.send(502, "5.5.1 Command not implemented").await
            }
            Request::Vrfy { .. } => {
                self.send(252, "2.5.2 Cannot VRFY; send the message and see")
                    .await
            }
            Request::Help { .. } => self.send(214, "2.0.0 See RFC 5321").await,
            Request::Quit => {
                let host = self.core.settings.hostname.clone();
                self.send(221, &format!("2.0.0 {host} closing")).await;
                self.conn.shutdown().await;
                false
            }
            Request::Bdat { .. }
            | Request::Expn { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => self.send(502, "5.5.1 Command not implemented").await,
        }
    }

    async fn ehlo(&mut self, host: &str, extended: bool) -> bool {
        self.phase = Phase::Greeted;
        let me = self.core.settings.hostname.clone();
        if !extended {
            return self.send(250, &format!("{me} greets {host}")).await;
        }
        let mut lines = vec![
            format!("{me} greets {host}"),
            format!("SIZE {}", self.core.settings.limits.max_message_bytes),
            "8BITMIME".to_string(),
            "ENHANCEDSTATUSCODES".to_string(),
        ];
        if self.starttls_offered() && !self.conn.is_tls() {
            lines.push("STARTTLS".into());
        }
        if self.auth_allowed() {
            lines.push("AUTH PLAIN LOGIN".into());
        }
        lines.push("HELP".into());
        self.send_multi(250, &lines).await
    }

    async fn starttls(&mut self) -> bool {
        let Some(acceptor) = self
            .core
            .acceptor
            .clone()
            .filter(|_| self.starttls_offered())
        else {
            return self.send(502, "5.5.1 STARTTLS not offered").await;
        };
        if self.conn.is_tls() {
            return self.send(503, "5.5.1 TLS is already active").await;
        }
        if self.phase == Phase::Connected {
            return self.send(503, "5.5.1 EHLO first").await;
        }
        if !self.send(220, "2.0.0 Ready to start TLS").await {
            return false;
        }
        let t = self.command_timeout();
        match self.conn.accept_tls(&acceptor, t).await {
            Ok(()) => {
                self.transcript.we_said("[TLS established]");
                // RFC 3207 §4.2: forget everything learnt before TLS.
                self.phase = Phase::Connected;
                self.user = None;
                true
            }
            Err(e) => {
                self.transcript.we_said(&format!("[TLS failed: {e}]"));
                false
            }
        }
    }

    async fn auth(&mut self, mechanism: u64, initial: String) -> bool {
        if self.door != Door::Submission {
            return self.send(502, "5.5.1 AUTH is for submission").await;
        }
        if self.phase == Phase::Connected {
            return self.send(503, "5.5.1 EHLO first").await;
        }
        if self.user.is_some() {
            return self.send(503, "5.5.1 Already authenticated").await;
        }
        if !self.auth_allowed() {
            return self
                .send(
                    538,
                    "5.7.11 Encryption required for requested authentication mechanism",
                )
                .await;
        }
        if !matches!(self.phase, Phase::Greeted) {
            return self
                .send(503, "5.5.1 AUTH not allowed during a transaction")
                .await;
        }
        let credentials = if mechanism == AUTH_PLAIN {
            let resp = if initial.is_empty() {
                match self.challenge("").await {
                    Some(r) => r,
                    None => return false,
                }
            } else {
                initial
            };
            decode_plain(&resp)
        } else if mechanism == AUTH_LOGIN {
            let user = if initial.is_empty() {
                match self.challenge("VXNlcm5hbWU6").await {
                    Some(r) => r,
                    None => return false,
                }
            } else {
                initial
            };
            let Some(pass) = self.challenge("UGFzc3dvcmQ6").await else {
                return false;
            };
            match (b64_text(&user), b64_text(&pass)) {
                (Some(u), Some(p)) => Some((u, p)),
                _ => None,
            }
        } else {
            return self
                .send(504, "5.5.4 Unrecognized authentication type")
                .await;
        };
        let Some((user, pass)) = credentials else {
            return self.send(501, "5.5.2 Cannot decode the response").await;
        };
        let good = self
            .core
            .settings
            .address(&user)
            .and_then(|a| a.password.as_deref())
            .is_some_and(|p| p == pass);
        if good || self.core.faults().on(Fault::AcceptBadAuth) {
            self.user = Some(user);
            self.send(235, "2.7.0 Authentication successful").await
        } else {
            self.send(535, "5.7.8 Authentication credentials invalid")
                .await
        }
    }

    /// Sends a 334 challenge and reads the answer; `*` cancels.
    async fn challenge(&mut self, text: &str) -> Option<String> {
        if !self.send(334, text).await {
            return None;
        }
        let t = self.command_timeout();
        let line = self.conn.read_line(MAX_AUTH, t).await.ok()?;
        self.transcript.peer_said("[credentials hidden]");
        let s = String::from_utf8_lossy(&line).trim().to_string();
        if s == "*" {
            self.send(501, "5.0.0 Authentication cancelled").await;
            return None;
        }
        Some(s)
    }

    async fn mail(&mut self, from: String, size: usize) -> bool {
        match self.phase {
            Phase::Connected => return self.send(503, "5.5.1 EHLO/HELO first").await,
            Phase::Mail { .. } | Phase::Rcpt { .. } => {
                return self.send(503, "5.5.1 Nested MAIL command").await;
            }
            Phase::Greeted => {}
        }
        if self.door == Door::Submission && !self.core.faults().on(Fault::OpenRelay) {
            if self.user.is_none() {
                return self.send(530, "5.7.0 Authentication required").await;
            }
            if self.core.settings.address(&from).is_none() {
                return self
                    .send(553, "5.7.1 Sender is not a local address of this HISP")
                    .await;
            }
        }
        if size > self.core.settings.limits.max_message_bytes {
            return self
                .send(552, "5.3.4 Message size exceeds fixed maximum message size")
                .await;
        }
        self.phase = Phase::Mail { from };
        self.send(250, "2.1.0 Sender OK").await
    }

    async fn rcpt(&mut self, to: String) -> bool {
        let (from, mut rcpts) = match std::mem::replace(&mut self.phase, Phase::Greeted) {
            Phase::Mail { from } => (from, Vec::new()),
            Phase::Rcpt { from, rcpts } => (from, rcpts),
            other => {
                self.phase = other;
                if self.core.faults().on(Fault::SmtpLenientSequence) {
                    return self.send(250, "2.1.5 OK").await;
                }
                return self.send(503, "5.5.1 MAIL first").await;
            }
        };
        let reply = if rcpts.len() >= self.core.settings.limits.max_recipients {
            Reply::new(452, "4.5.3 Too many recipients")
        } else if self.door == Door::Backbone && self.core.settings.is_capture(&to) {
            rcpts.push(to);
            Reply::new(250, "2.1.5 Recipient OK (captured)")
        } else if self.door == Door::Backbone && self.core.settings.mailbox(&to).is_none() {
            let local_domain = to
                .rsplit_once('@')
                .is_some_and(|(_, d)| self.core.settings.is_local_domain(d));
            if local_domain {
                Reply::new(550, "5.1.1 No such mailbox")
            } else {
                Reply::new(550, "5.7.1 Relaying denied")
            }
        } else {
            rcpts.push(to);
            Reply::new(250, "2.1.5 Recipient OK")
        };
        self.phase = if rcpts.is_empty() {
            Phase::Mail { from }
        } else {
            Phase::Rcpt { from, rcpts }
        };
        self.reply(reply).await
    }

    async fn data(&mut self) -> bool {
        let (from, rcpts) = match &self.phase {
            Phase::Rcpt { from, rcpts } => (from.clone(), rcpts.clone()),
            _ if self.core.faults().on(Fault::SmtpLenientSequence) => {
                return self.send(250, "2.0.0 OK").await;
            }
            Phase::Mail { .. } => return self.send(503, "5.5.1 RCPT first").await,
            _ => return self.send(503, "5.5.1 MAIL first").await,
        };
        if !self
            .send(354, "Start mail input; end with <CRLF>.<CRLF>")
            .await
        {
            return false;
        }
        let data = match self.read_data().await {
            Some(d) => d,
            None => return false,
        };
        self.phase = Phase::Greeted;
        let reply = match data {
            Data::Refused(r) => r,
            Data::Message(bytes) => {
                self.transcript
                    .peer_said(&format!("[{} octets of message data]", bytes.len()));
                self.core.event(HispEvent::Received {
                    door: self.door,
                    from: from.clone(),
                    recipients: rcpts.clone(),
                    bytes: bytes.len(),
                });
                // Capture recipients are done with: the bytes were seen, nothing follows.
                let rcpts: Vec<String> = if self.door == Door::Backbone {
                    rcpts
                        .into_iter()
                        .filter(|r| !self.core.settings.is_capture(r))
                        .collect()
                } else {
                    rcpts
                };
                let env = Envelope {
                    door: self.door,
                    peer: self.peer,
                    mail_from: from,
                    recipients: rcpts,
                    data: bytes,
                    user: self.user.clone(),
                };
                match self.door {
                    _ if env.recipients.is_empty() => Reply::new(250, "2.0.0 Captured"),
                    Door::Submission => super::outbound::submit(&self.core, env).await,
                    _ => super::inbound::receive(&self.core, env).await,
                }
            }
        };
        self.reply(reply).await
    }

    /// Reads DATA to the end marker. None: the session is over (timeout, closed).
    async fn read_data(&mut self) -> Option<Data> {
        let faults = self.core.faults();
        let lenient_ends = faults.on(Fault::AcceptBareLineEnds);
        let no_line_limit = faults.on(Fault::NoLineLimit);
        let max = if faults.on(Fault::NoSizeLimit) {
            usize::MAX / 2
        } else {
            self.core.settings.limits.max_message_bytes
        };
        let max_text = if no_line_limit { MAX_AUTH } else { MAX_TEXT };
        let mut msg = Vec::new();
        let (mut bare, mut too_big, mut too_long) = (false, false, false);
        loop {
            let t = self.data_timeout();
            let line = match self.conn.read_line(max_text, t).await {
                Ok(l) => l,
                Err(LineError::TooLong(_)) => {
                    too_long = true;
                    continue;
                }
                Err(LineError::Timeout(_)) => {
                    self.transcript.peer_said("[DATA timed out]");
                    let host = self.core.settings.hostname.clone();
                    self.send(421, &format!("4.4.2 {host} Timeout in DATA, closing"))
                        .await;
                    return None;
                }
                Err(_) => return None,
            };
            if line == b".\r\n" || (lenient_ends && line == b".\n") {
                break;
            }
            // The EDGE-08 breach: a long line cut to fit, the rest dropped.
            let line = if no_line_limit && line.len() > MAX_TEXT {
                let mut cut = line[..MAX_TEXT - 2].to_vec();
                cut.extend_from_slice(b"\r\n");
                cut
            } else {
                line
            };
            let crlf = line.ends_with(b"\r\n");
            let body = if crlf {
                &line[..line.len() - 2]
            } else {
                &line[..line.len() - 1]
            };
            if (!crlf || body.contains(&b'\r')) && !lenient_ends {
                bare = true;
            }
            // Dot-unstuffing (RFC 5321 §4.5.2).
            let body = body.strip_prefix(b".").unwrap_or(body);
            if msg.len() + body.len() + 2 > max {
                too_big = true;
                msg.clear();
            } else if !too_big {
                msg.extend_from_slice(body);
                msg.extend_from_slice(b"\r\n");
            }
        }
        Some(if too_big {
            Data::Refused(Reply::new(
                552,
                "5.3.4 Message size exceeds fixed maximum message size",
            ))
        } else if too_long {
            Data::Refused(Reply::new(
                500,
                "5.5.6 Text line over 1000 octets: message refused, not truncated",
            ))
        } else if bare {
            Data::Refused(Reply::new(
                550,
                "5.6.0 Bare CR or LF in message data (RFC 5321 section 2.3.8): refused",
            ))
        } else {
            Data::Message(msg)
        })
    }
}

fn parse_error_reply(e: &smtp_proto::Error) -> Reply {
    use smtp_proto::Error as E;
    match e {
        E::UnknownCommand => Reply::new(500, "5.5.1 Command unrecognized"),
        E::SyntaxError { syntax } => Reply::new(501, format!("5.5.4 Syntax: {syntax}")),
        E::InvalidSenderAddress => Reply::new(501, "5.1.7 Bad sender address syntax"),
        E::InvalidRecipientAddress => Reply::new(501, "5.1.3 Bad recipient address syntax"),
        E::InvalidParameter { param } => {
            Reply::new(501, format!("5.5.4 Invalid parameter {param}"))
        }
        E::UnsupportedParameter { param } => {
            Reply::new(555, format!("5.5.4 Unsupported parameter {param}"))
        }
        _ => Reply::new(500, "5.5.2 Syntax error"),
    }
}

fn b64_text(s: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// RFC 4616: `authzid NUL authcid NUL passwd`.
fn decode_plain(s: &str) -> Option<(String, String)> {
    let text = b64_text(s)?;
    let mut parts = text.split('\0');
    let _authz = parts.next()?;
    let user = parts.next()?.to_string();
    let pass = parts.next()?.to_string();
    if parts.next().is_some() {
        return None;
    }
    Some((user, pass))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decoding() {
        let enc = base64::engine::general_purpose::STANDARD.encode(b"\0user@x\0pw");
        assert_eq!(decode_plain(&enc), Some(("user@x".into(), "pw".into())));
        assert_eq!(decode_plain("!!"), None);
    }
}
