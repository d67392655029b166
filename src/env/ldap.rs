//! The mock LDAP servers: a directory server per fixture entry (anonymous bind, root DSE,
//! searches through [`Directory`]), a "closed" port (a socket bound but never listening, so
//! connections are refused) and a tarpit (accepts, reads, never answers). Messages are decoded
//! and encoded by ldap3_proto's codec; undecodable input ends the connection, never the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ldap3_proto::LdapCodec;
use ldap3_proto::proto::{
    LdapBindCred, LdapBindResponse, LdapExtendedResponse, LdapMsg, LdapOp, LdapResult,
    LdapResultCode, LdapSearchScope,
};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

use super::directory::Directory;
use super::error::EnvError;
use super::events::{EventKind, EventLog, LdapEvent, LdapOpKind};
use super::fixture::LdapBehaviour;

/// A client that sends nothing for this long is disconnected.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the tarpit holds a connection before dropping it.
const TARPIT_HOLD: Duration = Duration::from_secs(600);
/// Connections served (or held) at once per server; more are closed at once, so a flood
/// cannot exhaust descriptors.
const MAX_CONNECTIONS: usize = 256;

/// A bound port, before serving starts (so that every port is known before DNS is built).
pub enum LdapSocket {
    Listening(TcpListener),
    /// Bound, never listening: the kernel refuses connections.
    Closed(TcpSocket),
}

impl LdapSocket {
    pub fn bind(addr: SocketAddr, behaviour: LdapBehaviour, name: &str) -> Result<Self, EnvError> {
        let bind_err = |error| EnvError::Bind {
            what: format!("LDAP server {name}"),
            addr,
            error,
        };
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(bind_err)?;
        socket.bind(addr).map_err(bind_err)?;
        match behaviour {
            LdapBehaviour::Closed => Ok(LdapSocket::Closed(socket)),
            _ => Ok(LdapSocket::Listening(socket.listen(128).map_err(bind_err)?)),
        }
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        match self {
            LdapSocket::Listening(l) => l.local_addr(),
            LdapSocket::Closed(s) => s.local_addr(),
        }
    }
}

/// What one server runs as.
pub enum LdapRole {
    Directory(Arc<Directory>),
    Tarpit,
    Closed,
}

struct Ctx {
    name: String,
    port: u16,
    log: EventLog,
}

impl Ctx {
    fn record(&self, client: SocketAddr, op: LdapOpKind, result: &str, entries: usize) {
        self.log.record(EventKind::Ldap(LdapEvent {
            server: self.name.clone(),
            port: self.port,
            client,
            op,
            result: result.to_string(),
            entries,
        }));
    }
}

/// Serves `socket` until `stop` is cancelled. Returns at once for a closed port (the socket
/// is kept alive by the returned future until then).
pub async fn serve(
    name: String,
    socket: LdapSocket,
    role: LdapRole,
    log: EventLog,
    stop: CancellationToken,
) {
    let port = socket.local_addr().map(|a| a.port()).unwrap_or(0);
    let ctx = Arc::new(Ctx { name, port, log });
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let listener = match (socket, &role) {
        (LdapSocket::Listening(l), LdapRole::Directory(_) | LdapRole::Tarpit) => l,
        (keep, _) => {
            // Closed: hold the bound socket so the port stays ours and refuses connections.
            stop.cancelled().await;
            drop(keep);
            return;
        }
    };
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => return,
            a = listener.accept() => a,
        };
        let (stream, client) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors and the like: pause instead of spinning.
                eprintln!("ldap {}: accept: {e}", ctx.name);
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            ctx.record(
                client,
                LdapOpKind::Other("connection limit reached, closed".into()),
                "",
                0,
            );
            drop(stream);
            continue;
        };
        ctx.record(client, LdapOpKind::Connect, "", 0);
        let ctx = ctx.clone();
        let stop = stop.clone();
        match &role {
            LdapRole::Directory(dir) => {
                let dir = dir.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = session(stream, client, &dir, &ctx) => {}
                    }
                    ctx.record(client, LdapOpKind::Disconnect, "", 0);
                    drop(slot);
                });
            }
            LdapRole::Tarpit | LdapRole::Closed => {
                tokio::spawn(async move {
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = tokio::time::sleep(TARPIT_HOLD) => {}
                        _ = swallow(stream) => {}
                    }
                    ctx.record(client, LdapOpKind::Disconnect, "", 0);
                    drop(slot);
                });
            }
        }
    }
}

