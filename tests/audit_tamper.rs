//! Tampering with an audit log is found by `verify` and by `direct-conformance audit verify`:
//! an edited field, a deleted line, swapped lines, a cut last line, lines dropped from the end
//! (against a kept head), and an unreadable file (exit 2).

use std::path::{Path, PathBuf};
use std::process::Command;

use direct_conformance::audit::{
    AuditEvent, AuditLog, BrokenReason, EventKind, Head, verify, verify_against,
};

fn write_log(dir: &Path, lines: usize) -> (PathBuf, Head) {
    let path = dir.join("audit.jsonl");
    let log = AuditLog::open(&path).expect("open");
    let t = time::macros::datetime!(2026-11-25 10:00 UTC);
    let mut head = log.head();
    for n in 0..lines {
        let kind = if n % 2 == 0 {
            EventKind::IncomingAccepted
        } else {
            EventKind::MdnSent
        };
        head = log
            .record(
                AuditEvent::new(kind, t + time::Duration::seconds(n as i64), "hisp.smtp-in")
                    .message_id(format!("<m{n}@hisp.direct.test>"))
                    .from("alice@hisp.direct.test")
                    .to(["bob@sut.direct.test"])
                    .outcome("ok"),
            )
            .expect("record");
    }
    (path, head)
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .map(str::to_string)
        .collect()
}

fn rewrite(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).expect("write");
}

/// Runs `audit verify` and returns (exit code, stdout).
fn cli(path: &Path, head: Option<&Head>) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_direct-conformance"));
    cmd.arg("audit").arg("verify").arg(path);
    if let Some(h) = head {
        cmd.arg("--head").arg(h.to_string());
    }
    let out = cmd.output().expect("run the binary");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn assert_broken_at(path: &Path, line: usize, check: impl Fn(&BrokenReason) -> bool) {
    let report = verify(path).expect("verify");
    let broken = report.broken.clone().expect("broken");
    assert_eq!(broken.line, line, "{report:?}");
    assert!(check(&broken.reason), "{:?}", broken.reason);
    let (code, stdout) = cli(path, None);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(&format!("broken at line {line}:")),
        "{stdout}"
    );
}

#[test]
fn an_intact_log_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (path, head) = write_log(dir.path(), 5);
    let report = verify(&path).unwrap();
    assert!(report.is_intact());
    assert_eq!(report.head, head);
    assert!(verify_against(&path, &head).unwrap().is_intact());
    let (code, stdout) = cli(&path, Some(&head));
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("intact, 5 lines"), "{stdout}");
}

#[test]
fn an_edited_field_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_log(dir.path(), 5);
    let mut l = lines(&path);
    l[2] = l[2].replace("bob@sut.direct.test", "eve@sut.direct.test");
    rewrite(&path, &l);
    // Line 3 still parses; line 4's prev no longer matches it.
    assert_broken_at(&path, 4, |r| matches!(r, BrokenReason::HashMismatch { .. }));
}

#[test]
fn an_edit_that_breaks_the_json_is_found_at_that_line() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_log(dir.path(), 5);
    let mut l = lines(&path);
    l[1] = l[1].replacen('{', "", 1);
    rewrite(&path, &l);
    assert_broken_at(&path, 2, |r| matches!(r, BrokenReason::BadJson(_)));
}

#[test]
fn a_deleted_line_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_log(dir.path(), 5);
    let mut l = lines(&path);
    l.remove(1);
    rewrite(&path, &l);
    assert_broken_at(&path, 2, |r| {
        matches!(
            r,
            BrokenReason::SeqGap {
                expected: 2,
                found: 3
            }
        )
    });
}

#[test]
fn a_deleted_line_with_renumbered_seqs_is_still_found() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_log(dir.path(), 5);
    let mut l = lines(&path);
    l.remove(1);
    for (i, line) in l.iter_mut().enumerate() {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        v["seq"] = serde_json::json!(i + 1);
        *line = serde_json::to_string(&v).unwrap();
    }
    rewrite(&path, &l);
    assert_broken_at(&path, 2, |r| matches!(r, BrokenReason::HashMismatch { .. }));
}

#[test]
fn swapped_lines_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_log(dir.path(), 5);
    let mut l = lines(&path);
    l.swap(2, 3);
    rewrite(&path, &l);
    assert_broken_at(&path, 3, |r| {
        matches!(
            r,
            BrokenReason::SeqGap {
                expected: 3,
                found: 4
            }
        )
    });
}

#[test]
fn a_cut_last_line_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_log(dir.path(), 5);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 20]).unwrap();
    assert_broken_at(&path, 5, |r| matches!(r, BrokenReason::Truncated));
}

#[test]
fn lines_dropped_from_the_end_are_found_against_the_kept_head() {
    let dir = tempfile::tempdir().unwrap();
    let (path, head) = write_log(dir.path(), 5);
    let mut l = lines(&path);
    l.truncate(3);
    rewrite(&path, &l);
    // The chain itself is intact …
    assert!(verify(&path).unwrap().is_intact());
    // … but not against the head kept before.
    let report = verify_against(&path, &head).unwrap();
    let broken = report.broken.expect("broken");
    assert_eq!(broken.line, 4);
    assert!(matches!(broken.reason, BrokenReason::MissingLines { .. }));
    let (code, stdout) = cli(&path, Some(&head));
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("broken at line 4:"), "{stdout}");
}

#[test]
fn an_edited_last_line_is_found_against_the_kept_head() {
    let dir = tempfile::tempdir().unwrap();
    let (path, head) = write_log(dir.path(), 3);
    let mut l = lines(&path);
    l[2] = l[2].replace("\"ok\"", "\"rejected\"");
    rewrite(&path, &l);
    let report = verify_against(&path, &head).unwrap();
    assert!(matches!(
        report.broken.map(|b| (b.line, b.reason)),
        Some((3, BrokenReason::HeadMismatch { .. }))
    ));
}

#[test]
fn unreadable_file_and_bad_flag_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.jsonl");
    assert!(verify(&missing).is_err());
    assert_eq!(cli(&missing, None).0, 2);
    let (path, _) = write_log(dir.path(), 1);
    let out = Command::new(env!("CARGO_BIN_EXE_direct-conformance"))
        .args(["audit", "verify"])
        .arg(&path)
        .args(["--head", "nonsense"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
