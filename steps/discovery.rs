//! Discovery cases D1–D34 (TEST-CATALOGUE §a.5–a.9): the SUT's edge user submits to a case
//! address; the SUT must discover the recipient's certificate in the harness world and send the
//! message encrypted to exactly the expected one (RI-set), or send nothing. Every DNS query,
//! LDAP operation and HTTP fetch of the scenario's time window is kept as evidence; where the
//! catalogue makes the log order deciding (D1, D14, D15, D16, D17 …), it is checked.

use std::collections::BTreeSet;
use std::time::Duration;

use cucumber::{given, then};
use direct_conformance::env::fixture::RecordSpec;
use direct_conformance::env::{CaseSpec, Event, EventKind, LdapOpKind, Transport};
use direct_conformance::sut::tap::Captured;

use super::world::DirectWorld;

/// One discovery scenario: its case, and where the logs stood when it began.
#[derive(Clone, Debug)]
pub struct DiscoveryCase {
    pub case: CaseSpec,
    /// First world-log event of the scenario.
    pub log_mark: u64,
    /// Messages the tap had captured before the scenario.
    pub tap_mark: usize,
    /// What the SUT sent for the case address (positive cases).
    pub captured: Option<Captured>,
}

fn case(w: &DirectWorld) -> Result<&DiscoveryCase, String> {
    w.discovery.as_ref().ok_or_else(|| {
        "no discovery case: start with `Given the harness world publishes discovery case Dn`".into()
    })
}

