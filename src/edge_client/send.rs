//! Sending: EHLO, STARTTLS (the server verified), EHLO again, AUTH PLAIN, then each message
//! with its own Message-ID, and QUIT.

use super::{EdgeClientError, Fault, Job, Outcome, TIMEOUT};
use crate::sut::submission::{Reply, Session, auth_plain};

/// What to send.
pub struct Spec<'a> {
    pub from: &'a str,
    pub to: &'a [String],
    pub count: usize,
    pub notify: bool,
    pub subject: &'a str,
}

/// The value that asks for timely and reliable delivery (Implementation Guide for Delivery
/// Notification, §3.1).
pub const NOTIFICATION_OPTIONS: &str = "X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true";

fn refused(job: &Job, r: &Reply) -> EdgeClientError {
    EdgeClientError::Refused {
        server: job.server,
        reply: format!("{} {}", r.code, r.text),
    }
}

fn session(e: crate::sut::submission::SessionError) -> EdgeClientError {
    EdgeClientError::Session(e.to_string())
}

/// The message text (CRLF lines, 7-bit).
pub fn message(
    spec: &Spec<'_>,
    message_id: &str,
    n: usize,
    faults: &crate::hisp::Faults,
) -> Vec<u8> {
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    let mut m = format!(
        "From: <{from}>\r\nTo: {to}\r\nDate: {date}\r\nMessage-ID: {message_id}\r\nSubject: {subject} ({n} of {count})\r\nMIME-Version: 1.0\r\n",
        from = spec.from,
        to = spec
            .to
            .iter()
            .map(|t| format!("<{t}>"))
            .collect::<Vec<_>>()
            .join(", "),
        subject = spec.subject,
        count = spec.count,
    );
    if spec.notify {
        m.push_str(&format!("Disposition-Notification-To: <{}>\r\n", spec.from));
        if !faults.on(Fault::EdgeClientNoNotificationRequest) {
            m.push_str(&format!(
                "Disposition-Notification-Options: {NOTIFICATION_OPTIONS}\r\n"
            ));
        }
    }
    m.push_str(
        "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n",
    );
    m.push_str("Referral note from the reference edge client.\r\n");
    m.into_bytes()
}

pub async fn run(
    job: &Job,
    connector: &tokio_rustls::TlsConnector,
    spec: &Spec<'_>,
) -> Result<Outcome, EdgeClientError> {
    let mut s = Session::connect(job.server, TIMEOUT)
        .await
        .map_err(session)?;
    let result = talk(job, connector, spec, &mut s).await;
    let transcript = s.transcript.clone();
    match result {
        Ok(sent) => Ok(Outcome {
            sent,
            retrieved: Vec::new(),
            transcript,
        }),
        Err(e) => Err(EdgeClientError::Session(format!("{e}\n{transcript}"))),
    }
}

async fn talk(
    job: &Job,
    connector: &tokio_rustls::TlsConnector,
    spec: &Spec<'_>,
    s: &mut Session,
) -> Result<Vec<String>, EdgeClientError> {
    let hello = "EHLO edge-client.sut.direct.test";
    let r = s.command(hello, hello).await.map_err(session)?;
    if r.code != 250 {
        return Err(refused(job, &r));
    }
    let login = format!("AUTH PLAIN {}", auth_plain(&job.user, &job.password));
    if job.faults.on(Fault::EdgeClientAuthInClear) {
        // The fault: credentials before TLS (a server that refuses them is then secured).
        s.command(&login, "AUTH PLAIN <credentials>")
            .await
            .map_err(session)?;
    }
    if !r
        .text
        .lines()
        .any(|l| l.trim().eq_ignore_ascii_case("STARTTLS"))
    {
        return Err(EdgeClientError::Tls {
            server: job.server,
            message: "the server does not offer STARTTLS; no credentials are sent in clear".into(),
        });
    }
    let r = s
        .starttls(connector, &job.tls_name)
        .await
        .map_err(|e| EdgeClientError::Tls {
            server: job.server,
            message: e.to_string(),
        })?;
    if r.code != 220 {
        return Err(refused(job, &r));
    }
    let r = s.command(hello, hello).await.map_err(session)?;
    if r.code != 250 {
        return Err(refused(job, &r));
    }
    let r = s
        .command(&login, "AUTH PLAIN <credentials>")
        .await
        .map_err(session)?;
    if r.code != 235 {
        return Err(refused(job, &r));
    }
    let mut sent = Vec::new();
    let fixed = crate::mdn::build::new_message_id("edge-client.sut.direct.test");
    for n in 1..=spec.count {
        let id = if job.faults.on(Fault::EdgeClientRepeatsMessageId) {
            // The fault: one identifier for every message, in every session.
            "<edge-client-message@edge-client.sut.direct.test>".to_string()
        } else if n == 1 {
            fixed.clone()
        } else {
            crate::mdn::build::new_message_id("edge-client.sut.direct.test")
        };
        let mail = format!("MAIL FROM:<{}>", spec.from);
        let r = s.command(&mail, &mail).await.map_err(session)?;
        if r.code != 250 {
            return Err(refused(job, &r));
        }
        for to in spec.to {
            let rcpt = format!("RCPT TO:<{to}>");
            let r = s.command(&rcpt, &rcpt).await.map_err(session)?;
            if r.code / 100 != 2 {
                return Err(refused(job, &r));
            }
        }
        let r = s
            .data(&message(spec, &id, n, &job.faults))
            .await
            .map_err(session)?;
        if r.code != 250 {
            return Err(refused(job, &r));
        }
        sent.push(id);
    }
    let _ = s.command("QUIT", "QUIT").await;
    Ok(sent)
}
