//! Outbound: certificates for each recipient (a [`CertificateSource`]), trust against the
//! sender's outgoing anchors, seal (wrap, sign, encrypt to exactly the chosen certificates),
//! route by MX through the configured resolver (or static overrides), SMTP with bounded
//! retries, timely-and-reliable tracking, and one failure DSN to the sender's edge mailbox.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use time::OffsetDateTime;
use tokio::sync::watch;
use x509_cert::Certificate;

use crate::audit::{AuditEvent, EventKind};
use crate::mdn::{
    DsnRecipientSpec, DsnSpec, Event as TrackerEvent, OriginalMessage, STATUS_BAD_MAILBOX,
    STATUS_SECURITY, STATUS_TIMEOUT, StatusCode, build_dsn, new_message_id,
};
use crate::smime::{ContentCipher, DigestAlgorithm, SealOptions, SmimeError};
use crate::trust::Binding;

use super::config::{LocalAddress, Settings};
use super::notify::can_encrypt_to;
use super::smtp_client::{self, ClientOptions};
use super::smtp_server::{Envelope, Reply};
use super::{Core, Fault, HispEvent, lock};

/// A boxed future, so that the trait stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where recipients' certificates come from: the static configuration now, the discovery
/// client (DNS CERT, LDAP) when it plugs in.
pub trait CertificateSource: Send + Sync {
    /// Candidate certificates for `address` (address-bound and domain-bound alike).
    fn certificates<'a>(&'a self, address: &'a str) -> BoxFuture<'a, Vec<Certificate>>;

    /// As `certificates`, saying whether the source already chose and validated them
    /// (binding, usage, path, revocation), as the discovery client does; the HISP then
    /// encrypts to them as they are. Default: candidates the HISP must judge itself.
    fn find<'a>(&'a self, address: &'a str) -> BoxFuture<'a, Found> {
        Box::pin(async move {
            Found {
                certificates: self.certificates(address).await,
                validated: false,
            }
        })
    }
}

/// What a source found for one address.
#[derive(Clone, Debug, Default)]
pub struct Found {
    pub certificates: Vec<Certificate>,
    pub validated: bool,
}

/// Certificates from the configuration's `[certificates]` table, by address then domain.
#[derive(Clone, Debug, Default)]
pub struct StaticCertificates(BTreeMap<String, Vec<Certificate>>);

impl StaticCertificates {
    pub fn new(map: BTreeMap<String, Vec<Certificate>>) -> Self {
        StaticCertificates(
            map.into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
        )
    }

    pub fn from_settings(s: &Settings) -> Self {
        Self::new(s.certificates.clone())
    }
}

impl CertificateSource for StaticCertificates {
    fn certificates<'a>(&'a self, address: &'a str) -> BoxFuture<'a, Vec<Certificate>> {
        Box::pin(async move {
            let a = address.trim().to_ascii_lowercase();
            let mut out = self.0.get(&a).cloned().unwrap_or_default();
            if let Some((_, domain)) = a.rsplit_once('@')
                && let Some(more) = self.0.get(domain)
            {
                out.extend(more.iter().cloned());
            }
            out
        })
    }
}

/// The discovery client as a certificate source: the valid certificates of the winning step
/// (already validated), or, with `encrypt-to-all-found`, every candidate it parsed.
pub struct Discovered {
    pub client: crate::discovery::Discoverer,
    pub all_found: bool,
}

impl CertificateSource for Discovered {
    fn certificates<'a>(&'a self, address: &'a str) -> BoxFuture<'a, Vec<Certificate>> {
        Box::pin(async move { self.find(address).await.certificates })
    }

    fn find<'a>(&'a self, address: &'a str) -> BoxFuture<'a, Found> {
        Box::pin(async move {
            let r = self.client.discover(address).await;
            if self.all_found {
                Found {
                    certificates: r.found_certificates(),
                    validated: true,
                }
            } else {
                Found {
                    certificates: r.certificates,
                    validated: true,
                }
            }
        })
    }
}