fn norm(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn domain_of(address: &str) -> String {
    address
        .rsplit_once('@')
        .map(|(_, d)| norm(d))
        .unwrap_or_else(|| norm(address))
}

/// The case domain's zone as the fixture declares it (the setup, for the report).
fn setup_text(w: &DirectWorld, c: &CaseSpec) -> String {
    let Some(fixture) = w.ctx.as_ref().and_then(|x| x.fixture.clone()) else {
        return String::new();
    };
    let domain = domain_of(&c.address);
    let mut out = format!(
        "case {}: {}\naddress {}\nexpected: {}\n",
        c.id,
        c.title,
        c.address,
        c.expect
            .as_deref()
            .unwrap_or("nothing sent (negative case)")
    );
    let mut servers = BTreeSet::new();
    if let Some(z) = fixture.zones.iter().find(|z| norm(&z.name) == domain) {
        out.push_str(&format!("zone {} ({:?} style)\n", z.name, z.style));
        for r in &z.records {
            let line = match r {
                RecordSpec::CERT { owner, credentials } => {
                    format!("  {owner} CERT PKIX {}", credentials.join(", "))
                }
                RecordSpec::IPKIX { owner, url } => format!("  {owner} CERT IPKIX {url}"),
                RecordSpec::SRV {
                    owner,
                    priority,
                    weight,
                    ldap,
                    target,
                } => {
                    servers.insert(ldap.clone());
                    format!(
                        "  {owner} SRV {priority} {weight} {ldap}{}",
                        target
                            .as_deref()
                            .map(|t| format!(" (target {t})"))
                            .unwrap_or_default()
                    )
                }
                RecordSpec::CNAME { owner, target } => format!("  {owner} CNAME {target}"),
                _ => continue,
            };
            out.push_str(&line);
            out.push('\n');
        }
    }
    for s in servers {
        if let Some(spec) = fixture.ldap_server(&s) {
            out.push_str(&format!("LDAP {s} ({:?})\n", spec.behaviour));
            for ctx in &spec.contexts {
                for e in &ctx.entries {
                    out.push_str(&format!(
                        "  {} mail={} → {}\n",
                        ctx.dn,
                        e.mail,
                        e.credential.as_deref().unwrap_or("(no certificate)")
                    ));
                }
            }
        }
    }
    out
}

#[given(regex = r"^the harness world publishes discovery case (D\d+)$")]
fn publishes(w: &mut DirectWorld, id: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let fixture = ctx
        .fixture
        .clone()
        .ok_or("the run has no mock world fixture")?;
    let c = fixture
        .case(&id)
        .cloned()
        .ok_or_else(|| format!("the fixture has no case {id}"))?;
    let setup = setup_text(w, &c);
    w.record(
        "fixture",
        format!("what the harness world publishes for {id}"),
        setup,
    );
    w.discovery = Some(DiscoveryCase {
        case: c,
        log_mark: ctx.world_log.next_seq(),
        tap_mark: ctx.tap.captured().len(),
        captured: None,
    });
    Ok(())
}

/// The world-log events of this scenario that concern its case: DNS names in the case domain
/// and the harness hosts, LDAP operations on the servers the domain's SRV names, and every
/// HTTP fetch (other scenarios run alongside; the window is the scenario's).
fn relevant(w: &DirectWorld) -> Result<Vec<Event>, String> {
    let ctx = w.ctx()?;
    let d = case(w)?;
    let domain = domain_of(&d.case.address);
    let zone = ctx
        .fixture
        .as_ref()
        .and_then(|f| f.zones.iter().find(|z| norm(&z.name) == domain).cloned());
    let records = zone.map(|z| z.records).unwrap_or_default();
    let servers: BTreeSet<String> = records
        .iter()
        .filter_map(|r| match r {
            RecordSpec::SRV { ldap, .. } => Some(ldap.clone()),
            _ => None,
        })
        .collect();
    // Alias targets in the case's zone (D29): what the SUT may ask after a CNAME.
    let aliases: BTreeSet<String> = records
        .iter()
        .filter_map(|r| match r {
            RecordSpec::CNAME { target, .. } if target.ends_with('.') => Some(norm(target)),
            RecordSpec::CNAME { target, .. } => Some(format!("{}.{domain}", norm(target))),
            _ => None,
        })
        .collect();
    let address = d.case.address.to_ascii_lowercase();
    let local = address.rsplit_once('@').map(|(l, _)| l.to_string());
    let own_name = |n: &str| {
        let n = n.replace("\\.", ".");
        n == domain
            || n == format!("_ldap._tcp.{domain}")
            || local.as_ref().is_some_and(|l| n == format!("{l}.{domain}"))
            || n.starts_with("ldap")
            || n == "pki.direct.test"
            || aliases.contains(&n)
    };
    let own_filter = |f: &str| {
        let f = f.to_ascii_lowercase();
        f.contains(&format!("mail={address})")) || f.contains(&format!("mail={domain})"))
    };
    Ok(ctx
        .world_log
        .since(d.log_mark)
        .into_iter()
        .filter(|e| match &e.kind {
            EventKind::Dns(q) => own_name(&norm(&q.name)),
            EventKind::Ldap(l) => {
                servers.contains(&l.server)
                    && match &l.op {
                        LdapOpKind::Search { base, filter, .. } => {
                            base.is_empty() || own_filter(filter)
                        }
                        _ => true,
                    }
            }
            EventKind::Http(_) => true,
        })
        .collect())
}

fn lines(events: &[Event]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

fn record_log(w: &mut DirectWorld) -> Result<(), String> {
    let ev = relevant(w)?;
    let title = format!(
        "DNS queries, LDAP operations and HTTP fetches during {}",
        case(w)?.case.id
    );
    let body = format!(
        "# the scenario's time window, events about {} (scenarios run side by side: \
         LDAP connects and binds, and HTTP fetches, may be another scenario's)\n{}",
        case(w)?.case.address,
        if ev.is_empty() {
            "(none)\n".to_string()
        } else {
            lines(&ev)
        }
    );
    // One copy, the latest, per scenario.
    w.evidence.retain(|e| e.title != title);
    w.record("world-log", title, body);
    Ok(())
}

/// A captured message for `address` (case-insensitive), captured after the scenario began.
fn for_address(c: &Captured, address: &str) -> bool {
    c.recipients.iter().any(|r| r.eq_ignore_ascii_case(address))
}

/// The harness credentials a captured message's RecipientInfos name, and those it names that
/// no harness credential matches (the SUT's own certificates, ENC-08). `Err`: not an envelope.
fn ri_set(w: &DirectWorld, data: &[u8]) -> Result<(Vec<String>, Vec<String>), String> {
    use direct_conformance::smime::entity::{decode_base64, media_type, split_header_body};
    let ctx = w.ctx()?;
    let mt = media_type(data);
    if !(mt.is("application", "pkcs7-mime") || mt.is("application", "x-pkcs7-mime")) {
        return Err(format!(
            "the message is not encrypted: its content type is {}",
            mt.essence()
        ));
    }
    let (_, body) = split_header_body(data);
    let der = decode_base64(body).map_err(|e| format!("the body is not base64: {e}"))?;
    let info = direct_conformance::smime::inspect_envelope(&der)
        .map_err(|e| format!("the envelope does not parse: {e}"))?;
    let own: BTreeSet<String> = ctx
        .sut
        .recipients
        .values()
        .filter_map(|r| r.certificate.strip_prefix("pki:").map(str::to_string))
        .collect();
    let (mut named, mut other) = (Vec::new(), Vec::new());
    for r in &info.recipients {
        let Some(rid) = &r.rid else {
            other.push(format!("{} RecipientInfo", r.kind));
            continue;
        };
        let hit = ctx
            .pki
            .credentials()
            .find(|c| direct_conformance::smime::identity::recipient_matches(rid, &c.certificate));
        match hit {
            Some(c) if !own.contains(&c.name) && !c.name.starts_with("sut_") => {
                named.push(c.name.clone())
            }
            Some(c) => other.push(format!("{} (the SUT's own)", c.name)),
            None => other.push(r.rid_text.clone()),
        }
    }
    named.sort();
    named.dedup();
    Ok((named, other))
}

/// DCDT's verdict: the case's credentials tried in fixture order; the first that decrypts.
fn dcdt_verdict(w: &DirectWorld, data: &[u8]) -> String {
    let Ok(ctx) = w.ctx() else {
        return String::new();
    };
    let Some(d) = w.discovery.as_ref() else {
        return String::new();
    };
    let prefix = format!("{}_", d.case.id);
    let mut order: Vec<String> = Vec::new();
    if let Some(f) = &ctx.fixture {
        let zone_creds = f
            .zones
            .iter()
            .flat_map(|z| &z.records)
            .flat_map(|r| match r {
                RecordSpec::CERT { credentials, .. } => credentials.clone(),
                _ => Vec::new(),
            });
        let ldap_creds = f
            .ldap
            .iter()
            .flat_map(|s| &s.contexts)
            .flat_map(|c| &c.entries)
            .filter_map(|e| e.credential.clone());
        for n in zone_creds.chain(ldap_creds) {
            if n.starts_with(&prefix) && !order.contains(&n) {
                order.push(n);
            }
        }
    }
    if let Some(e) = &d.case.expect
        && !order.contains(e)
    {
        order.push(e.clone());
    }
    for n in &order {
        if let Some(c) = ctx.pki.credential(n)
            && direct_conformance::smime::open(data, &c.key, Some(&c.certificate)).is_ok()
        {
            return format!(
                "DCDT-style verdict: {n} decrypts (first of [{}]){}",
                order.join(", "),
                if Some(n) == d.case.expect.as_ref() {
                    ": success"
                } else {
                    ": fail"
                }
            );
        }
    }
    format!(
        "DCDT-style verdict: none of [{}] decrypts: fail",
        order.join(", ")
    )
}

async fn wait_capture(w: &DirectWorld, within: Duration) -> Result<Option<Captured>, String> {
    let ctx = w.ctx()?;
    let d = case(w)?;
    let (address, mark) = (d.case.address.clone(), d.tap_mark);
    let seen = move |all: &[Captured]| {
        all.iter()
            .skip(mark)
            .find(|c| for_address(c, &address))
            .cloned()
    };
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(c) = seen(&ctx.tap.captured()) {
            return Ok(Some(c));
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        // Any capture wakes the waiter; a miss just loops until the deadline.
        ctx.tap
            .wait_for(|_| false, left.min(Duration::from_millis(100)))
            .await;
    }
}

/// Describes what was captured: RI-set, or why there is none.
fn describe(w: &DirectWorld, c: &Captured) -> String {
    match ri_set(w, &c.data) {
        Ok((named, other)) => format!(
            "encrypted to [{}]{}",
            named.join(", "),
            if other.is_empty() {
                String::new()
            } else {
                format!(" (also RecipientInfos ignored: {})", other.join("; "))
            }
        ),
        Err(e) => e,
    }
}

/// Judges one captured message against `expect`: RI-set, decryption, and the submitted
/// Message-ID inside.
fn judge(w: &mut DirectWorld, captured: &Captured, expect: &str) -> Result<(), String> {
    let ctx = w.ctx()?;
    let data = captured.data.clone();
    w.record(
        "message",
        format!(
            "what the SUT sent to {} (MAIL FROM {})",
            captured.recipients.join(", "),
            captured.from
        ),
        super::send::excerpt(&data),
    );
    let verdict = dcdt_verdict(w, &data);
    let (named, other) = ri_set(w, &data)?;
    w.record(
        "discovery",
        "RI-set",
        format!(
            "RecipientInfos name [{}]; expected [{expect}]{}\n{verdict}\n",
            named.join(", "),
            if other.is_empty() {
                String::new()
            } else {
                format!("; not harness certificates (ignored): {}", other.join("; "))
            }
        ),
    );
    if named != [expect.to_string()] {
        return Err(format!(
            "the SUT encrypted to [{}], expected exactly [{expect}] (ENC-07)",
            named.join(", ")
        ));
    }
    let cred = ctx
        .pki
        .credential(expect)
        .ok_or_else(|| format!("no reference credential {expect}"))?;
    let opened = direct_conformance::smime::open(&data, &cred.key, Some(&cred.certificate))
        .map_err(|e| format!("the envelope does not decrypt with {expect}'s key: {e}"))?;
    let id = w.sent()?.message_id.clone();
    let inner = String::from_utf8_lossy(&opened.decrypted.content).to_string();
    if !inner.contains(id.trim_matches(['<', '>'])) {
        return Err(format!(
            "the message encrypted to {expect} is not the one submitted (no {id} inside)"
        ));
    }
    Ok(())
}

#[then(
    regex = r#"^(within the lookup allowance )?the SUT sends the message encrypted to the "(\w+)" certificate only$"#
)]
async fn sends_encrypted(
    w: &mut DirectWorld,
    allowance: String,
    expect: String,
) -> Result<(), String> {
    let ctx = w.ctx()?;
    let mut within = ctx.sut.windows.accept;
    if !allowance.is_empty() {
        within += ctx.sut.windows.lookup_allowance;
    }
    let address = case(w)?.case.address.clone();
    let got = wait_capture(w, within).await?;
    record_log(w)?;
    let Some(c) = got else {
        return Err(format!(
            "nothing for {address} reached the harness within {within:?}"
        ));
    };
    if let Some(d) = w.discovery.as_mut() {
        d.captured = Some(c.clone());
    }
    judge(w, &c, &expect)
}

