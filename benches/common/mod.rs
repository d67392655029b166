//! Shared bench fixtures: an RSA-2048 credential made by the real `openssl` (so the benches do
//! not depend on our own generator) and a plain-text message of a given size.
#![allow(dead_code)]

use std::process::Command;

use direct_conformance::keys::PrivateKey;
use x509_cert::Certificate;
use x509_cert::der::DecodePem;

pub fn credential(dir: &std::path::Path) -> (Certificate, PrivateKey) {
    let run = |args: &[&str]| {
        let ok = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .map(|o| o.status.success());
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

pub fn message(size: usize) -> Vec<u8> {
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