/// The configured table first; when it knows nothing for an address, the next source.
pub struct Layered(pub Vec<Arc<dyn CertificateSource>>);

impl CertificateSource for Layered {
    fn certificates<'a>(&'a self, address: &'a str) -> BoxFuture<'a, Vec<Certificate>> {
        Box::pin(async move { self.find(address).await.certificates })
    }

    fn find<'a>(&'a self, address: &'a str) -> BoxFuture<'a, Found> {
        Box::pin(async move {
            for s in &self.0 {
                let found = s.find(address).await;
                if !found.certificates.is_empty() {
                    return found;
                }
            }
            Found::default()
        })
    }
}

/// The discovery client for these settings (None: discovery off), with the HISP's fault
/// switches passed on as the client's knobs.
pub fn discoverer(settings: &Settings) -> Option<Result<Discovered, String>> {
    let hosts = settings.discovery.as_ref()?;
    let dns = settings.dns_server?;
    let mut anchors: Vec<crate::trust::TrustAnchor> = Vec::new();
    for a in settings.addresses.iter().flat_map(|a| &a.outgoing_anchors) {
        if !anchors.contains(a) {
            anchors.push(a.clone());
        }
    }
    let mut config = crate::discovery::DiscoveryConfig::new(dns, anchors);
    config.http_hosts = hosts.clone();
    let f = &settings.faults;
    config.faults = crate::discovery::FaultKnobs {
        domain_bound_before_address_bound: f.on(Fault::DomainBoundBeforeAddressBound),
        fallback_to_domain_after_invalid: f.on(Fault::FallbackToDomainAfterInvalid),
        no_tcp_retry: f.on(Fault::NoTcpRetry),
        ignore_srv_priority: f.on(Fault::IgnoreSrvPriority),
        no_ldap_failover: f.on(Fault::NoLdapFailover),
        ignore_srv_weight: f.on(Fault::IgnoreSrvWeight),
        ignore_crl: f.on(Fault::IgnoreRecipientCrl),
        no_aia_fetch: f.on(Fault::NoAiaFetch),
        local_part_up_to_dot: f.on(Fault::LocalPartUpToDot),
        case_sensitive_binding: f.on(Fault::CaseSensitiveBinding),
        no_cname: f.on(Fault::NoCname),
        refuse_dual_san: f.on(Fault::RefuseDualSan),
        nxdomain_fails: f.on(Fault::NxdomainStopsDiscovery),
        first_naming_context_only: f.on(Fault::FirstNamingContextOnly),
    };
    config.follow_ipkix = !f.on(Fault::NoIpkix);
    Some(
        crate::discovery::Discoverer::new(config)
            .map(|client| Discovered {
                client,
                all_found: f.on(Fault::EncryptToAllFound),
            })
            .map_err(|e| e.to_string()),
    )
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("no route to {domain}: {reason}")]
    NoRoute { domain: String, reason: String },
    #[error("delivery to {domain} failed after {attempts} attempt(s): {last}")]
    Failed {
        domain: String,
        attempts: u32,
        last: String,
        /// The enhanced status of a permanent refusal, for the DSN.
        status: Option<(u8, u16, u16)>,
    },
}

/// Next hops by MX lookup in the configured DNS server, or static overrides.
pub struct Router {
    /// Overrides; changeable at run time (`HispHandle::set_route`).
    statics: std::sync::RwLock<BTreeMap<String, SocketAddr>>,
    resolver: Option<TokioResolver>,
    smtp_port: u16,
}

