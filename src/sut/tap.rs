//! A tap in front of the harness HISP's backbone: the SUT delivers to the tap, the tap relays
//! every byte to the harness HISP and keeps, for each message, the envelope and the DATA
//! exactly as the SUT sent it (what the validator judges). Plain SMTP only: the harness HISP
//! offers no STARTTLS on this door, so the bytes are readable.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// One message as the SUT sent it.
#[derive(Clone, Debug)]
pub struct Captured {
    pub from: String,
    pub recipients: Vec<String>,
    /// The DATA content, dot-stuffing undone, CRLF line ends.
    pub data: Vec<u8>,
}

struct Shared {
    captured: Mutex<Vec<Captured>>,
    notify: Notify,
    /// Where to relay; settable until the harness HISP has its port.
    upstream: Mutex<SocketAddr>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            captured: Mutex::default(),
            notify: Notify::default(),
            upstream: Mutex::new(SocketAddr::from(([127, 0, 0, 1], 0))),
        }
    }
}

/// The running tap.
pub struct Tap {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

/// Reads the client side of an SMTP session, line by line.
#[derive(Default)]
struct Parser {
    line: Vec<u8>,
    in_data: bool,
    current: Option<Captured>,
}

impl Parser {
    fn feed(&mut self, bytes: &[u8], out: &Shared) {
        for &b in bytes {
            self.line.push(b);
            if b == b'\n' {
                let line = std::mem::take(&mut self.line);
                self.on_line(line, out);
            }
        }
    }

    fn on_line(&mut self, line: Vec<u8>, out: &Shared) {
        if self.in_data {
            if line == b".\r\n" || line == b".\n" {
                self.in_data = false;
                if let Some(c) = self.current.take() {
                    let mut all = out.captured.lock().unwrap_or_else(|e| e.into_inner());
                    all.push(c);
                    out.notify.notify_waiters();
                }
            } else if let Some(c) = &mut self.current {
                let l = line.strip_prefix(b".").unwrap_or(&line);
                c.data.extend_from_slice(l);
            }
            return;
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        let upper = text.to_ascii_uppercase();
        let addr = |t: &str| {
            t.split_once(':')
                .map(|(_, a)| {
                    a.trim()
                        .trim_start_matches('<')
                        .split('>')
                        .next()
                        .unwrap_or("")
                        .to_string()
                })
                .unwrap_or_default()
        };
        if upper.starts_with("MAIL FROM:") {
            self.current = Some(Captured {
                from: addr(&text),
                recipients: Vec::new(),
                data: Vec::new(),
            });
        } else if upper.starts_with("RCPT TO:") {
            if let Some(c) = &mut self.current {
                c.recipients.push(addr(&text));
            }
        } else if upper == "DATA" {
            self.in_data = true;
        } else if upper == "RSET" {
            self.current = None;
        }
    }
}

async fn relay(client: TcpStream, upstream: SocketAddr, shared: Arc<Shared>) {
    let Ok(Ok(server)) =
        tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(upstream)).await
    else {
        return;
    };
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = async {
        let mut p = Parser::default();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match cr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    p.feed(&buf[..n], &shared);
                    if sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = sw.shutdown().await;
    };
    let down = async {
        let _ = tokio::io::copy(&mut sr, &mut cw).await;
        let _ = cw.shutdown().await;
    };
    tokio::join!(up, down);
}

impl Tap {
    /// Listens on `listen` and relays to `upstream`.
    pub async fn start(listen: SocketAddr, upstream: SocketAddr) -> std::io::Result<Tap> {
        let l = TcpListener::bind(listen).await?;
        let addr = l.local_addr()?;
        let shared = Arc::new(Shared::default());
        *shared.upstream.lock().unwrap_or_else(|e| e.into_inner()) = upstream;
        let s2 = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((c, _)) = l.accept().await {
                let to = *s2.upstream.lock().unwrap_or_else(|e| e.into_inner());
                tokio::spawn(relay(c, to, s2.clone()));
            }
        });
        Ok(Tap { addr, shared, task })
    }

    /// Relays later connections to `upstream` (the harness HISP moved to another port).
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *self
            .shared
            .upstream
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = upstream;
    }

    pub fn captured(&self) -> Vec<Captured> {
        self.shared
            .captured
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits (bounded) for the first captured message that `pred` accepts.
    pub async fn wait_for(
        &self,
        pred: impl Fn(&Captured) -> bool,
        within: Duration,
    ) -> Option<Captured> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.shared.notify.notified();
            if let Some(c) = self.captured().into_iter().find(|c| pred(c)) {
                return Some(c);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.captured().into_iter().find(|c| pred(c));
            }
        }
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_keeps_envelope_and_unstuffed_data() {
        let shared = Shared::default();
        let mut p = Parser::default();
        p.feed(
            b"EHLO x\r\nMAIL FROM:<a@x.test> SIZE=10\r\nRCPT TO:<b@y.test>\r\nDATA\r\nSubject: s\r\n\r\n..dot\r\n.\r\nQUIT\r\n",
            &shared,
        );
        let c = shared.captured.lock().unwrap().clone();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].from, "a@x.test");
        assert_eq!(c[0].recipients, vec!["b@y.test".to_string()]);
        assert_eq!(c[0].data, b"Subject: s\r\n\r\n.dot\r\n");
    }
}
