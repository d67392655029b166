//! The authoritative data of the mock DNS, built from the fixture, and the lookup rules:
//! longest-suffix zone match, CNAME chasing inside our zones, and per-zone handling of names
//! that do not exist (DCDT: NOERROR + SOA; RFC: NXDOMAIN).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::cert::{Algorithm, CertType};
use hickory_proto::rr::rdata::{A, AAAA, CERT, CNAME, MX, NS, SOA, SRV, TXT};
use hickory_proto::rr::{LowerName, Name, RData, Record, RecordType};

use crate::pki::ReferencePki;

use super::error::EnvError;
use super::fixture::{Fixture, RecordSpec, ZoneSpec, ZoneStyle};

/// CNAME hops followed before giving up (a loop in the fixture must not hang a query).
const MAX_CNAME_HOPS: usize = 8;

/// What the world's servers actually listen on; records that name ports take them from here.
#[derive(Clone, Debug)]
pub struct Endpoints {
    /// Address of every A record without an explicit address.
    pub bind: IpAddr,
    /// Actual port of each fixture LDAP server.
    pub ldap_ports: BTreeMap<String, u16>,
    pub http_port: u16,
}

#[derive(Debug)]
struct Zone {
    origin: LowerName,
    style: ZoneStyle,
    soa: Record,
    rrsets: HashMap<(LowerName, RecordType), Vec<Record>>,
    /// Every owner name and every empty non-terminal between it and the origin.
    names: HashSet<LowerName>,
    /// Subtrees that are NXDOMAIN whatever the style.
    nxdomain: Vec<LowerName>,
}

/// The outcome of one lookup.
#[derive(Debug, Clone)]
pub struct Answer {
    pub rcode: ResponseCode,
    pub answers: Vec<Record>,
    /// SOA for the authority section (negative answers).
    pub soa: Option<Record>,
    /// Style of the zone that answered (`None`: REFUSED, not ours).
    pub style: Option<ZoneStyle>,
}

#[derive(Debug)]
pub struct ZoneSet {
    /// Longest origin first, so the first match is the closest enclosing zone.
    zones: Vec<Zone>,
}

impl ZoneSet {
    pub fn build(fixture: &Fixture, pki: &ReferencePki, ep: &Endpoints) -> Result<Self, EnvError> {
        let mut zones = Vec::with_capacity(fixture.zones.len());
        for spec in &fixture.zones {
            zones.push(build_zone(fixture, spec, pki, ep)?);
        }
        zones.sort_by_key(|z| std::cmp::Reverse(z.origin.num_labels()));
        Ok(ZoneSet { zones })
    }

    /// Zones made from records rather than the fixture (a HISP publishing its own
    /// certificates): each gets an SOA and an NS naming `ns.<origin>`; the caller supplies
    /// every other record, including the address of `ns.<origin>`.
    pub fn from_records(zones: Vec<(Name, ZoneStyle, Vec<Record>)>, ttl: u32) -> Self {
        let mut built = Vec::with_capacity(zones.len());
        for (origin, style, records) in zones {
            let ns = Name::from_ascii("ns")
                .and_then(|n| n.append_domain(&origin))
                .unwrap_or_else(|_| origin.clone());
            let hostmaster = Name::from_ascii("hostmaster")
                .and_then(|n| n.append_domain(&origin))
                .unwrap_or_else(|_| origin.clone());
            let soa = Record::from_rdata(
                origin.clone(),
                ttl,
                RData::SOA(SOA::new(ns.clone(), hostmaster, 1, 3600, 600, 86400, ttl)),
            );
            let mut zone = Zone {
                origin: LowerName::new(&origin),
                style,
                soa: soa.clone(),
                rrsets: HashMap::new(),
                names: HashSet::new(),
                nxdomain: Vec::new(),
            };
            zone.add(soa);
            zone.add(Record::from_rdata(origin.clone(), ttl, RData::NS(NS(ns))));
            for r in records {
                if LowerName::new(&origin).zone_of(&LowerName::new(&r.name)) {
                    zone.add(r);
                }
            }
            built.push(zone);
        }
        built.sort_by_key(|z| std::cmp::Reverse(z.origin.num_labels()));
        ZoneSet { zones: built }
    }

    pub fn zone_count(&self) -> usize {
        self.zones.len()
    }

