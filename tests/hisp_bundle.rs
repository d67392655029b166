//! Trust-bundle subscriptions of the reference HISP against the harness world's real HTTPS
//! server (TRUST-12, TRUST-13, SEC-06): the signed bundle's anchor is installed, a reissue
//! without it withdraws it, a bundle re-signed with a foreign key is ignored (the old anchors
//! stay), and the fault switches break exactly that.

mod hisp_common;

use std::time::Duration;

use direct_conformance::env::bundle::BundleIssue;
use direct_conformance::env::{World, WorldConfig};
use direct_conformance::hisp::{Hisp, HispHandle};

fn subject_names(h: &HispHandle) -> Vec<String> {
    h.core
        .bundles
        .anchors()
        .iter()
        .map(|a| a.name.to_string())
        .collect()
}

/// Waits (bounded) until the HISP's bundle anchors satisfy `pred`.
async fn until(h: &HispHandle, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let names = subject_names(h);
        if pred(&names) || tokio::time::Instant::now() >= deadline {
            return names;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn subscriber(
    dir: &std::path::Path,
    w: &direct_conformance::env::WorldHandle,
    faults: &[&str],
) -> HispHandle {
    let mut text = hisp_common::sut_toml(dir, &[], faults);
    // Host names through the world: the bundle's HTTPS port and the CRL port.
    text = text.replace(
        "[[domain]]",
        &format!(
            "[discovery]\nhttp_hosts = {{ \"pki.direct.test:10080\" = \"{}\", \"pki.direct.test:10443\" = \"{}\" }}\n\n[[trust_bundle]]\nurl = \"https://pki.direct.test:10443/bundles/direct-test.p7m\"\nsigner_anchors = [\"pki:direct.test_ca_root\"]\nrefresh_secs = 1\n\n[[domain]]",
            w.http, w.https
        ),
    );
    Hisp::start(hisp_common::settings(&text))
        .await
        .expect("the HISP starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_follows_the_signed_bundle_and_ignores_a_tampered_one() {
    let w = World::start(WorldConfig::ephemeral()).await.expect("world");
    let dir = tempfile::tempdir().unwrap();
    let h = subscriber(dir.path(), &w, &[]).await;
    let has_bundle_ca = |n: &[String]| n.iter().any(|s| s.contains("direct.test_ca_bundle"));

    let got = until(&h, has_bundle_ca).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(has_bundle_ca(&got), "{got:?}");

    // A bundle re-signed with a foreign key adding the untrusted root: ignored.
    w.site.set_bundle(BundleIssue::Tampered).unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let got = subject_names(&h);
    assert_eq!(got.len(), 1, "the tampered bundle was taken: {got:?}");

    // Reissued without the anchor: withdrawn.
    w.site.set_bundle(BundleIssue::Withdrawn).unwrap();
    let got = until(&h, |n| n.is_empty()).await;
    assert!(got.is_empty(), "the withdrawn anchor stayed: {got:?}");
    h.shutdown().await;

    // With the switches: the tampered bundle is taken, the withdrawn anchor stays.
    w.site.set_bundle(BundleIssue::Standard).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let h = subscriber(
        dir.path(),
        &w,
        &["ignore-bundle-signature", "keep-withdrawn-anchor"],
    )
    .await;
    assert!(has_bundle_ca(&until(&h, has_bundle_ca).await));
    w.site.set_bundle(BundleIssue::Tampered).unwrap();
    let got = until(&h, |n| n.len() == 2).await;
    assert_eq!(got.len(), 2, "ignore-bundle-signature: {got:?}");
    w.site.set_bundle(BundleIssue::Withdrawn).unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(subject_names(&h).len(), 2, "keep-withdrawn-anchor");
    h.shutdown().await;
    w.shutdown().await;
}