impl Router {
    pub fn new(settings: &Settings) -> Self {
        let resolver = settings.dns_server.and_then(|server| {
            let mut udp = ConnectionConfig::udp();
            udp.port = server.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = server.port();
            let mut ns = NameServerConfig::udp_and_tcp(server.ip());
            ns.connections = vec![udp, tcp];
            let mut builder = hickory_resolver::Resolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![ns]),
                TokioRuntimeProvider::default(),
            );
            let opts = builder.options_mut();
            opts.timeout = Duration::from_secs(settings.timeouts.client_secs.clamp(1, 10));
            opts.attempts = 2;
            builder.build().ok()
        });
        Router {
            statics: std::sync::RwLock::new(settings.static_routes.clone()),
            resolver,
            smtp_port: settings.smtp_port,
        }
    }

    /// Sets (or replaces) the static next hop of a domain or host.
    pub fn set_route(&self, domain: &str, addr: SocketAddr) {
        self.statics
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(domain.trim().to_ascii_lowercase(), addr);
    }

    fn static_route(&self, name: &str) -> Option<SocketAddr> {
        self.statics
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&name.to_ascii_lowercase())
            .copied()
    }

    /// The first IPv4 address of `host` in the configured DNS server (trust-bundle fetches).
    pub async fn host_address(&self, host: &str) -> Option<std::net::IpAddr> {
        let resolver = self.resolver.as_ref()?;
        let fqdn = format!("{}.", host.trim_end_matches('.'));
        let l = resolver.ipv4_lookup(fqdn.as_str()).await.ok()?;
        l.answers().iter().find_map(|r| match &r.data {
            RData::A(a) => Some(std::net::IpAddr::V4(a.0)),
            _ => None,
        })
    }

    /// Next hops for `domain`, most preferred first, each with the name its TLS
    /// certificate should carry.
    pub async fn route(&self, domain: &str) -> Result<Vec<(SocketAddr, String)>, DeliveryError> {
        let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        if let Some(a) = self.static_route(&d) {
            return Ok(vec![(a, d)]);
        }
        let no_route = |reason: String| DeliveryError::NoRoute {
            domain: d.clone(),
            reason,
        };
        let Some(resolver) = &self.resolver else {
            return Err(no_route("no static route and no resolver.server".into()));
        };
        let fqdn = format!("{d}.");
        let mut exchanges: Vec<(u16, String)> = match resolver.mx_lookup(fqdn.as_str()).await {
            Ok(l) => l
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::MX(mx) => Some((
                        mx.preference,
                        mx.exchange.to_ascii().trim_end_matches('.').to_string(),
                    )),
                    _ => None,
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        exchanges.sort();
        if exchanges.is_empty() {
            // RFC 5321 §5.1: no MX, the domain itself is the implicit MX.
            exchanges.push((0, d.clone()));
        }
        let mut out = Vec::new();
        for (_, host) in exchanges {
            if let Some(a) = self.static_route(&host) {
                out.push((a, host));
                continue;
            }
            if let Ok(l) = resolver.ipv4_lookup(format!("{host}.").as_str()).await {
                for r in l.answers() {
                    if let RData::A(a) = &r.data {
                        out.push((
                            SocketAddr::new(std::net::IpAddr::V4(a.0), self.smtp_port),
                            host.clone(),
                        ));
                    }
                }
            }
        }
        if out.is_empty() {
            return Err(no_route("no MX or A records".into()));
        }
        Ok(out)
    }
}

/// What the tracker and the DSN need about a message this HISP sent.
#[derive(Clone, Debug)]
pub struct SentRecord {
    pub original: OriginalMessage,
    /// Lower-cased recipient → (status, diagnostic) of a failure found here.
    pub failures: HashMap<String, (StatusCode, String)>,
}

