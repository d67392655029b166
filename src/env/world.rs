//! Starting the whole mock world on real sockets: LDAP ports first (closed, tarpit and
//! directories), the HTTP server, then DNS, whose SRV and IPKIX records carry the ports that
//! were actually bound. The handle reports every address, exposes the event log and stops
//! everything on `shutdown()` (or when dropped).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::pki::ReferencePki;

use super::directory::Directory;
use super::dns::DnsServer;
use super::error::EnvError;
use super::events::EventLog;
use super::fixture::{CaseSpec, Fixture, LdapBehaviour};
use super::http::{self, PkiSite};
use super::ldap::{self, LdapRole, LdapSocket};
use super::zone::{Endpoints, ZoneSet};

/// How long `shutdown` waits for servers to finish.
const SHUTDOWN_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Default DNS address of `serve` (unprivileged).
pub const DEFAULT_DNS: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 10053);

/// Where the world listens and what it publishes.
#[derive(Clone, Debug)]
pub struct WorldConfig {
    /// DNS over UDP and TCP (port 0: a free port).
    pub dns: SocketAddr,
    /// `None`: the fixture's ports (10389…); `Some(0)`: a free port per server; `Some(n)`:
    /// every server moved by `n - fixture.ldap_base_port`. LDAP listens on `bind`.
    pub ldap_base_port: Option<u16>,
    /// The PKI HTTP server. The certificates embed port 10080; another port only serves
    /// clients that are told it (tests).
    pub http: SocketAddr,
    /// The PKI HTTPS server (trust bundles; the catalogue's 10443).
    pub https: SocketAddr,
    /// What every A record points to, and where LDAP listens.
    pub bind: IpAddr,
    /// Print every event on stdout as it happens.
    pub echo: bool,
    /// Default: the embedded fixture.
    pub fixture: Option<Fixture>,
    /// Default: `ReferencePki::load_default()`.
    pub pki: Option<Arc<ReferencePki>>,
}

impl Default for WorldConfig {
    /// The catalogue's ports on 127.0.0.1.
    fn default() -> Self {
        WorldConfig {
            dns: DEFAULT_DNS,
            ldap_base_port: None,
            http: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 10080),
            https: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 10443),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            echo: false,
            fixture: None,
            pki: None,
        }
    }
}

impl WorldConfig {
    /// Every port chosen by the system on 127.0.0.1 (for tests running side by side).
    pub fn ephemeral() -> Self {
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        WorldConfig {
            dns: SocketAddr::new(lo, 0),
            ldap_base_port: Some(0),
            http: SocketAddr::new(lo, 0),
            https: SocketAddr::new(lo, 0),
            ..Self::default()
        }
    }
}

/// One LDAP server as started.
#[derive(Clone, Debug)]
pub struct LdapEndpoint {
    pub name: String,
    pub addr: SocketAddr,
    pub behaviour: LdapBehaviour,
    pub naming_contexts: Vec<String>,
}

/// A running world.
pub struct WorldHandle {
    /// The PKI site both HTTP servers answer from (the signed trust bundle can be switched).
    pub site: Arc<http::PkiSite>,
    /// The PKI HTTPS server's address.
    pub https: SocketAddr,
    pub dns: SocketAddr,
    pub http: SocketAddr,
    /// In fixture order.
    pub ldap: Vec<LdapEndpoint>,
    pub bind: IpAddr,
    pub log: EventLog,
    pub fixture: Arc<Fixture>,
    pub pki: Arc<ReferencePki>,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    dns_server: Option<DnsServer>,
}

pub struct World;

