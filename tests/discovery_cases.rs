//! The discovery client against the mock world over real sockets: every discovery case
//! D1–D34 of the fixture, compared with the credential the fixture (and the catalogue §a.6,
//! §a.9) expects, plus one test per fault knob showing that it changes the case it targets.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use direct_conformance::discovery::{
    Discoverer, DiscoveryConfig, DiscoveryResult, FaultKnobs, SrvRandom, Timeouts,
};
use direct_conformance::env::{EventKind, Transport, World, WorldConfig, WorldHandle};
use direct_conformance::pki::ReferencePki;
use direct_conformance::trust::TrustAnchor;
use direct_conformance::trust::cert::sha256_hex;

fn pki() -> Arc<ReferencePki> {
    static PKI: OnceLock<Arc<ReferencePki>> = OnceLock::new();
    PKI.get_or_init(|| Arc::new(ReferencePki::load_default().expect("test PKI")))
        .clone()
}

/// SHA-256 of each credential's certificate → its name.
fn names_by_hash() -> BTreeMap<String, String> {
    pki()
        .credentials()
        .map(|c| (sha256_hex(&c.certificate), c.name.clone()))
        .collect()
}

async fn world() -> WorldHandle {
    let config = WorldConfig {
        pki: Some(pki()),
        ..WorldConfig::ephemeral()
    };
    World::start(config).await.expect("world starts")
}

/// A fixed RFC 2782 random number (clamped to the total weight).
struct Fixed(u32);
impl SrvRandom for Fixed {
    fn up_to(&self, max: u32) -> u32 {
        self.0.min(max)
    }
}

fn config(w: &WorldHandle, faults: FaultKnobs) -> DiscoveryConfig {
    let root = pki().anchor().expect("anchor").certificate.clone();
    let mut c = DiscoveryConfig::new(w.dns, vec![TrustAnchor::from_certificate(root)]);
    // The certificates name pki.direct.test:10080; the world serves HTTP on a free port.
    c.http_hosts
        .insert(format!("pki.direct.test:{}", w.fixture.http_port), w.http);
    c.timeouts = Timeouts {
        dns: Duration::from_secs(2),
        dns_attempts: 2,
        ldap_connect: Duration::from_secs(2),
        ldap_operation: Duration::from_secs(2),
        http: Duration::from_secs(5),
        total: Duration::from_secs(12),
    };
    // The weight-100 server first (D16); the weighted choice itself is tested below.
    c.random = Arc::new(Fixed(u32::MAX));
    c.faults = faults;
    c
}

async fn run(
    w: &WorldHandle,
    address: &str,
    faults: FaultKnobs,
) -> (BTreeSet<String>, DiscoveryResult) {
    let d = Discoverer::new(config(w, faults)).expect("resolver");
    let r = d.discover(address).await;
    let by_hash = names_by_hash();
    let chosen = r
        .chosen_sha256()
        .iter()
        .map(|h| {
            by_hash
                .get(h)
                .cloned()
                .unwrap_or_else(|| format!("unknown {h}"))
        })
        .collect();
    (chosen, r)
}

fn expected(e: &Option<String>) -> BTreeSet<String> {
    e.iter().cloned().collect()
}

/// Why nothing may be chosen in each negative case (catalogue §a.6, §a.9).
fn negative_reason(id: &str) -> Option<&'static str> {
    Some(match id {
        "D5" | "D6" | "D7" | "D8" => "Expired",
        "D11" | "D12" | "D13" => "none",
        "D19" => "NotYetValid",
        "D20" => "WrongBinding",
        "D21" => "Untrusted",
        "D34" => "Revoked",
        _ => return None,
    })
}