fn domain_of(address: &str) -> String {
    address
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Signs as `sender` and encrypts to `recipients`, with the fault switches' algorithms.
pub async fn seal_from(
    core: &Arc<Core>,
    sender: &LocalAddress,
    message: &[u8],
    recipients: &[Certificate],
) -> Result<Vec<u8>, SmimeError> {
    let mut options = SealOptions::default();
    options.sign.chain = sender.signing.chain.clone();
    options.sign.digest = if core.faults().on(Fault::SignSha1) {
        DigestAlgorithm::Sha1
    } else {
        DigestAlgorithm::Sha256
    };
    if core.faults().on(Fault::Encrypt3des) {
        options.encrypt.cipher = ContentCipher::DesEde3Cbc;
    }
    options.wrap = !core.faults().on(Fault::NoWrap);
    let mut cred = sender.signing.clone();
    if core.faults().on(Fault::SelfSignedSigner) {
        match crate::pki::self_signed_copy(&cred.certificate, &cred.key) {
            Ok(c) => {
                cred.certificate = c;
                options.sign.chain.clear();
            }
            Err(e) => eprintln!("hisp {}: self-signed-signer: {e}", core.settings.hostname),
        }
    }
    let message = message.to_vec();
    let recipients = recipients.to_vec();
    let long_lines = core.faults().on(Fault::LongBase64Lines);
    tokio::task::spawn_blocking(move || {
        crate::smime::seal(
            &message,
            &cred.certificate,
            &cred.key,
            &recipients,
            &options,
        )
        .map(|s| if long_lines { long_base64_lines(&s) } else { s })
    })
    .await
    .unwrap_or_else(|e| Err(SmimeError::Mime(format!("seal task failed: {e}"))))
}

/// The `long-base64-lines` switch: the envelope's base64 rewrapped at 900 columns.
fn long_base64_lines(sealed: &[u8]) -> Vec<u8> {
    let (head, body) = crate::smime::entity::split_header_body(sealed);
    let flat: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let mut out = head.to_vec();
    out.extend_from_slice(b"\r\n");
    for line in flat.chunks(900) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The `drop-attachments` switch: the parts of a multipart message that are attachments
/// are left out (the preamble, the other parts and the closing delimiter stay).
fn drop_attachments(message: Vec<u8>) -> Vec<u8> {
    let Some(ct) = crate::smime::entity::header_text(&message, "Content-Type") else {
        return message;
    };
    let Some(boundary) = ct.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("boundary")).then(|| v.trim().trim_matches('"').to_string())
    }) else {
        return message;
    };
    let text = String::from_utf8_lossy(&message).to_string();
    let delimiter = format!("\r\n--{boundary}");
    let pieces: Vec<&str> = text.split(&delimiter).collect();
    let mut out = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        let is_part = i > 0 && !piece.starts_with("--");
        let attachment = is_part && {
            let (part_head, _) = crate::smime::entity::split_header_body(piece.as_bytes());
            String::from_utf8_lossy(part_head)
                .to_ascii_lowercase()
                .contains("content-disposition: attachment")
        };
        if attachment {
            continue;
        }
        if i > 0 {
            out.push_str(&delimiter);
        }
        out.push_str(piece);
    }
    out.into_bytes()
}

/// Delivers `data` to `recipients` (grouped by domain), with retries. Returns the hops used.
pub async fn deliver(
    core: &Arc<Core>,
    from: &str,
    recipients: &[String],
    data: &[u8],
) -> Result<Vec<SocketAddr>, DeliveryError> {
    let mut by_domain: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in recipients {
        by_domain.entry(domain_of(r)).or_default().push(r.clone());
    }
    let mut hops = Vec::new();
    for (domain, rcpts) in by_domain {
        hops.push(deliver_domain(core, from, &domain, &rcpts, data).await?);
    }
    Ok(hops)
}

