//! The validator against OpenSSL, in one run: a corpus of 1,000 Direct messages validated by one
//! `direct-conformance validate` process, then the same corpus checked by one
//! `openssl cms -decrypt | openssl cms -verify` pipeline per message, the way a script around
//! OpenSSL would. Prints both times and their ratio. Then a message with a 50 MB attachment is
//! validated by the binary under `/usr/bin/time -v`, and its peak resident memory is printed.
//!
//! `cargo bench --bench validate_corpus` (a bench command, not criterion: one pass of each
//! side already takes seconds, and the ratio is what we read). `CORPUS=N` changes the size.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::{credential, message};
use direct_conformance::smime::{SealOptions, seal};

const BIN: &str = env!("CARGO_BIN_EXE_direct-conformance");

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it, and
    // then it is a smoke test of the same code on a small corpus, without the 50 MB message.
    let benching = std::env::args().any(|a| a == "--bench");
    let corpus: usize = std::env::var("CORPUS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { 1000 } else { 5 });
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (cert, key) = credential(d);
    let options = SealOptions::default();
    let mut files = Vec::with_capacity(corpus);
    for i in 0..corpus {
        // Sizes from 2 KB to about 64 KB, as referrals and C-CDA summaries are.
        let raw = message(2048 + (i * 7919) % 62_000);
        let sealed = seal(&raw, &cert, &key, std::slice::from_ref(&cert), &options).expect("seal");
        let path = d.join(format!("m{i:04}.eml"));
        std::fs::write(&path, sealed).expect("write message");
        files.push(path);
    }
    println!("corpus: {corpus} messages in {}", d.display());

    let started = Instant::now();
    let mut validate = Command::new(BIN);
    validate
        .args(["validate", "--format", "json"])
        .args(["--recipient-key", "k.pem", "--recipient-cert", "c.pem"])
        .args(["--anchor", "c.pem"])
        .args(&files)
        .current_dir(d)
        .stdout(Stdio::null());
    let status = validate.status().expect("run validate");
    let ours = started.elapsed();
    // Exit 1 is fine here (the self-signed bench certificate draws findings); 2 is not.
    assert!(
        matches!(status.code(), Some(0) | Some(1)),
        "validate could not run: {status}"
    );

    let started = Instant::now();
    for path in &files {
        openssl_pipeline(d, path);
    }
    let theirs = started.elapsed();
    println!(
        "direct-conformance validate, one process: {:>8.2} s ({:.2} ms/message)",
        ours.as_secs_f64(),
        ours.as_secs_f64() * 1000.0 / corpus as f64
    );
    println!(
        "openssl decrypt | verify, per message:    {:>8.2} s ({:.2} ms/message)",
        theirs.as_secs_f64(),
        theirs.as_secs_f64() * 1000.0 / corpus as f64
    );
    println!(
        "ratio (openssl / ours): {:.1}x",
        theirs.as_secs_f64() / ours.as_secs_f64()
    );

    if benching {
        peak_memory_50mb(d, &cert, &key);
    }
}

fn openssl_pipeline(dir: &Path, path: &Path) {
    let command = format!(
        "openssl cms -decrypt -in {m} -recip c.pem -inkey k.pem \
         | openssl cms -verify -CAfile c.pem -purpose any -out /dev/null",
        m = path.display()
    );
    let ok = Command::new("sh")
        .args(["-c", &command])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success());
    assert!(
        matches!(ok, Ok(true)),
        "openssl baseline failed on {path:?}"
    );
}

/// A referral with a 50 MB base64 attachment, validated by the binary; `/usr/bin/time -v`
/// reports the peak resident set of that one process.
fn peak_memory_50mb(
    dir: &Path,
    cert: &x509_cert::Certificate,
    key: &direct_conformance::keys::PrivateKey,
) {
    use base64::Engine;
    let attachment: Vec<u8> = (0..50 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&attachment);
    let mut raw = b"From: bench@hisp.direct.test\r\nTo: bench@hisp.direct.test\r\n\
Subject: imaging study\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <big@hisp.direct.test>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
See the attached study.\r\n--b\r\nContent-Type: application/octet-stream; name=\"study.bin\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    for line in encoded.as_bytes().chunks(76) {
        raw.extend_from_slice(line);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"--b--\r\n");
    let sealed = seal(
        &raw,
        cert,
        key,
        std::slice::from_ref(cert),
        &SealOptions::default(),
    )
    .expect("seal 50 MB");
    let path = dir.join("big.eml");
    std::fs::write(&path, &sealed).expect("write big message");
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(BIN)
        .args(["validate", "--format", "json"])
        .args(["--recipient-key", "k.pem", "--recipient-cert", "c.pem"])
        .args(["--anchor", "c.pem"])
        .arg(&path)
        .current_dir(dir)
        .stdout(Stdio::null())
        .output()
        .expect("/usr/bin/time (Debian package `time`) runs the validator");
    let report = String::from_utf8_lossy(&out.stderr);
    let peak_kib = report
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse::<u64>().ok())
        .expect("time -v reports the maximum resident set size");
    println!(
        "50 MB attachment: message {:.1} MB, validated in {:.2} s, peak RSS {:.1} MB ({:.1}x the message)",
        sealed.len() as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        peak_kib as f64 / 1024.0,
        peak_kib as f64 * 1024.0 / sealed.len() as f64
    );
}
