//! The SUT as IMAP edge client (TEST-CATALOGUE §d.2 IMAP19-IMAP27; `@needs-edge-client`,
//! `@needs-imap`): the harness runs an IMAP server for the edge user, edge.direct.test, and
//! makes the SUT's mail client read it. Verdicts come from what the harness's server saw.

use std::collections::BTreeSet;
use std::time::Duration;

use cucumber::{given, then, when};
use direct_conformance::sut::edge_server::imap::{Folder, ImapEdgeServer, ImapSession, Script};

use super::edge_client::{SETTLE, account, bind, cert, content_variety, plain, tls, trigger};
use super::world::DirectWorld;

/// The IMAP cases' state in one scenario.
#[derive(Default)]
pub struct ImapState {
    server: Option<ImapEdgeServer>,
    folders: Vec<Folder>,
    script: Script,
    /// INBOX UIDs the script refuses on a first fetch.
    refused_once: BTreeSet<u32>,
    /// The UID of the message the harness put into INBOX while the client idled.
    arrived: Option<u32>,
}

async fn sessions(w: &mut DirectWorld) -> Result<Vec<ImapSession>, String> {
    let s =
        w.ec.imap
            .server
            .as_ref()
            .ok_or("the SUT's edge client was never asked to read its IMAP mail")?;
    Ok(s.settle(1, SETTLE).await)
}

/// (folder, UID) of every message the server held before the client came.
fn held(w: &DirectWorld) -> BTreeSet<(String, u32)> {
    w.ec.imap
        .folders
        .iter()
        .flat_map(|f| {
            let name = if f.name.eq_ignore_ascii_case("INBOX") {
                "INBOX".to_string()
            } else {
                f.name.clone()
            };
            (1..=f.messages.len() as u32).map(move |u| (name.clone(), u))
        })
        .collect()
}

fn fetched(sessions: &[ImapSession]) -> BTreeSet<(String, u32)> {
    sessions
        .iter()
        .flat_map(|s| s.fetched.iter().cloned())
        .collect()
}

/// For the shared "abandoned" step: the IMAP sessions checked, or what went wrong.
pub(super) async fn abandoned(w: &mut DirectWorld) -> Result<usize, String> {
    if w.ec.imap.server.is_none() {
        return Ok(0);
    }
    let all = sessions(w).await?;
    for (i, s) in all.iter().enumerate() {
        if s.credentials_in_clear || s.authenticated {
            return Err(format!(
                "IMAP session {}: the client sent its credentials to a server whose certificate it should have refused",
                i + 1
            ));
        }
    }
    Ok(all.len())
}

/// "INBOX, FOLDER and folder2" → the names.
fn names(list: &str) -> Vec<String> {
    list.replace(" and ", ", ")
        .split(',')
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect()
}

fn messages(count: &str, folder: &str) -> Vec<Vec<u8>> {
    match count.parse::<usize>() {
        Ok(n) => (1..=n)
            .map(|i| {
                plain(
                    &format!("Result {i} in {folder}"),
                    "Lab result for the edge user.",
                )
            })
            .collect(),
        Err(_) => content_variety(),
    }
}

#[given(
    regex = r"^the harness IMAP server holds (\d+|the content-variety) messages? for the edge user in INBOX behind STARTTLS with an? (.+) certificate$"
)]
async fn given_inbox(
    w: &mut DirectWorld,
    count: String,
    certificate: String,
) -> Result<(), String> {
    w.ec.cert = Some(cert(&certificate)?);
    w.ec.imap.folders = vec![Folder {
        name: "INBOX".into(),
        messages: messages(&count, "INBOX"),
    }];
    Ok(())
}

#[given(
    regex = r"^the harness IMAP server holds (\d+) messages? in each of the folders (.+) behind STARTTLS with an? (.+) certificate$"
)]
async fn given_folders(
    w: &mut DirectWorld,
    count: String,
    list: String,
    certificate: String,
) -> Result<(), String> {
    w.ec.cert = Some(cert(&certificate)?);
    w.ec.imap.folders = names(&list)
        .into_iter()
        .map(|name| Folder {
            messages: messages(&count, &name),
            name,
        })
        .collect();
    Ok(())
}

