//! Signed trust bundles (RX-52..54): the harness switches the bundle its PKI site serves at
//! `https://pki.direct.test:10443/bundles/direct-test.p7m`, waits until the SUT has fetched it
//! over HTTPS, and puts the standard bundle back when the scenario ends (the scenarios that
//! change it are `@serial`: nothing else runs while the world differs).

use std::sync::Arc;
use std::time::Duration;

use cucumber::given;
use direct_conformance::env::EventKind;
use direct_conformance::env::bundle::{BUNDLE_PATH, BUNDLE_URL, BundleIssue};
use direct_conformance::env::http::PkiSite;

use super::world::DirectWorld;

/// Puts the standard bundle back when the scenario's World is dropped, whatever the outcome.
pub struct BundleRestore(Arc<PkiSite>);

impl std::fmt::Debug for BundleRestore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BundleRestore")
    }
}

impl Drop for BundleRestore {
    fn drop(&mut self) {
        if let Err(e) = self.0.set_bundle(BundleIssue::Standard) {
            eprintln!("run: cannot restore the standard trust bundle: {e}");
        }
    }
}

fn site(w: &DirectWorld) -> Result<Arc<PkiSite>, String> {
    w.ctx()?
        .harness_site
        .get()
        .cloned()
        .ok_or_else(|| "the harness PKI site is not running".into())
}

fn serve(w: &mut DirectWorld, issue: BundleIssue) -> Result<(), String> {
    let site = site(w)?;
    let changed = site.set_bundle(issue).map_err(|e| e.to_string())?;
    if issue != BundleIssue::Standard && w.bundle_restore.is_none() {
        w.bundle_restore = Some(BundleRestore(site));
    }
    w.record(
        "bundle",
        format!("the harness serves {BUNDLE_URL}"),
        format!(
            "{}{}",
            issue.describe(),
            if changed {
                " (changed now)"
            } else {
                " (already served)"
            }
        ),
    );
    Ok(())
}

#[given(r#"the harness serves the signed trust bundle holding "direct.test_ca_bundle""#)]
fn standard(w: &mut DirectWorld) -> Result<(), String> {
    serve(w, BundleIssue::Standard)
}

#[given(r#"the harness reissues the signed trust bundle without "direct.test_ca_bundle""#)]
fn withdrawn(w: &mut DirectWorld) -> Result<(), String> {
    serve(w, BundleIssue::Withdrawn)
}

#[given(
    r#"the harness serves a tampered trust bundle, re-signed with the foreign key "bundle_signer_foreign" and adding "direct.test_ca_untrusted""#
)]
fn tampered(w: &mut DirectWorld) -> Result<(), String> {
    serve(w, BundleIssue::Tampered)
}

/// HTTP-LOG: two HTTPS fetches of the bundle since it last changed. The second one shows
/// that the SUT had finished with the first (a refresher fetches one at a time), so the
/// bundle now served is the one in force. Deadline: twice the declared refresh, plus W_acc.
#[given("the SUT has fetched the trust bundle over HTTPS since it last changed")]
async fn fetched(w: &mut DirectWorld) -> Result<(), String> {
    let ctx = w.ctx()?;
    let (issue, since) = site(w)?.bundle_issue();
    let window = ctx.sut.windows.bundle_refresh * 2 + ctx.sut.windows.accept;
    let deadline = tokio::time::Instant::now() + window;
    loop {
        let fetches: Vec<_> = ctx
            .world_log
            .snapshot()
            .into_iter()
            .filter(|e| e.at >= since)
            .filter(|e| matches!(&e.kind, EventKind::Http(h) if h.path == BUNDLE_PATH))
            .collect();
        let over_tls = fetches
            .iter()
            .filter(|e| matches!(&e.kind, EventKind::Http(h) if h.tls && h.status == 200))
            .count();
        let done = over_tls >= 2;
        if done || tokio::time::Instant::now() >= deadline {
            let lines: String = fetches.iter().map(|e| format!("{e}\n")).collect();
            w.record(
                "http",
                format!("fetches of {BUNDLE_PATH} since the bundle changed ({issue:?})"),
                lines,
            );
            if done {
                return Ok(());
            }
            return Err(if fetches.is_empty() {
                format!("the SUT did not fetch {BUNDLE_URL} within {window:?} (TRUST-13)")
            } else {
                format!(
                    "the SUT fetched the bundle {} time(s), {over_tls} over HTTPS, within {window:?}: two HTTPS fetches were expected (SEC-06, TRUST-13)",
                    fetches.len()
                )
            });
        }
        tokio::time::sleep_until(
            (tokio::time::Instant::now() + Duration::from_millis(100)).min(deadline),
        )
        .await;
    }
}