/// D30's warning row (CERT-09): the certificate the SUT used holds both kinds of binding, which
/// the validator's certificate profile reports as VC-511. A warning on the fixture, not a
/// verdict on the SUT; the step fails only if the harness's own profile check lost it.
#[then(
    regex = r#"^the report carries a VC-511 warning for the two kinds of binding in "(\w+)" \(CERT-09\)$"#
)]
async fn san_multiplicity_warning(w: &mut DirectWorld, name: String) -> Result<(), String> {
    use direct_conformance::trust::profile::{Role, evaluate};
    use direct_conformance::trust::report::Outcome;
    let ctx = w.ctx()?;
    let cred = ctx
        .pki
        .credential(&name)
        .ok_or_else(|| format!("{name} is not in the reference PKI"))?;
    let at = time::OffsetDateTime::now_utc();
    let row = evaluate(&cred.certificate, Role::Recipient, None, at)
        .into_iter()
        .find(|c| c.code == 511 && matches!(c.outcome, Outcome::Fail | Outcome::Warn))
        .ok_or_else(|| {
            format!("the certificate profile check found no VC-511 finding on {name}: the harness lost CERT-09")
        })?;
    w.record(
        "warning",
        format!("VC-511 warning (CERT-09) on {name}"),
        format!(
            "{}\nThe certificate binds by rfc822Name and by dNSName; it is usable because either binds (CERT-09), and the SUT's choice of it is judged above.",
            row.detail
        ),
    );
    Ok(())
}

