//! A small SMTP client for relaying pre-built (sealed) messages: EHLO, STARTTLS when the
//! server offers it, MAIL, RCPT, DATA with dot-stuffing, QUIT. Every step is bounded in time.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use super::conn::{LineConn, LineError};
use super::smtp_server::Reply;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connect to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("connect to {0}: timed out")]
    ConnectTimeout(SocketAddr),
    #[error("{stage}: {reply_code} {reply_text}")]
    Refused {
        stage: &'static str,
        reply_code: u16,
        reply_text: String,
    },
    #[error("{stage}: {source}")]
    Line {
        stage: &'static str,
        source: LineError,
    },
    #[error("{0}: malformed reply")]
    BadReply(&'static str),
}

impl ClientError {
    /// The STARTTLS handshake itself failed (opportunistic TLS may retry in plain).
    pub fn is_tls_failure(&self) -> bool {
        matches!(self, ClientError::Line { stage, .. } if *stage == "TLS handshake")
    }

    /// Permanent (5xx) refusals are not retried.
    pub fn is_permanent(&self) -> bool {
        matches!(self, ClientError::Refused { reply_code, .. } if *reply_code >= 500)
    }

    /// The enhanced status code (RFC 3463) at the start of a refusal's text, when its class
    /// agrees with the reply code's: what a failure DSN should report (RFC 3464 §2.3.4).
    pub fn enhanced_status(&self) -> Option<(u8, u16, u16)> {
        let ClientError::Refused {
            reply_code,
            reply_text,
            ..
        } = self
        else {
            return None;
        };
        let word = reply_text.split_whitespace().next()?;
        let mut parts = word.split('.');
        let class: u8 = parts.next()?.parse().ok()?;
        let subject: u16 = parts.next()?.parse().ok()?;
        let detail: u16 = parts.next()?.parse().ok()?;
        let agrees = u16::from(class) == reply_code / 100 && matches!(class, 2 | 4 | 5);
        (parts.next().is_none() && agrees && subject < 1000 && detail < 1000)
            .then_some((class, subject, detail))
    }
}

/// How to talk.
#[derive(Clone)]
pub struct ClientOptions {
    pub helo: String,
    pub timeout: Duration,
    /// Try STARTTLS when offered, verifying the server as `tls_name`.
    pub tls: Option<(tokio_rustls::TlsConnector, String)>,
}

/// What the server accepted.
#[derive(Clone, Debug, Default)]
pub struct Delivery {
    pub accepted: Vec<String>,
    pub refused: Vec<(String, Reply)>,
    pub tls: bool,
}

struct Client {
    conn: LineConn,
    timeout: Duration,
}

impl Client {
    async fn reply(&mut self, stage: &'static str) -> Result<(Reply, Vec<String>), ClientError> {
        let mut lines = Vec::new();
        loop {
            let line = self
                .conn
                .read_line(4096, self.timeout)
                .await
                .map_err(|source| ClientError::Line { stage, source })?;
            let text = String::from_utf8_lossy(&line).trim_end().to_string();
            // `get`, not indexing: a hostile reply may put a multi-byte character there.
            let code: u16 = text
                .get(..3)
                .and_then(|c| c.parse().ok())
                .ok_or(ClientError::BadReply(stage))?;
            let last = text.as_bytes().get(3) != Some(&b'-');
            lines.push(text.get(4..).unwrap_or("").to_string());
            if last {
                let joined = lines.last().cloned().unwrap_or_default();
                return Ok((Reply::new(code, joined), lines));
            }
        }
    }

    async fn command(
        &mut self,
        stage: &'static str,
        line: &str,
    ) -> Result<(Reply, Vec<String>), ClientError> {
        self.conn
            .write_all(format!("{line}\r\n").as_bytes(), self.timeout)
            .await
            .map_err(|source| ClientError::Line { stage, source })?;
        self.reply(stage).await
    }

    async fn expect(
        &mut self,
        stage: &'static str,
        line: &str,
    ) -> Result<Vec<String>, ClientError> {
        let (r, lines) = self.command(stage, line).await?;
        if r.code >= 400 {
            return Err(refused(stage, r));
        }
        Ok(lines)
    }
}

fn refused(stage: &'static str, r: Reply) -> ClientError {
    ClientError::Refused {
        stage,
        reply_code: r.code,
        reply_text: r.text,
    }
}

