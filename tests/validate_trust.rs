//! The certificate (VC-5xx) and trust (VC-6xx) families through the `validate` binary: each
//! message is signed by `openssl cms -sign` with a certificate from an `openssl ca`-made PKI
//! (tests/trust_common), so the wiring from the validator into `crate::trust`, the severity by
//! profile and the evidence are checked end to end. The trust library's own tests cover every
//! rule in depth; these show each family firing and staying quiet from the command line.

mod common;
mod trust_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::findings::outcome as outcomes;
use serde_json::Value;
use trust_common::{Pki, openssl_ok, pki};

const BIN: &str = env!("CARGO_BIN_EXE_direct-conformance");

/// A signed (not encrypted) message from `from`, signed by the leaf `name`. The intermediate
/// is left out of the SignedData, so that the path needs `--intermediate` or AIA.
fn signed(pki: &Pki, name: &str, from: &str) -> PathBuf {
    let leaf = pki.leaf(name);
    let key = leaf.path.with_extension("key");
    let dir = pki.dir.path();
    let body = dir.join(format!("{name}-{from}.txt"));
    std::fs::write(
        &body,
        "Content-Type: text/plain; charset=us-ascii\r\n\r\nReferral for patient 1234.\r\n",
    )
    .expect("write body");
    let out = dir.join(format!("{name}-{from}.eml"));
    openssl_ok(
        &[
            "cms",
            "-sign",
            "-in",
            body.to_str().expect("path"),
            "-signer",
            leaf.path.to_str().expect("path"),
            "-inkey",
            key.to_str().expect("path"),
            "-md",
            "sha256",
            "-from",
            from,
            "-to",
            "bob@sut.direct.test",
            "-subject",
            "Referral",
            "-out",
            out.to_str().expect("path"),
        ],
        dir,
    );
    out
}

