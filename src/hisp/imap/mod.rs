//! IMAP4rev1 (RFC 3501) over the Maildir: one mailbox per user, INBOX (any case).
//! CAPABILITY, NOOP, LOGOUT, STARTTLS, LOGIN and AUTHENTICATE PLAIN (RFC 4616, with an
//! initial response as RFC 4959 allows, or after a continuation), SELECT and EXAMINE, LIST
//! and LSUB, FETCH, STORE and SEARCH (with their UID forms), EXPUNGE, CHECK and CLOSE. When a
//! TLS identity is configured, credentials are accepted only after STARTTLS and CAPABILITY
//! says LOGINDISABLED until then (SEC-01). Every command gets a tagged answer: BAD for what
//! does not parse or does not fit the state, NO for what fails. An idle session is logged
//! out after `timeouts.command_secs`. Commands are decoded by `imap-codec` ([`command`]);
//! responses are written by hand ([`fetch`] says why).

mod command;
mod envelope;
mod fetch;
mod mailbox;
mod selected;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::conn::{LineConn, LineError};
use super::{Core, Door, Fault, Transcript};
use command::{Allowed, Cmd, Input, Parsed};
use mailbox::Selected;

pub async fn serve(core: Arc<Core>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((tcp, peer)) = accepted else { continue };
                let core = core.clone();
                tokio::spawn(async move {
                    let mut t = Transcript::new(Door::Imap, peer);
                    let mut conn = LineConn::new(tcp);
                    session(&core, &mut conn, &mut t).await;
                    core.transcript(t);
                });
            }
        }
    }
}

/// RFC 3501 §3 states (LOGOUT ends the session).
enum State {
    NotAuthenticated,
    Authenticated { user: String },
    Selected { user: String, sel: Selected },
}

impl State {
    fn user(&self) -> Option<&str> {
        match self {
            State::NotAuthenticated => None,
            State::Authenticated { user } | State::Selected { user, .. } => Some(user),
        }
    }

    fn allows(&self, a: Allowed) -> bool {
        match a {
            Allowed::Any => true,
            Allowed::NotAuthenticated => matches!(self, State::NotAuthenticated),
            Allowed::Authenticated => !matches!(self, State::NotAuthenticated),
            Allowed::Selected => matches!(self, State::Selected { .. }),
        }
    }
}

/// One session's connection, transcript and bound.
struct Io<'a> {
    conn: &'a mut LineConn,
    t: &'a mut Transcript,
    timeout: Duration,
}

impl Io<'_> {
    async fn say(&mut self, text: &str) -> bool {
        self.t.we_said(text);
        self.conn
            .write_all(format!("{text}\r\n").as_bytes(), self.timeout)
            .await
            .is_ok()
    }

    async fn send(&mut self, bytes: &[u8], shown: &str) -> bool {
        self.t.we_said(shown);
        self.conn.write_all(bytes, self.timeout).await.is_ok()
    }
}

fn login_allowed(core: &Core, conn: &LineConn) -> bool {
    conn.is_tls() || core.acceptor.is_none() || core.faults().on(Fault::ImapLoginInClear)
}

fn starttls_offered(core: &Core, conn: &LineConn) -> bool {
    core.acceptor.is_some() && !conn.is_tls() && !core.faults().on(Fault::ImapNoStarttls)
}

fn password_ok(core: &Core, user: &str, password: &str) -> bool {
    let Some(a) = core.settings.address(user) else {
        return false;
    };
    core.faults().on(Fault::ImapAcceptBadPassword)
        || a.password.as_deref().is_some_and(|p| p == password)
}

fn capabilities(core: &Core, conn: &LineConn, state: &State) -> String {
    let mut caps = vec!["IMAP4rev1"];
    if matches!(state, State::NotAuthenticated) {
        if starttls_offered(core, conn) {
            caps.push("STARTTLS");
        }
        if login_allowed(core, conn) {
            caps.extend(["AUTH=PLAIN", "SASL-IR"]);
        } else {
            caps.push("LOGINDISABLED");
        }
    }
    format!("CAPABILITY {}", caps.join(" "))
}

/// The PLAIN message (RFC 4616): authzid NUL authcid NUL password; an authzid other than the
/// authcid is refused.
fn plain_credentials(raw: &[u8]) -> Option<(String, String)> {
    let mut parts = raw.split(|b| *b == 0);
    let authz = std::str::from_utf8(parts.next()?).ok()?;
    let user = std::str::from_utf8(parts.next()?).ok()?.to_string();
    let password = std::str::from_utf8(parts.next()?).ok()?.to_string();
    if parts.next().is_some() || user.is_empty() || !(authz.is_empty() || authz == user) {
        return None;
    }
    Some((user, password))
}

/// Does a LIST pattern (`*` and `%` wildcards) match `name`, ignoring case as INBOX does?
fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*' | b'%', rest)) => (0..=name.len()).any(|k| wildcard(rest, &name[k..])),
        Some((p, rest)) => name
            .split_first()
            .is_some_and(|(n, tail)| p.eq_ignore_ascii_case(n) && wildcard(rest, tail)),
    }
}

