//! Shared test fixtures: a throw-away PKI made by the real `openssl` command, so that interop
//! tests do not depend on our own certificate generator. A missing `openssl` fails the test.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use direct_conformance::keys::PrivateKey;
use x509_cert::Certificate;
use x509_cert::der::DecodePem;

pub fn openssl(args: &[&str], dir: &Path) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("`openssl` must be installed for the interop tests: {e}"))
}

/// Runs openssl and fails the test with its stderr when it fails.
pub fn openssl_ok(args: &[&str], dir: &Path) -> Output {
    let out = openssl(args, dir);
    assert!(
        out.status.success(),
        "openssl {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub struct Party {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    pub cert: Certificate,
    pub key: PrivateKey,
}

pub struct TestPki {
    pub dir: tempfile::TempDir,
    pub ca_path: PathBuf,
    pub alice: Party,
    pub bob: Party,
}

fn party(dir: &Path, name: &str, address: &str, key_args: &[&str]) -> Party {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let cert = format!("{name}.pem");
    let ext = format!("{name}.ext");
    let mut genkey = vec!["genpkey", "-out", &key];
    genkey.extend_from_slice(key_args);
    openssl_ok(&genkey, dir);
    openssl_ok(
        &[
            "req",
            "-new",
            "-key",
            &key,
            "-subj",
            &format!("/CN={name}/emailAddress={address}"),
            "-out",
            &csr,
        ],
        dir,
    );
    std::fs::write(
        dir.join(&ext),
        format!(
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
             subjectAltName=email:{address}\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
        ),
    )
    .expect("write ext");
    openssl_ok(
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "365",
            "-sha256",
            "-extfile",
            &ext,
            "-out",
            &cert,
        ],
        dir,
    );
    let cert_pem = std::fs::read(dir.join(&cert)).expect("read cert");
    let key_pem = std::fs::read(dir.join(&key)).expect("read key");
    Party {
        cert_path: dir.join(&cert),
        key_path: dir.join(&key),
        cert: Certificate::from_pem(&cert_pem).expect("parse cert"),
        key: PrivateKey::from_pem_or_der(&key_pem).expect("parse key"),
    }
}

/// A CA and two RSA-2048 parties, alice@ and bob@hisp.direct.test.
pub fn test_pki() -> TestPki {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    openssl_ok(
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "ca.key",
        ],
        d,
    );
    openssl_ok(
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-subj",
            "/CN=interop test CA",
            "-days",
            "365",
            "-sha256",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-out",
            "ca.pem",
        ],
        d,
    );
    let rsa = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"];
    let alice = party(d, "alice", "alice@hisp.direct.test", &rsa);
    let bob = party(d, "bob", "bob@sut.direct.test", &rsa);
    TestPki {
        ca_path: d.join("ca.pem"),
        dir,
        alice,
        bob,
    }
}

pub const SAMPLE_MESSAGE: &str = "From: alice@hisp.direct.test\r\n\
To: bob@sut.direct.test\r\n\
Subject: Referral for patient 1234\r\n\
Date: Wed, 25 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <interop-1@hisp.direct.test>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"mix\"\r\n\
\r\n\
--mix\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\
\r\n\
Please see the attached C-CDA.\r\n\
--mix\r\n\
Content-Type: application/xml; name=\"ccda.xml\"\r\n\
Content-Transfer-Encoding: base64\r\n\
Content-Disposition: attachment; filename=\"ccda.xml\"\r\n\
\r\n\
PENsaW5pY2FsRG9jdW1lbnQvPg==\r\n\
--mix--\r\n";

// Messages made by `openssl cms` for the validator tests.
pub mod findings;
pub mod sealing;

/// Adds a party to an existing test PKI (for example an ECDSA signer, or an EC recipient whose
/// envelope uses key agreement instead of key transport).
pub fn add_party(pki: &TestPki, name: &str, address: &str, key_args: &[&str]) -> Party {
    party(pki.dir.path(), name, address, key_args)
}

/// OpenSSL key-generation arguments for an EC key on `curve` (`P-256`, `P-384`).
pub fn ec_key_args(curve: &str) -> Vec<String> {
    vec![
        "-algorithm".into(),
        "EC".into(),
        "-pkeyopt".into(),
        format!("ec_paramgen_curve:{curve}"),
    ]
}
