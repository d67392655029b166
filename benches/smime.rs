//! Sign+encrypt and decrypt+verify of a 10 KB and a 10 MB message (criterion). The figures
//! go in the closing notes as ratios between sizes and directions measured in one run.

use std::process::Command;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use direct_conformance::keys::PrivateKey;
use direct_conformance::smime::{SealOptions, open, seal};
use x509_cert::Certificate;
use x509_cert::der::DecodePem;

fn credential(dir: &std::path::Path) -> (Certificate, PrivateKey) {
    let run = |args: &[&str]| {
        let ok = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .status()
            .map(|s| s.success());
        assert!(
            matches!(ok, Ok(true)),
            "openssl {args:?} failed (is openssl installed?)"
        );
    };
    run(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        "k.pem",
    ]);
    run(&[
        "req",
        "-x509",
        "-new",
        "-key",
        "k.pem",
        "-subj",
        "/CN=bench",
        "-days",
        "2",
        "-addext",
        "subjectAltName=email:bench@hisp.direct.test",
        "-addext",
        "subjectKeyIdentifier=hash",
        "-out",
        "c.pem",
    ]);
    let cert = Certificate::from_pem(std::fs::read(dir.join("c.pem")).expect("cert")).expect("pem");
    let key =
        PrivateKey::from_pem_or_der(&std::fs::read(dir.join("k.pem")).expect("key")).expect("key");
    (cert, key)
}

fn message(size: usize) -> Vec<u8> {
    let mut m = b"From: bench@hisp.direct.test\r\nTo: bench@hisp.direct.test\r\nSubject: bench\r\n\
Date: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <bench@hisp.direct.test>\r\nMIME-Version: 1.0\r\n\
Content-Type: text/plain\r\n\r\n"
        .to_vec();
    let line =
        b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n";
    while m.len() < size {
        m.extend_from_slice(line);
    }
    m
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = credential(dir.path());
    let recipients = [cert.clone()];
    let options = SealOptions::default();
    let mut group = c.benchmark_group("smime");
    group.sample_size(10);
    for (label, size) in [("10KB", 10 * 1024), ("10MB", 10 * 1024 * 1024)] {
        let msg = message(size);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("sign+encrypt", label), &msg, |b, m| {
            b.iter(|| seal(m, &cert, &key, &recipients, &options).expect("seal"))
        });
        let sealed = seal(&msg, &cert, &key, &recipients, &options).expect("seal");
        group.bench_with_input(
            BenchmarkId::new("decrypt+verify", label),
            &sealed,
            |b, s| {
                b.iter(|| {
                    let o = open(s, &key, Some(&cert)).expect("open");
                    assert!(o.signature.verified_signer().is_some());
                })
            },
        );
        // The baseline, in the same run: OpenSSL doing the same work, one pipeline of two
        // processes per message, as a HISP that shells out to `openssl cms` would.
        let msg_path = dir.path().join(format!("msg-{label}.eml"));
        std::fs::write(&msg_path, &msg).expect("write message");
        let seal_cmd = format!(
            "openssl cms -sign -binary -in {m} -signer c.pem -inkey k.pem -md sha256 \
             | openssl cms -encrypt -binary -aes-256-cbc -out {m}.p7m c.pem",
            m = msg_path.display()
        );
        group.bench_function(BenchmarkId::new("openssl sign+encrypt", label), |b| {
            b.iter(|| shell(dir.path(), &seal_cmd))
        });
        shell(dir.path(), &seal_cmd);
        let open_cmd = format!(
            "openssl cms -decrypt -binary -in {m}.p7m -recip c.pem -inkey k.pem \
             | openssl cms -verify -binary -noverify -out /dev/null",
            m = msg_path.display()
        );
        group.bench_function(BenchmarkId::new("openssl decrypt+verify", label), |b| {
            b.iter(|| shell(dir.path(), &open_cmd))
        });
    }
    group.finish();
}

fn shell(dir: &std::path::Path, command: &str) {
    let ok = Command::new("sh")
        .args(["-c", command])
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success());
    assert!(matches!(ok, Ok(true)), "baseline failed: {command}");
}

criterion_group!(benches, bench);
criterion_main!(benches);