/// Reads and discards until the peer closes.
async fn swallow(mut stream: TcpStream) {
    let mut buf = [0u8; 1024];
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

fn result(code: LdapResultCode, message: &str) -> LdapResult {
    LdapResult {
        code,
        matcheddn: String::new(),
        message: message.to_string(),
        referral: Vec::new(),
    }
}

fn code_name(code: &LdapResultCode) -> String {
    let debug = format!("{code:?}");
    // lowerCamelCase as RFC 4511 spells them (our enum's one misspelling fixed).
    let debug = debug.replace("Insufficent", "Insufficient");
    let mut chars = debug.chars();
    match chars.next() {
        Some(c) => c.to_ascii_lowercase().to_string() + chars.as_str(),
        None => debug,
    }
}

fn scope_name(scope: &LdapSearchScope) -> &'static str {
    match scope {
        LdapSearchScope::Base => "base",
        LdapSearchScope::OneLevel => "one",
        LdapSearchScope::Subtree => "sub",
        LdapSearchScope::Children => "children",
    }
}

async fn session(stream: TcpStream, client: SocketAddr, dir: &Directory, ctx: &Ctx) {
    let mut framed = Framed::new(stream, LdapCodec::default());
    loop {
        let next = match tokio::time::timeout(IDLE_TIMEOUT, framed.next()).await {
            Ok(n) => n,
            Err(_) => return,
        };
        let msg = match next {
            None => return,
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                ctx.record(
                    client,
                    LdapOpKind::Other(format!("undecodable input: {e}")),
                    "",
                    0,
                );
                return;
            }
        };
        let msgid = msg.msgid;
        let reply = |op| LdapMsg {
            msgid,
            op,
            ctrl: Vec::new(),
        };
        let mut out: Vec<LdapMsg> = Vec::new();
        match msg.op {
            LdapOp::BindRequest(b) => {
                let anonymous = matches!(&b.cred, LdapBindCred::Simple(pw) if pw.is_empty());
                let code = if b.version != 3 {
                    LdapResultCode::ProtocolError
                } else if anonymous {
                    LdapResultCode::Success
                } else if matches!(b.cred, LdapBindCred::Simple(_)) {
                    LdapResultCode::InvalidCredentials
                } else {
                    LdapResultCode::AuthMethodNotSupported
                };
                ctx.record(
                    client,
                    LdapOpKind::Bind {
                        dn: b.dn.clone(),
                        anonymous,
                    },
                    &code_name(&code),
                    0,
                );
                let message = match code {
                    LdapResultCode::Success => "",
                    _ => "only anonymous simple binds are served",
                };
                out.push(reply(LdapOp::BindResponse(LdapBindResponse {
                    res: result(code, message),
                    saslcreds: None,
                })));
            }
            LdapOp::SearchRequest(s) => {
                let found = dir.search(&s);
                ctx.record(
                    client,
                    LdapOpKind::Search {
                        base: s.base.clone(),
                        scope: scope_name(&s.scope).to_string(),
                        filter: super::directory::filter_string(&s.filter),
                        attrs: s.attrs.clone(),
                    },
                    &code_name(&found.code),
                    found.entries.len(),
                );
                out.extend(
                    found
                        .entries
                        .into_iter()
                        .map(|e| reply(LdapOp::SearchResultEntry(e))),
                );
                out.push(reply(LdapOp::SearchResultDone(result(
                    found.code,
                    &found.message,
                ))));
            }
            LdapOp::UnbindRequest => {
                ctx.record(client, LdapOpKind::Unbind, "", 0);
                return;
            }
            LdapOp::AbandonRequest(_) => {}
            LdapOp::ExtendedRequest(x) => {
                ctx.record(
                    client,
                    LdapOpKind::Other(format!("extended {}", x.name)),
                    "protocolError",
                    0,
                );
                out.push(reply(LdapOp::ExtendedResponse(LdapExtendedResponse {
                    res: result(
                        LdapResultCode::ProtocolError,
                        "extended operations are not supported",
                    ),
                    name: None,
                    value: None,
                })));
            }
            other => {
                // Writes are refused: the directory is read-only.
                let refused = result(LdapResultCode::UnwillingToPerform, "read-only directory");
                let op = match other {
                    LdapOp::ModifyRequest(_) => Some(LdapOp::ModifyResponse(refused)),
                    LdapOp::AddRequest(_) => Some(LdapOp::AddResponse(refused)),
                    LdapOp::DelRequest(_) => Some(LdapOp::DelResponse(refused)),
                    LdapOp::ModifyDNRequest(_) => Some(LdapOp::ModifyDNResponse(refused)),
                    LdapOp::CompareRequest(_) => Some(LdapOp::CompareResult(refused)),
                    _ => None,
                };
                ctx.record(
                    client,
                    LdapOpKind::Other("unsupported operation".into()),
                    "unwillingToPerform",
                    0,
                );
                match op {
                    Some(op) => out.push(reply(op)),
                    // A response-type PDU from a client is a protocol violation: hang up.
                    None => return,
                }
            }
        }
        for m in out {
            if framed.send(m).await.is_err() {
                return;
            }
        }
    }
}
