//! The in-memory event log that every mock server writes to: one structured event per DNS
//! query, LDAP operation and HTTP request. Steps read it (snapshot, or subscribe and wait for
//! an event with a deadline); the report will turn it into evidence.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tokio::sync::broadcast;

/// How many events are kept; older ones are dropped so a long `serve` stays bounded.
const MAX_EVENTS: usize = 100_000;
/// Events a slow subscriber may lag behind before it sees `Lagged`.
const CHANNEL_CAPACITY: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        })
    }
}

/// One DNS query and what was answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsEvent {
    pub client: SocketAddr,
    pub transport: Transport,
    /// The name as asked (original case).
    pub name: String,
    /// Record type mnemonic (`CERT`, `SRV`, …).
    pub qtype: String,
    /// `NOERROR`, `NXDOMAIN`, `REFUSED`, …
    pub rcode: String,
    /// Answer records actually sent (after truncation).
    pub answers: u16,
    pub truncated: bool,
    /// The UDP payload size the client offered in EDNS0 (`None`: no OPT record).
    pub edns_payload: Option<u16>,
}

/// One LDAP operation (or connection-level happening) on one mock server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LdapEvent {
    /// Server name from the fixture (`L1`, `tarpit`, …).
    pub server: String,
    pub port: u16,
    pub client: SocketAddr,
    pub op: LdapOpKind,
    /// Result code name as sent (`success`, `insufficientAccessRights`; empty when none).
    pub result: String,
    pub entries: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LdapOpKind {
    Connect,
    Bind {
        dn: String,
        anonymous: bool,
    },
    Search {
        base: String,
        scope: String,
        filter: String,
        attrs: Vec<String>,
    },
    Unbind,
    /// Anything else the server refused, or input it could not decode.
    Other(String),
    Disconnect,
}

/// One HTTP request to the PKI server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpEvent {
    pub client: SocketAddr,
    /// Over TLS (the HTTPS port), for the evidence of an HTTPS fetch (RX-52).
    pub tls: bool,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub bytes: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    Dns(DnsEvent),
    Ldap(LdapEvent),
    Http(HttpEvent),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub at: SystemTime,
    /// Position in the log since start (survives dropping of old events).
    pub seq: u64,
    pub kind: EventKind,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            EventKind::Dns(d) => {
                write!(
                    f,
                    "dns  {} {} {} {} -> {} answers={}",
                    d.client, d.transport, d.qtype, d.name, d.rcode, d.answers
                )?;
                if d.truncated {
                    f.write_str(" TC")?;
                }
                match d.edns_payload {
                    Some(size) => write!(f, " (edns {size})"),
                    None => Ok(()),
                }
            }
            EventKind::Ldap(l) => {
                write!(f, "ldap {} {}:{} ", l.client, l.server, l.port)?;
                match &l.op {
                    LdapOpKind::Connect => f.write_str("connect")?,
                    LdapOpKind::Disconnect => f.write_str("disconnect")?,
                    LdapOpKind::Unbind => f.write_str("unbind")?,
                    LdapOpKind::Bind { dn, anonymous } => write!(
                        f,
                        "bind {}",
                        if *anonymous { "anonymous" } else { dn.as_str() }
                    )?,
                    LdapOpKind::Search {
                        base,
                        scope,
                        filter,
                        attrs,
                    } => write!(
                        f,
                        "search base={base:?} scope={scope} filter={filter} attrs={attrs:?}"
                    )?,
                    LdapOpKind::Other(what) => write!(f, "{what}")?,
                }
                if !l.result.is_empty() {
                    write!(f, " -> {} entries={}", l.result, l.entries)?;
                }
                Ok(())
            }
            EventKind::Http(h) => write!(
                f,
                "{} {} {} {} -> {} ({} bytes)",
                if h.tls { "https" } else { "http" },
                h.client,
                h.method,
                h.path,
                h.status,
                h.bytes
            ),
        }
    }
}