/// Waits (bounded) until the SUT has asked the harness DNS about the case domain: a negative
/// case is only meaningful once the SUT has looked.
async fn wait_lookup(w: &DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let d = case(w)?;
    let domain = domain_of(&d.case.address);
    // The case's own address-bound name, or the domain's (a SUT that asks the domain first):
    // other scenarios' names in the same zone do not count.
    let own = d
        .case
        .address
        .to_ascii_lowercase()
        .rsplit_once('@')
        .map(|(l, _)| format!("{l}.{domain}"))
        .unwrap_or_default();
    let asked = ctx
        .world_log
        .wait_for(d.log_mark, ctx.sut.windows.accept, |e| match &e.kind {
            EventKind::Dns(q) => {
                let n = norm(&q.name).replace("\\.", ".");
                n == domain || n == own || n == format!("_ldap._tcp.{domain}")
            }
            _ => false,
        })
        .await;
    asked.map(|_| ()).ok_or_else(|| {
        format!(
            "the SUT never asked the harness DNS about {domain} within {:?}: is its resolver \
             pointed at the harness DNS?",
            ctx.sut.windows.accept
        )
    })
}

#[then(regex = r"^the SUT sends nothing to ([\w.+-]+@[\w.-]+)$")]
async fn sends_nothing(w: &mut DirectWorld, address: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    if !case(w)?.case.address.eq_ignore_ascii_case(&address) {
        return Err(format!(
            "{address} is not the address of case {}",
            case(w)?.case.id
        ));
    }
    let looked = wait_lookup(w).await;
    let silence = ctx.sut.windows.silence;
    let got = match looked {
        Ok(()) => wait_capture(w, silence).await?,
        // Whatever was sent decides; only a SUT that neither looked nor sent is an error.
        Err(e) => match wait_capture(w, Duration::ZERO).await? {
            Some(c) => Some(c),
            None => {
                record_log(w)?;
                return Err(e);
            }
        },
    };
    record_log(w)?;
    match got {
        None => {
            w.record(
                "discovery",
                "SILENCE",
                format!("nothing for {address} reached the harness in {silence:?} after the SUT's lookups"),
            );
            Ok(())
        }
        Some(c) => {
            let what = describe(w, &c);
            let verdict = dcdt_verdict(w, &c.data);
            w.record(
                "message",
                format!("what the SUT sent to {address}"),
                super::send::excerpt(&c.data),
            );
            w.record("discovery", "RI-set", format!("{what}\n{verdict}\n"));
            Err(format!(
                "the SUT sent a message to {address} ({what}); nothing valid is published for it"
            ))
        }
    }
}