async fn deliver_domain(
    core: &Arc<Core>,
    from: &str,
    domain: &str,
    rcpts: &[String],
    data: &[u8],
) -> Result<SocketAddr, DeliveryError> {
    let t = &core.settings.timeouts;
    let options = ClientOptions {
        helo: core.settings.hostname.clone(),
        timeout: Duration::from_secs(t.client_secs),
        tls: None,
    };
    let mut last = String::from("not attempted");
    for attempt in 1..=t.delivery_attempts {
        let hops = core.router.route(domain).await?;
        for (addr, name) in hops {
            let mut opts = options.clone();
            opts.tls = Some((core.connector.clone(), name));
            let mut result = smtp_client::send(addr, &opts, from, rcpts, data).await;
            if let Err(e) = &result
                && e.is_tls_failure()
            {
                // Opportunistic TLS: a failed handshake falls back to plain once.
                result = smtp_client::send(addr, &options, from, rcpts, data).await;
            }
            match result {
                Ok(_) => {
                    core.event(HispEvent::Sent {
                        from: from.to_string(),
                        to: rcpts.to_vec(),
                        message_id: crate::smime::entity::header_text(data, "Message-ID"),
                        host: addr,
                    });
                    return Ok(addr);
                }
                Err(e) if e.is_permanent() => {
                    return Err(DeliveryError::Failed {
                        domain: domain.to_string(),
                        attempts: attempt,
                        last: e.to_string(),
                        status: e.enhanced_status(),
                    });
                }
                Err(e) => last = e.to_string(),
            }
        }
        if attempt < t.delivery_attempts {
            tokio::time::sleep(Duration::from_millis(t.retry_delay_ms)).await;
        }
    }
    Err(DeliveryError::Failed {
        domain: domain.to_string(),
        attempts: t.delivery_attempts,
        last,
        status: None,
    })
}

/// Adds a Message-ID when the edge did not (EDGE-11).
fn ensure_message_id(core: &Core, message: Vec<u8>) -> (Vec<u8>, String) {
    if let Some(id) = crate::smime::entity::header_text(&message, "Message-ID")
        && let Some(n) = crate::mdn::normalise_message_id(&id)
    {
        return (message, n);
    }
    let id = new_message_id(&core.settings.hostname);
    let mut out = format!("Message-ID: {id}\r\n").into_bytes();
    out.extend_from_slice(&message);
    (out, id)
}

/// A message submitted at the edge: answered at once, sent on its own task.
pub async fn submit(core: &Arc<Core>, env: Envelope) -> Reply {
    let (message, id) = ensure_message_id(core, env.data.clone());
    let Some(sender) = core.settings.address(&env.mail_from).cloned() else {
        return Reply::new(553, "5.7.1 Sender is not a local address");
    };
    let original = match OriginalMessage::read(&message) {
        Ok(o) => o,
        Err(e) => return Reply::new(554, format!("5.6.0 {e}")),
    };
    // The fault switch's defect: a request header that does not parse stops the message
    // (MDN-11 wants it sent, with no timely-and-reliable tracking assumed).
    if core.faults().on(Fault::RefuseMalformedRequest)
        && crate::smime::entity::header_text(&message, "Disposition-Notification-Options").is_some()
        && !original.requested_dispatched
    {
        return Reply::new(554, "5.6.0 malformed Disposition-Notification-Options");
    }
    let core2 = core.clone();
    let recipients = env.recipients.clone();
    tokio::spawn(async move {
        send_message(&core2, &sender, original, recipients, message).await;
    });
    Reply::new(250, format!("2.0.0 Queued as {id}"))
}

/// How `choose` says that no certificate at all was found (not: found and all invalid).
const NO_CERTIFICATE: &str = "no certificate found";