    pub fn lookup(&self, name: &Name, qtype: RecordType) -> Answer {
        let lower = LowerName::new(name);
        let Some(zone) = self.zone_for(&lower) else {
            return Answer {
                rcode: ResponseCode::Refused,
                answers: Vec::new(),
                soa: None,
                style: None,
            };
        };
        let mut answers = Vec::new();
        let mut current = lower;
        let mut current_zone = zone;
        if qtype == RecordType::ANY {
            let all = zone.all_at(&current);
            if !all.is_empty() {
                return positive(zone, all);
            }
        }
        for _ in 0..MAX_CNAME_HOPS {
            if let Some(rrs) = current_zone.rrset(&current, qtype) {
                answers.extend(rrs.iter().cloned());
                return positive(zone, answers);
            }
            let cname = match qtype {
                RecordType::CNAME => None,
                _ => current_zone.rrset(&current, RecordType::CNAME),
            };
            let Some(cname) = cname.and_then(|v| v.first()) else {
                break;
            };
            answers.push(cname.clone());
            let RData::CNAME(CNAME(target)) = &cname.data else {
                break;
            };
            current = LowerName::new(target);
            match self.zone_for(&current) {
                Some(z) => current_zone = z,
                // Target outside our zones: the resolver follows it itself.
                None => return positive(zone, answers),
            }
        }
        if !answers.is_empty() {
            // A CNAME chain that ended without data: NOERROR with the chain.
            return positive(zone, answers);
        }
        let exists = zone.names.contains(&current);
        let forced_nx = zone.nxdomain.iter().any(|n| n.zone_of(&current));
        let rcode = if forced_nx {
            ResponseCode::NXDomain
        } else if exists || zone.style == ZoneStyle::Dcdt {
            ResponseCode::NoError
        } else {
            ResponseCode::NXDomain
        };
        Answer {
            rcode,
            answers,
            soa: Some(zone.soa.clone()),
            style: Some(zone.style),
        }
    }

    fn zone_for(&self, name: &LowerName) -> Option<&Zone> {
        self.zones.iter().find(|z| z.origin.zone_of(name))
    }
}

fn positive(zone: &Zone, answers: Vec<Record>) -> Answer {
    Answer {
        rcode: ResponseCode::NoError,
        answers,
        soa: None,
        style: Some(zone.style),
    }
}

impl Zone {
    fn rrset(&self, name: &LowerName, qtype: RecordType) -> Option<&Vec<Record>> {
        self.rrsets
            .get(&(name.clone(), qtype))
            .filter(|v| !v.is_empty())
    }

    /// Every record owned by `name` (for ANY), in a stable order.
    fn all_at(&self, name: &LowerName) -> Vec<Record> {
        let mut keys: Vec<_> = self.rrsets.keys().filter(|(n, _)| n == name).collect();
        keys.sort_by_key(|(_, t)| u16::from(*t));
        keys.into_iter()
            .filter_map(|k| self.rrsets.get(k))
            .flatten()
            .cloned()
            .collect()
    }

    fn add(&mut self, record: Record) {
        let owner = LowerName::new(&record.name);
        let mut n = owner.clone();
        // Register the owner and its empty non-terminals up to the origin.
        while self.origin.zone_of(&n) && self.names.insert(n.clone()) && n != self.origin {
            n = n.base_name();
        }
        self.rrsets
            .entry((owner, record.record_type()))
            .or_default()
            .push(record);
    }
}

/// `@` = origin; a trailing dot = absolute; otherwise relative to `origin`.
pub fn resolve_name(text: &str, origin: &Name) -> Result<Name, EnvError> {
    let bad = |e: hickory_proto::ProtoError| EnvError::fixture(format!("name {text:?}: {e}"));
    if text == "@" {
        return Ok(origin.clone());
    }
    let name = Name::from_ascii(text).map_err(bad)?;
    if text.ends_with('.') {
        return Ok(name);
    }
    name.append_domain(origin).map_err(bad)
}

fn fqdn(text: &str) -> Result<Name, EnvError> {
    let mut name =
        Name::from_ascii(text).map_err(|e| EnvError::fixture(format!("name {text:?}: {e}")))?;
    name.set_fqdn(true);
    Ok(name)
}