const FLAGS: &str = "(\\Answered \\Flagged \\Deleted \\Seen \\Draft)";

enum Flow {
    Go,
    End,
}

async fn session(core: &Arc<Core>, conn: &mut LineConn, t: &mut Transcript) {
    // RFC 3501 §5.4 asks for at least 30 minutes; the configuration bounds it.
    let timeout = Duration::from_secs(core.settings.timeouts.command_secs);
    let mut io = Io { conn, t, timeout };
    let mut state = State::NotAuthenticated;
    if !io.say("* OK direct-conformance IMAP4rev1 ready").await {
        return;
    }
    loop {
        let input = match command::read(io.conn, io.t, timeout).await {
            Ok(i) => i,
            Err(LineError::Timeout(_)) => {
                io.say("* BYE autologout: idle for too long").await;
                break;
            }
            Err(_) => return,
        };
        let p = match input {
            Input::TooLong => {
                io.say("* BYE command line or literal too long").await;
                break;
            }
            Input::Malformed { tag } => {
                let tag = tag.unwrap_or_else(|| "*".into());
                let kind = if core.faults().on(Fault::ImapNoBadForSyntax) {
                    "NO"
                } else {
                    "BAD"
                };
                if !io.say(&format!("{tag} {kind} command syntax error")).await {
                    return;
                }
                continue;
            }
            Input::Command(p) => p,
        };
        if !state.allows(p.cmd.states()) {
            let reply = if core.faults().on(Fault::ImapLenientState) {
                format!("{} OK completed", p.tag)
            } else {
                format!("{} BAD command not allowed in this state", p.tag)
            };
            if !io.say(&reply).await {
                return;
            }
            continue;
        }
        match step(core, &mut io, &mut state, p).await {
            Some(Flow::Go) => {}
            Some(Flow::End) => break,
            None => return,
        }
    }
    io.conn.shutdown().await;
}

/// One command in a state that allows it. `None`: the connection is gone.
async fn step(core: &Arc<Core>, io: &mut Io<'_>, state: &mut State, p: Parsed) -> Option<Flow> {
    let tag = p.tag.clone();
    let faults = core.faults();
    let reply: String = match p.cmd {
        Cmd::Capability => {
            let caps = capabilities(core, io.conn, state);
            say(io, &format!("* {caps}")).await?;
            format!("{tag} OK CAPABILITY completed")
        }
        Cmd::Noop => {
            if faults.on(Fault::ImapNoNoop) {
                format!("{tag} BAD unknown command")
            } else {
                if let State::Selected { sel, .. } = state {
                    updates(core, io, sel).await?;
                }
                format!("{tag} OK NOOP completed")
            }
        }
        Cmd::Logout => {
            if faults.on(Fault::ImapLogoutWithoutBye) {
                say(io, &format!("{tag} OK LOGOUT completed")).await?;
                return Some(Flow::Go);
            }
            say(io, "* BYE logging out").await?;
            say(io, &format!("{tag} OK LOGOUT completed")).await?;
            return Some(Flow::End);
        }
        Cmd::StartTls => {
            let acceptor = core
                .acceptor
                .clone()
                .filter(|_| starttls_offered(core, io.conn));
            let Some(acceptor) = acceptor else {
                say(io, &format!("{tag} BAD STARTTLS is not available")).await?;
                return Some(Flow::Go);
            };
            say(io, &format!("{tag} OK begin TLS negotiation now")).await?;
            if io.conn.accept_tls(&acceptor, io.timeout).await.is_err() {
                io.t.we_said("[TLS failed]");
                return None;
            }
            io.t.we_said("[TLS established]");
            return Some(Flow::Go);
        }
        Cmd::Login { user, password } => {
            if !login_allowed(core, io.conn) {
                format!("{tag} NO [PRIVACYREQUIRED] LOGIN only after STARTTLS")
            } else if password_ok(core, &user, &password) {
                *state = State::Authenticated { user };
                format!("{tag} OK LOGIN completed")
            } else {
                format!("{tag} NO [AUTHENTICATIONFAILED] invalid user name or password")
            }
        }
        Cmd::Authenticate { mechanism, initial } => {
            authenticate(core, io, state, &tag, &mechanism, initial).await?
        }
        Cmd::Select { inbox, read_only } => {
            let named =
                inbox && (!faults.on(Fault::ImapInboxCaseSensitive) || p.raw.contains("INBOX"));
            selected::select(core, io, state, &tag, named, read_only).await?
        }
        Cmd::List {
            reference,
            pattern,
            lsub,
        } => {
            let verb = if lsub { "LSUB" } else { "LIST" };
            if pattern.is_empty() && !lsub {
                // The hierarchy delimiter and root (§6.3.8).
                say(io, "* LIST (\\Noselect) \"/\" \"\"").await?;
            } else {
                let full = format!("{reference}{pattern}");
                if wildcard(full.as_bytes(), b"INBOX") {
                    say(io, &format!("* {verb} (\\HasNoChildren) \"/\" \"INBOX\"")).await?;
                }
            }
            format!("{tag} OK {verb} completed")
        }
        Cmd::Check => format!("{tag} OK CHECK completed"),
        Cmd::Close => {
            if let State::Selected { user, sel } = state {
                if !sel.read_only {
                    sel.expunge(&core.maildir);
                }
                *state = State::Authenticated { user: user.clone() };
            }
            format!("{tag} OK CLOSE completed")
        }
        Cmd::Expunge => {
            let State::Selected { sel, .. } = state else {
                return Some(Flow::Go);
            };
            if sel.read_only {
                format!("{tag} NO [READ-ONLY] mailbox is read-only")
            } else {
                for n in sel.expunge(&core.maildir) {
                    say(io, &format!("* {n} EXPUNGE")).await?;
                }
                format!("{tag} OK EXPUNGE completed")
            }
        }
        Cmd::Fetch { set, items, uid } => {
            let State::Selected { sel, .. } = state else {
                return Some(Flow::Go);
            };
            selected::fetch(core, io, sel, &tag, &set, &items, uid).await?
        }
        Cmd::Store(st) => {
            let State::Selected { sel, .. } = state else {
                return Some(Flow::Go);
            };
            selected::store(core, io, sel, &tag, &st).await?
        }
        Cmd::Search { key, uid } => {
            let State::Selected { sel, .. } = state else {
                return Some(Flow::Go);
            };
            selected::search(io, sel, &tag, &key, uid).await?
        }
        Cmd::Unserved(name) => format!("{tag} NO [CANNOT] {name} is not served by this door"),
    };
    say(io, &reply).await?;
    Some(Flow::Go)
}