#[given(
    regex = r"^the harness IMAP server answers LSUB with BAD and the first fetch of message (\d+) with NO$"
)]
async fn given_script(w: &mut DirectWorld, uid: u32) -> Result<(), String> {
    w.ec.imap.script.bad.insert("LSUB".into());
    w.ec.imap.script.fail_first_fetch_of = Some(uid);
    w.ec.imap.refused_once.insert(uid);
    Ok(())
}

async fn server(w: &mut DirectWorld) -> Result<std::net::SocketAddr, String> {
    if let Some(s) = &w.ec.imap.server {
        return Ok(s.addr);
    }
    let acc = account(w);
    let s = ImapEdgeServer::start(
        bind(w)?,
        tls(w)?,
        acc,
        w.ec.imap.folders.clone(),
        w.ec.imap.script.clone(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let a = s.addr;
    w.ec.imap.server = Some(s);
    Ok(a)
}

async fn record_sessions(w: &mut DirectWorld) -> Result<(), String> {
    for (i, s) in sessions(w).await?.iter().enumerate() {
        w.record(
            "imap",
            format!("harness edge server: IMAP session {}", i + 1),
            s.transcript.clone(),
        );
    }
    Ok(())
}

fn job(idle: u64) -> Vec<(String, String)> {
    vec![
        ("DC_EDGE_ACTION".into(), "retrieve".into()),
        ("DC_EDGE_PROTOCOL".into(), "imap".into()),
        ("DC_EDGE_IDLE_SECS".into(), idle.to_string()),
    ]
}

#[when("the SUT's edge client retrieves its mail over IMAP")]
async fn when_retrieve(w: &mut DirectWorld) -> Result<(), String> {
    let addr = server(w).await?;
    trigger(w, addr, job(0)).await?;
    record_sessions(w).await
}

#[when(
    regex = r"^the SUT's edge client retrieves its mail over IMAP and idles for up to (\d+) seconds, while a new message arrives in INBOX$"
)]
async fn when_idle(w: &mut DirectWorld, secs: u64) -> Result<(), String> {
    let addr = server(w).await?;
    let handle = w.ec.imap.server.as_ref().ok_or("no IMAP server")?.handle();
    let message = plain("New result while idle", "A result that came in later.");
    // The harness adds the message as soon as a session of the client is in IDLE.
    let arrival = tokio::spawn(async move {
        if handle
            .wait_idle(Duration::from_secs(secs.saturating_add(10)))
            .await
        {
            handle.deliver("INBOX", message)
        } else {
            None
        }
    });
    let ran = trigger(w, addr, job(secs)).await;
    if !arrival.is_finished() {
        arrival.abort();
    }
    w.ec.imap.arrived = arrival.await.ok().flatten();
    w.record(
        "imap",
        "harness edge server: mail arriving during IDLE",
        match w.ec.imap.arrived {
            Some(uid) => {
                format!("a session entered IDLE; the harness added message UID {uid} to INBOX then")
            }
            None => "no session of the client entered IDLE, so no message was added".into(),
        },
    );
    ran?;
    record_sessions(w).await
}

#[then("the edge client secured the IMAP session with STARTTLS before it sent credentials")]
async fn then_starttls_first(w: &mut DirectWorld) -> Result<(), String> {
    let all = sessions(w).await?;
    if all.is_empty() {
        return Err("the SUT's edge client never connected to the harness IMAP server".into());
    }
    for (i, s) in all.iter().enumerate() {
        if s.credentials_in_clear {
            return Err(format!(
                "session {}: the client sent LOGIN or AUTHENTICATE before STARTTLS (its credentials crossed the network in clear)",
                i + 1
            ));
        }
        if !s.tls {
            return Err(format!("session {}: the client never started TLS", i + 1));
        }
    }
    Ok(())
}