impl World {
    pub async fn start(config: WorldConfig) -> Result<WorldHandle, EnvError> {
        let fixture = match config.fixture {
            Some(f) => f,
            None => Fixture::embedded()?,
        };
        let pki = match config.pki {
            Some(p) => p,
            None => Arc::new(
                tokio::task::spawn_blocking(ReferencePki::load_default)
                    .await
                    .map_err(|e| EnvError::build("test PKI", e))??,
            ),
        };
        fixture.check_against(&pki)?;
        let log = EventLog::new(config.echo);
        let stop = CancellationToken::new();
        let mut tasks = Vec::new();

        // LDAP: bind every port first so that DNS can publish them.
        let mut sockets = Vec::new();
        let mut ldap_ports = BTreeMap::new();
        let mut endpoints = Vec::new();
        for spec in &fixture.ldap {
            let port = match config.ldap_base_port {
                None => spec.port,
                Some(0) => 0,
                Some(base) => base
                    .checked_add(spec.port - fixture.ldap_base_port)
                    .ok_or_else(|| {
                        EnvError::fixture(format!(
                            "--ldap-base-port {base} puts {} past port 65535",
                            spec.name
                        ))
                    })?,
            };
            let socket = LdapSocket::bind(
                SocketAddr::new(config.bind, port),
                spec.behaviour,
                &spec.name,
            )?;
            let addr = socket.local_addr()?;
            ldap_ports.insert(spec.name.clone(), addr.port());
            let role = match spec.behaviour {
                LdapBehaviour::Directory => {
                    LdapRole::Directory(Arc::new(Directory::build(spec, &pki)?))
                }
                LdapBehaviour::Tarpit => LdapRole::Tarpit,
                LdapBehaviour::Closed => LdapRole::Closed,
            };
            endpoints.push(LdapEndpoint {
                name: spec.name.clone(),
                addr,
                behaviour: spec.behaviour,
                naming_contexts: spec.contexts.iter().map(|c| c.dn.clone()).collect(),
            });
            sockets.push((spec.name.clone(), socket, role));
        }

        let http_listener = tokio::net::TcpListener::bind(config.http)
            .await
            .map_err(|error| EnvError::Bind {
                what: "PKI HTTP server".into(),
                addr: config.http,
                error,
            })?;
        let http_addr = http_listener.local_addr()?;
        let https_listener =
            tokio::net::TcpListener::bind(config.https)
                .await
                .map_err(|error| EnvError::Bind {
                    what: "PKI HTTPS server".into(),
                    addr: config.https,
                    error,
                })?;
        let https_addr = https_listener.local_addr()?;
        let acceptor = http::tls_acceptor(&pki)?;
        let site = Arc::new(PkiSite::build(&fixture, pki.clone())?);

        let zones = Arc::new(ZoneSet::build(
            &fixture,
            &pki,
            &Endpoints {
                bind: config.bind,
                ldap_ports,
                http_port: http_addr.port(),
            },
        )?);
        let dns_server = DnsServer::start(config.dns, zones, log.clone()).await?;

        for (name, socket, role) in sockets {
            tasks.push(tokio::spawn(ldap::serve(
                name,
                socket,
                role,
                log.clone(),
                stop.clone(),
            )));
        }
        tasks.push(tokio::spawn(http::serve(
            http_listener,
            site.clone(),
            log.clone(),
            stop.clone(),
            None,
        )));
        tasks.push(tokio::spawn(http::serve(
            https_listener,
            site.clone(),
            log.clone(),
            stop.clone(),
            Some(acceptor),
        )));

        Ok(WorldHandle {
            site,
            dns: dns_server.addr,
            http: http_addr,
            https: https_addr,
            ldap: endpoints,
            bind: config.bind,
            log,
            fixture: Arc::new(fixture),
            pki,
            stop,
            tasks,
            dns_server: Some(dns_server),
        })
    }
}

impl WorldHandle {
    pub fn ldap_addr(&self, name: &str) -> Option<SocketAddr> {
        self.ldap.iter().find(|l| l.name == name).map(|l| l.addr)
    }

    pub fn cases(&self) -> &[CaseSpec] {
        &self.fixture.cases
    }

    /// One line per endpoint, as `serve` prints them.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "DNS   {} (udp+tcp), A records -> {}",
            self.dns, self.bind
        );
        let _ = writeln!(s, "HTTP  http://{}/ (pki.direct.test)", self.http);
        let _ = writeln!(
            s,
            "HTTPS https://{}/ (pki.direct.test, trust bundles)",
            self.https
        );
        for l in &self.ldap {
            let what = match l.behaviour {
                LdapBehaviour::Directory => {
                    format!("naming contexts {}", l.naming_contexts.join(", "))
                }
                LdapBehaviour::Closed => "closed port (connections refused)".to_string(),
                LdapBehaviour::Tarpit => "tarpit (accepts, never answers)".to_string(),
            };
            let _ = writeln!(s, "LDAP  {:<7} ldap://{}  {what}", l.name, l.addr);
        }
        s
    }

    /// Stops every server and waits (a bounded time) for their tasks.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        let dns = self.dns_server.take();
        let tasks: Vec<_> = self.tasks.drain(..).collect();
        let all = async move {
            if let Some(dns) = dns {
                dns.shutdown().await;
            }
            for t in tasks {
                let _ = t.await;
            }
        };
        if tokio::time::timeout(SHUTDOWN_LIMIT, all).await.is_err() {
            eprintln!("env: servers still busy after {SHUTDOWN_LIMIT:?}; leaving them");
        }
    }
}

impl Drop for WorldHandle {
    fn drop(&mut self) {
        // A forgotten handle must not leave servers running.
        self.stop.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ephemeral_world_reports_distinct_ports_and_stops() {
        let w = World::start(WorldConfig::ephemeral()).await.expect("start");
        let mut ports: Vec<u16> = w.ldap.iter().map(|l| l.addr.port()).collect();
        ports.push(w.http.port());
        assert!(ports.iter().all(|p| *p != 0));
        let n = ports.len();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), n, "every server on its own port");
        assert_ne!(w.dns.port(), 0);
        assert!(w.describe().contains("tarpit"));
        assert_eq!(w.cases().len(), 42);
        let (dns, l1) = (w.dns, w.ldap_addr("L1").expect("L1"));
        w.shutdown().await;
        // the ports are free again
        assert!(tokio::net::TcpListener::bind(l1).await.is_ok());
        assert!(tokio::net::UdpSocket::bind(dns).await.is_ok());
    }
}
