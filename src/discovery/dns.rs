//! DNS through hickory-resolver pointed at one configured server (no system resolver): CERT,
//! SRV and A lookups, each recorded as a [`NetworkStep`]. UDP first and TCP after a truncated
//! answer (DISC-05) is hickory's own behaviour when the server has both transports.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, RecordType};

use super::config::Timeouts;
use super::result::{NetworkStep, StepTarget};
use super::srv::SrvTarget;

#[derive(Debug, thiserror::Error)]
#[error("DNS resolver could not be built: {0}")]
pub struct ResolverError(String);

/// One CERT record's content.
#[derive(Clone, Debug)]
pub struct CertRecord {
    pub cert_type: u16,
    pub data: Vec<u8>,
}

/// What a lookup gave: records, "none" (NXDOMAIN or NODATA, DISC-07), or an error.
pub enum Answer<T> {
    Records(Vec<T>),
    None,
    Failed,
}

#[derive(Clone)]
pub struct Dns {
    resolver: TokioResolver,
    server: SocketAddr,
    /// Fault knobs: keep only records owned by the name asked (no CNAME following), and
    /// take NXDOMAIN as an error.
    no_cname: bool,
    nxdomain_fails: bool,
}

impl Dns {
    pub fn new(
        server: SocketAddr,
        timeouts: &Timeouts,
        udp_only: bool,
    ) -> Result<Self, ResolverError> {
        let mut udp = ConnectionConfig::udp();
        udp.port = server.port();
        let mut connections = vec![udp];
        if !udp_only {
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = server.port();
            connections.push(tcp);
        }
        let mut ns = NameServerConfig::udp_and_tcp(server.ip());
        ns.connections = connections;
        let mut builder = hickory_resolver::Resolver::builder_with_config(
            ResolverConfig::from_name_servers(vec![ns]),
            TokioRuntimeProvider::default(),
        );
        let opts = builder.options_mut();
        opts.timeout = timeouts.dns;
        opts.attempts = timeouts.dns_attempts.max(1);
        opts.ndots = 0;
        // Evidence per discovery: no answers remembered from an earlier run.
        opts.cache_size = 0;
        opts.preserve_intermediates = true;
        let resolver = builder.build().map_err(|e| ResolverError(e.to_string()))?;
        Ok(Dns {
            resolver,
            server,
            no_cname: false,
            nxdomain_fails: false,
        })
    }

    /// Turns on the `no-cname` and `nxdomain-stops-discovery` fault knobs.
    pub fn with_faults(mut self, no_cname: bool, nxdomain_fails: bool) -> Self {
        self.no_cname = no_cname;
        self.nxdomain_fails = nxdomain_fails;
        self
    }

    async fn lookup(
        &self,
        name: &Name,
        rtype: RecordType,
        steps: &mut Vec<NetworkStep>,
    ) -> Answer<RData> {
        let start = Instant::now();
        let res = self.resolver.lookup(name.clone(), rtype).await;
        let duration_ms = ms(start);
        let (answer, ok, outcome) = match res {
            Ok(lookup) => {
                let data: Vec<RData> = lookup
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() == rtype)
                    .filter(|r| !self.no_cname || r.name == *name)
                    .map(|r| r.data.clone())
                    .collect();
                // DISC-06: say which alias led to the records.
                let via: Vec<String> = lookup
                    .answers()
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::CNAME(c) => Some(format!("{} CNAME {}", r.name, c.0)),
                        _ => None,
                    })
                    .collect();
                let mut outcome = format!("{} {rtype} record(s)", data.len());
                if !via.is_empty() {
                    outcome.push_str(&format!(" via {}", via.join(", ")));
                }
                if data.is_empty() {
                    (
                        Answer::None,
                        true,
                        "NOERROR, no records of that type".into(),
                    )
                } else {
                    (Answer::Records(data), true, outcome)
                }
            }
            Err(NetError::Dns(DnsError::NoRecordsFound(nr)))
                if self.nxdomain_fails && nr.response_code == ResponseCode::NXDomain =>
            {
                (Answer::Failed, false, "NXDOMAIN (taken as an error)".into())
            }
            Err(NetError::Dns(DnsError::NoRecordsFound(nr))) => {
                let what = if nr.response_code == ResponseCode::NXDomain {
                    "NXDOMAIN".to_string()
                } else {
                    format!("{}, no records (NODATA)", nr.response_code)
                };
                (Answer::None, true, what)
            }
            Err(e) => (Answer::Failed, false, format!("error: {e}")),
        };
        steps.push(NetworkStep {
            target: StepTarget::Dns {
                name: name.to_string(),
                qtype: rtype.to_string(),
            },
            server: Some(self.server.to_string()),
            ok,
            outcome,
            duration_ms,
        });
        answer
    }

    pub async fn cert(&self, name: &Name, steps: &mut Vec<NetworkStep>) -> Answer<CertRecord> {
        map(
            self.lookup(name, RecordType::CERT, steps).await,
            |r| match r {
                RData::CERT(c) => Some(CertRecord {
                    cert_type: u16::from(c.cert_type),
                    data: c.cert_data,
                }),
                _ => None,
            },
        )
    }

    pub async fn srv(&self, name: &Name, steps: &mut Vec<NetworkStep>) -> Answer<SrvTarget> {
        map(
            self.lookup(name, RecordType::SRV, steps).await,
            |r| match r {
                RData::SRV(s) => Some(SrvTarget {
                    priority: s.priority,
                    weight: s.weight,
                    port: s.port,
                    target: s.target.to_string().trim_end_matches('.').to_string(),
                }),
                _ => None,
            },
        )
    }

    /// IPv4 then IPv6 addresses of `host` (an IP literal is returned as is).
    pub async fn addresses(&self, host: &str, steps: &mut Vec<NetworkStep>) -> Vec<IpAddr> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return vec![ip];
        }
        let Ok(mut name) = Name::from_ascii(host) else {
            return Vec::new();
        };
        name.set_fqdn(true);
        let mut out = Vec::new();
        for rtype in [RecordType::A, RecordType::AAAA] {
            if let Answer::Records(rs) = self.lookup(&name, rtype, steps).await {
                out.extend(rs.into_iter().filter_map(|r| match r {
                    RData::A(a) => Some(IpAddr::V4(a.0)),
                    RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                    _ => None,
                }));
            }
            if !out.is_empty() {
                break;
            }
        }
        out
    }
}

fn map<T>(a: Answer<RData>, f: impl Fn(RData) -> Option<T>) -> Answer<T> {
    match a {
        Answer::Records(rs) => {
            let v: Vec<T> = rs.into_iter().filter_map(f).collect();
            if v.is_empty() {
                Answer::None
            } else {
                Answer::Records(v)
            }
        }
        Answer::None => Answer::None,
        Answer::Failed => Answer::Failed,
    }
}

pub fn ms(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}
