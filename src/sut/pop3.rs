//! The harness's POP3 client for the SUT's edge retrieval door: USER/PASS, STAT, RETR each,
//! QUIT; read-only (no DELE), every read bounded, the dialogue kept for the evidence.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

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

struct Client {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
    timeout: Duration,
    transcript: String,
}

impl Client {
    async fn line(&mut self) -> Result<Vec<u8>, String> {
        let mut l = Vec::new();
        let n = tokio::time::timeout(self.timeout, self.reader.read_until(b'\n', &mut l))
            .await
            .map_err(|_| format!("no answer within {:?}", self.timeout))?
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("connection closed".into());
        }
        Ok(l)
    }

    async fn status(&mut self) -> Result<String, String> {
        let l = String::from_utf8_lossy(&self.line().await?)
            .trim_end()
            .to_string();
        self.transcript.push_str(&format!("S: {l}\n"));
        if l.starts_with("+OK") {
            Ok(l)
        } else {
            Err(format!("server said {l:?}"))
        }
    }

    async fn command(&mut self, line: &str, shown: &str) -> Result<String, String> {
        self.transcript.push_str(&format!("C: {shown}\n"));
        // Flushed: over TLS, written bytes may sit in the session's buffer otherwise.
        let w = &mut self.writer;
        tokio::time::timeout(self.timeout, async {
            w.write_all(format!("{line}\r\n").as_bytes()).await?;
            w.flush().await
        })
        .await
        .map_err(|_| "write timed out".to_string())?
        .map_err(|e| format!("write: {e}"))?;
        self.status().await
    }

    async fn multiline(&mut self) -> Result<Vec<u8>, String> {
        let mut body = Vec::new();
        loop {
            let l = self.line().await?;
            if l == b".\r\n" || l == b".\n" {
                return Ok(body);
            }
            let l = l.strip_prefix(b".").unwrap_or(&l);
            body.extend_from_slice(l);
        }
    }
}

/// Reads every message of `user`'s mailbox.
pub async fn fetch(
    addr: SocketAddr,
    user: &str,
    password: &str,
    timeout: Duration,
) -> Result<Mailbox, Pop3Error> {
    let fail = |message: String, transcript: String| Pop3Error {
        addr,
        message,
        transcript,
    };
    let tcp = tokio::time::timeout(timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| fail("connect timed out".into(), String::new()))?
        .map_err(|e| fail(format!("connect: {e}"), String::new()))?;
    let (r, w) = tcp.into_split();
    let mut c = Client {
        reader: BufReader::new(r),
        writer: w,
        timeout,
        transcript: String::new(),
    };
    let result = async {
        c.status().await?;
        c.command(&format!("USER {user}"), &format!("USER {user}"))
            .await?;
        c.command(&format!("PASS {password}"), "PASS ********")
            .await?;
        let stat = c.command("STAT", "STAT").await?;
        let n: usize = stat
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("unreadable STAT answer {stat:?}"))?;
        let mut messages = Vec::new();
        for i in 1..=n {
            c.command(&format!("RETR {i}"), &format!("RETR {i}"))
                .await?;
            let m = c.multiline().await?;
            c.transcript
                .push_str(&format!("S: <{} octets>\nS: .\n", m.len()));
            messages.push(m);
        }
        let _ = c.command("QUIT", "QUIT").await;
        Ok::<_, String>(messages)
    }
    .await;
    match result {
        Ok(messages) => Ok(Mailbox {
            messages,
            transcript: c.transcript,
        }),
        Err(e) => Err(fail(e, c.transcript)),
    }
}