fn case<'a>(w: &'a WorldHandle, id: &str) -> &'a direct_conformance::env::CaseSpec {
    w.cases()
        .iter()
        .find(|c| c.id == id)
        .expect("case in fixture")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_discovery_case_chooses_the_expected_certificate() {
    let w = world().await;
    let cases: Vec<_> = w
        .cases()
        .iter()
        .filter(|c| c.id.starts_with('D'))
        .cloned()
        .collect();
    assert_eq!(cases.len(), 34, "D1–D34 in the fixture");
    let mut failures = Vec::new();
    let mut table = String::new();
    for c in &cases {
        let (got, r) = run(&w, &c.address, FaultKnobs::default()).await;
        let want = expected(&c.expect);
        table.push_str(&format!(
            "{:<4} {:<34} want {want:?} got {got:?}\n",
            c.id, c.address
        ));
        // Negative cases: nothing chosen for the case's own reason, not by accident.
        if let Some(reason) = negative_reason(&c.id) {
            let reasons: Vec<String> = r
                .candidates
                .iter()
                .map(|k| format!("{:?}", k.verdict))
                .collect();
            let ok = match reason {
                "none" => r.candidates.is_empty(),
                _ => !reasons.is_empty() && reasons.iter().all(|v| v.contains(reason)),
            };
            if !ok {
                failures.push(format!(
                    "{}: expected every candidate dropped as {reason}, got {reasons:?}\n{}",
                    c.id,
                    r.explain()
                ));
            }
        }
        if got != want {
            failures.push(format!(
                "{} ({}): expected {want:?}, got {got:?}\n{}",
                c.id,
                c.title,
                r.explain()
            ));
        }
    }
    println!("{table}");
    w.shutdown().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn dns_events(w: &WorldHandle, from: u64, prefix: &str) -> Vec<direct_conformance::env::DnsEvent> {
    w.log
        .since(from)
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Dns(d) if d.name.to_ascii_lowercase().starts_with(prefix) => Some(d),
            _ => None,
        })
        .collect()
}

