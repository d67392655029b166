//! The harness's SMTP client toward the SUT's backbone: plain SMTP (the backbone's STARTTLS is
//! the SUT's business to offer; the harness records what was said), every line kept for the
//! evidence, every read bounded in time.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// What one SMTP session did.
#[derive(Clone, Debug, Default)]
pub struct SmtpOutcome {
    /// `C: ` and `S: ` lines (DATA content summarised).
    pub transcript: String,
    /// The final reply to DATA, when the session got that far.
    pub data_reply: Option<(u16, String)>,
    /// Recipients refused at RCPT, with the reply.
    pub refused: Vec<(String, u16, String)>,
    /// What stopped the session early (connect error, timeout, refusal before DATA).
    pub error: Option<String>,
}

impl SmtpOutcome {
    /// The SUT took the message (250 to DATA).
    pub fn accepted(&self) -> bool {
        self.data_reply.as_ref().is_some_and(|(c, _)| *c / 100 == 2)
    }
}

struct Session {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
    timeout: Duration,
    out: SmtpOutcome,
}

impl Session {
    async fn reply(&mut self) -> Result<(u16, String), String> {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(self.timeout, self.reader.read_line(&mut line))
                .await
                .map_err(|_| format!("no reply within {:?}", self.timeout))?
                .map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("connection closed".into());
            }
            let line = line.trim_end().to_string();
            self.out.transcript.push_str(&format!("S: {line}\n"));
            let code: u16 = line
                .get(..3)
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| format!("malformed reply {line:?}"))?;
            text.push_str(line.get(4..).unwrap_or(""));
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok((code, text));
            }
            text.push('\n');
        }
    }

    async fn say(&mut self, line: &str) -> Result<(u16, String), String> {
        self.out.transcript.push_str(&format!("C: {line}\n"));
        tokio::time::timeout(
            self.timeout,
            self.writer.write_all(format!("{line}\r\n").as_bytes()),
        )
        .await
        .map_err(|_| "write timed out".to_string())?
        .map_err(|e| format!("write: {e}"))?;
        self.reply().await
    }
}

/// Sends `data` from `from` to `recipients` at `addr`; never panics, always returns the
/// transcript.
pub async fn send(
    addr: SocketAddr,
    helo: &str,
    from: &str,
    recipients: &[String],
    data: &[u8],
    timeout: Duration,
) -> SmtpOutcome {
    let tcp = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => {
            return SmtpOutcome {
                error: Some(format!("connect to {addr}: {e}")),
                ..SmtpOutcome::default()
            };
        }
        Err(_) => {
            return SmtpOutcome {
                error: Some(format!("connect to {addr}: timed out")),
                ..SmtpOutcome::default()
            };
        }
    };
    let (r, w) = tcp.into_split();
    let mut s = Session {
        reader: BufReader::new(r),
        writer: w,
        timeout,
        out: SmtpOutcome::default(),
    };
    s.out
        .transcript
        .push_str(&format!("# connected to {addr}\n"));
    if let Err(e) = talk(&mut s, helo, from, recipients, data).await {
        s.out.error = Some(e);
    }
    s.out
}

async fn talk(
    s: &mut Session,
    helo: &str,
    from: &str,
    recipients: &[String],
    data: &[u8],
) -> Result<(), String> {
    expect(s.reply().await?, 2, "greeting")?;
    expect(s.say(&format!("EHLO {helo}")).await?, 2, "EHLO")?;
    expect(s.say(&format!("MAIL FROM:<{from}>")).await?, 2, "MAIL")?;
    let mut any = false;
    for r in recipients {
        let (code, text) = s.say(&format!("RCPT TO:<{r}>")).await?;
        if code / 100 == 2 {
            any = true;
        } else {
            s.out.refused.push((r.clone(), code, text));
        }
    }
    if !any {
        let _ = s.say("QUIT").await;
        return Err("every recipient was refused at RCPT".into());
    }
    expect(s.say("DATA").await?, 3, "DATA")?;
    let stuffed = crate::hisp::smtp_client::dot_stuff(data);
    s.out.transcript.push_str(&format!(
        "C: <{} octets of message content>\nC: .\n",
        data.len()
    ));
    tokio::time::timeout(s.timeout, async {
        // dot_stuff also writes the end marker.
        s.writer.write_all(&stuffed).await
    })
    .await
    .map_err(|_| "sending DATA timed out".to_string())?
    .map_err(|e| format!("sending DATA: {e}"))?;
    let reply = s.reply().await?;
    s.out.data_reply = Some(reply);
    let _ = s.say("QUIT").await;
    Ok(())
}

fn expect(reply: (u16, String), class: u16, stage: &str) -> Result<(), String> {
    if reply.0 / 100 == class {
        Ok(())
    } else {
        Err(format!("{stage} refused: {} {}", reply.0, reply.1))
    }
}