fn dns_events(w: &DirectWorld) -> Result<Vec<(Event, direct_conformance::env::DnsEvent)>, String> {
    Ok(relevant(w)?
        .into_iter()
        .filter_map(|e| match &e.kind {
            EventKind::Dns(q) => Some((e.clone(), q.clone())),
            _ => None,
        })
        .collect())
}

fn check(
    w: &mut DirectWorld,
    title: &str,
    shown: Vec<Event>,
    ok: Result<(), String>,
) -> Result<(), String> {
    w.record(
        "world-log",
        title.to_string(),
        if shown.is_empty() {
            "(no such event)\n".to_string()
        } else {
            lines(&shown)
        },
    );
    ok
}

#[then(
    regex = r#"^the SUT asked for the address-bound CERT record "([^"]+)" before the domain-bound one$"#
)]
fn address_bound_first(w: &mut DirectWorld, name: String) -> Result<(), String> {
    let domain = domain_of(&case(w)?.case.address);
    let want = norm(&name);
    let certs: Vec<Event> = dns_events(w)?
        .into_iter()
        .filter(|(_, q)| q.qtype == "CERT" && (norm(&q.name) == want || norm(&q.name) == domain))
        .map(|(e, _)| e)
        .collect();
    let ok = match certs.first().map(|e| &e.kind) {
        Some(EventKind::Dns(q)) if norm(&q.name) == want => Ok(()),
        Some(EventKind::Dns(q)) => Err(format!(
            "the SUT asked for {} before {want} (DISC-15: address-bound first)",
            q.name
        )),
        _ => Err(format!("the SUT never asked for the CERT record {want}")),
    };
    check(w, "CERT queries in order", certs, ok)
}