fn http_paths(w: &WorldHandle, from: u64) -> Vec<String> {
    w.log
        .since(from)
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Http(h) => Some(h.path),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_tcp_retry_crl_aia_ipkix_and_order() {
    let w = world().await;
    // D14: the 4096-bit certificate's answer is truncated over UDP and fetched over TCP.
    let mark = w.log.next_seq();
    let (got, r) = run(&w, &case(&w, "D14").address, FaultKnobs::default()).await;
    assert_eq!(got, expected(&Some("D14_valA".into())), "{}", r.explain());
    let ev = dns_events(&w, mark, "d14.");
    assert!(
        ev.iter()
            .any(|d| d.transport == Transport::Udp && d.truncated),
        "{ev:?}"
    );
    assert!(
        ev.iter()
            .any(|d| d.transport == Transport::Tcp && d.answers == 1),
        "{ev:?}"
    );
    // D1: the address-bound name is asked first and nothing else is needed.
    let mark = w.log.next_seq();
    let (_, r) = run(&w, "d1@domain1.direct.test", FaultKnobs::default()).await;
    let first = w.log.since(mark).into_iter().find_map(|e| match e.kind {
        EventKind::Dns(d) => Some(d.name),
        _ => None,
    });
    assert_eq!(
        first.as_deref(),
        Some("d1.domain1.direct.test."),
        "{}",
        r.explain()
    );
    // D17: the root CRL is fetched; D18: intermediate1 by AIA; D33: the .p7c; D23: IPKIX.
    for (id, path) in [
        ("D17", "/direct.test_ca_root.crl"),
        ("D18", "/direct.test_ca_intermediate1.cer"),
        ("D33", "/direct.test_ca_intermediate2.p7c"),
        ("D23", "/ipkix/D23_valA.cer"),
        ("D34", "/direct.test_ca_root.crl"),
    ] {
        let mark = w.log.next_seq();
        let c = case(&w, id).clone();
        let (got, r) = run(&w, &c.address, FaultKnobs::default()).await;
        assert_eq!(got, expected(&c.expect), "{id}\n{}", r.explain());
        let paths = http_paths(&w, mark);
        assert!(paths.iter().any(|p| p == path), "{id}: {paths:?}");
        assert!(
            r.steps.iter().any(|s| s.to_string_target().contains(path)),
            "{id}: the result records the fetch\n{}",
            r.explain()
        );
    }
    // D25: the silent server costs one bounded operation timeout, then L5 answers.
    let started = std::time::Instant::now();
    let (got, r) = run(&w, "d25@domain17.direct.test", FaultKnobs::default()).await;
    assert_eq!(got, expected(&Some("D25_valC".into())), "{}", r.explain());
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{}",
        r.explain()
    );
    assert!(
        r.steps
            .iter()
            .any(|s| !s.ok && s.outcome.contains("timeout")),
        "{}",
        r.explain()
    );
    // D29: the CNAME is followed and named in the evidence.
    let (_, r) = run(&w, "d29@domain21.direct.test", FaultKnobs::default()).await;
    assert!(
        r.explain().contains("CNAME certs.domain21"),
        "{}",
        r.explain()
    );
    // D10: the unresolvable target is asked for once, then skipped.
    let (_, r) = run(&w, "d10@domain3.direct.test", FaultKnobs::default()).await;
    let asked = r
        .steps
        .iter()
        .filter(|s| s.target.to_string() == "DNS A ldap-unavailable.direct.test.")
        .count();
    assert_eq!(asked, 1, "{}", r.explain());
    // A failed CERT lookup (REFUSED outside direct.test) stops discovery: no SRV, no LDAP.
    let (got, r) = run(&w, "someone@example.org", FaultKnobs::default()).await;
    assert!(got.is_empty());
    assert!(r.conclusion.contains("failed"), "{}", r.explain());
    assert_eq!(r.steps.len(), 1, "{}", r.explain());
    // IPKIX switched off: the type-4 record is ignored (DISC-03), not "found and invalid".
    let mut c = config(&w, FaultKnobs::default());
    c.follow_ipkix = false;
    let r = Discoverer::new(c)
        .expect("resolver")
        .discover("d23@domain15.direct.test")
        .await;
    assert!(r.certificates.is_empty());
    assert_eq!(
        r.conclusion,
        "no valid certificate found",
        "{}",
        r.explain()
    );
    assert!(
        r.explain().contains("UnsupportedType(4)"),
        "{}",
        r.explain()
    );
    // The overall bound: the tarpit alone outlasts a 1 s budget.
    let mut c = config(&w, FaultKnobs::default());
    c.timeouts.total = Duration::from_secs(1);
    let started = std::time::Instant::now();
    let r = Discoverer::new(c)
        .expect("resolver")
        .discover("d25@domain17.direct.test")
        .await;
    assert!(started.elapsed() < Duration::from_millis(1800));
    assert!(
        r.certificates.is_empty() && r.conclusion.contains("gave up"),
        "{}",
        r.explain()
    );
    assert!(!r.steps.is_empty(), "the evidence so far is kept");
    // D15: L1 (priority 0) asked first; D16: L3 (weight 100) asked first.
    for (id, server) in [("D15", "L1"), ("D16", "L3")] {
        let (_, r) = run(&w, &case(&w, id).address, FaultKnobs::default()).await;
        let want = w.ldap_addr(server).map(|a| a.to_string());
        let first = r.steps.iter().find_map(|s| match &s.target {
            direct_conformance::discovery::StepTarget::Ldap { .. } => s.server.clone(),
            _ => None,
        });
        assert_eq!(first, want, "{id}\n{}", r.explain());
    }
    // D5: the dropped candidate is explained.
    let (_, r) = run(&w, "d5@domain1.direct.test", FaultKnobs::default()).await;
    assert!(r.conclusion.contains("DISC-16"), "{}", r.explain());
    assert!(r.explain().contains("Expired"), "{}", r.explain());
    // The result is evidence for reports: it serialises with every step and candidate.
    let json = serde_json::to_value(&r).expect("json");
    assert!(json["candidates"][0]["verdict"]["Dropped"]["Expired"].is_string());
    assert_eq!(json["steps"].as_array().map(Vec::len), Some(r.steps.len()));
    w.shutdown().await;
}

