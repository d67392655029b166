//! Retrieving over POP3: STLS (the server verified) before any credential, USER/PASS, UIDL
//! and LIST, RETR of every message (an `-ERR` skips that one message, not the session), QUIT.
//! Messages are kept, not deleted: the harness's mailbox stays as it was.

use std::path::Path;

use super::{EdgeClientError, Fault, Job, Outcome, TIMEOUT};
use crate::sut::pop3::{Pop3Error, Session};

/// One message retrieved.
#[derive(Clone, Debug)]
pub struct Retrieved {
    pub number: usize,
    pub octets: usize,
    pub message_id: Option<String>,
}

/// The reference client leaves larger messages behind only under its fault switch.
const LARGE: usize = 256 * 1024;

fn session(e: Pop3Error) -> EdgeClientError {
    EdgeClientError::Session(format!("{e}\n{}", e.transcript))
}

pub async fn run(
    job: &Job,
    connector: &tokio_rustls::TlsConnector,
    out: Option<&Path>,
) -> Result<Outcome, EdgeClientError> {
    let mut s = Session::connect(job.server, TIMEOUT)
        .await
        .map_err(session)?;
    let result = talk(job, connector, out, &mut s).await;
    let transcript = s.transcript.clone();
    match result {
        Ok(retrieved) => Ok(Outcome {
            sent: Vec::new(),
            retrieved,
            transcript,
        }),
        Err(e) => Err(EdgeClientError::Session(format!("{e}\n{transcript}"))),
    }
}

/// A header field of a retrieved message (first occurrence, name in any case).
pub(super) fn header(message: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(message);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    head.split("\r\n").find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

async fn talk(
    job: &Job,
    connector: &tokio_rustls::TlsConnector,
    out: Option<&Path>,
    s: &mut Session,
) -> Result<Vec<super::Retrieved>, EdgeClientError> {
    if !s.greeting.ok {
        return Err(EdgeClientError::Refused {
            server: job.server,
            reply: s.greeting.text.clone(),
        });
    }
    if job.faults.on(Fault::EdgeClientAuthInClear) {
        // The fault: the login before STLS.
        s.login(&job.user, &job.password).await.map_err(session)?;
    }
    let st = s
        .stls(connector, &job.tls_name)
        .await
        .map_err(|e| EdgeClientError::Tls {
            server: job.server,
            message: e.message,
        })?;
    if !st.ok {
        return Err(EdgeClientError::Tls {
            server: job.server,
            message: format!(
                "STLS refused ({}); no credentials are sent in clear",
                st.text
            ),
        });
    }
    let st = s.login(&job.user, &job.password).await.map_err(session)?;
    if !st.ok {
        return Err(EdgeClientError::Refused {
            server: job.server,
            reply: st.text,
        });
    }
    // UIDL only helps a client remember what it has seen; a server without it is fine.
    let (uidl, _) = s.multiline("UIDL", "UIDL").await.map_err(session)?;
    if !uidl.ok && job.faults.on(Fault::EdgeClientStopsOnError) {
        return Err(EdgeClientError::Refused {
            server: job.server,
            reply: uidl.text,
        });
    }
    let (list, body) = s.multiline("LIST", "LIST").await.map_err(session)?;
    if !list.ok {
        return Err(EdgeClientError::Refused {
            server: job.server,
            reply: list.text,
        });
    }
    let entries: Vec<(usize, usize)> = String::from_utf8_lossy(&body)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.parse().ok()?, w.next()?.parse().ok()?))
        })
        .collect();
    let mut got = Vec::new();
    for (n, size) in entries {
        if size > LARGE && job.faults.on(Fault::EdgeClientSkipsLarge) {
            continue;
        }
        if job.faults.on(Fault::EdgeClientSkipsReports) {
            let (st, head) = s
                .multiline(&format!("TOP {n} 0"), &format!("TOP {n} 0"))
                .await
                .map_err(session)?;
            let report = header(&head, "Content-Type")
                .is_some_and(|v| v.to_ascii_lowercase().contains("multipart/report"));
            if st.ok && report {
                continue;
            }
        }
        let (st, message) = s
            .multiline(&format!("RETR {n}"), &format!("RETR {n}"))
            .await
            .map_err(session)?;
        if !st.ok {
            if job.faults.on(Fault::EdgeClientStopsOnError) {
                return Err(EdgeClientError::Refused {
                    server: job.server,
                    reply: st.text,
                });
            }
            continue;
        }
        if let Some(dir) = out {
            let path = dir.join(format!("{n}.eml"));
            std::fs::write(&path, &message)
                .map_err(|e| EdgeClientError::Message(format!("{}: {e}", path.display())))?;
        }
        got.push(Retrieved {
            number: n,
            octets: message.len(),
            message_id: header(&message, "Message-ID"),
        });
    }
    let _ = s.command("QUIT", "QUIT").await;
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lookup_ignores_case() {
        let m = b"Message-ID: <a@b>\r\ncontent-type: multipart/report\r\n\r\nbody";
        assert_eq!(header(m, "message-id").as_deref(), Some("<a@b>"));
        assert_eq!(
            header(m, "Content-Type").as_deref(),
            Some("multipart/report")
        );
        assert_eq!(header(m, "Subject"), None);
    }
}