#[then(
    regex = r#"^the harness DNS answered the CERT query for "([^"]+)" truncated over UDP, then over TCP$"#
)]
fn udp_tc_then_tcp(w: &mut DirectWorld, name: String) -> Result<(), String> {
    let want = norm(&name);
    let qs: Vec<(Event, direct_conformance::env::DnsEvent)> = dns_events(w)?
        .into_iter()
        .filter(|(_, q)| q.qtype == "CERT" && norm(&q.name) == want)
        .collect();
    let tc = qs
        .iter()
        .position(|(_, q)| q.transport == Transport::Udp && q.truncated);
    let ok = match tc {
        None => Err(format!("no UDP answer for {want} with TC set was seen")),
        Some(i) => {
            if qs[i + 1..]
                .iter()
                .any(|(_, q)| q.transport == Transport::Tcp && q.answers > 0)
            {
                Ok(())
            } else {
                Err(format!(
                    "the UDP answer for {want} was truncated and the SUT did not ask again over TCP (DISC-05)"
                ))
            }
        }
    };
    let shown = qs.into_iter().map(|(e, _)| e).collect();
    check(w, "CERT queries: UDP (TC) then TCP", shown, ok)
}

fn searches_for(w: &DirectWorld, address: &str) -> Result<Vec<Event>, String> {
    let ctx = w.ctx()?;
    let a = address.to_ascii_lowercase();
    Ok(ctx
        .world_log
        .since(case(w)?.log_mark)
        .into_iter()
        .filter(|e| match &e.kind {
            EventKind::Ldap(l) => match &l.op {
                LdapOpKind::Search { filter, .. } => filter.to_ascii_lowercase().contains(&a),
                _ => false,
            },
            _ => false,
        })
        .collect())
}

fn server_of(e: &Event) -> &str {
    match &e.kind {
        EventKind::Ldap(l) => &l.server,
        _ => "",
    }
}

#[then(regex = r#"^the SUT's first LDAP search for ([\w.+-]+@[\w.-]+) went to "(\w+)"$"#)]
fn first_search(w: &mut DirectWorld, address: String, server: String) -> Result<(), String> {
    let s = searches_for(w, &address)?;
    let ok = match s.first() {
        Some(e) if server_of(e) == server => Ok(()),
        Some(e) => Err(format!(
            "the SUT searched {} first for {address}, not {server}",
            server_of(e)
        )),
        None => Err(format!("the SUT made no LDAP search for {address}")),
    };
    check(w, &format!("LDAP searches for {address}"), s, ok)
}

#[then(regex = r#"^the SUT searched "(\w+)" and then "(\w+)" for ([\w.+-]+@[\w.-]+)$"#)]
fn searched_in_order(
    w: &mut DirectWorld,
    first: String,
    then: String,
    address: String,
) -> Result<(), String> {
    let s = searches_for(w, &address)?;
    let a = s.iter().position(|e| server_of(e) == first);
    let b = s.iter().rposition(|e| server_of(e) == then);
    let ok = match (a, b) {
        (Some(a), Some(b)) if a < b => Ok(()),
        _ => Err(format!(
            "the SUT did not search {first} and then {then} for {address} (searched: [{}])",
            s.iter().map(server_of).collect::<Vec<_>>().join(", ")
        )),
    };
    check(w, &format!("LDAP searches for {address}"), s, ok)
}