/// Chooses the certificates to encrypt to for one recipient (DISC-15, DISC-16, TRUST-02):
/// address-bound certificates first; the valid ones (usable for encryption and chaining to
/// an outgoing anchor) of the first level that has any are chosen. When address-bound
/// certificates exist and none is valid, there is no fallback to domain-bound ones.
async fn choose(
    core: &Arc<Core>,
    sender: &LocalAddress,
    recipient: &str,
) -> Result<Vec<Certificate>, String> {
    let faults = core.faults();
    let Found {
        certificates: found,
        validated,
    } = core.certificates.find(recipient).await;
    if found.is_empty() {
        return Err(format!("{NO_CERTIFICATE} for {recipient}"));
    }
    // A source that validated already (the discovery client) is taken at its word; its
    // AIA-fetched intermediates are not here to validate again.
    if validated || faults.on(Fault::EncryptToAllFound) {
        return Ok(found);
    }
    let (mut address, mut domain) = (Vec::new(), Vec::new());
    for c in found {
        match crate::trust::binding(&c, recipient) {
            Binding::Address => address.push(c),
            Binding::Domain => domain.push(c),
            _ => {}
        }
    }
    let mut levels = vec![address, domain];
    if faults.on(Fault::DomainBoundBeforeAddressBound) {
        levels.reverse();
    }
    // The sender's anchors, and those its trust bundles delivered (TRUST-12).
    let mut anchors = sender.outgoing_anchors.clone();
    for a in core.bundles.anchors() {
        if !anchors.contains(&a) {
            anchors.push(a);
        }
    }
    for level in levels {
        if level.is_empty() {
            continue;
        }
        let mut valid = Vec::new();
        for c in level.into_iter().filter(can_encrypt_to) {
            let report = core
                .paths
                .validate(
                    c.clone(),
                    Vec::new(),
                    anchors.clone(),
                    core.settings.crls.clone(),
                    OffsetDateTime::now_utc(),
                )
                .await;
            if report.trusted() {
                valid.push(c);
            }
        }
        if !valid.is_empty() {
            return Ok(valid);
        }
        if !faults.on(Fault::FallbackToDomainAfterInvalid) {
            break;
        }
    }
    Err(format!(
        "no certificate for {recipient} is bound, usable for encryption and trusted (TRUST-02, DISC-16)"
    ))
}

/// The message as the `drop-attachments`, `rewrite-from`, `drop-message-id` and
/// `drop-notification-request` switches break it.
fn broken_by_faults(core: &Core, message: Vec<u8>) -> Vec<u8> {
    let f = core.faults();
    let message = if f.on(Fault::DropAttachments) {
        drop_attachments(message)
    } else {
        message
    };
    let drop_request = f.on(Fault::DropNotificationRequest);
    if !f.on(Fault::RewriteFrom) && !f.on(Fault::DropMessageId) && !drop_request {
        return message;
    }
    let (head, body) = crate::smime::entity::split_header_body(&message);
    let head = String::from_utf8_lossy(head).to_string();
    let mut out = String::new();
    let mut skipping = false;
    for line in head.split_inclusive('\n') {
        let lower = line.to_ascii_lowercase();
        if skipping && (line.starts_with(' ') || line.starts_with('\t')) {
            continue;
        }
        skipping = false;
        if (f.on(Fault::DropMessageId) && lower.starts_with("message-id:"))
            || (drop_request && lower.starts_with("disposition-notification-"))
        {
            skipping = true;
        } else if f.on(Fault::RewriteFrom) && lower.starts_with("from:") {
            out.push_str(&format!("From: postmaster@{}\r\n", core.settings.hostname));
            skipping = true;
        } else {
            out.push_str(line);
        }
    }
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(body);
    bytes
}

