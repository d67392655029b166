//! The `validate` command end to end: messages made by `openssl cms` (and hand-made where
//! OpenSSL will not make them) run through the binary; exit codes and JSON findings are
//! checked. These tests fail, never skip, when `openssl` is missing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::findings::outcome;
use common::sealing::{OUTER_HEADER, Recipe, make};
use common::{openssl_ok, test_pki};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_direct-conformance");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = Command::new(BIN)
        .arg("validate")
        .args(args)
        .output()
        .expect("run the binary");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write message");
    p
}

/// Runs with JSON output; returns the exit code and the findings of the single message.
fn findings(args: &[&str]) -> (i32, Vec<Value>) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let r = run(&all);
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", r.stdout, r.stderr));
    let f = v["messages"][0]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    (r.code, f)
}

fn only(findings: &[Value], id: &str) -> (String, String) {
    let o = outcome(findings, id);
    assert_eq!(o.len(), 1, "{id}: {o:?}");
    o[0].clone()
}

/// Like `only`, among the findings about the signer (not the recipient certificate's).
fn signer_only(findings: &[Value], id: &str) -> (String, String) {
    let about_signer: Vec<Value> = findings
        .iter()
        .filter(|f| {
            !f["part_path"]
                .as_str()
                .unwrap_or_default()
                .contains("recipient certificate")
        })
        .cloned()
        .collect();
    only(&about_signer, id)
}

fn errors(findings: &[Value]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f["status"] == "failed" && f["severity"] == "error")
        .map(|f| format!("{} {} {}", f["id"], f["part_path"], f["message"]))
        .collect()
}

/// Validates a message made from `recipe` with bob's key and certificate.
fn check(pki: &common::TestPki, name: &str, recipe: &Recipe, extra: &[&str]) -> (i32, Vec<Value>) {
    let d = pki.dir.path();
    let msg = write(d, name, &make(d, recipe));
    let key = pki.bob.key_path.to_str().expect("path");
    let cert = pki.bob.cert_path.to_str().expect("path");
    let mut args = vec!["--recipient-key", key, "--recipient-cert", cert];
    args.extend_from_slice(extra);
    args.push(msg.to_str().expect("path"));
    findings(&args)
}

fn pass(s: &str) -> (String, String) {
    (s.to_string(), String::new())
}

fn is(o: (String, String), status: &str, severity: &str) -> bool {
    o.0 == status && (severity.is_empty() || o.1 == severity)
}

#[test]
fn a_good_openssl_message_has_no_errors() {
    let pki = test_pki();
    let (code, f) = check(&pki, "good.eml", &Recipe::default(), &[]);
    assert_eq!(errors(&f), Vec::<String>::new());
    assert_eq!(code, 0);
    for id in [
        "VC-301", "VC-302", "VC-303", "VC-304", "VC-305", "VC-306", "VC-307", "VC-308", "VC-309",
        "VC-311", "VC-312", "VC-401", "VC-402", "VC-403", "VC-404", "VC-406", "VC-407", "VC-408",
        "VC-409", "VC-410", "VC-411", "VC-412", "VC-413", "VC-415", "VC-115",
    ] {
        assert!(
            is(only(&f, id), "passed", ""),
            "{id}: {:?}",
            outcome(&f, id)
        );
    }
    assert!(is(only(&f, "VC-405"), "info", ""));
    assert!(is(only(&f, "VC-414"), "info", ""));
    // The signer's certificate profile (VC-5xx) is judged; without --anchor the trust
    // family (VC-6xx) is not evaluated, never passed.
    for id in ["VC-501", "VC-502", "VC-505", "VC-506", "VC-507", "VC-508"] {
        assert!(is(signer_only(&f, id), "passed", ""), "{id}");
    }
    for id in ["VC-601", "VC-606", "VC-607"] {
        assert!(is(only(&f, id), "not-evaluated", ""), "{id}");
    }
    let _ = pass("");
}