#[then(regex = r#"^the SUT searched every naming context of "(\w+)" for ([\w.+-]+@[\w.-]+)$"#)]
fn every_context(w: &mut DirectWorld, server: String, address: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let contexts: Vec<String> = ctx
        .fixture
        .as_ref()
        .and_then(|f| f.ldap_server(&server).cloned())
        .map(|s| {
            s.contexts
                .iter()
                .map(|c| c.dn.to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let s: Vec<Event> = searches_for(w, &address)?
        .into_iter()
        .filter(|e| server_of(e) == server)
        .collect();
    let searched: BTreeSet<String> = s
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Ldap(l) => match &l.op {
                LdapOpKind::Search { base, .. } => Some(base.to_ascii_lowercase()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let missing: Vec<&String> = contexts.iter().filter(|c| !searched.contains(*c)).collect();
    let ok = if contexts.is_empty() {
        Err(format!("the fixture has no naming contexts for {server}"))
    } else if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the SUT did not search {} on {server} for {address} (DISC-12)",
            missing
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    };
    check(
        w,
        &format!("LDAP searches on {server} for {address}"),
        s,
        ok,
    )
}

#[then(
    regex = r#"^the SUT bound anonymously to "(\w+)", read its root DSE and searched it for ([\w.+-]+@[\w.-]+)$"#
)]
fn anonymous_root_dse(w: &mut DirectWorld, server: String, address: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let on: Vec<Event> = ctx
        .world_log
        .since(case(w)?.log_mark)
        .into_iter()
        .filter(|e| server_of(e) == server)
        .collect();
    let bound = on.iter().any(|e| {
        matches!(&e.kind, EventKind::Ldap(l) if matches!(l.op, LdapOpKind::Bind { anonymous: true, .. }))
    });
    let root = on.iter().any(|e| {
        matches!(&e.kind, EventKind::Ldap(l) if matches!(&l.op, LdapOpKind::Search { base, .. } if base.is_empty()))
    });
    let searched = searches_for(w, &address)?
        .iter()
        .any(|e| server_of(e) == server);
    let ok = match (bound, root, searched) {
        (true, true, true) => Ok(()),
        _ => Err(format!(
            "on {server}: anonymous bind {bound}, root DSE read {root}, search for {address} {searched}"
        )),
    };
    let shown: Vec<Event> = on
        .into_iter()
        .filter(|e| match &e.kind {
            EventKind::Ldap(l) => match &l.op {
                LdapOpKind::Search { filter, base, .. } => {
                    base.is_empty()
                        || filter
                            .to_ascii_lowercase()
                            .contains(&address.to_ascii_lowercase())
                }
                LdapOpKind::Bind { .. } => true,
                _ => false,
            },
            _ => false,
        })
        .collect();
    check(w, &format!("LDAP operations on {server}"), shown, ok)
}

#[then(regex = r"^the SUT made no LDAP search for ([\w.+-]+@[\w.-]+)$")]
fn no_ldap(w: &mut DirectWorld, address: String) -> Result<(), String> {
    let s = searches_for(w, &address)?;
    let ok = if s.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the SUT searched LDAP for {address} although DNS had a valid certificate (DISC-15)"
        ))
    };
    check(w, &format!("LDAP searches for {address}"), s, ok)
}

#[then(regex = r#"^the SUT fetched "(/[^"]+)" from the harness PKI$"#)]
fn fetched(w: &mut DirectWorld, path: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let hits: Vec<Event> = ctx
        .world_log
        .since(case(w)?.log_mark)
        .into_iter()
        .filter(|e| matches!(&e.kind, EventKind::Http(h) if h.path == path))
        .collect();
    let ok = if hits.is_empty() {
        Err(format!("the SUT did not fetch {path} from the harness PKI"))
    } else {
        Ok(())
    };
    check(w, &format!("HTTP GET {path}"), hits, ok)
}

#[then(regex = r#"^the SUT (asked for|fetched) the CERT record "([^"]+)"(?: or "([^"]+)")?$"#)]
fn cert_record(w: &mut DirectWorld, how: String, name: String, or: String) -> Result<(), String> {
    let names: Vec<String> = [name, or]
        .iter()
        .filter(|n| !n.is_empty())
        .map(|n| norm(&n.replace("\\.", ".")))
        .collect();
    // An escaped label and a dotted one look alike once printed; the log keeps the spelling.
    let qs: Vec<(Event, direct_conformance::env::DnsEvent)> = dns_events(w)?
        .into_iter()
        .filter(|(_, q)| q.qtype == "CERT" && names.contains(&norm(&q.name.replace("\\.", "."))))
        .collect();
    let ok = if how == "fetched" {
        if qs.iter().any(|(_, q)| q.answers > 0) {
            Ok(())
        } else {
            Err(format!(
                "no CERT record of {} reached the SUT",
                names.join(" or ")
            ))
        }
    } else if qs.is_empty() {
        Err(format!(
            "the SUT never asked for the CERT record {}",
            names.join(" or ")
        ))
    } else {
        Ok(())
    };
    let shown = qs.into_iter().map(|(e, _)| e).collect();
    check(w, "CERT queries for the address-bound name", shown, ok)
}