trait TargetText {
    fn to_string_target(&self) -> String;
}
impl TargetText for direct_conformance::discovery::NetworkStep {
    fn to_string_target(&self) -> String {
        self.target.to_string()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn srv_weight_follows_the_random_number() {
    let w = world().await;
    let addr = case(&w, "D16").address.clone();
    // A zero-weight server is chosen only when the random number is 0 (RFC 2782).
    let mut c = config(&w, FaultKnobs::default());
    c.random = Arc::new(Fixed(0));
    let r = Discoverer::new(c).expect("resolver").discover(&addr).await;
    let by_hash = names_by_hash();
    let got: Vec<_> = r
        .chosen_sha256()
        .iter()
        .filter_map(|h| by_hash.get(h).cloned())
        .collect();
    assert_eq!(got, ["D16_valE"], "{}", r.explain());
    w.shutdown().await;
}

/// Each knob changes the outcome of the case it targets, and only by its own defect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_knob_breaks_its_case() {
    let w = world().await;
    let k = FaultKnobs::default;
    let knobs: Vec<(&str, FaultKnobs, &[&str])> = vec![
        (
            "D1",
            FaultKnobs {
                domain_bound_before_address_bound: true,
                ..k()
            },
            &["D2_valB"],
        ),
        (
            "D5",
            FaultKnobs {
                fallback_to_domain_after_invalid: true,
                ..k()
            },
            &["D2_valB"],
        ),
        (
            "D14",
            FaultKnobs {
                no_tcp_retry: true,
                ..k()
            },
            &[],
        ),
        (
            "D15",
            FaultKnobs {
                ignore_srv_priority: true,
                ..k()
            },
            &[],
        ),
        (
            "D24",
            FaultKnobs {
                no_ldap_failover: true,
                ..k()
            },
            &[],
        ),
        (
            "D16",
            FaultKnobs {
                ignore_srv_weight: true,
                ..k()
            },
            &["D16_valE"],
        ),
        (
            "D17",
            FaultKnobs {
                ignore_crl: true,
                ..k()
            },
            &["D17_invB", "D17_invC", "D17_valA"],
        ),
        (
            "D34",
            FaultKnobs {
                ignore_crl: true,
                ..k()
            },
            &["D34_invA"],
        ),
        (
            "D18",
            FaultKnobs {
                no_aia_fetch: true,
                ..k()
            },
            &[],
        ),
        (
            "D33",
            FaultKnobs {
                no_aia_fetch: true,
                ..k()
            },
            &[],
        ),
        (
            "D27",
            FaultKnobs {
                local_part_up_to_dot: true,
                ..k()
            },
            &[],
        ),
        (
            "D28",
            FaultKnobs {
                case_sensitive_binding: true,
                ..k()
            },
            &[],
        ),
        (
            "D29",
            FaultKnobs {
                no_cname: true,
                ..k()
            },
            &[],
        ),
        (
            "D30",
            FaultKnobs {
                refuse_dual_san: true,
                ..k()
            },
            &[],
        ),
        (
            "D31",
            FaultKnobs {
                nxdomain_fails: true,
                ..k()
            },
            &[],
        ),
        (
            "D32",
            FaultKnobs {
                first_naming_context_only: true,
                ..k()
            },
            &[],
        ),
    ];
    for (id, knob, broken) in knobs {
        let c = case(&w, id).clone();
        let (ok, r0) = run(&w, &c.address, FaultKnobs::default()).await;
        assert_eq!(
            ok,
            expected(&c.expect),
            "{id} without faults\n{}",
            r0.explain()
        );
        let (got, r) = run(&w, &c.address, knob).await;
        let want: BTreeSet<String> = broken.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, want, "{id} with {knob:?}\n{}", r.explain());
    }
    // D7 (LDAP): the fallback knob reaches the valid domain certificate D4_valD.
    let (got, r) = run(
        &w,
        "d7@domain2.direct.test",
        FaultKnobs {
            fallback_to_domain_after_invalid: true,
            ..FaultKnobs::default()
        },
    )
    .await;
    assert_eq!(got, expected(&Some("D4_valD".into())), "{}", r.explain());
    w.shutdown().await;
}