#[then("the edge client logged in with AUTHENTICATE PLAIN")]
async fn then_plain(w: &mut DirectWorld) -> Result<(), String> {
    for (i, s) in sessions(w).await?.iter().enumerate() {
        match (&s.mechanism, s.authenticated) {
            (Some(m), true) if m == "PLAIN" => {}
            (m, ok) => {
                return Err(format!(
                    "session {}: mechanism {m:?}, authenticated {ok}: expected AUTHENTICATE PLAIN accepted",
                    i + 1
                ));
            }
        }
    }
    Ok(())
}

#[then("the edge client fetched every message whole")]
async fn then_fetched_all(w: &mut DirectWorld) -> Result<(), String> {
    let got = fetched(&sessions(w).await?);
    let want = held(w);
    let missing: Vec<_> = want.difference(&got).collect();
    if !missing.is_empty() {
        return Err(format!(
            "message(s) (folder, UID) {missing:?} of {} were never fetched whole",
            want.len()
        ));
    }
    Ok(())
}

#[then("the edge client fetched no message")]
async fn then_fetched_none(w: &mut DirectWorld) -> Result<(), String> {
    let got = fetched(&sessions(w).await?);
    if !got.is_empty() {
        return Err(format!(
            "message(s) {got:?} were fetched from a server the client should have refused"
        ));
    }
    Ok(())
}

#[then(
    regex = r"^the edge client selected (.+) by their exact names and fetched every message in them$"
)]
async fn then_folders(w: &mut DirectWorld, list: String) -> Result<(), String> {
    let all = sessions(w).await?;
    let selected: BTreeSet<String> = all
        .iter()
        .flat_map(|s| s.selected.iter().cloned())
        .collect();
    for name in names(&list) {
        if !selected.contains(&name) {
            return Err(format!(
                "the client never opened folder {name:?} (it opened {selected:?})"
            ));
        }
    }
    let got = fetched(&all);
    let missing: Vec<_> = held(w).difference(&got).cloned().collect();
    if !missing.is_empty() {
        return Err(format!(
            "message(s) (folder, UID) {missing:?} were never fetched"
        ));
    }
    Ok(())
}

#[then(
    "the edge client carried on after the BAD and NO answers, fetched every other message and ended with LOGOUT"
)]
async fn then_carried_on(w: &mut DirectWorld) -> Result<(), String> {
    let all = sessions(w).await?;
    if all.iter().all(|s| s.scripted_errors == 0) {
        return Err("the client never met a scripted BAD or NO, so the case saw nothing".into());
    }
    let got = fetched(&all);
    let refused = &w.ec.imap.refused_once;
    let missing: Vec<_> = held(w)
        .into_iter()
        .filter(|(f, u)| !(f == "INBOX" && refused.contains(u)))
        .filter(|m| !got.contains(m))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "after the BAD and NO answers the client left message(s) {missing:?} behind"
        ));
    }
    if !all.iter().any(|s| s.logout) {
        return Err("the client dropped the connection instead of ending with LOGOUT".into());
    }
    Ok(())
}

#[then("the edge client fetched the message that arrived while it idled")]
async fn then_idle_pickup(w: &mut DirectWorld) -> Result<(), String> {
    let all = sessions(w).await?;
    if !all.iter().any(|s| s.idled) {
        return Err("the client never entered IDLE, so new mail was not announced to it".into());
    }
    let uid =
        w.ec.imap
            .arrived
            .ok_or("no message was added while the client idled")?;
    if !fetched(&all).contains(&("INBOX".to_string(), uid)) {
        return Err(format!(
            "the server announced message UID {uid} with EXISTS during IDLE, but the client never fetched it"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_lists() {
        assert_eq!(
            names("INBOX, FOLDER and folder2"),
            vec!["INBOX", "FOLDER", "folder2"]
        );
        assert_eq!(names("INBOX"), vec!["INBOX"]);
    }
}
