//! The PKI site over HTTPS (trust bundles, TEST-CATALOGUE §0.4 port 10443), checked with
//! `curl` (a missing curl fails the test): the bundle arrives over TLS with a certificate
//! that chains to the harness anchor, is the same as over plain HTTP, and the fetch is logged
//! as HTTPS; a client without the anchor refuses the server.

use std::process::Command;

use direct_conformance::env::{EventKind, World, WorldConfig};

fn curl(args: &[&str]) -> std::process::Output {
    Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("`curl` must be installed for the env tests: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_bundles_are_served_over_https_with_the_harness_certificate() {
    let w = World::start(WorldConfig::ephemeral())
        .await
        .expect("world starts");
    let anchor = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/reference-certs/HARNESS-TRUST-ANCHOR.pem"
    );
    let port = w.https.port();
    let resolve = format!("pki.direct.test:{port}:127.0.0.1");
    let https_url = format!("https://pki.direct.test:{port}/bundles/direct-test.p7b");
    let http_url = format!("http://{}/bundles/direct-test.p7b", w.http);

    let (tls, plain, untrusted) = tokio::task::spawn_blocking({
        let (resolve, https_url, http_url) = (resolve.clone(), https_url.clone(), http_url);
        move || {
            let tls = curl(&["--cacert", anchor, "--resolve", &resolve, &https_url]);
            let plain = curl(&[&http_url]);
            // The system's roots do not include the harness anchor: verification must fail.
            let untrusted = curl(&["--resolve", &resolve, &https_url]);
            (tls, plain, untrusted)
        }
    })
    .await
    .expect("curl runs");
    assert!(
        tls.status.success(),
        "HTTPS fetch failed: {}",
        String::from_utf8_lossy(&tls.stderr)
    );
    assert!(plain.status.success() && !plain.stdout.is_empty());
    assert_eq!(
        tls.stdout, plain.stdout,
        "the same bundle over HTTPS and HTTP"
    );
    assert!(
        !untrusted.status.success(),
        "a client without the harness anchor accepted the server"
    );

    let https_fetches = w
        .log
        .snapshot()
        .into_iter()
        .filter(|e| matches!(&e.kind, EventKind::Http(h) if h.tls && h.path.ends_with(".p7b")))
        .count();
    assert_eq!(https_fetches, 1, "one HTTPS fetch logged");
    w.shutdown().await;
}
