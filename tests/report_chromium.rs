//! The HTML report as a browser shows it: a run with one failing scenario, `index.html` opened
//! from disk in headless Chromium (Debian's `chromium`). The rendered DOM must hold the summary
//! and the failed scenario's evidence; the screenshot is kept as a test artifact in
//! `target/test-artifacts/report.png`. Chromium missing is a failure that says how to install
//! it, never a skip.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_direct-conformance");

/// Chromium with the flags a container or CI machine needs, on a file URL.
fn chromium(profile: &Path, extra: &[&str], page: &Path) -> std::process::Output {
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| {
            panic!("chromium cannot start ({e}): install it with `apt-get install chromium` (scripts/setup does)")
        })
}

fn artifacts() -> PathBuf {
    // CARGO_TARGET_TMPDIR is target/tmp; artifacts sit beside it.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|p| p.join("test-artifacts"))
        .unwrap_or_else(|| PathBuf::from("test-artifacts"));
    std::fs::create_dir_all(&dir).expect("artifact folder");
    dir
}

#[test]
fn the_report_renders_its_summary_and_a_failed_scenarios_evidence_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("report");
    // accept-bad-auth makes SMTP22 fail; RX-01 passes beside it.
    let out = Command::new(BIN)
        .args([
            "run",
            "--fault",
            "accept-bad-auth",
            "--tags",
            "(@RX-01 and not @needs-audit) or @SMTP22",
            "--report-dir",
        ])
        .arg(&reports)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "one scenario must fail:\n{stdout}"
    );
    let page = reports.join("index.html");
    assert!(page.exists());

    let profile = dir.path().join("chromium-profile");
    let dom = chromium(&profile, &["--dump-dom"], &page);
    let html = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.status.success() && html.contains("id=\"summary\""),
        "no rendered summary: {}\n{}",
        dom.status,
        String::from_utf8_lossy(&dom.stderr)
    );
    assert!(
        html.contains("1 passed") && html.contains("1 failed"),
        "{html}"
    );
    // The failed scenario is open, with its SMTP transcript open beside it.
    let failed = html
        .split("<details class=\"scenario\"")
        .skip(1)
        .find(|s| s.contains(">failed<"))
        .unwrap_or_else(|| panic!("no failed scenario in the DOM:\n{html}"));
    assert!(failed.contains("SMTP22"), "{failed}");
    assert!(
        failed.starts_with(" id=") && failed.contains(" open"),
        "{failed}"
    );
    assert!(
        failed.contains("<details class=\"evidence\" open=\"\"><summary>smtp:")
            || failed.contains("<details class=\"evidence\" open><summary>smtp:"),
        "the failed scenario's SMTP evidence is not shown open:\n{failed}"
    );
    assert!(
        failed.contains("AUTH"),
        "transcript body missing:\n{failed}"
    );

    let shot = artifacts().join("report.png");
    let _ = std::fs::remove_file(&shot);
    let png = chromium(
        &profile,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600",
            "--hide-scrollbars",
        ],
        &page,
    );
    let bytes = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}\n{}",
            png.status,
            String::from_utf8_lossy(&png.stderr)
        )
    });
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // A blank page compresses to a few KB; a rendered report is several times that.
    assert!(
        bytes.len() > 20_000,
        "screenshot suspiciously small: {} bytes",
        bytes.len()
    );
    println!("screenshot: {}", shot.display());
}