#[test]
fn without_a_key_the_inner_checks_are_not_evaluated() {
    let pki = test_pki();
    let d = pki.dir.path();
    let msg = write(d, "m.eml", &make(d, &Recipe::default()));
    let (code, f) = findings(&[msg.to_str().expect("path")]);
    assert_eq!(code, 0, "{:?}", errors(&f));
    for id in ["VC-404", "VC-306", "VC-311", "VC-411", "VC-312", "VC-112"] {
        assert!(is(only(&f, id), "not-evaluated", ""), "{id}");
    }
    // With only a certificate, VC-404 can still tell whether the envelope names it.
    let m = msg.to_str().expect("path");
    let bob = pki.bob.cert_path.to_str().expect("path");
    let alice = pki.alice.cert_path.to_str().expect("path");
    let (_, f) = findings(&["--recipient-cert", bob, m]);
    assert!(is(only(&f, "VC-404"), "not-evaluated", ""));
    let (code, f) = findings(&["--recipient-cert", alice, m]);
    assert!(is(only(&f, "VC-404"), "failed", "error"));
    assert_eq!(code, 1);
}

#[test]
fn a_message_for_someone_else_fails_404() {
    let pki = test_pki();
    let recipe = Recipe {
        recipient: "alice",
        ..Recipe::default()
    };
    let (code, f) = check(&pki, "other.eml", &recipe, &[]);
    assert_eq!(code, 1);
    assert!(is(only(&f, "VC-404"), "failed", "error"));
    assert!(is(only(&f, "VC-401"), "passed", ""));
}

#[test]
fn legacy_ciphers_by_profile() {
    let pki = test_pki();
    let recipe = Recipe {
        cipher: "-des3",
        ..Recipe::default()
    };
    let (code, f) = check(&pki, "3des.eml", &recipe, &[]);
    assert!(is(only(&f, "VC-402"), "failed", "error"));
    assert_eq!(code, 1);
    let (code, f) = check(&pki, "3des.eml", &recipe, &["--profile", "ats-1.2"]);
    assert!(is(only(&f, "VC-402"), "failed", "warning"));
    assert_eq!(code, 0, "{:?}", errors(&f));
}

#[test]
fn aes_gcm_and_oaep_pass() {
    let pki = test_pki();
    let recipe = Recipe {
        cipher: "-aes-256-gcm",
        oaep: true,
        ..Recipe::default()
    };
    let (code, f) = check(&pki, "gcm.eml", &recipe, &[]);
    assert_eq!(errors(&f), Vec::<String>::new());
    assert_eq!(code, 0);
    assert!(is(only(&f, "VC-302"), "passed", ""));
    assert!(is(only(&f, "VC-403"), "passed", ""));
    assert!(is(only(&f, "VC-404"), "passed", ""));
}

#[test]
fn sha1_digest_by_profile() {
    let pki = test_pki();
    let recipe = Recipe {
        md: "sha1",
        ..Recipe::default()
    };
    let (code, f) = check(&pki, "sha1.eml", &recipe, &[]);
    assert!(is(only(&f, "VC-409"), "failed", "error"));
    assert_eq!(code, 1);
    let (_, f) = check(&pki, "sha1.eml", &recipe, &["--profile", "ats-1.2"]);
    assert!(is(only(&f, "VC-409"), "failed", "warning"));
    let recipe = Recipe {
        md: "sha384",
        ..Recipe::default()
    };
    let (_, f) = check(&pki, "sha384.eml", &recipe, &[]);
    assert!(is(only(&f, "VC-409"), "passed", ""));
}

#[test]
fn unwrapped_is_a_warning_under_ds13_and_an_error_under_ats12() {
    let pki = test_pki();
    let recipe = Recipe {
        entity: b"Content-Type: text/plain; charset=us-ascii\r\n\r\nhello\r\n".to_vec(),
        ..Recipe::default()
    };
    let (code, f) = check(&pki, "unwrapped.eml", &recipe, &[]);
    assert!(is(only(&f, "VC-311"), "failed", "warning"));
    assert!(is(only(&f, "VC-312"), "not-evaluated", ""));
    assert_eq!(code, 0, "{:?}", errors(&f));
    let (code, f) = check(&pki, "unwrapped.eml", &recipe, &["--profile", "ats-1.2"]);
    assert!(is(only(&f, "VC-311"), "failed", "error"));
    assert_eq!(code, 1);
}