fn validate(args: &[&str], message: &Path) -> (i32, Vec<Value>) {
    let out = Command::new(BIN)
        .args(["validate", "--format", "json", "--at", &now()])
        .args(args)
        .arg(message)
        .output()
        .expect("run the binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let findings = v["messages"][0]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    (out.status.code().unwrap_or(-1), findings)
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format now")
}

fn has(findings: &[Value], id: &str, status: &str, severity: &str) -> bool {
    outcomes(findings, id)
        .iter()
        .any(|(s, v)| s == status && (severity.is_empty() || v == severity))
}

fn none_failed(findings: &[Value], id: &str) -> bool {
    let o = outcomes(findings, id);
    !o.is_empty() && o.iter().all(|(s, _)| s != "failed" && s != "not-evaluated")
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// The full offline input set: the root as anchor, the intermediate and its CRL as files.
fn offline_args(pki: &Pki) -> Vec<String> {
    vec![
        "--anchor".into(),
        p(&pki.root.cert_path).into(),
        "--intermediate".into(),
        p(&pki.inter.cert_path).into(),
        "--crl".into(),
        p(&pki.crls["inter"]).into(),
        "--crl".into(),
        p(&pki.crls["root"]).into(),
    ]
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn a_valid_signer_passes_both_families() {
    let pki = pki();
    let msg = signed(pki, "valid", "valid@hisp.direct.test");
    let (_, f) = validate(&strs(&offline_args(pki)), &msg);
    for id in [
        "VC-501", "VC-502", "VC-503", "VC-505", "VC-506", "VC-507", "VC-508", "VC-601", "VC-603",
        "VC-604", "VC-605", "VC-606",
    ] {
        assert!(none_failed(&f, id), "{id}: {:?}", outcomes(&f, id));
    }
    // The path is evidence on VC-601.
    let evidence = f
        .iter()
        .find(|x| x["id"] == "VC-601")
        .map(|x| x.to_string())
        .unwrap_or_default();
    assert!(evidence.contains("path"), "{evidence}");
}

#[test]
fn without_an_anchor_the_trust_family_is_not_evaluated() {
    let pki = pki();
    let msg = signed(pki, "valid", "valid@hisp.direct.test");
    let (_, f) = validate(&[], &msg);
    for id in ["VC-601", "VC-602", "VC-603", "VC-604", "VC-605", "VC-606"] {
        assert!(
            has(&f, id, "not-evaluated", ""),
            "{id}: {:?}",
            outcomes(&f, id)
        );
        assert!(!has(&f, id, "passed", ""), "{id} passed without an anchor");
    }
}

#[test]
fn an_unrelated_anchor_fails_the_path() {
    let pki = pki();
    let msg = signed(pki, "valid", "valid@hisp.direct.test");
    let args = [
        "--anchor",
        p(&pki.other_root.cert_path),
        "--intermediate",
        p(&pki.inter.cert_path),
    ];
    let (code, f) = validate(&args, &msg);
    assert!(
        has(&f, "VC-601", "failed", "error"),
        "{:?}",
        outcomes(&f, "VC-601")
    );
    assert_eq!(code, 1);
}

#[test]
fn a_missing_intermediate_fails_offline_and_is_fetched_online() {
    let pki = pki();
    let msg = signed(pki, "valid", "valid@hisp.direct.test");
    let anchor = ["--anchor", p(&pki.root.cert_path)];
    let (_, f) = validate(&anchor, &msg);
    assert!(
        has(&f, "VC-601", "failed", "error"),
        "{:?}",
        outcomes(&f, "VC-601")
    );
    assert!(
        !has(&f, "VC-607", "passed", ""),
        "{:?}",
        outcomes(&f, "VC-607")
    );
    // With --online the intermediate comes from the AIA caIssuers URL, and the fetch is
    // evidence on VC-602.
    let (_, f) = validate(&["--anchor", p(&pki.root.cert_path), "--online"], &msg);
    assert!(none_failed(&f, "VC-601"), "{:?}", outcomes(&f, "VC-601"));
    let fetched = f.iter().filter(|x| x["id"] == "VC-602").any(|x| {
        x["message"]
            .as_str()
            .unwrap_or_default()
            .contains("inter.cer")
    });
    assert!(fetched, "{:?}", outcomes(&f, "VC-602"));
}

#[test]
fn a_revoked_signer_fails_revocation() {
    let pki = pki();
    let msg = signed(pki, "revoked", "revoked@hisp.direct.test");
    let (code, f) = validate(&strs(&offline_args(pki)), &msg);
    assert!(
        has(&f, "VC-605", "failed", "error"),
        "{:?}",
        outcomes(&f, "VC-605")
    );
    assert_eq!(code, 1);
}

#[test]
fn an_expired_signer_fails_validity() {
    let pki = pki();
    let msg = signed(pki, "expired", "expired@hisp.direct.test");
    let (_, f) = validate(&strs(&offline_args(pki)), &msg);
    assert!(
        has(&f, "VC-505", "failed", "error"),
        "{:?}",
        outcomes(&f, "VC-505")
    );
    assert!(has(&f, "VC-601", "failed", "error") || has(&f, "VC-603", "failed", "error"));
}

#[test]
fn a_signer_not_bound_to_from_fails_502() {
    let pki = pki();
    let msg = signed(pki, "valid", "someone.else@hisp.direct.test");
    let (code, f) = validate(&strs(&offline_args(pki)), &msg);
    assert!(
        has(&f, "VC-502", "failed", "error"),
        "{:?}",
        outcomes(&f, "VC-502")
    );
    assert_eq!(code, 1);
}

#[test]
fn weak_keys_and_sha1_certificates_by_profile() {
    let pki = pki();
    let base = offline_args(pki);
    for (leaf, id) in [("rsa1024", "VC-506"), ("sha1", "VC-507")] {
        let msg = signed(pki, leaf, &format!("{leaf}@hisp.direct.test"));
        let (_, f) = validate(&strs(&base), &msg);
        assert!(
            has(&f, id, "failed", "error"),
            "{leaf} ds-1.3: {:?}",
            outcomes(&f, id)
        );
        let mut ats = strs(&base);
        ats.extend_from_slice(&["--profile", "ats-1.2"]);
        let (_, f) = validate(&ats, &msg);
        assert!(
            has(&f, id, "failed", "warning"),
            "{leaf} ats-1.2: {:?}",
            outcomes(&f, id)
        );
    }
}

#[test]
fn a_signer_without_digital_signature_fails_508() {
    let pki = pki();
    let msg = signed(pki, "wrongku", "wrongku@hisp.direct.test");
    let (_, f) = validate(&strs(&offline_args(pki)), &msg);
    assert!(
        has(&f, "VC-508", "failed", "error"),
        "{:?}",
        outcomes(&f, "VC-508")
    );
}
