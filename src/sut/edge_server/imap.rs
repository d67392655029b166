//! EDGE-SRV's IMAP server (IMAP4rev1, RFC 3501; IDLE from RFC 2177): one account with
//! folders, served to the SUT's edge client after STARTTLS and LOGIN or AUTHENTICATE PLAIN.
//! Credentials in clear are refused and recorded; chosen commands can be answered BAD or NO
//! (IMAP22); a message the scenario adds to a folder is announced with `* n EXISTS`, also to
//! a client in IDLE (IMAP25). Each finished session is kept with its transcript, the folders
//! selected and the messages fetched whole.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::imap_syntax::{Token, is_inbox, list_matches, quote, same_mailbox, tokens};
use super::smtp::Account;
use super::{EdgeServerError, Log, SESSION_TIMEOUT, decode_plain};
use crate::hisp::conn::{LineConn, LineError};

const MAX_LINE: usize = 8192;
/// Literals the client may send in a command (a password, a mailbox name).
const MAX_LITERAL: usize = 64 * 1024;
/// How long one IDLE may last before the server ends the session.
const MAX_IDLE: Duration = Duration::from_secs(300);

const CAPS_CLEAR: &str = "IMAP4rev1 STARTTLS LOGINDISABLED IDLE";
const CAPS_TLS: &str = "IMAP4rev1 AUTH=PLAIN IDLE";

/// A folder and its messages (UIDs are 1, 2, ... in order).
#[derive(Clone, Debug)]
pub struct Folder {
    pub name: String,
    pub messages: Vec<Vec<u8>>,
}

/// Commands the server answers BAD or NO on purpose (IMAP22).
#[derive(Clone, Debug, Default)]
pub struct Script {
    /// Verbs always answered BAD (`LSUB`, `UID SEARCH`, ...).
    pub bad: BTreeSet<String>,
    /// Verbs always answered NO.
    pub no: BTreeSet<String>,
    /// The first whole fetch of this INBOX UID is answered NO (later ones succeed).
    pub fail_first_fetch_of: Option<u32>,
}

/// One finished session.
#[derive(Clone, Debug, Default)]
pub struct ImapSession {
    pub transcript: String,
    pub tls: bool,
    pub tls_error: Option<String>,
    /// LOGIN or AUTHENTICATE before STARTTLS.
    pub credentials_in_clear: bool,
    pub authenticated: bool,
    /// `PLAIN` or `LOGIN`.
    pub mechanism: Option<String>,
    /// Folders selected or examined, in order, named as the server names them.
    pub selected: Vec<String>,
    /// (folder, UID) of each message sent whole (BODY[], BODY.PEEK[], RFC822).
    pub fetched: BTreeSet<(String, u32)>,
    /// Commands answered BAD or NO by the script.
    pub scripted_errors: usize,
    /// Commands the client sent after the first scripted error.
    pub commands_after_error: usize,
    pub idled: bool,
    pub logout: bool,
}

struct Msg {
    data: Vec<u8>,
    flags: BTreeSet<String>,
}

struct Mailbox {
    name: String,
    uidvalidity: u32,
    messages: Vec<Msg>,
}

/// The account's folders, shared by the sessions and the scenario (which may add mail).
#[derive(Default)]
struct Shared {
    store: Mutex<Vec<Mailbox>>,
    /// Sessions in IDLE now.
    idling: Mutex<usize>,
    /// A session began to idle.
    idle_began: Notify,
    /// A message was added.
    arrived: Notify,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running IMAP server over one account (the shared session bookkeeping, and the folders);
/// stops when dropped.
pub struct ImapEdgeServer {
    pub addr: SocketAddr,
    server: super::Server<ImapSession>,
    handle: ImapHandle,
}

/// What a scenario may do with the server while a client is connected (IMAP25).
#[derive(Clone)]
pub struct ImapHandle(Arc<Shared>);

impl ImapHandle {
    /// Adds a message to `folder`; its UID, or `None` when there is no such folder.
    pub fn deliver(&self, folder: &str, data: Vec<u8>) -> Option<u32> {
        let uid = {
            let mut store = lock(&self.0.store);
            let b = store.iter_mut().find(|b| same_mailbox(&b.name, folder))?;
            b.messages.push(Msg {
                data,
                flags: BTreeSet::from(["\\Recent".to_string()]),
            });
            b.messages.len() as u32
        };
        self.0.arrived.notify_waiters();
        Some(uid)
    }

