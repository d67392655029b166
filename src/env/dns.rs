//! The authoritative DNS server of the mock world: hickory-server's `Server` on one UDP socket
//! and one TCP listener (same port), with our own `RequestHandler` so that every query is
//! logged and the per-zone rules of [`super::zone`] apply.
//!
//! UDP size: hickory encodes a response into at most the response's EDNS payload size (512
//! without EDNS) and sets TC when records do not fit. DCDT zones answer with an OPT of 512
//! whatever the client offered, so large CERT answers always arrive truncated over UDP and
//! must be fetched over TCP; RFC zones honour the client's size up to 4096.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, MessageType, Metadata, OpCode, ResponseCode};
use hickory_server::Server;
use hickory_server::net::runtime::Time;
use hickory_server::net::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;

use super::error::EnvError;
use super::events::{DnsEvent, EventKind, EventLog, Transport};
use super::fixture::ZoneStyle;
use super::zone::ZoneSet;

/// Idle TCP connections are closed after this.
const TCP_TIMEOUT: Duration = Duration::from_secs(10);
const TCP_RESPONSE_BUFFER: usize = 32;
/// Largest UDP payload we ever advertise.
const MAX_UDP_PAYLOAD: u16 = 4096;
const MIN_UDP_PAYLOAD: u16 = 512;

pub struct DnsHandler {
    zones: Arc<ZoneSet>,
    log: EventLog,
    /// A broken server (HISP fault switch): over UDP, the records that do not fit are
    /// dropped and TC is not set.
    cut_udp_without_tc: bool,
}

impl DnsHandler {
    pub fn new(zones: Arc<ZoneSet>, log: EventLog) -> Self {
        DnsHandler {
            zones,
            log,
            cut_udp_without_tc: false,
        }
    }
}

/// The records of `answers` that fit, in order, in a UDP payload of `limit` octets (with a
/// rough allowance for the header, the question and an OPT record).
fn fitting(answers: &[hickory_proto::rr::Record], limit: u16) -> Vec<hickory_proto::rr::Record> {
    use hickory_proto::serialize::binary::BinEncodable;
    let mut budget = usize::from(limit).saturating_sub(100);
    let mut out = Vec::new();
    for r in answers {
        let size = r.to_bytes().map(|b| b.len()).unwrap_or(usize::MAX);
        if size > budget {
            break;
        }
        budget -= size;
        out.push(r.clone());
    }
    out
}

#[async_trait::async_trait]
impl RequestHandler for DnsHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let transport = match request.protocol() {
            Protocol::Udp => Transport::Udp,
            _ => Transport::Tcp,
        };
        let mut metadata = Metadata::response_from_request(&request.metadata);
        let builder = MessageResponseBuilder::from_message_request(request);
        let (name, qtype, sent) = match request.request_info() {
            Ok(info)
                if request.metadata.message_type == MessageType::Query
                    && request.metadata.op_code == OpCode::Query =>
            {
                let name = info.query.original().name().clone();
                let qtype = info.query.query_type();
                let answer = self.zones.lookup(&name, qtype);
                metadata.authoritative = answer.style.is_some();
                metadata.response_code = answer.rcode;
                let edns = request.edns.as_ref().map(|req| {
                    let mut e = Edns::new();
                    let size = match answer.style {
                        Some(ZoneStyle::Rfc) => {
                            req.max_payload().clamp(MIN_UDP_PAYLOAD, MAX_UDP_PAYLOAD)
                        }
                        _ => MIN_UDP_PAYLOAD,
                    };
                    e.set_max_payload(size);
                    e
                });
                let mut builder = builder;
                if let Some(e) = edns.as_ref() {
                    builder.edns(e);
                }
                let answers = if self.cut_udp_without_tc && transport == Transport::Udp {
                    let limit = edns
                        .as_ref()
                        .map(|e| e.max_payload())
                        .unwrap_or(MIN_UDP_PAYLOAD);
                    fitting(&answer.answers, limit)
                } else {
                    answer.answers.clone()
                };
                let response = builder.build(
                    metadata,
                    answers.iter(),
                    std::iter::empty(),
                    answer.soa.iter(),
                    std::iter::empty(),
                );
                let sent = response_handle.send_response(response).await;
                (name.to_string(), qtype.to_string(), sent)
            }
            _ => {
                // Not exactly one question, or not a standard query: say so, never panic.
                let code = if request.metadata.op_code == OpCode::Query {
                    ResponseCode::FormErr
                } else {
                    ResponseCode::NotImp
                };
                let response = builder.error_msg(&request.metadata, code);
                let sent = response_handle.send_response(response).await;
                (String::new(), String::new(), sent)
            }
        };
        let info = match sent {
            Ok(info) => info,
            Err(e) => {
                eprintln!("dns: could not send a response to {}: {e}", request.src());
                let mut m = Metadata::response_from_request(&request.metadata);
                m.response_code = ResponseCode::ServFail;
                ResponseInfo::from(hickory_proto::op::Header {
                    metadata: m,
                    counts: Default::default(),
                })
            }
        };
        self.log.record(EventKind::Dns(DnsEvent {
            client: request.src(),
            transport,
            name,
            qtype,
            rcode: rcode_name(info.response_code),
            answers: info.counts().answers,
            truncated: info.truncation,
            edns_payload: request.edns.as_ref().map(|e| e.max_payload()),
        }));
        info
    }
}