fn build_zone(
    fixture: &Fixture,
    spec: &ZoneSpec,
    pki: &ReferencePki,
    ep: &Endpoints,
) -> Result<Zone, EnvError> {
    let origin = fqdn(&spec.name)?;
    let base = fqdn(&fixture.base_domain)?;
    let ttl = fixture.ttl;
    let ns1 = resolve_name("ns1", &base)?;
    let ns2 = resolve_name("ns2", &base)?;
    let hostmaster = resolve_name("hostmaster", &base)?;
    let soa = Record::from_rdata(
        origin.clone(),
        ttl,
        RData::SOA(SOA::new(ns1.clone(), hostmaster, 1, 3600, 600, 86400, ttl)),
    );
    let mut zone = Zone {
        origin: LowerName::new(&origin),
        style: spec.style,
        soa: soa.clone(),
        rrsets: HashMap::new(),
        names: HashSet::new(),
        nxdomain: spec
            .nxdomain
            .iter()
            .map(|n| resolve_name(n, &origin).map(|n| LowerName::new(&n)))
            .collect::<Result<_, _>>()?,
    };
    zone.add(soa);
    for ns in [&ns1, &ns2] {
        zone.add(Record::from_rdata(
            origin.clone(),
            ttl,
            RData::NS(NS(ns.clone())),
        ));
    }
    if spec.standard {
        zone.add(address_record(origin.clone(), ttl, ep.bind));
        zone.add(Record::from_rdata(
            origin.clone(),
            ttl,
            RData::MX(MX::new(10, origin.clone())),
        ));
        zone.add(Record::from_rdata(
            origin.clone(),
            ttl,
            RData::TXT(TXT::new(vec!["v=spf1 mx -all".to_string()])),
        ));
    }
    let http_authority = format!("{}:{}", fixture.http_host, ep.http_port);
    for r in &spec.records {
        let owner = resolve_name(r.owner(), &origin)?;
        let in_zone = |n: &Name| LowerName::new(&origin).zone_of(&LowerName::new(n));
        if !in_zone(&owner) {
            return Err(EnvError::fixture(format!(
                "zone {}: owner {} lies outside the zone",
                spec.name, owner
            )));
        }
        match r {
            RecordSpec::A { address, .. } => {
                zone.add(address_record(owner, ttl, address.unwrap_or(ep.bind)));
            }
            RecordSpec::MX {
                preference,
                exchange,
                ..
            } => {
                let exchange = resolve_name(exchange, &origin)?;
                zone.add(Record::from_rdata(
                    owner,
                    ttl,
                    RData::MX(MX::new(*preference, exchange)),
                ));
            }
            RecordSpec::CNAME { target, .. } => {
                let target = resolve_name(target, &origin)?;
                zone.add(Record::from_rdata(owner, ttl, RData::CNAME(CNAME(target))));
            }
            RecordSpec::TXT { text, .. } => {
                zone.add(Record::from_rdata(
                    owner,
                    ttl,
                    RData::TXT(TXT::new(vec![text.clone()])),
                ));
            }
            RecordSpec::SRV {
                priority,
                weight,
                ldap,
                target,
                ..
            } => {
                let port = *ep.ldap_ports.get(ldap).ok_or_else(|| {
                    EnvError::fixture(format!("SRV {owner}: LDAP server {ldap} has no port"))
                })?;
                let target = resolve_name(
                    target.as_deref().unwrap_or(fixture.ldap_host.as_str()),
                    &origin,
                )?;
                zone.add(Record::from_rdata(
                    owner,
                    ttl,
                    RData::SRV(SRV::new(*priority, *weight, port, target)),
                ));
            }
            RecordSpec::CERT { credentials, .. } => {
                for c in credentials {
                    let cred = pki.credential(c).ok_or_else(|| {
                        EnvError::fixture(format!("CERT {owner}: unknown credential {c}"))
                    })?;
                    let tag = super::keytag::certificate_key_tag(&cred.certificate);
                    zone.add(Record::from_rdata(
                        owner.clone(),
                        ttl,
                        RData::CERT(CERT::new(
                            CertType::PKIX,
                            tag,
                            Algorithm::RSASHA256,
                            cred.certificate_der.clone(),
                        )),
                    ));
                }
            }
            RecordSpec::IPKIX { url, .. } => {
                let url = url.replace("{pki}", &http_authority);
                zone.add(Record::from_rdata(
                    owner,
                    ttl,
                    RData::CERT(CERT::new(
                        CertType::IPKIX,
                        0,
                        Algorithm::RSASHA256,
                        url.into_bytes(),
                    )),
                ));
            }
        }
    }
    Ok(zone)
}