    /// Waits until some session is in IDLE; false at `deadline`.
    pub async fn wait_idle(&self, deadline: Duration) -> bool {
        let end = Instant::now() + deadline;
        loop {
            let notified = self.0.idle_began.notified();
            if *lock(&self.0.idling) > 0 {
                return true;
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), notified).await;
        }
    }
}

impl ImapEdgeServer {
    /// Listens on a free port of `bind` and serves `folders` to `account` until dropped.
    pub async fn start(
        bind: IpAddr,
        acceptor: tokio_rustls::TlsAcceptor,
        account: Account,
        folders: Vec<Folder>,
        script: Script,
    ) -> Result<Self, EdgeServerError> {
        let shared = Arc::new(Shared::default());
        *lock(&shared.store) = folders
            .into_iter()
            .enumerate()
            .map(|(i, f)| Mailbox {
                name: f.name,
                uidvalidity: 3501 + i as u32,
                messages: f
                    .messages
                    .into_iter()
                    .map(|data| Msg {
                        data,
                        flags: BTreeSet::new(),
                    })
                    .collect(),
            })
            .collect();
        let config = Arc::new((account, script));
        let s = shared.clone();
        let server = super::Server::listen(bind, move |conn, peer| {
            let (s, acceptor, config) = (s.clone(), acceptor.clone(), config.clone());
            async move { serve(conn, peer, &acceptor, &s, &config).await }
        })
        .await?;
        Ok(ImapEdgeServer {
            addr: server.addr,
            server,
            handle: ImapHandle(shared),
        })
    }

    pub fn handle(&self) -> ImapHandle {
        self.handle.clone()
    }

    /// The sessions finished so far.
    pub fn sessions(&self) -> Vec<ImapSession> {
        self.server.sessions()
    }

    /// Waits until no session is open (and at least `min` have finished), or `deadline`.
    pub async fn settle(&self, min: usize, deadline: Duration) -> Vec<ImapSession> {
        self.server.settle(min, deadline).await
    }
}

pub(super) struct Session<'a> {
    conn: LineConn,
    log: Log,
    pub(super) rec: ImapSession,
    shared: &'a Shared,
    account: &'a Account,
    script: &'a Script,
    /// The selected folder (index) and whether it is read-only (EXAMINE).
    pub(super) selected: Option<(usize, bool)>,
    /// The message count the client was last told.
    known: usize,
    failed_once: bool,
}

/// A parsed command: tag, verb (`UID FETCH` for UID commands), arguments.
pub(super) struct Command {
    pub(super) tag: String,
    pub(super) verb: String,
    pub(super) args: Vec<Token>,
}

enum Read {
    Command(Command),
    /// Answered already (syntax error, too long); read the next one.
    Answered,
}

async fn serve(
    conn: LineConn,
    peer: SocketAddr,
    acceptor: &tokio_rustls::TlsAcceptor,
    shared: &Shared,
    config: &(Account, Script),
) -> ImapSession {
    let log = Log::default();
    log.line(format!("# connection from {peer}"));
    let mut s = Session {
        conn,
        log: log.clone(),
        rec: ImapSession::default(),
        shared,
        account: &config.0,
        script: &config.1,
        selected: None,
        known: 0,
        failed_once: false,
    };
    if let Err(e) = run(&mut s, acceptor).await {
        log.line(format!("# session ended: {e}"));
    }
    s.conn.shutdown().await;
    s.rec.transcript = log.text();
    s.rec
}