async fn say(io: &mut Io<'_>, text: &str) -> Option<()> {
    io.say(text).await.then_some(())
}

/// NOOP in the selected state: what others expunged and what arrived.
async fn updates(core: &Core, io: &mut Io<'_>, sel: &mut Selected) -> Option<()> {
    let unstable = core.faults().on(Fault::ImapUnstableUids);
    if let Ok((gone, grew)) = sel.refresh(&core.maildir, unstable) {
        for n in gone {
            say(io, &format!("* {n} EXPUNGE")).await?;
        }
        if grew {
            say(io, &format!("* {} EXISTS", sel.exists())).await?;
            say(io, &format!("* {} RECENT", sel.recent())).await?;
        }
    }
    Some(())
}

/// AUTHENTICATE: PLAIN only, with the initial response or after an empty continuation.
async fn authenticate(
    core: &Core,
    io: &mut Io<'_>,
    state: &mut State,
    tag: &str,
    mechanism: &str,
    initial: Option<Vec<u8>>,
) -> Option<String> {
    if !mechanism.eq_ignore_ascii_case("PLAIN") {
        return Some(format!(
            "{tag} NO [CANNOT] unsupported mechanism {mechanism}"
        ));
    }
    if !login_allowed(core, io.conn) {
        return Some(format!(
            "{tag} NO [PRIVACYREQUIRED] AUTHENTICATE only after STARTTLS"
        ));
    }
    let response = match initial {
        Some(r) => r,
        None => {
            say(io, "+ ").await?;
            let line = io.conn.read_line(2048, io.timeout).await.ok()?;
            io.t.peer_said("[SASL response hidden]");
            let text = String::from_utf8_lossy(&line).trim().to_string();
            if text == "*" {
                return Some(format!("{tag} BAD authentication cancelled"));
            }
            match base64::engine::general_purpose::STANDARD.decode(text) {
                Ok(r) => r,
                Err(_) => return Some(format!("{tag} BAD the response is not base64")),
            }
        }
    };
    Some(match plain_credentials(&response) {
        None => format!("{tag} BAD malformed PLAIN response"),
        Some(_) if core.faults().on(Fault::ImapAuthPlainRefused) => {
            format!("{tag} NO [AUTHENTICATIONFAILED] authentication failed")
        }
        Some((user, password)) if password_ok(core, &user, &password) => {
            *state = State::Authenticated { user };
            format!("{tag} OK AUTHENTICATE completed")
        }
        Some(_) => format!("{tag} NO [AUTHENTICATIONFAILED] invalid user name or password"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_patterns() {
        assert!(wildcard(b"*", b"INBOX"));
        assert!(wildcard(b"inbox", b"INBOX"));
        assert!(wildcard(b"IN%", b"INBOX"));
        assert!(!wildcard(b"Sent", b"INBOX"));
        assert!(!wildcard(b"", b"INBOX"));
    }

    #[test]
    fn plain_needs_matching_authzid() {
        assert_eq!(
            plain_credentials(b"\0u@x\0pw"),
            Some(("u@x".into(), "pw".into()))
        );
        assert_eq!(plain_credentials(b"other\0u@x\0pw"), None);
        assert_eq!(plain_credentials(b"\0u@x"), None);
    }
}