#[then(regex = r#"^the SUT looked up the address of "([^"]+)"$"#)]
fn address_lookup(w: &mut DirectWorld, host: String) -> Result<(), String> {
    let want = norm(&host);
    let qs: Vec<Event> = dns_events(w)?
        .into_iter()
        .filter(|(_, q)| norm(&q.name) == want && (q.qtype == "A" || q.qtype == "AAAA"))
        .map(|(e, _)| e)
        .collect();
    let ok = if qs.is_empty() {
        Err(format!("the SUT never asked for the address of {want}"))
    } else {
        Ok(())
    };
    check(w, &format!("address queries for {want}"), qs, ok)
}

#[then(regex = r#"^the harness DNS answered NXDOMAIN for "([^"]+)"$"#)]
fn nxdomain(w: &mut DirectWorld, name: String) -> Result<(), String> {
    let want = norm(&name);
    let qs: Vec<(Event, direct_conformance::env::DnsEvent)> = dns_events(w)?
        .into_iter()
        .filter(|(_, q)| norm(&q.name) == want)
        .collect();
    let ok = if qs.iter().any(|(_, q)| q.rcode == "NXDOMAIN") {
        Ok(())
    } else {
        Err(format!("the SUT was never answered NXDOMAIN for {want}"))
    };
    let shown = qs.into_iter().map(|(e, _)| e).collect();
    check(w, &format!("queries for {want}"), shown, ok)
}

#[then(regex = r#"^the message the SUT sent is addressed To "([^"]+)"$"#)]
fn to_header(w: &mut DirectWorld, to: String) -> Result<(), String> {
    let c = case(w)?
        .captured
        .clone()
        .ok_or("no message was captured for the case")?;
    let got = direct_conformance::smime::entity::header_text(&c.data, "To").unwrap_or_default();
    w.record("header", "To of the captured message", got.clone());
    if got.contains(&to) {
        Ok(())
    } else {
        Err(format!(
            "the captured To header reads {got:?}, not {to:?} (MSG-19: the spelling is kept)"
        ))
    }
}

/// D16 (REQUIREMENTS §12.3): RFC 2782 picks the weight-0 server about once in 101 tries; when
/// the first search went to another server, the case is run twice more and fails only if that
/// happens again.
#[then(
    regex = r#"^the SUT sends the message encrypted to the "(\w+)" certificate only, having asked "(\w+)" first \(two more tries if the weight-0 server came first\)$"#
)]
async fn weighted(w: &mut DirectWorld, expect: String, server: String) -> Result<(), String> {
    let ctx = w.ctx()?;
    let address = case(w)?.case.address.clone();
    let tag = case(w)?.case.id.clone();
    let mut notes = Vec::new();
    for attempt in 1..=3 {
        if attempt > 1 {
            if let Some(d) = w.discovery.as_mut() {
                d.log_mark = ctx.world_log.next_seq();
                d.tap_mark = ctx.tap.captured().len();
            }
            super::edge::submit_about(
                w,
                &format!("direct-conformance {tag} try {attempt}"),
                &address,
            )
            .await?;
        }
        let got = wait_capture(w, ctx.sut.windows.accept).await?;
        record_log(w)?;
        let searches = searches_for(w, &address)?;
        let first = searches.first().map(|e| server_of(e).to_string());
        notes.push(format!(
            "try {attempt}: first LDAP search on {}; {}",
            first.as_deref().unwrap_or("(none)"),
            got.as_ref()
                .map(|c| describe(w, c))
                .unwrap_or_else(|| "nothing sent".into())
        ));
        w.evidence.retain(|e| e.title != "SRV weight tries");
        w.record("discovery", "SRV weight tries", notes.join("\n"));
        if first.as_deref() == Some(server.as_str()) {
            let c = got.ok_or_else(|| {
                format!(
                    "nothing for {address} reached the harness within {:?}",
                    ctx.sut.windows.accept
                )
            })?;
            return judge(w, &c, &expect);
        }
    }
    Err(format!(
        "in three tries the SUT never asked {server} (weight 100) first for {address} (DISC-10)"
    ))
}