impl Session<'_> {
    pub(super) async fn send(&mut self, text: &str) -> Result<(), LineError> {
        self.log.line(format!("S: {text}"));
        self.conn
            .write_all(format!("{text}\r\n").as_bytes(), SESSION_TIMEOUT)
            .await
    }

    /// Reads one command with its literals (each announced `{n}` answered `+` first).
    async fn read(&mut self) -> Result<Read, LineError> {
        let mut bytes = Vec::new();
        loop {
            let line = match self.conn.read_line(MAX_LINE, SESSION_TIMEOUT).await {
                Ok(l) => l,
                Err(LineError::TooLong(_)) => {
                    self.log.line("C: <line too long>");
                    self.send("* BAD line too long").await?;
                    return Ok(Read::Answered);
                }
                Err(e) => return Err(e),
            };
            bytes.extend_from_slice(&line);
            match literal_at_end(&line) {
                Some((n, _)) if n > MAX_LITERAL || bytes.len() + n > 2 * MAX_LITERAL => {
                    self.log
                        .line(format!("C: <command with a {n}-octet literal>"));
                    self.send("* BAD literal too large").await?;
                    return Ok(Read::Answered);
                }
                Some((n, sync)) => {
                    if sync {
                        self.send("+ ready for literal").await?;
                    }
                    let lit = self.conn.read_exact(n, SESSION_TIMEOUT).await?;
                    bytes.extend_from_slice(&lit);
                }
                None => break,
            }
        }
        while bytes.last().is_some_and(|c| *c == b'\n' || *c == b'\r') {
            bytes.pop();
        }
        let toks = match tokens(&bytes) {
            Ok(t) => t,
            Err(e) => {
                self.log.line(format!("C: {}", shown(&bytes)));
                let tag = first_word(&bytes);
                self.send(&format!("{tag} BAD {e}")).await?;
                return Ok(Read::Answered);
            }
        };
        let mut it = toks.into_iter();
        let tag = match it.next() {
            Some(Token::Atom(t)) if t != "*" && t != "+" && !t.contains(['[', ']']) => t,
            _ => {
                self.log.line(format!("C: {}", shown(&bytes)));
                self.send("* BAD no tag").await?;
                return Ok(Read::Answered);
            }
        };
        let Some(mut verb) = it.next().and_then(|t| t.atom_upper()) else {
            self.log.line(format!("C: {}", shown(&bytes)));
            self.send(&format!("{tag} BAD no command")).await?;
            return Ok(Read::Answered);
        };
        if verb == "UID" {
            match it.next().and_then(|t| t.atom_upper()) {
                Some(v) => verb = format!("UID {v}"),
                None => {
                    self.send(&format!("{tag} BAD UID what?")).await?;
                    return Ok(Read::Answered);
                }
            }
        }
        match verb.as_str() {
            "LOGIN" => {
                let user = it
                    .clone()
                    .next()
                    .and_then(|t| t.astring())
                    .unwrap_or_default();
                self.log
                    .line(format!("C: {tag} LOGIN {} <password>", quote(&user)));
            }
            "AUTHENTICATE" => self.log.line(format!(
                "C: {tag} AUTHENTICATE {} <credentials>",
                it.clone()
                    .next()
                    .and_then(|t| t.astring())
                    .unwrap_or_default()
            )),
            _ => self.log.line(format!("C: {}", shown(&bytes))),
        }
        Ok(Read::Command(Command {
            tag,
            verb,
            args: it.collect(),
        }))
    }

    /// Sends raw octets (a FETCH with literals), logging `shown` instead.
    pub(super) async fn send_raw(&mut self, bytes: &[u8], shown: &str) -> Result<(), LineError> {
        self.log.line(format!("S: {shown}"));
        self.conn.write_all(bytes, SESSION_TIMEOUT).await
    }

    /// The selected folder's name (INBOX spelled so) and index.
    pub(super) fn folder(&self) -> Option<(String, usize)> {
        let (i, _) = self.selected?;
        let name = lock(&self.shared.store).get(i)?.name.clone();
        Some((
            if is_inbox(&name) {
                "INBOX".into()
            } else {
                name
            },
            i,
        ))
    }

    /// (UID, data, flags) of every message in folder `i`, in order.
    pub(super) fn snapshot(&self, i: usize) -> Vec<(u32, Vec<u8>, Vec<String>)> {
        lock(&self.shared.store)
            .get(i)
            .map(|b| {
                b.messages
                    .iter()
                    .zip(1u32..)
                    .map(|(m, uid)| (uid, m.data.clone(), m.flags.iter().cloned().collect()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Changes one message's flags; the flags after.
    pub(super) fn change_flags(
        &self,
        i: usize,
        uid: u32,
        change: impl FnOnce(&mut BTreeSet<String>),
    ) -> Vec<String> {
        let mut store = lock(&self.shared.store);
        match store
            .get_mut(i)
            .and_then(|b| b.messages.get_mut((uid as usize).wrapping_sub(1)))
        {
            Some(m) => {
                change(&mut m.flags);
                m.flags.iter().cloned().collect()
            }
            None => Vec::new(),
        }
    }

    /// Whether the script refuses this whole fetch (only the first time).
    pub(super) fn scripted_fetch_failure(&mut self, folder: &str, uid: u32) -> bool {
        if folder == "INBOX" && self.script.fail_first_fetch_of == Some(uid) && !self.failed_once {
            self.failed_once = true;
            self.rec.scripted_errors += 1;
            return true;
        }
        false
    }

    fn folder_len(&self, i: usize) -> usize {
        lock(&self.shared.store)
            .get(i)
            .map(|b| b.messages.len())
            .unwrap_or(0)
    }

    /// Tells the client of messages added to its folder since it was last told.
    pub(super) async fn report_new(&mut self) -> Result<(), LineError> {
        if let Some((i, _)) = self.selected {
            let n = self.folder_len(i);
            if n > self.known {
                self.known = n;
                self.send(&format!("* {n} EXISTS")).await?;
            }
        }
        Ok(())
    }
}

/// `{n}` or `{n+}` at the end of a line: (n, synchronising).
fn literal_at_end(line: &[u8]) -> Option<(usize, bool)> {
    let t = std::str::from_utf8(line)
        .ok()?
        .trim_end_matches(['\r', '\n']);
    let inner = t.strip_suffix('}')?;
    let open = inner.rfind('{')?;
    let digits = &inner[open + 1..];
    let (digits, sync) = match digits.strip_suffix('+') {
        Some(d) => (d, false),
        None => (digits, true),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().unwrap_or(usize::MAX), sync))
}

fn first_word(bytes: &[u8]) -> String {
    let w = String::from_utf8_lossy(bytes)
        .split_whitespace()
        .next()
        .unwrap_or("*")
        .to_string();
    let atom = |c: char| c.is_ascii_graphic() && !"\"(){}%*\\[]".contains(c);
    if !w.is_empty() && w.chars().all(atom) && w.len() < 64 {
        w
    } else {
        "*".into()
    }
}

fn shown(bytes: &[u8]) -> String {
    let t = String::from_utf8_lossy(bytes).replace("\r\n", " ");
    if t.len() > 300 {
        format!(
            "{}... <{} octets>",
            &t[..t.floor_char_boundary(300)],
            t.len()
        )
    } else {
        t
    }
}

async fn run(s: &mut Session<'_>, acceptor: &tokio_rustls::TlsAcceptor) -> Result<(), LineError> {
    s.send("* OK harness edge server IMAP4rev1 ready").await?;
    loop {
        let c = match s.read().await? {
            Read::Command(c) => c,
            Read::Answered => continue,
        };
        if s.rec.scripted_errors > 0 {
            s.rec.commands_after_error += 1;
        }
        let tag = c.tag.clone();
        if s.script.bad.contains(&c.verb) {
            s.rec.scripted_errors += 1;
            s.send(&format!(
                "{tag} BAD {} is not available here (scripted)",
                c.verb
            ))
            .await?;
            continue;
        }
        if s.script.no.contains(&c.verb) {
            s.rec.scripted_errors += 1;
            s.send(&format!("{tag} NO {} failed (scripted)", c.verb))
                .await?;
            continue;
        }
        let authed = s.rec.authenticated;
        match (c.verb.as_str(), authed) {
            ("CAPABILITY", _) => {
                let caps = if s.rec.tls { CAPS_TLS } else { CAPS_CLEAR };
                s.send(&format!("* CAPABILITY {caps}")).await?;
                s.send(&format!("{tag} OK CAPABILITY completed")).await?;
            }
            ("NOOP" | "CHECK", _) => {
                s.report_new().await?;
                s.send(&format!("{tag} OK {} completed", c.verb)).await?;
            }
            ("LOGOUT", _) => {
                s.rec.logout = true;
                s.send("* BYE harness edge server logging out").await?;
                s.send(&format!("{tag} OK LOGOUT completed")).await?;
                return Ok(());
            }
            ("STARTTLS", _) if s.rec.tls => {
                s.send(&format!("{tag} BAD TLS is already on")).await?;
            }
            ("STARTTLS", _) => {
                s.send(&format!("{tag} OK begin TLS negotiation now"))
                    .await?;
                match s.conn.accept_tls(acceptor, SESSION_TIMEOUT).await {
                    Ok(()) => {
                        s.rec.tls = true;
                        s.log.line("# TLS established");
                    }
                    Err(e) => {
                        s.rec.tls_error = Some(e.to_string());
                        s.log.line(format!("# TLS handshake failed: {e}"));
                        return Ok(());
                    }
                }
            }
            ("LOGIN" | "AUTHENTICATE", false) if !s.rec.tls => {
                s.rec.credentials_in_clear = true;
                s.send(&format!(
                    "{tag} NO [PRIVACYREQUIRED] STARTTLS first: no credentials in clear"
                ))
                .await?;
            }
            ("LOGIN" | "AUTHENTICATE", true) => {
                s.send(&format!("{tag} BAD already authenticated")).await?;
            }
            ("LOGIN", false) => {
                let a: Vec<String> = c.args.iter().filter_map(|t| t.astring()).collect();
                if a.len() != 2 || c.args.len() != 2 {
                    s.send(&format!("{tag} BAD usage: LOGIN user password"))
                        .await?;
                } else if a[0] == s.account.user && a[1] == s.account.password {
                    s.rec.authenticated = true;
                    s.rec.mechanism = Some("LOGIN".into());
                    s.send(&format!("{tag} OK LOGIN completed")).await?;
                } else {
                    s.send(&format!("{tag} NO [AUTHENTICATIONFAILED] invalid login"))
                        .await?;
                }
            }
            ("AUTHENTICATE", false) => authenticate(s, &c).await?,
            (_, false) => {
                s.send(&format!(
                    "{tag} BAD {} is not valid before authentication (or unknown)",
                    c.verb
                ))
                .await?;
            }
            ("LIST" | "LSUB", true) => list(s, &c).await?,
            ("SELECT" | "EXAMINE", true) => select(s, &c).await?,
            ("CLOSE" | "UNSELECT", true) if s.selected.is_some() => {
                s.selected = None;
                s.send(&format!("{tag} OK {} completed", c.verb)).await?;
            }
            ("IDLE", true) => idle(s, &tag).await?,
            ("FETCH" | "UID FETCH" | "SEARCH" | "UID SEARCH" | "STORE" | "UID STORE", true)
            | ("CLOSE" | "UNSELECT" | "EXPUNGE", true)
                if s.selected.is_none() =>
            {
                s.send(&format!("{tag} BAD {} needs a selected folder", c.verb))
                    .await?;
            }
            ("FETCH" | "UID FETCH", true) => super::imap_fetch::fetch(s, &c).await?,
            ("SEARCH" | "UID SEARCH", true) => super::imap_fetch::search(s, &c).await?,
            ("STORE" | "UID STORE", true) => super::imap_fetch::store(s, &c).await?,
            ("EXPUNGE", true) => {
                s.send(&format!(
                    "{tag} NO [CANNOT] the harness edge server keeps its messages"
                ))
                .await?;
            }
            _ => s.send(&format!("{tag} BAD unknown command")).await?,
        }
    }
}

async fn authenticate(s: &mut Session<'_>, c: &Command) -> Result<(), LineError> {
    let tag = &c.tag;
    let mech = c.args.first().and_then(|t| t.astring()).unwrap_or_default();
    if !mech.eq_ignore_ascii_case("PLAIN") {
        return s
            .send(&format!("{tag} NO unsupported mechanism (PLAIN only)"))
            .await;
    }
    let creds = match c.args.get(1).and_then(|t| t.astring()) {
        Some(ir) => ir,
        None => {
            s.send("+ ").await?;
            let raw = match s.conn.read_line(MAX_LINE, SESSION_TIMEOUT).await {
                Ok(r) => r,
                Err(LineError::TooLong(_)) => {
                    return s.send(&format!("{tag} BAD credentials too long")).await;
                }
                Err(e) => return Err(e),
            };
            s.log.line("C: <credentials>");
            String::from_utf8_lossy(&raw).trim().to_string()
        }
    };
    if creds == "*" {
        return s.send(&format!("{tag} BAD authentication cancelled")).await;
    }
    match decode_plain(&creds) {
        Some((u, p)) if u == s.account.user && p == s.account.password => {
            s.rec.authenticated = true;
            s.rec.mechanism = Some("PLAIN".into());
            s.send(&format!("{tag} OK AUTHENTICATE completed")).await
        }
        Some(_) => {
            s.send(&format!("{tag} NO [AUTHENTICATIONFAILED] invalid login"))
                .await
        }
        None => {
            s.send(&format!("{tag} BAD credentials not base64 PLAIN"))
                .await
        }
    }
}

async fn list(s: &mut Session<'_>, c: &Command) -> Result<(), LineError> {
    let tag = &c.tag;
    let a: Vec<String> = c.args.iter().filter_map(|t| t.astring()).collect();
    if a.len() != 2 || c.args.len() != 2 {
        return s
            .send(&format!("{tag} BAD usage: {} reference pattern", c.verb))
            .await;
    }
    let pattern = format!("{}{}", a[0], a[1]);
    if a[1].is_empty() {
        s.send(&format!("* {} (\\Noselect) \"/\" \"\"", c.verb))
            .await?;
    } else {
        let names: Vec<String> = lock(&s.shared.store)
            .iter()
            .map(|b| b.name.clone())
            .filter(|n| list_matches(&pattern, n))
            .collect();
        for n in names {
            s.send(&format!(
                "* {} (\\HasNoChildren) \"/\" {}",
                c.verb,
                quote(&n)
            ))
            .await?;
        }
    }
    s.send(&format!("{tag} OK {} completed", c.verb)).await
}

async fn select(s: &mut Session<'_>, c: &Command) -> Result<(), LineError> {
    let tag = &c.tag;
    let (Some(name), 1) = (c.args.first().and_then(|t| t.astring()), c.args.len()) else {
        return s
            .send(&format!("{tag} BAD usage: {} mailbox", c.verb))
            .await;
    };
    // A failed SELECT leaves no folder selected (RFC 3501 §6.3.1).
    s.selected = None;
    let found = lock(&s.shared.store)
        .iter()
        .enumerate()
        .find(|(_, b)| same_mailbox(&b.name, &name))
        .map(|(i, b)| {
            let recent = b
                .messages
                .iter()
                .filter(|m| m.flags.contains("\\Recent"))
                .count();
            (i, b.name.clone(), b.messages.len(), recent, b.uidvalidity)
        });
    let Some((i, real, n, recent, validity)) = found else {
        return s
            .send(&format!(
                "{tag} NO [NONEXISTENT] no folder {}",
                quote(&name)
            ))
            .await;
    };
    let read_only = c.verb == "EXAMINE";
    s.selected = Some((i, read_only));
    s.known = n;
    s.rec.selected.push(if is_inbox(&real) {
        "INBOX".into()
    } else {
        real
    });
    s.send("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)")
        .await?;
    s.send(&format!("* {n} EXISTS")).await?;
    s.send(&format!("* {recent} RECENT")).await?;
    s.send(&format!("* OK [UIDVALIDITY {validity}] UIDs valid"))
        .await?;
    s.send(&format!("* OK [UIDNEXT {}] predicted next UID", n + 1))
        .await?;
    let mode = if read_only { "READ-ONLY" } else { "READ-WRITE" };
    s.send(&format!("{tag} OK [{mode}] {} completed", c.verb))
        .await
}

/// RFC 2177: `+`, then new messages announced until the client's `DONE`.
async fn idle(s: &mut Session<'_>, tag: &str) -> Result<(), LineError> {
    s.send("+ idling").await?;
    s.rec.idled = true;
    *lock(&s.shared.idling) += 1;
    s.shared.idle_began.notify_waiters();
    let result = idle_loop(s).await;
    *lock(&s.shared.idling) -= 1;
    match result? {
        Some(line) if line.eq_ignore_ascii_case("DONE") => {
            s.send(&format!("{tag} OK IDLE terminated")).await
        }
        Some(_) => s.send(&format!("{tag} BAD expected DONE")).await,
        None => {
            s.send("* BYE idled too long").await?;
            Err(LineError::Timeout(MAX_IDLE))
        }
    }
}

/// The client's line that ended IDLE, or `None` at the IDLE bound.
async fn idle_loop(s: &mut Session<'_>) -> Result<Option<String>, LineError> {
    let end = Instant::now() + MAX_IDLE;
    let shared = s.shared;
    loop {
        let arrived = shared.arrived.notified();
        tokio::pin!(arrived);
        arrived.as_mut().enable();
        s.report_new().await?;
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        tokio::select! {
            line = s.conn.read_line(MAX_LINE, left) => {
                let line = match line {
                    Ok(l) => String::from_utf8_lossy(&l).trim().to_string(),
                    Err(LineError::TooLong(_)) => "<line too long>".to_string(),
                    Err(LineError::Timeout(_)) => return Ok(None),
                    Err(e) => return Err(e),
                };
                s.log.line(format!("C: {line}"));
                return Ok(Some(line));
            }
            _ = &mut arrived => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_at_line_end() {
        assert_eq!(literal_at_end(b"a LOGIN {5}\r\n"), Some((5, true)));
        assert_eq!(literal_at_end(b"a LOGIN {5+}\r\n"), Some((5, false)));
        assert_eq!(literal_at_end(b"a LOGIN {}\r\n"), None);
        assert_eq!(literal_at_end(b"a NOOP\r\n"), None);
        assert_eq!(
            literal_at_end(b"a X {99999999999999999999999}\r\n"),
            Some((usize::MAX, true))
        );
    }

    #[test]
    fn tags_of_bad_lines() {
        assert_eq!(first_word(b"a1 FOO"), "a1");
        assert_eq!(first_word(b""), "*");
        assert_eq!(first_word(b"\"unterminated"), "*");
    }

    /// A client that reads whole lines, for the tests.
    struct Raw(tokio::io::BufReader<tokio::net::TcpStream>);

    impl Raw {
        async fn say(&mut self, bytes: &[u8]) {
            use tokio::io::AsyncWriteExt;
            self.0.get_mut().write_all(bytes).await.unwrap();
        }
        async fn hear(&mut self) -> String {
            use tokio::io::AsyncBufReadExt;
            let mut l = String::new();
            tokio::time::timeout(Duration::from_secs(5), self.0.read_line(&mut l))
                .await
                .unwrap()
                .unwrap();
            l.trim_end().to_string()
        }
    }

    #[tokio::test]
    async fn bad_input_gets_bad_and_credentials_in_clear_are_refused() {
        crate::trust::fetch::install_crypto_provider();
        let pki = crate::pki::ReferencePki::load_default().unwrap();
        let tls = super::super::acceptor(&pki, super::super::ServerCert::Good).unwrap();
        let account = Account {
            user: "u@edge.direct.test".into(),
            password: "pw".into(),
        };
        let inbox = Folder {
            name: "INBOX".into(),
            messages: vec![b"Subject: a\r\n\r\nbody\r\n".to_vec()],
        };
        let server = ImapEdgeServer::start(
            IpAddr::from([127, 0, 0, 1]),
            tls,
            account,
            vec![inbox],
            Script {
                bad: ["CHECK".to_string()].into(),
                no: ["NOOP".to_string()].into(),
                fail_first_fetch_of: None,
            },
        )
        .await
        .unwrap();
        let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let mut c = Raw(tokio::io::BufReader::new(tcp));
        assert!(c.hear().await.starts_with("* OK"));
        c.say(b"a1 CAPABILITY\r\n").await;
        assert!(c.hear().await.contains("LOGINDISABLED"));
        assert!(c.hear().await.starts_with("a1 OK"));
        for (line, want) in [
            (&b"a2 CAPABILITYBAD\r\n"[..], "a2 BAD"),
            (b"a3 SELECT INBOX\r\n", "a3 BAD"),
            (b"\"open\r\n", "* BAD"),
            (b"a4 FETCH 1 (FLAGS\r\n", "a4 BAD"),
            (b"a5 LOGIN {99999999}\r\n", "* BAD"),
            (b"\x00\xff\r\n", "* BAD"),
            (b"a6 LOGIN \"u@edge.direct.test\" \"pw\"\r\n", "a6 NO"),
            (b"a7 AUTHENTICATE PLAIN\r\n", "a7 NO"),
        ] {
            c.say(line).await;
            let got = c.hear().await;
            assert!(got.starts_with(want), "{line:?}: {got}");
        }
        c.say(&[b'x'; 10_000]).await;
        c.say(b"\r\n").await;
        assert!(c.hear().await.starts_with("* BAD"));
        c.say(b"a9 NOOP\r\n").await;
        assert!(c.hear().await.starts_with("a9 NO "));
        c.say(b"a10 check\r\n").await;
        assert!(c.hear().await.starts_with("a10 BAD"));
        c.say(b"a8 LOGOUT\r\n").await;
        assert!(c.hear().await.starts_with("* BYE"));
        assert!(c.hear().await.starts_with("a8 OK"));
        let s = server.settle(1, Duration::from_secs(5)).await;
        assert!(s[0].credentials_in_clear && !s[0].authenticated && s[0].logout);
        assert_eq!((s[0].scripted_errors, s[0].commands_after_error), (2, 2));
        assert!(!s[0].transcript.contains("\"pw\""), "{}", s[0].transcript);
    }
}
