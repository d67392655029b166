//! The HISP publishes its own certificates (`[publish]`): an authoritative DNS server for its
//! domains and an LDAP directory, built from the certificates it holds and served by the mock
//! world's server code (`env::dns` on hickory-server, `env::ldap` on ldap3_proto). The
//! harness's hosting cases (H1–H8) discover them there.
//!
//! Zone of each domain D (RFC style: NXDOMAIN for names that do not exist): SOA, NS `ns.D`,
//! A for D, `ns.D` and `ldap.D`, MX 10 D, SRV `_ldap._tcp.D` 0 0 <ldap port> `ldap.D`, CERT
//! PKIX at D (the domain's encryption certificate) and at each address-bound name (the
//! certificates of each address that has its own, i.e. not its domain's; DCDT-style
//! certificates are dual-use). LDAP: `ou=D`, one inetOrgPerson entry per
//! published address or domain (`mail`, `userCertificate;binary`).

use std::net::SocketAddr;
use std::sync::Arc;

use hickory_proto::rr::rdata::cert::{Algorithm, CertType};
use hickory_proto::rr::rdata::{A, AAAA, CERT, MX, SRV};
use hickory_proto::rr::{Name, RData, Record};
use ldap3_proto::proto::LdapResultCode;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use x509_cert::Certificate;

use crate::discovery::DirectAddress;
use crate::env::dns::DnsServer;
use crate::env::fixture::{LdapBehaviour, ZoneStyle};
use crate::env::ldap::{LdapRole, LdapSocket};
use crate::env::zone::ZoneSet;
use crate::env::{Directory, EventLog, PublishedEntry};

use super::config::{PublishSettings, Settings};
use super::{Fault, HispError};

const TTL: u32 = 300;

/// One name the HISP publishes certificates for: an address or a domain.
#[derive(Clone, Debug)]
pub struct Publication {
    pub name: String,
    pub certificates: Vec<Certificate>,
}

/// What the HISP publishes, after the fault switches.
pub fn publications(settings: &Settings, p: &PublishSettings) -> Vec<Publication> {
    let mut out = Vec::new();
    for d in &settings.domains {
        if let Some((_, enc)) = settings.domain_credentials.get(d) {
            out.push(Publication {
                name: d.clone(),
                certificates: vec![enc.certificate.clone()],
            });
        }
    }
    for a in &settings.addresses {
        // An address publishes its own credentials (dual-use, as DCDT's): those that are not
        // its domain's.
        let domain = a
            .address
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase());
        let domain_certs: Vec<&Certificate> = domain
            .and_then(|d| settings.domain_credentials.get(&d))
            .map(|(s, e)| vec![&s.certificate, &e.certificate])
            .unwrap_or_default();
        let mut own: Vec<Certificate> = Vec::new();
        for c in [&a.encryption.certificate, &a.signing.certificate] {
            if !domain_certs.contains(&c) && !own.contains(c) {
                own.push(c.clone());
            }
        }
        if !own.is_empty() {
            out.push(Publication {
                name: a.address.clone(),
                certificates: own,
            });
        }
    }
    let faults = &settings.faults;
    for p_ in &mut out {
        if faults.on(Fault::PublishExpiredCert) {
            p_.certificates = p.expired.clone();
        }
        if faults.on(Fault::PublishWeakKey) {
            p_.certificates.extend(p.weak.iter().cloned());
        }
    }
    out
}

fn name(text: &str) -> Result<Name, HispError> {
    let mut n = Name::from_ascii(text)
        .map_err(|e| HispError::Publish(format!("{text:?} is not a DNS name: {e}")))?;
    n.set_fqdn(true);
    Ok(n)
}

fn address_record(owner: Name, ip: std::net::IpAddr) -> Record {
    let rdata = match ip {
        std::net::IpAddr::V4(v4) => RData::A(A(v4)),
        std::net::IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
    };
    Record::from_rdata(owner, TTL, rdata)
}

fn cert_record(owner: Name, c: &Certificate) -> Result<Record, HispError> {
    let der = der::Encode::to_der(c).map_err(|e| HispError::Publish(e.to_string()))?;
    let tag = crate::env::keytag::certificate_key_tag(c);
    Ok(Record::from_rdata(
        owner,
        TTL,
        RData::CERT(CERT::new(CertType::PKIX, tag, Algorithm::RSASHA256, der)),
    ))
}