struct Inner {
    events: std::collections::VecDeque<Event>,
    next_seq: u64,
}

/// Shared, cheaply cloneable log. Recording never blocks on readers.
#[derive(Clone)]
pub struct EventLog {
    inner: Arc<Mutex<Inner>>,
    tx: broadcast::Sender<Event>,
    echo: bool,
}

impl Default for EventLog {
    fn default() -> Self {
        Self::new(false)
    }
}

impl fmt::Debug for EventLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLog")
            .field("len", &self.len())
            .finish()
    }
}

impl EventLog {
    /// `echo`: also print every event on stdout as it happens (for `serve`).
    pub fn new(echo: bool) -> Self {
        let (tx, _) = broadcast::channel(CHANNEL_CAPACITY);
        EventLog {
            inner: Arc::new(Mutex::new(Inner {
                events: Default::default(),
                next_seq: 0,
            })),
            tx,
            echo,
        }
    }

    pub fn record(&self, kind: EventKind) {
        let event = {
            // A poisoned lock only means another recorder panicked; the data is still usable.
            let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            let event = Event {
                at: SystemTime::now(),
                seq: inner.next_seq,
                kind,
            };
            inner.next_seq += 1;
            if inner.events.len() >= MAX_EVENTS {
                inner.events.pop_front();
            }
            inner.events.push_back(event.clone());
            event
        };
        if self.echo {
            // Never panic when stdout is gone (a closed pipe): the servers keep running.
            use std::io::Write;
            let _ = writeln!(std::io::stdout().lock(), "{event}");
        }
        // No subscribers is fine.
        let _ = self.tx.send(event);
    }

    /// Every kept event, oldest first.
    pub fn snapshot(&self) -> Vec<Event> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.events.iter().cloned().collect()
    }

    /// Events with `seq >= from` (take `len_total()` before a stimulus to see only what follows).
    pub fn since(&self, from: u64) -> Vec<Event> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .events
            .iter()
            .filter(|e| e.seq >= from)
            .cloned()
            .collect()
    }

    /// The sequence number the next event will get.
    pub fn next_seq(&self) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next_seq
    }

    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .events
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Live events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// Waits until an event matching `pred` is recorded (also looking at events already kept
    /// with `seq >= from`), or the deadline passes.
    pub async fn wait_for(
        &self,
        from: u64,
        timeout: std::time::Duration,
        mut pred: impl FnMut(&Event) -> bool,
    ) -> Option<Event> {
        // Subscribe first, then look at the past, so nothing falls between the two.
        let mut rx = self.subscribe();
        if let Some(e) = self.since(from).into_iter().find(|e| pred(e)) {
            return Some(e);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Ok(e)) if e.seq >= from && pred(&e) => return Some(e),
                Ok(Ok(_)) => continue,
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                    if let Some(e) = self.since(from).into_iter().find(|e| pred(e)) {
                        return Some(e);
                    }
                }
                Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(path: &str) -> EventKind {
        EventKind::Http(HttpEvent {
            client: "127.0.0.1:1".parse().expect("addr"),
            tls: false,
            method: "GET".into(),
            path: path.into(),
            status: 200,
            bytes: 1,
        })
    }

    #[tokio::test]
    async fn snapshot_since_and_wait() {
        let log = EventLog::default();
        log.record(http("/a"));
        let mark = log.next_seq();
        log.record(http("/b"));
        assert_eq!(log.snapshot().len(), 2);
        assert_eq!(log.since(mark).len(), 1);
        let waiter = {
            let log = log.clone();
            tokio::spawn(async move {
                log.wait_for(
                    mark,
                    std::time::Duration::from_secs(5),
                    |e| matches!(&e.kind, EventKind::Http(h) if h.path == "/c"),
                )
                .await
            })
        };
        tokio::task::yield_now().await;
        log.record(http("/c"));
        let got = waiter.await.expect("join").expect("event");
        assert_eq!(got.seq, 2);
        assert!(got.to_string().contains("GET /c"));
    }
}