/// The whole outbound path for one submitted message.
pub async fn send_message(
    core: &Arc<Core>,
    sender: &LocalAddress,
    original: OriginalMessage,
    recipients: Vec<String>,
    message: Vec<u8>,
) {
    let id = original.message_id.clone();
    let now = OffsetDateTime::now_utc();
    lock(&core.sent).insert(
        id.clone(),
        SentRecord {
            original: original.clone(),
            failures: HashMap::new(),
        },
    );
    // An MDN the edge user sends (a read receipt) is never answered (MDN-04): nothing to track.
    if !original.is_notification
        && let Err(e) =
            lock(&core.tracker).send(&id, &recipients, original.requested_dispatched, now)
    {
        eprintln!("hisp {}: tracker: {e}", core.settings.hostname);
    }
    let mdn_in_clear = original.is_notification && core.faults().on(Fault::EdgeMdnInClear);
    let message = broken_by_faults(core, message);
    // MSG-06: 8-bit parts re-encoded before signing.
    let message = if core.faults().on(Fault::No7bitConversion) {
        message
    } else {
        super::transfer::to_seven_bit(&message)
    };
    let mut by_domain: BTreeMap<String, (Vec<String>, Vec<Certificate>)> = BTreeMap::new();
    let mut failed: Vec<(String, StatusCode, String)> = Vec::new();
    let mut in_clear: Vec<String> = Vec::new();
    for r in &recipients {
        if mdn_in_clear {
            in_clear.push(r.clone());
            continue;
        }
        match choose(core, sender, r).await {
            Ok(certs) => {
                let e = by_domain.entry(domain_of(r)).or_default();
                e.0.push(r.clone());
                e.1.extend(certs);
            }
            Err(reason)
                if core.faults().on(Fault::SendInClearWithoutCertificate)
                    && reason.starts_with(NO_CERTIFICATE) =>
            {
                in_clear.push(r.clone());
            }
            Err(reason) => failed.push((r.clone(), STATUS_SECURITY, reason)),
        }
    }
    // The fault switch's defect: what nobody can decrypt goes out as it came in.
    for r in in_clear {
        if let Err(e) = deliver(core, &sender.address, std::slice::from_ref(&r), &message).await {
            failed.push((r, STATUS_TIMEOUT, e.to_string()));
        }
    }
    for (_, (rcpts, certs)) in by_domain {
        let sealed = match seal_from(core, sender, &message, &certs).await {
            Ok(s) => s,
            Err(e) => {
                for r in rcpts {
                    failed.push((r, STATUS_SECURITY, format!("cannot seal: {e}")));
                }
                continue;
            }
        };
        match deliver(core, &sender.address, &rcpts, &sealed).await {
            Ok(_) => core.audit(
                core.with_content(
                    AuditEvent::new(
                        EventKind::OutgoingSent,
                        OffsetDateTime::now_utc(),
                        core.principal(),
                    )
                    .message_id(id.clone())
                    .from(sender.address.clone())
                    .to(rcpts.iter().cloned())
                    .outcome("sent"),
                    &message,
                ),
            ),
            Err(e) => {
                // The remote's own enhanced code when it refused for good (550 5.1.1 is a
                // bad mailbox, not a timeout).
                let status = match &e {
                    DeliveryError::NoRoute { .. } => STATUS_BAD_MAILBOX,
                    DeliveryError::Failed {
                        status: Some((c, s, d)),
                        ..
                    } => StatusCode::new(*c, *s, *d),
                    _ => STATUS_TIMEOUT,
                };
                for r in rcpts {
                    failed.push((r, status, e.to_string()));
                }
            }
        }
    }
    if failed.is_empty() {
        return;
    }
    core.event(HispEvent::DeliveryFailed {
        recipients: failed.iter().map(|f| f.0.clone()).collect(),
        reason: failed
            .iter()
            .map(|f| f.2.clone())
            .collect::<Vec<_>>()
            .join("; "),
    });
    let mut events = Vec::new();
    for (r, status, reason) in &failed {
        core.audit(
            AuditEvent::new(
                EventKind::OutgoingRecipientRejected,
                OffsetDateTime::now_utc(),
                core.principal(),
            )
            .message_id(id.clone())
            .from(sender.address.clone())
            .to([r.clone()])
            .outcome("failed")
            .reason(reason.clone()),
        );
        if let Some(rec) = lock(&core.sent).get_mut(&id) {
            rec.failures
                .insert(r.to_ascii_lowercase(), (*status, reason.clone()));
        }
        events.extend(lock(&core.tracker).on_delivery_failure(
            &id,
            r,
            reason,
            OffsetDateTime::now_utc(),
        ));
    }
    handle_tracker_events(core, events);
}