#[test]
fn tampered_content_fails_the_signature() {
    let pki = test_pki();
    let recipe = Recipe {
        edit_signed: Some(|s| s.replacen("Please see", "Please SEE", 1)),
        ..Recipe::default()
    };
    let (code, f) = check(&pki, "tampered.eml", &recipe, &[]);
    assert!(is(only(&f, "VC-411"), "failed", "error"));
    assert!(is(only(&f, "VC-410"), "failed", "error"));
    assert_eq!(code, 1);
}

#[test]
fn micalg_spelling_and_mismatch() {
    let pki = test_pki();
    let old = Recipe {
        edit_signed: Some(|s| s.replacen("micalg=\"sha-256\"", "micalg=sha256", 1)),
        ..Recipe::default()
    };
    let (code, f) = check(&pki, "micalg.eml", &old, &[]);
    assert!(is(only(&f, "VC-308"), "failed", "info"));
    assert_eq!(code, 0, "{:?}", errors(&f));
    let wrong = Recipe {
        edit_signed: Some(|s| s.replacen("micalg=\"sha-256\"", "micalg=sha-512", 1)),
        ..Recipe::default()
    };
    let (_, f) = check(&pki, "micalg2.eml", &wrong, &[]);
    assert!(is(only(&f, "VC-308"), "failed", "error"));
    let missing = Recipe {
        edit_signed: Some(|s| s.replacen(" micalg=\"sha-256\";", "", 1)),
        ..Recipe::default()
    };
    let (_, f) = check(&pki, "micalg3.eml", &missing, &[]);
    assert!(is(only(&f, "VC-308"), "failed", "error"));
}

#[test]
fn opaque_signing_is_not_multipart_signed() {
    let pki = test_pki();
    let recipe = Recipe {
        opaque: true,
        ..Recipe::default()
    };
    let (code, f) = check(&pki, "opaque.eml", &recipe, &[]);
    assert!(is(only(&f, "VC-306"), "failed", "error"));
    assert!(is(only(&f, "VC-313"), "not-evaluated", ""));
    assert_eq!(code, 1);
}

#[test]
fn signer_certificate_left_out() {
    let pki = test_pki();
    let recipe = Recipe {
        no_certs: true,
        ..Recipe::default()
    };
    let (_, f) = check(&pki, "nocerts.eml", &recipe, &[]);
    assert!(is(only(&f, "VC-408"), "failed", "error"));
    assert!(is(only(&f, "VC-415"), "failed", "error"));
    assert!(is(only(&f, "VC-412"), "not-evaluated", ""));
    assert!(is(signer_only(&f, "VC-501"), "not-evaluated", ""));
}

#[test]
fn no_signed_attributes_is_accepted() {
    let pki = test_pki();
    let recipe = Recipe {
        no_attributes: true,
        ..Recipe::default()
    };
    let (_, f) = check(&pki, "noattr.eml", &recipe, &[]);
    assert!(is(only(&f, "VC-410"), "passed", ""));
    assert!(is(only(&f, "VC-411"), "passed", ""));
    assert!(is(only(&f, "VC-413"), "passed", ""));
}

#[test]
fn signing_time_in_the_future_of_the_validation_time() {
    let pki = test_pki();
    let (_, f) = check(
        &pki,
        "early.eml",
        &Recipe::default(),
        &["--at", "2000-01-01T00:00:00Z"],
    );
    assert!(is(only(&f, "VC-413"), "failed", "warning"));
}

