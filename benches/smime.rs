//! Sign+encrypt and decrypt+verify of a 10 KB and a 10 MB message (criterion). The figures
//! go in the closing notes as ratios between sizes and directions measured in one run.

mod common;

use std::process::Command;

use common::{credential, message};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use direct_conformance::smime::{SealOptions, open, seal};

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
