//! `run --tags @D14` end to end: the embedded SUT discovers the RSA-4096 certificate of
//! d14@domain1.direct.test, whose CERT answer is truncated over UDP; the reports carry the DNS
//! evidence (the UDP answer with TC, then the TCP query) and the RI-set. With the
//! `no-tcp-retry` switch the same case fails.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_direct-conformance");

fn run(dir: &std::path::Path, extra: &[&str]) -> (Option<i32>, String, serde_json::Value) {
    let out = Command::new(BIN)
        .args(["run", "--tags", "@D14", "--report-dir"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = std::fs::read_to_string(dir.join("results.json"))
        .unwrap_or_else(|_| panic!("no results.json:\n{stdout}"));
    (
        out.status.code(),
        stdout,
        serde_json::from_str(&json).unwrap(),
    )
}

#[test]
fn d14_passes_with_udp_tc_then_tcp_evidence_and_fails_without_tcp_retry() {
    let tmp = tempfile::tempdir().unwrap();
    let clean = tmp.path().join("clean");
    let faulty = tmp.path().join("faulty");
    let f2 = faulty.clone();
    let fault_run = std::thread::spawn(move || run(&f2, &["--fault", "no-tcp-retry"]));
    let (code, stdout, json) = run(&clean, &[]);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("1 passed, 0 failed, 0 skipped"));
    let scenario = &json["scenarios"][0];
    let evidence = scenario["evidence"].as_array().unwrap();
    let body = |title: &str| -> String {
        evidence
            .iter()
            .find(|e| e["title"] == title)
            .and_then(|e| e["body"].as_str())
            .unwrap_or_else(|| panic!("no evidence {title:?}: {evidence:#?}"))
            .to_string()
    };
    // The order check's own slice: the truncated UDP answer first, then TCP with the record.
    let dns = body("CERT queries: UDP (TC) then TCP");
    let lines: Vec<&str> = dns.lines().collect();
    let udp = lines
        .iter()
        .position(|l| l.contains("udp CERT d14.domain1.direct.test") && l.contains(" TC"))
        .unwrap_or_else(|| panic!("no truncated UDP answer:\n{dns}"));
    assert!(
        lines[udp + 1..]
            .iter()
            .any(|l| l.contains("tcp CERT d14.domain1.direct.test") && !l.contains("answers=0")),
        "no TCP query after the truncated answer:\n{dns}"
    );
    let ri = body("RI-set");
    assert!(ri.contains("[D14_valA]"), "{ri}");
    assert!(ri.contains("DCDT-style verdict: D14_valA decrypts"), "{ri}");
    assert!(
        body("DNS queries, LDAP operations and HTTP fetches during D14").contains("tcp CERT"),
        "the scenario's whole log slice"
    );
    let html = std::fs::read_to_string(clean.join("index.html")).unwrap();
    assert!(
        html.contains("udp CERT d14.domain1.direct.test"),
        "index.html"
    );
    assert!(
        html.contains("tcp CERT d14.domain1.direct.test"),
        "index.html"
    );

    let (code, stdout, json) = fault_run.join().unwrap();
    assert_eq!(code, Some(1), "{stdout}");
    let reason = json["scenarios"][0]["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("nothing for d14@domain1.direct.test"),
        "{reason}"
    );
}
