//! Outbound with the discovery client plugged in as the certificate source: the HISP finds
//! each recipient's certificate in the mock world (DNS CERT, LDAP through SRV) and encrypts
//! to it; the discovery fault switches are passed on and break the case they target.

mod hisp_common;

use std::time::Duration;

use direct_conformance::env::{World, WorldConfig, WorldHandle};
use direct_conformance::hisp::{Hisp, HispEvent};
use hisp_common::*;

const WINDOW: Duration = Duration::from_secs(30);

async fn world() -> WorldHandle {
    World::start(WorldConfig {
        echo: false,
        ..WorldConfig::ephemeral()
    })
    .await
    .expect("world starts")
}

/// Submits to `to` at a HISP that discovers certificates in `w`; returns the name of the
/// reference credential whose key opens what reached the sink (None: nothing was sent).
async fn sent_to(
    w: &WorldHandle,
    faults: &[&str],
    to: &str,
    candidates: &[&str],
) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let (sink_addr, captured) = sink().await;
    let domain = to.rsplit_once('@').unwrap().1;
    let text = hisp_toml(dir.path(), &[(domain, sink_addr)], faults).replace(
        "[resolver]",
        &format!(
            "[discovery]\nenabled = true\nhttp_hosts = {{ \"pki.direct.test:{}\" = \"{}\" }}\n\n[resolver]\nserver = \"{}\"",
            w.fixture.http_port, w.http, w.dns
        ),
    );
    let hisp = Hisp::start(settings(&text)).await.expect("start");
    let msg = dir.path().join("m.eml");
    std::fs::write(
        &msg,
        plain_message(
            "sender@hisp.direct.test",
            to,
            "<disc@hisp.direct.test>",
            "discovered",
            false,
        ),
    )
    .unwrap();
    let out = swaks(
        hisp.submission.unwrap(),
        "sender@hisp.direct.test",
        to,
        &msg,
        &[
            "--tls",
            "--auth",
            "PLAIN",
            "--auth-user",
            "sender@hisp.direct.test",
            "--auth-password",
            "secret",
        ],
    );
    assert!(out.status.success());
    hisp.wait_for(
        |e| matches!(e, HispEvent::Sent { .. } | HispEvent::DeliveryFailed { .. }),
        WINDOW,
    )
    .await
    .expect("an outcome");
    let got = captured.lock().unwrap().clone();
    hisp.shutdown().await;
    let first = got.first()?;
    candidates
        .iter()
        .find_map(|name| {
            let key = direct_conformance::keys::PrivateKey::from_pem_or_der(
                &std::fs::read(key_pem(name)).unwrap(),
            )
            .unwrap();
            direct_conformance::smime::open(&first.data, &key, None)
                .ok()
                .map(|_| name.to_string())
        })
        .or(Some("someone else".into()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovered_certificates_and_discovery_faults() {
    let w = world().await;
    // D1: valid address-bound certificate in DNS.
    assert_eq!(
        sent_to(&w, &[], "d1@domain1.direct.test", &["D1_valA"])
            .await
            .as_deref(),
        Some("D1_valA")
    );
    // no-tcp-retry: the truncated CERT answer is taken as it is, nothing is found.
    assert_eq!(
        sent_to(
            &w,
            &["no-tcp-retry"],
            "d1@domain1.direct.test",
            &["D1_valA"]
        )
        .await,
        None
    );
    // D10: one LDAP server unavailable; fail-over finds the certificate.
    assert_eq!(
        sent_to(&w, &[], "d10@domain3.direct.test", &["D10_valE"])
            .await
            .as_deref(),
        Some("D10_valE")
    );
    assert_ne!(
        sent_to(
            &w,
            &["no-ldap-failover"],
            "d10@domain3.direct.test",
            &["D10_valE"]
        )
        .await
        .as_deref(),
        Some("D10_valE")
    );
    // D15: SRV priority decides which LDAP server answers.
    assert_eq!(
        sent_to(&w, &[], "d15@domain2.direct.test", &["D15_valC"])
            .await
            .as_deref(),
        Some("D15_valC")
    );
    assert_ne!(
        sent_to(
            &w,
            &["ignore-srv-priority"],
            "d15@domain2.direct.test",
            &["D15_valC"]
        )
        .await
        .as_deref(),
        Some("D15_valC")
    );
    // D18: the intermediate comes by AIA; discovery validated it, the HISP takes its word.
    assert_eq!(
        sent_to(&w, &[], "d18@domain10.direct.test", &["D18_valA"])
            .await
            .as_deref(),
        Some("D18_valA")
    );
    // D5: the only address-bound certificate is invalid: nothing is sent, unless the
    // encrypt-to-all-found switch takes every candidate discovery parsed.
    assert_eq!(
        sent_to(&w, &[], "d5@domain1.direct.test", &["D5_invA"]).await,
        None
    );
    assert_eq!(
        sent_to(
            &w,
            &["encrypt-to-all-found"],
            "d5@domain1.direct.test",
            &["D5_invA"]
        )
        .await
        .as_deref(),
        Some("D5_invA")
    );
    w.shutdown().await;
}
