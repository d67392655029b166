//! Retrieving over IMAP: STARTTLS (the server verified) before any credential, AUTHENTICATE
//! PLAIN (LOGIN when PLAIN is not offered), LIST, then in every folder SELECT and UID FETCH of
//! each message's BODY.PEEK[] (a BAD or NO skips that step, not the session), then optionally
//! IDLE for new mail, and LOGOUT. Messages are left as they were (PEEK, no STORE).

use std::path::Path;
use std::time::{Duration, Instant};

use super::imap::{Client, Line, Reply};
use super::{EdgeClientError, Fault, Job, Outcome, Retrieved};
use crate::sut::edge_server::imap_syntax::{Token, quote};

/// The reference client leaves larger messages behind only under its fault switch.
const LARGE: usize = 256 * 1024;

/// What to read.
pub struct Spec<'a> {
    pub out: Option<&'a Path>,
    /// Only these folders (empty: every folder LIST shows).
    pub folders: &'a [String],
    /// How long to wait in IDLE for new mail after the first pass (zero: no IDLE).
    pub idle: Duration,
}

pub async fn run(
    job: &Job,
    connector: &tokio_rustls::TlsConnector,
    spec: &Spec<'_>,
) -> Result<Outcome, EdgeClientError> {
    let (mut c, greeting) = Client::connect(job.server).await?;
    let result = if greeting.text.starts_with("* OK") {
        talk(job, connector, spec, &mut c).await
    } else {
        Err(EdgeClientError::Refused {
            server: job.server,
            reply: greeting.text,
        })
    };
    let transcript = c.transcript.clone();
    match result {
        Ok(retrieved) => Ok(Outcome {
            sent: Vec::new(),
            retrieved,
            transcript,
        }),
        Err(e) => Err(EdgeClientError::Session(format!("{e}\n{transcript}"))),
    }
}

fn refused(job: &Job, what: &str, r: &Reply) -> EdgeClientError {
    EdgeClientError::Refused {
        server: job.server,
        reply: format!("{what}: {} {}", r.status, r.text),
    }
}

/// The capabilities a CAPABILITY answer lists, upper-cased.
fn capabilities(r: &Reply) -> Vec<String> {
    r.untagged
        .iter()
        .filter_map(|l| l.text.strip_prefix("* CAPABILITY "))
        .flat_map(|c| c.split_whitespace().map(str::to_ascii_uppercase))
        .collect()
}