/// Acts on what the tracker says: audit settlements, send the failure DSNs it asks for.
pub fn handle_tracker_events(core: &Arc<Core>, events: Vec<TrackerEvent>) {
    let now = OffsetDateTime::now_utc();
    for e in events {
        if let Some(a) = AuditEvent::tracker_event(&e, now, core.principal()) {
            core.audit(a);
        }
        match e {
            TrackerEvent::Settled {
                message_id,
                recipient,
                outcome,
            } => core.event(HispEvent::Settled {
                message_id,
                recipient,
                outcome: format!("{outcome:?}"),
            }),
            TrackerEvent::SendFailureDsn {
                message_id,
                recipients,
            } if !core.faults().on(Fault::NoTimeoutDsn) => {
                failure_dsn(core, &message_id, &recipients);
            }
            _ => {}
        }
    }
}

/// Writes one failure DSN into the sender's edge mailbox.
fn failure_dsn(core: &Arc<Core>, message_id: &str, recipients: &[String]) {
    let Some(rec) = lock(&core.sent).get(message_id).cloned() else {
        return;
    };
    let Some(sender) = rec.original.from.clone() else {
        return;
    };
    let mut listed = recipients.to_vec();
    if core.faults().on(Fault::DsnListsAllRecipients) {
        // The fault switch's defect: the delivered recipients named as failed too (MDN-17).
        for r in ["To", "Cc"]
            .iter()
            .filter_map(|h| crate::smime::entity::header_text(&rec.original.header, h))
            .flat_map(|v| super::inbound::address_list(&v))
        {
            if !listed.iter().any(|l| l.eq_ignore_ascii_case(&r)) {
                listed.push(r);
            }
        }
    }
    let specs = listed
        .iter()
        .map(|r| {
            let (status, diag) = rec
                .failures
                .get(&r.to_ascii_lowercase())
                .cloned()
                .unwrap_or((STATUS_TIMEOUT, "no notification before the deadline".into()));
            DsnRecipientSpec {
                final_recipient: r.clone(),
                status,
                diagnostic: Some(diag),
            }
        })
        .collect();
    let now = OffsetDateTime::now_utc();
    let host = core.settings.hostname.clone();
    let dsn = DsnSpec::failure(&rec.original, &host, specs, &new_message_id(&host), now)
        .and_then(|s| build_dsn(&s))
        .map(|bytes| {
            if core.faults().on(Fault::DsnTransientStatus) {
                // The fault switch's defect: a permanent failure written as transient.
                String::from_utf8_lossy(&bytes)
                    .replace("\r\nStatus: 5.", "\r\nStatus: 4.")
                    .into_bytes()
            } else {
                bytes
            }
        });
    match dsn {
        Ok(bytes) => match core.maildir.deliver(&sender, &bytes) {
            Ok(_) => {
                core.audit(
                    AuditEvent::new(EventKind::DsnSent, now, core.principal())
                        .original_message_id(message_id.to_string())
                        .to([sender.clone()])
                        .outcome(recipients.join(", ")),
                );
                core.event(HispEvent::DsnSent {
                    to: sender,
                    recipients: recipients.to_vec(),
                });
            }
            Err(e) => eprintln!("hisp {host}: DSN to {sender}: {e}"),
        },
        Err(e) => eprintln!("hisp {host}: DSN: {e}"),
    }
}

/// The tracker's clock: deadlines become timeout DSNs.
pub async fn run_ticks(core: Arc<Core>, mut stop: watch::Receiver<bool>) {
    let every = Duration::from_millis(core.settings.timeouts.tick_ms.max(10));
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tokio::time::sleep(every) => {
                let events = lock(&core.tracker).on_tick(OffsetDateTime::now_utc());
                handle_tracker_events(&core, events);
            }
        }
    }
}
