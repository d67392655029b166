//! `run` on the command line: a tag selection writes the three reports and the closing line;
//! a bad sut.toml, tag expression or fault name is exit 2 with what to fix.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_direct-conformance");

#[test]
fn a_selection_runs_and_writes_three_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "run",
            "--tags",
            "@RX-01 and not @needs-audit",
            "--report-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("1 passed, 0 failed, 0 skipped"));
    for f in ["index.html", "junit.xml", "results.json"] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    let json = std::fs::read_to_string(dir.path().join("results.json")).unwrap();
    assert!(
        json.contains("\"kind\": \"smtp\""),
        "SMTP evidence recorded"
    );
    assert!(
        json.contains("\"kind\": \"findings\""),
        "validator findings on the MDN"
    );
}

#[test]
fn what_cannot_start_is_exit_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("sut.toml");
    std::fs::write(
        &bad,
        "domain = \"x.test\"\n[recipients.primary]\naddress = \"r@x.test\"\ncertificate = \"pki:sut_recipient\"\n[backbone]\nsmtp = \"nowhere\"\n",
    )
    .unwrap();
    for (args, needle) in [
        (vec!["--sut", bad.to_str().unwrap()], "backbone.smtp"),
        (vec!["--tags", "@RX-01 and"], "--tags"),
        (vec!["--fault", "no-such-switch"], "no-such-switch"),
    ] {
        let out = Command::new(BIN)
            .arg("run")
            .args(&args)
            .arg("--report-dir")
            .arg(dir.path().join("r"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn unclaimed_features_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let features = dir.path().join("features");
    std::fs::create_dir_all(&features).unwrap();
    std::fs::write(
        features.join("edge-imap.feature"),
        "Feature: IMAP\n\n  @IMAP1 @needs-imap\n  Scenario: IMAP1 login\n    Given a Direct message from the harness to the SUT's primary recipient\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["run", "--features"])
        .arg(&features)
        .arg("--report-dir")
        .arg(dir.path().join("r"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("0 passed, 0 failed, 1 skipped"));
    let junit = std::fs::read_to_string(dir.path().join("r/junit.xml")).unwrap();
    assert!(
        junit.contains("<skipped message=\"the SUT does not claim imap\"/>"),
        "{junit}"
    );
}

#[test]
fn a_scenario_for_an_undeclared_recipient_role_is_skipped_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let features = dir.path().join("features");
    std::fs::create_dir_all(&features).unwrap();
    // RX-37 and RX-50 name optional roles; the catalogue skips them when undeclared.
    std::fs::write(
        features.join("roles.feature"),
        "Feature: roles\n\n  @RX-37\n  Scenario: RX-37 a role nobody declares\n    Given a Direct message from the harness to the SUT's nowhere_role recipient\n    Then the SUT's nowhere_role recipient receives the message with its attachment intact\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["run", "--features"])
        .arg(&features)
        .arg("--report-dir")
        .arg(dir.path().join("r"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("0 passed, 0 failed, 1 skipped"));
    let junit = std::fs::read_to_string(dir.path().join("r/junit.xml")).unwrap();
    assert!(
        junit.contains("sut.toml declares no `recipients.nowhere_role`"),
        "{junit}"
    );
}