/// A running DNS server.
pub struct DnsServer {
    pub addr: SocketAddr,
    server: Server<DnsHandler>,
}

impl DnsServer {
    /// Binds UDP and TCP on `addr` (port 0: a free port that is free for both).
    pub async fn start(
        addr: SocketAddr,
        zones: Arc<ZoneSet>,
        log: EventLog,
    ) -> Result<Self, EnvError> {
        Self::start_with(addr, DnsHandler::new(zones, log)).await
    }

    /// As [`DnsServer::start`], for a server that cuts oversize UDP answers without TC
    /// (a HISP fault switch; the harness's own server never does).
    pub async fn start_cutting_udp(
        addr: SocketAddr,
        zones: Arc<ZoneSet>,
        log: EventLog,
    ) -> Result<Self, EnvError> {
        let mut handler = DnsHandler::new(zones, log);
        handler.cut_udp_without_tc = true;
        Self::start_with(addr, handler).await
    }

    async fn start_with(addr: SocketAddr, handler: DnsHandler) -> Result<Self, EnvError> {
        let (udp, tcp) = bind_pair(addr).await?;
        let actual = udp.local_addr()?;
        let mut server = Server::new(handler);
        server.register_socket(udp);
        server.register_listener(tcp, TCP_TIMEOUT, TCP_RESPONSE_BUFFER);
        Ok(DnsServer {
            addr: actual,
            server,
        })
    }

    pub async fn shutdown(mut self) {
        if let Err(e) = self.server.shutdown_gracefully().await {
            eprintln!("dns: shutdown: {e}");
        }
    }
}

async fn bind_pair(
    addr: SocketAddr,
) -> Result<(tokio::net::UdpSocket, tokio::net::TcpListener), EnvError> {
    let bind_err = |what: &str, addr, error| EnvError::Bind {
        what: what.to_string(),
        addr,
        error,
    };
    // With port 0 the UDP port the system picks may be taken for TCP: try a few.
    let attempts = if addr.port() == 0 { 20 } else { 1 };
    let mut last = None;
    for _ in 0..attempts {
        let udp = tokio::net::UdpSocket::bind(addr)
            .await
            .map_err(|e| bind_err("DNS over UDP", addr, e))?;
        let actual = udp.local_addr()?;
        match tokio::net::TcpListener::bind(actual).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) => last = Some(bind_err("DNS over TCP", actual, e)),
        }
    }
    Err(last.unwrap_or_else(|| EnvError::build("DNS", "no port free for UDP and TCP")))
}

/// The mnemonic dig prints (`NOERROR`, `NXDOMAIN`, …).
pub fn rcode_name(code: ResponseCode) -> String {
    match u16::from(code) {
        0 => "NOERROR".into(),
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        n => format!("RCODE{n}"),
    }
}