/// The zones of every local domain.
fn zones(
    settings: &Settings,
    p: &PublishSettings,
    published: &[Publication],
    ldap_port: Option<u16>,
) -> Result<ZoneSet, HispError> {
    let mut zones = Vec::new();
    for d in &settings.domains {
        let origin = name(d)?;
        let sub = |label: &str| name(&format!("{label}.{d}"));
        let mut records = vec![
            address_record(origin.clone(), p.address),
            address_record(sub("ns")?, p.address),
        ];
        if !settings.faults.on(Fault::NoMx) {
            records.push(Record::from_rdata(
                origin.clone(),
                TTL,
                RData::MX(MX::new(10, origin.clone())),
            ));
        }
        if let Some(port) = ldap_port {
            records.push(address_record(sub("ldap")?, p.address));
            records.push(Record::from_rdata(
                sub("_ldap._tcp")?,
                TTL,
                RData::SRV(SRV::new(0, 0, port, sub("ldap")?)),
            ));
        }
        for pb in published {
            let Ok(addr) = DirectAddress::parse(&pb.name) else {
                continue;
            };
            if !addr.domain.eq_ignore_ascii_case(d) {
                continue;
            }
            // RFC 4398 §3.3: the local part as one label, its dots escaped.
            let owner = match addr.local {
                Some(_) => addr.address_names().ok().and_then(|n| n.into_iter().next()),
                None => Some(origin.clone()),
            };
            let Some(owner) = owner else { continue };
            for c in &pb.certificates {
                records.push(cert_record(owner.clone(), c)?);
            }
        }
        zones.push((origin, ZoneStyle::Rfc, records));
    }
    Ok(ZoneSet::from_records(zones, TTL))
}

fn directory(settings: &Settings, published: &[Publication]) -> Result<Directory, HispError> {
    let mut contexts = Vec::new();
    for d in &settings.domains {
        let mut entries = Vec::new();
        for pb in published {
            let in_domain = pb
                .name
                .rsplit_once('@')
                .map(|(_, x)| x)
                .unwrap_or(&pb.name)
                .eq_ignore_ascii_case(d);
            if !in_domain {
                continue;
            }
            let mut certificates = Vec::new();
            for c in &pb.certificates {
                certificates
                    .push(der::Encode::to_der(c).map_err(|e| HispError::Publish(e.to_string()))?);
            }
            entries.push(PublishedEntry {
                mail: pb.name.clone(),
                cn: pb.name.clone(),
                certificates,
            });
        }
        contexts.push((d.clone(), entries));
    }
    let dir = Directory::published(contexts);
    Ok(if settings.faults.on(Fault::LdapErrorForUnknown) {
        dir.with_empty_result(LdapResultCode::NoSuchObject, "no such address")
    } else {
        dir
    })
}

/// The running publication: DNS and LDAP servers and their log.
pub struct Published {
    pub dns: Option<SocketAddr>,
    pub ldap: Option<SocketAddr>,
    /// Every query the two servers answered.
    pub log: EventLog,
    dns_server: Option<DnsServer>,
    stop: CancellationToken,
    ldap_task: Option<JoinHandle<()>>,
}

impl Published {
    pub async fn shutdown(self) {
        self.stop.cancel();
        if let Some(d) = self.dns_server {
            d.shutdown().await;
        }
        if let Some(t) = self.ldap_task {
            t.abort();
            let _ = t.await;
        }
    }
}

/// Starts the DNS and LDAP servers of `[publish]`.
pub async fn start(settings: &Settings, p: &PublishSettings) -> Result<Published, HispError> {
    let log = EventLog::new(false);
    let stop = CancellationToken::new();
    let published = publications(settings, p);
    let (ldap, ldap_task) = match p.ldap {
        None => (None, None),
        Some(addr) => {
            let socket = LdapSocket::bind(addr, LdapBehaviour::Directory, "publish")
                .map_err(|e| HispError::Publish(e.to_string()))?;
            let actual = socket
                .local_addr()
                .map_err(|e| HispError::Publish(e.to_string()))?;
            let dir = Arc::new(directory(settings, &published)?);
            let task = tokio::spawn(crate::env::ldap::serve(
                format!("{} LDAP", settings.hostname),
                socket,
                LdapRole::Directory(dir),
                log.clone(),
                stop.clone(),
            ));
            (Some(actual), Some(task))
        }
    };
    let (dns, dns_server) = match p.dns {
        None => (None, None),
        Some(addr) => {
            let zones = Arc::new(zones(settings, p, &published, ldap.map(|a| a.port()))?);
            let server = if settings.faults.on(Fault::DnsNoTruncation) {
                DnsServer::start_cutting_udp(addr, zones, log.clone()).await
            } else {
                DnsServer::start(addr, zones, log.clone()).await
            }
            .map_err(|e| HispError::Publish(e.to_string()))?;
            (Some(server.addr), Some(server))
        }
    };
    Ok(Published {
        dns,
        ldap,
        log,
        dns_server,
        stop,
        ldap_task,
    })
}