/// Sends `data` (CRLF lines) from `from` to `recipients` through the server at `addr`.
pub async fn send(
    addr: SocketAddr,
    options: &ClientOptions,
    from: &str,
    recipients: &[String],
    data: &[u8],
) -> Result<Delivery, ClientError> {
    let t = options.timeout;
    let tcp = tokio::time::timeout(t, TcpStream::connect(addr))
        .await
        .map_err(|_| ClientError::ConnectTimeout(addr))?
        .map_err(|source| ClientError::Connect { addr, source })?;
    let mut c = Client {
        conn: LineConn::new(tcp),
        timeout: t,
    };
    let (greeting, _) = c.reply("greeting").await?;
    if greeting.code != 220 {
        return Err(refused("greeting", greeting));
    }
    let mut ext = c.expect("EHLO", &format!("EHLO {}", options.helo)).await?;
    let mut delivery = Delivery::default();
    let offers_tls = ext.iter().any(|l| l.eq_ignore_ascii_case("STARTTLS"));
    if let (true, Some((connector, name))) = (offers_tls, &options.tls) {
        c.expect("STARTTLS", "STARTTLS").await?;
        let server_name = rustls::pki_types::ServerName::try_from(name.clone())
            .map_err(|_| ClientError::BadReply("STARTTLS server name"))?;
        c.conn
            .connect_tls(connector, server_name, t)
            .await
            .map_err(|source| ClientError::Line {
                stage: "TLS handshake",
                source,
            })?;
        delivery.tls = true;
        ext = c.expect("EHLO", &format!("EHLO {}", options.helo)).await?;
    }
    let _ = ext;
    c.expect("MAIL", &format!("MAIL FROM:<{from}>")).await?;
    for r in recipients {
        let (reply, _) = c.command("RCPT", &format!("RCPT TO:<{r}>")).await?;
        if reply.code < 400 {
            delivery.accepted.push(r.clone());
        } else {
            delivery.refused.push((r.clone(), reply));
        }
    }
    if delivery.accepted.is_empty() {
        let _ = c.command("QUIT", "QUIT").await;
        let (r, reply) = delivery
            .refused
            .first()
            .cloned()
            .unwrap_or_else(|| (String::new(), Reply::new(554, "no recipients")));
        let _ = r;
        return Err(refused("RCPT", reply));
    }
    let (r, _) = c.command("DATA", "DATA").await?;
    if r.code != 354 {
        return Err(refused("DATA", r));
    }
    let body = dot_stuff(data);
    c.conn
        .write_all(&body, t)
        .await
        .map_err(|source| ClientError::Line {
            stage: "DATA",
            source,
        })?;
    let (r, _) = c.reply("end of DATA").await?;
    if r.code >= 400 {
        return Err(refused("end of DATA", r));
    }
    let _ = c.command("QUIT", "QUIT").await;
    Ok(delivery)
}

/// CRLF lines, leading dots doubled, and the end marker (RFC 5321 §4.5.2).
pub fn dot_stuff(data: &[u8]) -> Vec<u8> {
    let data = crate::smime::canonical::to_crlf(data);
    let mut out = Vec::with_capacity(data.len() + 16);
    let mut at_line_start = true;
    for &b in &data {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusals_enhanced_status_is_read_when_it_agrees_with_the_reply_code() {
        let refused = |code: u16, text: &str| ClientError::Refused {
            stage: "RCPT",
            reply_code: code,
            reply_text: text.into(),
        };
        assert_eq!(
            refused(550, "5.1.1 No such mailbox").enhanced_status(),
            Some((5, 1, 1))
        );
        assert_eq!(refused(550, "4.1.1 mismatch").enhanced_status(), None);
        assert_eq!(refused(550, "No such mailbox").enhanced_status(), None);
        assert_eq!(refused(550, "5.1 short").enhanced_status(), None);
        assert_eq!(refused(550, "5.1.1.1 long").enhanced_status(), None);
        assert_eq!(
            ClientError::ConnectTimeout(([127, 0, 0, 1], 1).into()).enhanced_status(),
            None
        );
    }

    #[tokio::test]
    async fn hostile_reply_is_an_error_not_a_panic() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            if let Ok((mut s, _)) = l.accept().await {
                let _ = s.write_all("2\u{e9}0 hi\r\n".as_bytes()).await;
            }
        });
        let opts = ClientOptions {
            helo: "c".into(),
            timeout: Duration::from_secs(5),
            tls: None,
        };
        let r = send(addr, &opts, "a@x", &["b@y".into()], b"x\r\n").await;
        assert!(matches!(r, Err(ClientError::BadReply(_))), "{r:?}");
    }

    #[test]
    fn stuffing() {
        assert_eq!(dot_stuff(b"a\r\n.b\r\n"), b"a\r\n..b\r\n.\r\n");
        assert_eq!(dot_stuff(b"a"), b"a\r\n.\r\n");
    }
}