/// The selectable folders a LIST answer names.
pub(super) fn listed(r: &Reply) -> Vec<String> {
    r.untagged
        .iter()
        .filter_map(Line::tokens)
        .filter_map(|t| match t.as_slice() {
            [
                Token::Atom(star),
                Token::Atom(list),
                Token::List(flags),
                _,
                name,
            ] if star == "*" && list.eq_ignore_ascii_case("LIST") => {
                let noselect = flags.iter().any(|f| {
                    f.atom_upper()
                        .is_some_and(|a| a == "\\NOSELECT" || a == "\\NONEXISTENT")
                });
                (!noselect).then(|| name.astring()).flatten()
            }
            _ => None,
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// `* n EXISTS` in the untagged lines: the last count announced.
pub(super) fn exists(lines: &[Line]) -> Option<usize> {
    lines.iter().rev().find_map(|l| {
        let rest = l.text.strip_prefix("* ")?;
        let (n, word) = rest.split_once(' ')?;
        word.eq_ignore_ascii_case("EXISTS")
            .then(|| n.parse().ok())
            .flatten()
    })
}

/// One message of a FETCH answer: UID, RFC822.SIZE, and the BODY[] octets when sent.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Fetched {
    pub uid: u32,
    pub size: Option<usize>,
    pub body: Option<Vec<u8>>,
}

pub(super) fn fetched(r: &Reply) -> Vec<Fetched> {
    r.untagged
        .iter()
        .filter_map(Line::tokens)
        .filter_map(|t| match t.as_slice() {
            [
                Token::Atom(star),
                Token::Atom(_),
                Token::Atom(f),
                Token::List(items),
            ] if star == "*" && f.eq_ignore_ascii_case("FETCH") => {
                let mut out = Fetched::default();
                for pair in items.chunks(2) {
                    let [Token::Atom(name), value] = pair else {
                        continue;
                    };
                    match (name.to_ascii_uppercase().as_str(), value) {
                        ("UID", Token::Atom(v)) => out.uid = v.parse().ok()?,
                        ("RFC822.SIZE", Token::Atom(v)) => out.size = v.parse().ok(),
                        ("BODY[]" | "RFC822", Token::Str(b)) => out.body = Some(b.clone()),
                        _ => {}
                    }
                }
                (out.uid > 0).then_some(out)
            }
            _ => None,
        })
        .collect()
}

async fn talk(
    job: &Job,
    connector: &tokio_rustls::TlsConnector,
    spec: &Spec<'_>,
    c: &mut Client,
) -> Result<Vec<Retrieved>, EdgeClientError> {
    let caps = capabilities(&c.command("CAPABILITY", "CAPABILITY").await?);
    if job.faults.on(Fault::EdgeClientAuthInClear) {
        // The fault: the login before STARTTLS.
        let login = format!("LOGIN {} {}", quote(&job.user), quote(&job.password));
        c.command(&login, &format!("LOGIN {} <password>", quote(&job.user)))
            .await?;
    }
    if !caps.iter().any(|c| c == "STARTTLS") {
        return Err(EdgeClientError::Tls {
            server: job.server,
            message: "the server does not offer STARTTLS; no credentials are sent in clear".into(),
        });
    }
    let r = c.starttls(connector, &job.tls_name).await?;
    if !r.ok() {
        return Err(EdgeClientError::Tls {
            server: job.server,
            message: format!(
                "STARTTLS refused ({} {}); no credentials are sent in clear",
                r.status, r.text
            ),
        });
    }
    // Capabilities learnt in clear are forgotten after TLS (RFC 3501 §6.2.1).
    let caps = capabilities(&c.command("CAPABILITY", "CAPABILITY").await?);
    let r = if caps.iter().any(|c| c == "AUTH=PLAIN") {
        c.authenticate_plain(&job.user, &job.password).await?
    } else {
        let login = format!("LOGIN {} {}", quote(&job.user), quote(&job.password));
        c.command(&login, &format!("LOGIN {} <password>", quote(&job.user)))
            .await?
    };
    if !r.ok() {
        return Err(refused(job, "login", &r));
    }
    // LSUB only tells which folders the user subscribed to; LIST is what the client reads.
    let r = c.command("LSUB \"\" \"*\"", "LSUB \"\" \"*\"").await?;
    if !r.ok() && job.faults.on(Fault::EdgeClientStopsOnError) {
        return Err(refused(job, "LSUB", &r));
    }
    let mut folders: Vec<String> = if spec.folders.is_empty() {
        let r = c.command("LIST \"\" \"*\"", "LIST \"\" \"*\"").await?;
        if !r.ok() {
            return Err(refused(job, "LIST", &r));
        }
        listed(&r)
    } else {
        spec.folders.to_vec()
    };
    if job.faults.on(Fault::EdgeClientFoldsMailboxCase) {
        // The fault: every name treated like INBOX, in any case.
        for f in &mut folders {
            *f = f.to_ascii_uppercase();
        }
    }
    let mut got = Vec::new();
    let mut inbox_last = None;
    for folder in &folders {
        match read_folder(job, spec, c, folder, 1, &mut got).await? {
            Some(last) if folder.eq_ignore_ascii_case("INBOX") => inbox_last = Some(last),
            _ => {}
        }
    }
    if !spec.idle.is_zero()
        && !job.faults.on(Fault::EdgeClientNoIdle)
        && caps.iter().any(|c| c == "IDLE")
    {
        idle(job, spec, c, inbox_last.unwrap_or(0), &mut got).await?;
    }
    let _ = c.command("LOGOUT", "LOGOUT").await;
    Ok(got)
}

/// SELECT `folder` and fetch every message from UID `from` on; the highest UID seen, or
/// `None` when the folder could not be read (and the client carries on).
async fn read_folder(
    job: &Job,
    spec: &Spec<'_>,
    c: &mut Client,
    folder: &str,
    from: u32,
    got: &mut Vec<Retrieved>,
) -> Result<Option<u32>, EdgeClientError> {
    let select = format!("SELECT {}", quote(folder));
    let r = c.command(&select, &select).await?;
    if !r.ok() {
        if job.faults.on(Fault::EdgeClientStopsOnError) {
            return Err(refused(job, &select, &r));
        }
        return Ok(None);
    }
    if exists(&r.untagged).unwrap_or(0) == 0 {
        return Ok(Some(0));
    }
    fetch_from(job, spec, c, folder, from, got).await
}

/// UID FETCH of every message from UID `from` in the selected folder.
async fn fetch_from(
    job: &Job,
    spec: &Spec<'_>,
    c: &mut Client,
    folder: &str,
    from: u32,
    got: &mut Vec<Retrieved>,
) -> Result<Option<u32>, EdgeClientError> {
    let list = format!("UID FETCH {from}:* (UID RFC822.SIZE)");
    let r = c.command(&list, &list).await?;
    if !r.ok() {
        if job.faults.on(Fault::EdgeClientStopsOnError) {
            return Err(refused(job, &list, &r));
        }
        return Ok(None);
    }
    // `n:*` names the last message even when its UID is below n (RFC 3501 §6.4.8).
    let entries: Vec<(u32, usize)> = fetched(&r)
        .into_iter()
        .filter(|f| f.uid >= from)
        .map(|f| (f.uid, f.size.unwrap_or(0)))
        .collect();
    let mut last = from.saturating_sub(1);
    for (uid, size) in entries {
        last = last.max(uid);
        if size > LARGE && job.faults.on(Fault::EdgeClientSkipsLarge) {
            continue;
        }
        let cmd = format!("UID FETCH {uid} BODY.PEEK[]");
        let r = c.command(&cmd, &cmd).await?;
        let body = fetched(&r).into_iter().find_map(|f| f.body);
        let (true, Some(message)) = (r.ok(), body) else {
            if job.faults.on(Fault::EdgeClientStopsOnError) {
                return Err(refused(job, &cmd, &r));
            }
            continue;
        };
        if let Some(dir) = spec.out {
            let safe: String = folder
                .chars()
                .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
                .collect();
            let path = dir.join(format!("{safe}-{uid}.eml"));
            std::fs::write(&path, &message)
                .map_err(|e| EdgeClientError::Message(format!("{}: {e}", path.display())))?;
        }
        got.push(Retrieved {
            number: uid as usize,
            octets: message.len(),
            message_id: super::retrieve::header(&message, "Message-ID"),
        });
    }
    Ok(Some(last))
}

/// IDLE in INBOX until new mail is announced or `spec.idle` passes; then fetch what came.
async fn idle(
    job: &Job,
    spec: &Spec<'_>,
    c: &mut Client,
    last: u32,
    got: &mut Vec<Retrieved>,
) -> Result<(), EdgeClientError> {
    let r = c.command("SELECT \"INBOX\"", "SELECT \"INBOX\"").await?;
    if !r.ok() {
        return Ok(());
    }
    let known = exists(&r.untagged).unwrap_or(0);
    let tag = match c.idle().await? {
        Ok(tag) => tag,
        Err(_) => return Ok(()),
    };
    let end = Instant::now() + spec.idle;
    let mut grown = false;
    while let Some(l) = c
        .idle_line(end.saturating_duration_since(Instant::now()))
        .await?
    {
        if exists(std::slice::from_ref(&l)).is_some_and(|n| n > known) {
            grown = true;
            break;
        }
    }
    c.done(&tag).await?;
    if grown {
        fetch_from(job, spec, c, "INBOX", last + 1, got).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(raw: &[u8]) -> Line {
        Line {
            raw: raw.to_vec(),
            text: String::from_utf8_lossy(raw).into_owned(),
        }
    }

    #[test]
    fn list_answers() {
        let r = Reply {
            untagged: vec![
                line(b"* LIST (\\HasNoChildren) \"/\" \"INBOX\""),
                line(b"* LIST (\\HasNoChildren) \"/\" FOLDER"),
                line(b"* LIST () \"/\" {7}\r\nfolder2"),
                line(b"* LIST (\\Noselect) \"/\" \"\""),
                line(b"* LIST (\\Noselect) \"/\" \"parent\""),
            ],
            status: "OK".into(),
            text: String::new(),
        };
        assert_eq!(listed(&r), vec!["INBOX", "FOLDER", "folder2"]);
    }

    #[test]
    fn fetch_answers() {
        let r = Reply {
            untagged: vec![
                line(b"* 1 FETCH (UID 4 RFC822.SIZE 10)"),
                line(b"* 2 FETCH (UID 5 BODY[] {3}\r\nabc)"),
                line(b"* 3 EXISTS"),
                line(b"* 3 FETCH (FLAGS (\\Seen))"),
            ],
            status: "OK".into(),
            text: String::new(),
        };
        assert_eq!(
            fetched(&r),
            vec![
                Fetched {
                    uid: 4,
                    size: Some(10),
                    body: None
                },
                Fetched {
                    uid: 5,
                    size: None,
                    body: Some(b"abc".to_vec())
                },
            ]
        );
        assert_eq!(exists(&r.untagged), Some(3));
        assert_eq!(exists(&[]), None);
    }

    mod live {
        use std::net::IpAddr;
        use std::time::Duration;

        const ZERO: Duration = Duration::ZERO;

        use crate::edge_client::{Action, Job};
        use crate::hisp::{Fault, Faults};
        use crate::sut::edge_server::imap::{Folder, ImapEdgeServer, Script};
        use crate::sut::edge_server::smtp::Account;
        use crate::sut::edge_server::{EDGE_HOST, ServerCert, acceptor};

        fn folder(name: &str, n: usize) -> Folder {
            Folder {
                name: name.into(),
                messages: (1..=n)
                    .map(|i| format!("Message-ID: <{i}@{name}>\r\n\r\nbody {i}\r\n").into_bytes())
                    .collect(),
            }
        }

        async fn job(
            cert: ServerCert,
            faults: Faults,
            script: Script,
            idle: std::time::Duration,
        ) -> (
            Result<usize, String>,
            Vec<crate::sut::edge_server::imap::ImapSession>,
        ) {
            crate::trust::fetch::install_crypto_provider();
            let pki = crate::pki::ReferencePki::load_default().unwrap();
            let account = Account {
                user: "u@edge.direct.test".into(),
                password: "pw".into(),
            };
            let server = ImapEdgeServer::start(
                IpAddr::from([127, 0, 0, 1]),
                acceptor(&pki, cert).unwrap(),
                account.clone(),
                vec![
                    folder("INBOX", 2),
                    folder("FOLDER", 1),
                    folder("folder2", 1),
                ],
                script,
            )
            .await
            .unwrap();
            let job = Job {
                server: server.addr,
                tls_name: EDGE_HOST.into(),
                anchor: pki.dir.join("HARNESS-TRUST-ANCHOR.pem"),
                user: account.user,
                password: account.password,
                action: Action::RetrieveImap {
                    out: None,
                    folders: Vec::new(),
                    idle,
                },
                faults,
            };
            let handle = server.handle();
            let arrival = tokio::spawn(async move {
                if handle.wait_idle(idle).await {
                    handle.deliver("inbox", b"Subject: new\r\n\r\nlate\r\n".to_vec());
                }
            });
            let r = crate::edge_client::run(&job)
                .await
                .map(|o| o.retrieved.len())
                .map_err(|e| e.to_string());
            arrival.abort();
            (r, server.settle(1, std::time::Duration::from_secs(5)).await)
        }

        #[tokio::test]
        async fn reads_every_folder_after_tls_and_survives_bad() {
            let script = Script {
                bad: ["LSUB".to_string()].into(),
                fail_first_fetch_of: Some(1),
                ..Script::default()
            };
            let (r, s) = job(ServerCert::Good, Faults::default(), script, ZERO).await;
            assert_eq!(r, Ok(3));
            assert!(s[0].tls && !s[0].credentials_in_clear && s[0].logout);
            assert_eq!(s[0].mechanism.as_deref(), Some("PLAIN"));
            assert_eq!(s[0].selected, vec!["INBOX", "FOLDER", "folder2"]);
            assert_eq!(s[0].fetched.len(), 3);
        }

        #[tokio::test]
        async fn refuses_a_self_signed_server_unless_faulty() {
            let (r, s) = job(
                ServerCert::SelfSigned,
                Faults::default(),
                Script::default(),
                ZERO,
            )
            .await;
            assert!(r.is_err());
            assert!(!s[0].authenticated && !s[0].credentials_in_clear);
            let faulty: Faults = [Fault::EdgeClientAcceptsBadCertificate]
                .into_iter()
                .collect();
            let (r, s) = job(ServerCert::SelfSigned, faulty, Script::default(), ZERO).await;
            assert_eq!(r, Ok(4));
            assert!(s[0].authenticated);
        }

        #[tokio::test]
        async fn fetches_what_idle_announces_unless_faulty() {
            let (r, s) = job(
                ServerCert::Good,
                Faults::default(),
                Script::default(),
                Duration::from_secs(5),
            )
            .await;
            assert_eq!(r, Ok(5));
            assert!(s[0].idled && s[0].fetched.contains(&("INBOX".to_string(), 3)));
            let faulty: Faults = [Fault::EdgeClientNoIdle].into_iter().collect();
            let (r, s) = job(
                ServerCert::Good,
                faulty,
                Script::default(),
                Duration::from_secs(1),
            )
            .await;
            assert_eq!(r, Ok(4));
            assert!(!s[0].idled);
        }
    }
}