fn address_record(owner: Name, ttl: u32, ip: IpAddr) -> Record {
    let rdata = match ip {
        IpAddr::V4(v4) => RData::A(A(v4)),
        IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
    };
    Record::from_rdata(owner, ttl, rdata)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones() -> (ZoneSet, ReferencePki) {
        let fixture = Fixture::embedded().expect("fixture");
        let pki = ReferencePki::load_default().expect("pki");
        let ports = fixture
            .ldap
            .iter()
            .map(|s| (s.name.clone(), s.port))
            .collect();
        let ep = Endpoints {
            bind: "127.0.0.1".parse().expect("ip"),
            ldap_ports: ports,
            http_port: 10080,
        };
        (ZoneSet::build(&fixture, &pki, &ep).expect("zones"), pki)
    }

    fn name(s: &str) -> Name {
        Name::from_ascii(s).expect("name")
    }

    #[test]
    fn cert_rrsets_carry_the_pki_der_in_order() {
        let (z, pki) = zones();
        let a = z.lookup(&name("d9.domain1.direct.test."), RecordType::CERT);
        assert_eq!(a.rcode, ResponseCode::NoError);
        let ders: Vec<_> = a
            .answers
            .iter()
            .map(|r| match &r.data {
                RData::CERT(c) => c.cert_data.clone(),
                other => panic!("not CERT: {other:?}"),
            })
            .collect();
        let want: Vec<_> = ["D9_valA", "D9_invA"]
            .iter()
            .map(|n| pki.credential(n).expect("cred").certificate_der.clone())
            .collect();
        assert_eq!(ders, want);
    }

    #[test]
    fn missing_names_differ_by_zone_style() {
        let (z, _) = zones();
        let dcdt = z.lookup(&name("d2.domain1.direct.test."), RecordType::CERT);
        assert_eq!(dcdt.rcode, ResponseCode::NoError);
        assert!(dcdt.answers.is_empty() && dcdt.soa.is_some());
        let rfc = z.lookup(&name("d31.domain23.direct.test."), RecordType::CERT);
        assert_eq!(rfc.rcode, ResponseCode::NXDomain);
        // an empty non-terminal exists
        let ent = z.lookup(&name("_tcp.domain16.direct.test."), RecordType::A);
        assert_eq!(ent.rcode, ResponseCode::NoError);
        let outside = z.lookup(&name("example.org."), RecordType::A);
        assert_eq!(outside.rcode, ResponseCode::Refused);
        let nx = z.lookup(&name("nonexistent.direct.test."), RecordType::A);
        assert_eq!(nx.rcode, ResponseCode::NXDomain);
        let unavailable = z.lookup(&name("ldap-unavailable.direct.test."), RecordType::A);
        assert_eq!(unavailable.rcode, ResponseCode::NoError);
        assert!(unavailable.answers.is_empty());
    }

    #[test]
    fn cname_is_chased_and_case_is_ignored() {
        let (z, _) = zones();
        let a = z.lookup(&name("D29.Domain21.Direct.Test."), RecordType::CERT);
        let types: Vec<_> = a.answers.iter().map(|r| r.record_type()).collect();
        assert_eq!(types, vec![RecordType::CNAME, RecordType::CERT]);
        let dotted = z.lookup(
            &name(r"d27\.dotted.domain19.direct.test."),
            RecordType::CERT,
        );
        assert_eq!(dotted.answers.len(), 1);
        let split = z.lookup(&name("d27.dotted.domain19.direct.test."), RecordType::CERT);
        assert_eq!(split.answers.len(), 1);
    }

    #[test]
    fn any_returns_every_rrset() {
        let (z, _) = zones();
        let a = z.lookup(&name("domain4.direct.test."), RecordType::ANY);
        let mut types: Vec<_> = a.answers.iter().map(|r| r.record_type()).collect();
        types.dedup();
        assert_eq!(
            types,
            vec![
                RecordType::A,
                RecordType::NS,
                RecordType::SOA,
                RecordType::MX,
                RecordType::TXT,
                RecordType::CERT
            ]
        );
    }

    #[test]
    fn srv_and_ipkix_use_actual_ports() {
        let (z, _) = zones();
        let a = z.lookup(&name("_ldap._tcp.domain3.direct.test."), RecordType::SRV);
        let srv: Vec<_> = a
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::SRV(s) => Some((s.priority, s.port, s.target.to_ascii())),
                _ => None,
            })
            .collect();
        assert_eq!(
            srv,
            vec![
                (0, 10389, "ldap-unavailable.direct.test.".to_string()),
                (1, 11389, "ldap.direct.test.".to_string())
            ]
        );
        let ipkix = z.lookup(&name("d23.domain15.direct.test."), RecordType::CERT);
        match ipkix.answers.first().map(|r| &r.data) {
            Some(RData::CERT(c)) => {
                assert_eq!(c.cert_type, CertType::IPKIX);
                assert_eq!(
                    c.cert_data,
                    b"http://pki.direct.test:10080/ipkix/D23_valA.cer".to_vec()
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