#[test]
fn outer_header_problems_are_found() {
    let pki = test_pki();
    let recipe = Recipe {
        outer_header: OUTER_HEADER
            .replace(
                "Message-ID: <interop-1@hisp.direct.test>",
                "Message-ID: interop-1",
            )
            .replace("To: bob@sut.direct.test", "To: carol@sut.direct.test")
            + "Bcc: eve@x.test\r\n",
        ..Recipe::default()
    };
    let (code, f) = check(&pki, "outer.eml", &recipe, &[]);
    assert_eq!(code, 1);
    let outer: Vec<&Value> = f.iter().filter(|x| x["part_path"] == "message").collect();
    let by_id = |id: &str| {
        outer
            .iter()
            .find(|x| x["id"] == id)
            .map(|x| x["status"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(by_id("VC-106").as_deref(), Some("failed"));
    assert_eq!(by_id("VC-107").as_deref(), Some("failed"));
    assert_eq!(by_id("VC-115").as_deref(), Some("failed"));
}

#[test]
fn a_signed_and_encrypted_mdn_runs_the_mdn_family() {
    let pki = test_pki();
    let mdn = "From: alice@hisp.direct.test\r\nTo: bob@sut.direct.test\r\nSubject: Processed\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <mdn-1@hisp.direct.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=r\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nProcessed.\r\n--r\r\nContent-Type: message/disposition-notification\r\n\r\nReporting-UA: hisp.direct.test; HISP\r\nFinal-Recipient: rfc822; alice@hisp.direct.test\r\nOriginal-Message-ID: <interop-1@sut.direct.test>\r\nDisposition: automatic-action/MDN-sent-automatically; processed\r\n\r\n--r--\r\n";
    let mut entity = b"Content-Type: message/rfc822\r\n\r\n".to_vec();
    entity.extend_from_slice(mdn.as_bytes());
    let recipe = Recipe {
        entity,
        ..Recipe::default()
    };
    let (code, f) = check(&pki, "mdn.eml", &recipe, &[]);
    assert_eq!(errors(&f), Vec::<String>::new());
    assert_eq!(code, 0);
    for id in [
        "VC-701", "VC-702", "VC-703", "VC-704", "VC-708", "VC-709", "VC-710", "VC-715",
    ] {
        assert!(
            is(only(&f, id), "passed", ""),
            "{id}: {:?}",
            outcome(&f, id)
        );
    }
    // The same MDN sent in clear fails VC-701.
    let d = pki.dir.path();
    let clear = write(d, "clear-mdn.eml", mdn.as_bytes());
    let (code, f) = findings(&[clear.to_str().expect("path")]);
    assert!(is(only(&f, "VC-701"), "failed", "error"));
    assert!(is(only(&f, "VC-301"), "failed", "error"));
    assert_eq!(code, 1);
}

#[test]
fn garbage_truncated_and_plain_messages_are_findings_not_crashes() {
    let pki = test_pki();
    let d = pki.dir.path();
    let good = make(d, &Recipe::default());
    let key = pki.bob.key_path.to_str().expect("path");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.eml", Vec::new()),
        ("garbage.eml", (0..=255u8).cycle().take(5000).collect()),
        ("truncated.eml", good[..good.len() * 2 / 3].to_vec()),
        ("plain.eml", common::SAMPLE_MESSAGE.as_bytes().to_vec()),
        (
            "badb64.eml",
            [&good[..good.len() / 2], b"!!!!\r\n".as_slice()].concat(),
        ),
    ];
    for (name, bytes) in cases {
        let p = write(d, name, &bytes);
        let r = run(&["--recipient-key", key, p.to_str().expect("path")]);
        assert_eq!(r.code, 1, "{name}: {}\n{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("error(s)"), "{name}");
    }
}

#[test]
fn the_tool_itself_failing_is_exit_2() {
    let pki = test_pki();
    let d = pki.dir.path();
    let msg = write(d, "m.eml", common::SAMPLE_MESSAGE.as_bytes());
    let m = msg.to_str().expect("path");
    let not_a_key = write(d, "notakey.pem", b"hello");
    let cases: Vec<Vec<&str>> = vec![
        vec!["--recipient-key", "/nonexistent/key.pem", m],
        vec!["--recipient-key", not_a_key.to_str().expect("path"), m],
        vec!["--anchor", not_a_key.to_str().expect("path"), m],
        vec!["--bogus-flag", m],
        vec!["--profile", "ds-9", m],
        vec!["--at", "yesterday", m],
        vec!["/nonexistent/message.eml"],
        vec![],
    ];
    for args in cases {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(!r.stderr.is_empty(), "{args:?} says why");
    }
}

#[test]
fn pkcs12_keys_decrypt_and_bad_ones_say_why() {
    let pki = test_pki();
    let d = pki.dir.path();
    // OpenSSL 3's default export: PBES2 with AES-256-CBC and an HMAC-SHA-256 MAC.
    openssl_ok(
        &[
            "pkcs12", "-export", "-in", "bob.pem", "-inkey", "bob.key", "-passout", "pass:pw",
            "-out", "bob.p12",
        ],
        d,
    );
    // A legacy one (3DES PBE, SHA-1 MAC), as older tools still write.
    openssl_ok(
        &[
            "pkcs12",
            "-export",
            "-in",
            "bob.pem",
            "-inkey",
            "bob.key",
            "-passout",
            "pass:pw",
            "-keypbe",
            "PBE-SHA1-3DES",
            "-certpbe",
            "PBE-SHA1-3DES",
            "-macalg",
            "sha1",
            "-out",
            "legacy.p12",
        ],
        d,
    );
    let msg = write(d, "m.eml", &make(d, &Recipe::default()));
    let p12 = d.join("bob.p12");
    let (code, f) = findings(&[
        "--recipient-key",
        p12.to_str().expect("path"),
        "--password",
        "pw",
        msg.to_str().expect("path"),
    ]);
    assert!(
        is(only(&f, "VC-404"), "passed", ""),
        "{:?}",
        outcome(&f, "VC-404")
    );
    assert!(is(only(&f, "VC-411"), "passed", ""));
    assert_eq!(code, 0, "{:?}", errors(&f));

    // Wrong password, no password, legacy file: the tool cannot run (exit 2) and says why.
    for (file, password, says) in [
        ("bob.p12", Some("nope"), "wrong password"),
        ("bob.p12", None, "--password"),
        ("legacy.p12", Some("pw"), "re-export"),
    ] {
        let path = d.join(file);
        let mut args = vec!["--recipient-key", path.to_str().expect("path")];
        if let Some(pw) = password {
            args.extend_from_slice(&["--password", pw]);
        }
        args.push(msg.to_str().expect("path"));
        let r = run(&args);
        assert_eq!(r.code, 2, "{file} {password:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{file}: {}", r.stderr);
    }
}

#[test]
fn encrypted_pkcs8_keys_need_their_password() {
    let pki = test_pki();
    let d = pki.dir.path();
    openssl_ok(
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "bob.key",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:secret",
            "-out",
            "bob-enc.key",
        ],
        d,
    );
    let msg = write(d, "m.eml", &make(d, &Recipe::default()));
    let key = d.join("bob-enc.key");
    let (k, m) = (key.to_str().expect("path"), msg.to_str().expect("path"));
    let (code, f) = findings(&["--recipient-key", k, "--password", "secret", m]);
    assert!(is(only(&f, "VC-404"), "passed", ""));
    assert_eq!(code, 0);
    assert_eq!(run(&["--recipient-key", k, m]).code, 2);
    assert_eq!(
        run(&["--recipient-key", k, "--password", "wrong", m]).code,
        2
    );
}

#[test]
fn list_checks_in_three_formats() {
    let r = run(&["--list-checks"]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout.lines().filter(|l| l.starts_with("VC-")).count(),
        94
    );
    let r = run(&["--list-checks", "--format", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).expect("json");
    let checks = v["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 94);
    assert_eq!(checks[0]["id"], "VC-101");
    assert_eq!(checks[0]["ds-1.3"], "error");
    let r = run(&["--list-checks", "--format", "html"]);
    assert!(r.stdout.starts_with("<!DOCTYPE html>"));
    assert_eq!(r.stdout.matches("<tr><td>VC-").count(), 94);
}

#[test]
fn html_and_text_reports() {
    let pki = test_pki();
    let d = pki.dir.path();
    let mut hostile =
        common::SAMPLE_MESSAGE.replace("Subject: Referral", "Subject: <script>x</script>");
    hostile = hostile.replace(
        "Message-ID: <interop-1@hisp.direct.test>",
        "Message-ID: <b>bold",
    );
    let msg = write(d, "h.eml", hostile.as_bytes());
    let r = run(&["--format", "html", msg.to_str().expect("path")]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.starts_with("<!DOCTYPE html>"));
    assert!(r.stdout.contains("VC-301"));
    assert!(!r.stdout.contains("<b>bold"), "message text is escaped");
    assert!(!r.stdout.contains("src=\"http"), "self-contained");
    let r = run(&[msg.to_str().expect("path")]);
    assert!(r.stdout.contains("ERROR VC-301"));
    assert!(
        !r.stdout.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
}

fn ec_party(pki: &common::TestPki, name: &str, curve: &str) {
    let args = common::ec_key_args(curve);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::add_party(pki, name, &format!("{name}@hisp.direct.test"), &args);
}

#[test]
fn ecdsa_signature_algorithm_must_fit_the_curve() {
    let pki = test_pki();
    ec_party(&pki, "eve256", "P-256");
    let good = Recipe {
        signer: "eve256",
        ..Recipe::default()
    };
    let (_, f) = check(&pki, "ec-good.eml", &good, &[]);
    assert!(
        is(only(&f, "VC-411"), "passed", ""),
        "{:?}",
        outcome(&f, "VC-411")
    );
    assert!(
        is(only(&f, "VC-412"), "passed", ""),
        "{:?}",
        outcome(&f, "VC-412")
    );
    let mismatched = Recipe {
        signer: "eve256",
        md: "sha384",
        ..Recipe::default()
    };
    let (code, f) = check(&pki, "ec-bad.eml", &mismatched, &[]);
    assert!(is(only(&f, "VC-412"), "failed", "error"));
    assert_eq!(code, 1);
}

#[test]
fn key_agreement_is_not_key_transport() {
    let pki = test_pki();
    ec_party(&pki, "carol", "P-256");
    let recipe = Recipe {
        recipient: "carol",
        ..Recipe::default()
    };
    let (code, f) = check(&pki, "kari.eml", &recipe, &[]);
    assert!(
        is(only(&f, "VC-403"), "failed", "error"),
        "{:?}",
        outcome(&f, "VC-403")
    );
    assert!(is(only(&f, "VC-401"), "passed", ""));
    assert_eq!(code, 1);
}

#[test]
fn broken_and_opaque_signature_parts() {
    let pki = test_pki();
    // The signature part holds something that is not a SignedData.
    let garbage = Recipe {
        replace_signature: Some(vec![0x30, 0x03, 0x02, 0x01, 0x00]),
        ..Recipe::default()
    };
    let (_, f) = check(&pki, "badsig.eml", &garbage, &[]);
    assert!(is(only(&f, "VC-406"), "failed", "error"));
    assert!(is(only(&f, "VC-411"), "not-evaluated", ""));

    // An opaque SignedData (with eContent) as the "detached" signature part.
    let d = pki.dir.path();
    let mut entity = b"Content-Type: message/rfc822\r\n\r\n".to_vec();
    entity.extend_from_slice(common::SAMPLE_MESSAGE.as_bytes());
    std::fs::write(d.join("content.bin"), &entity).expect("write");
    openssl_ok(
        &[
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-in",
            "content.bin",
            "-signer",
            "alice.pem",
            "-inkey",
            "alice.key",
            "-outform",
            "DER",
            "-out",
            "opaque.der",
        ],
        d,
    );
    let with_econtent = Recipe {
        replace_signature: Some(std::fs::read(d.join("opaque.der")).expect("read")),
        ..Recipe::default()
    };
    let (_, f) = check(&pki, "econtent.eml", &with_econtent, &[]);
    assert!(
        is(only(&f, "VC-407"), "failed", "error"),
        "{:?}",
        outcome(&f, "VC-407")
    );
    assert!(is(only(&f, "VC-406"), "passed", ""));
    assert!(
        is(only(&f, "VC-411"), "passed", ""),
        "{:?}",
        outcome(&f, "VC-411")
    );
}

#[test]
fn lf_only_files_are_a_warning_not_an_error() {
    let pki = test_pki();
    let d = pki.dir.path();
    let good = make(d, &Recipe::default());
    let lf: Vec<u8> = String::from_utf8(good)
        .expect("text")
        .replace("\r\n", "\n")
        .into_bytes();
    let p = write(d, "lf.eml", &lf);
    let (_, f) = findings(&[p.to_str().expect("path")]);
    let outer: Vec<_> = f
        .iter()
        .filter(|x| x["id"] == "VC-204" && x["part_path"] == "message")
        .collect();
    assert_eq!(outer.len(), 1);
    assert_eq!(outer[0]["severity"], "warning");
}

/// Every catalogue check is reported on at least one of a good message, an MDN and a DSN
/// (each signed and encrypted by OpenSSL), and every reported id is in the catalogue.
#[test]
fn every_catalogue_check_is_reported() {
    use direct_conformance::validate::options::{RecipientKey, ValidationOptions};
    use direct_conformance::validate::{CATALOGUE, validate_message};
    use std::collections::BTreeSet;

    let pki = test_pki();
    let d = pki.dir.path();
    let wrap = |m: &str| {
        let mut e = b"Content-Type: message/rfc822\r\n\r\n".to_vec();
        e.extend_from_slice(m.as_bytes());
        e
    };
    let mdn = "From: alice@hisp.direct.test\r\nTo: bob@sut.direct.test\r\nSubject: Processed\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <mdn-1@hisp.direct.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=r\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nProcessed.\r\n--r\r\nContent-Type: message/disposition-notification\r\n\r\nReporting-UA: hisp.direct.test; HISP\r\nFinal-Recipient: rfc822; alice@hisp.direct.test\r\nOriginal-Message-ID: <interop-1@sut.direct.test>\r\nDisposition: automatic-action/MDN-sent-automatically; processed\r\n\r\n--r--\r\n";
    let dsn = "From: alice@hisp.direct.test\r\nTo: bob@sut.direct.test\r\nSubject: Undeliverable\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <dsn-1@hisp.direct.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n--r\r\nContent-Type: text/plain\r\nContent-ID: <t1@hisp.direct.test>\r\n\r\nNot delivered.\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; sut.direct.test\r\n\r\nFinal-Recipient: rfc822; nobody@sut.direct.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <interop-1@sut.direct.test>\r\n\r\n--r--\r\n";
    let messages = [
        make(d, &Recipe::default()),
        make(
            d,
            &Recipe {
                entity: wrap(mdn),
                ..Recipe::default()
            },
        ),
        make(
            d,
            &Recipe {
                entity: wrap(dsn),
                ..Recipe::default()
            },
        ),
    ];
    let key = direct_conformance::keys::PrivateKey::from_pem_or_der(
        &std::fs::read(&pki.bob.key_path).expect("key"),
    )
    .expect("key parses");
    let options = ValidationOptions {
        recipient_keys: vec![RecipientKey::Key {
            path: pki.bob.key_path.clone(),
            key,
        }],
        ..ValidationOptions::default()
    };
    let mut seen = BTreeSet::new();
    for (i, m) in messages.iter().enumerate() {
        let report = validate_message("m", m, &options);
        let errors: Vec<_> = report.findings.iter().filter(|f| f.is_error()).collect();
        assert!(errors.is_empty(), "message {i}: {errors:?}");
        seen.extend(report.findings.iter().map(|f| f.id));
    }
    let catalogue: BTreeSet<&str> = CATALOGUE.iter().map(|c| c.id).collect();
    let missing: Vec<_> = catalogue.difference(&seen).collect();
    assert!(missing.is_empty(), "never reported: {missing:?}");
    assert!(seen.is_subset(&catalogue));
}

#[test]
fn a_bad_envelope_version_fails_401() {
    use direct_conformance::smime::entity::{base64_lines, decode_base64, split_header_body};
    let pki = test_pki();
    let d = pki.dir.path();
    let good = make(d, &Recipe::default());
    let (head, body) = split_header_body(&good);
    let mut der = decode_base64(body).expect("base64");
    // The first INTEGER after the envelopedData OID is EnvelopedData.version (0 here).
    let oid = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03];
    let at = der.windows(oid.len()).position(|w| w == oid).expect("OID") + oid.len();
    let v = der[at..]
        .windows(3)
        .position(|w| w == [0x02, 0x01, 0x00])
        .expect("version")
        + at;
    der[v + 2] = 0x07;
    let mut bad = head.to_vec();
    bad.extend_from_slice(b"\r\n");
    bad.extend_from_slice(&base64_lines(&der));
    // In-process, so that the check itself is judged (the CLI path is covered above).
    let key = direct_conformance::keys::PrivateKey::from_pem_or_der(
        &std::fs::read(&pki.bob.key_path).expect("key"),
    )
    .expect("key parses");
    let options = direct_conformance::validate::ValidationOptions {
        recipient_keys: vec![direct_conformance::validate::options::RecipientKey::Key {
            path: pki.bob.key_path.clone(),
            key,
        }],
        ..Default::default()
    };
    let report = direct_conformance::validate::validate_message("version.eml", &bad, &options);
    let vc401: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.id == "VC-401")
        .collect();
    assert_eq!(vc401.len(), 1);
    assert!(vc401[0].is_error(), "{vc401:?}");
}

#[test]
fn original_lets_the_mdn_be_correlated() {
    let pki = test_pki();
    let mdn = "From: alice@hisp.direct.test\r\nTo: bob@sut.direct.test\r\nSubject: Processed\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <mdn-2@hisp.direct.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=r\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nProcessed.\r\n--r\r\nContent-Type: message/disposition-notification\r\n\r\nReporting-UA: hisp.direct.test; HISP\r\nFinal-Recipient: rfc822; alice@hisp.direct.test\r\nOriginal-Message-ID: <interop-1@sut.direct.test>\r\nDisposition: automatic-action/MDN-sent-automatically; processed\r\n\r\n--r--\r\n";
    let mut entity = b"Content-Type: message/rfc822\r\n\r\n".to_vec();
    entity.extend_from_slice(mdn.as_bytes());
    let recipe = Recipe {
        entity,
        ..Recipe::default()
    };
    let d = pki.dir.path();
    let answered = write(
        d,
        "original.eml",
        b"From: bob@sut.direct.test\r\nTo: alice@hisp.direct.test\r\nMessage-ID: <interop-1@sut.direct.test>\r\n\r\nbody\r\n",
    );
    let unrelated = write(
        d,
        "unrelated.eml",
        b"From: bob@sut.direct.test\r\nTo: alice@hisp.direct.test\r\nMessage-ID: <someone-else@sut.direct.test>\r\n\r\nbody\r\n",
    );
    let (_, f) = check(
        &pki,
        "mdn.eml",
        &recipe,
        &["--original", answered.to_str().expect("path")],
    );
    assert!(
        is(only(&f, "VC-709"), "passed", ""),
        "{:?}",
        outcome(&f, "VC-709")
    );
    let (code, f) = check(
        &pki,
        "mdn-2.eml",
        &recipe,
        &["--original", unrelated.to_str().expect("path")],
    );
    assert!(
        is(only(&f, "VC-709"), "failed", "error"),
        "{:?}",
        outcome(&f, "VC-709")
    );
    assert_eq!(code, 1);
}
