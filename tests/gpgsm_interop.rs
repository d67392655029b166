//! A round trip with GnuPG's S/MIME tool, `gpgsm`, a second independent CMS implementation
//! (libksba) beside OpenSSL: the library's detached signature must verify in gpgsm, and what
//! gpgsm encrypts must decrypt in the library. A missing `gpgsm` fails the test.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use direct_conformance::smime::{self, SignOptions};

/// Runs gpgsm in batch mode with its own home directory, so the test never touches (or
/// depends on) a user's keyring. CRL and policy checks are off: the throw-away CA has no CRL.
fn gpgsm(home: &Path, args: &[&str]) -> Output {
    Command::new("gpgsm")
        .env("GNUPGHOME", home)
        .args([
            "--batch",
            "--status-fd",
            "1",
            "--disable-crl-checks",
            "--disable-policy-checks",
        ])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("`gpgsm` must be installed for the interop tests: {e}"))
}

/// A gpgsm home that trusts the test CA and knows bob's and alice's certificates.
fn gpgsm_home(pki: &common::TestPki) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("tempdir");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod home");
    }
    let ca = pki.ca_path.to_str().expect("utf-8 path");
    let alice = pki.alice.cert_path.to_str().expect("utf-8 path");
    let bob = pki.bob.cert_path.to_str().expect("utf-8 path");
    let out = gpgsm(home.path(), &["--import", ca, alice, bob]);
    assert!(
        out.status.success(),
        "gpgsm --import failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Mark the CA as a trusted root: its fingerprint in trustlist.txt, flag S (S/MIME).
    let listing = gpgsm(
        home.path(),
        &["--with-colons", "--list-keys", "interop test CA"],
    );
    let text = String::from_utf8_lossy(&listing.stdout);
    let fingerprint = text
        .lines()
        .find_map(|l| {
            // Colon listing: the fingerprint is the 10th field of the `fpr` record.
            l.starts_with("fpr:")
                .then(|| l.split(':').nth(9).unwrap_or_default().to_string())
        })
        .expect("gpgsm lists the CA fingerprint");
    std::fs::write(
        home.path().join("trustlist.txt"),
        format!("{fingerprint} S relax\n"),
    )
    .expect("write trustlist");
    home
}

#[test]
fn library_signature_verifies_in_gpgsm_and_tampering_is_caught() {
    let pki = common::test_pki();
    let home = gpgsm_home(&pki);
    let content = common::SAMPLE_MESSAGE.as_bytes();
    let signature = smime::sign_detached(
        content,
        &pki.alice.cert,
        &pki.alice.key,
        &SignOptions::default(),
    )
    .expect("sign");
    let dir = pki.dir.path();
    std::fs::write(dir.join("content.eml"), content).expect("write content");
    std::fs::write(dir.join("content.p7s"), &signature).expect("write signature");
    let sig = dir.join("content.p7s");
    let data = dir.join("content.eml");
    let out = gpgsm(
        home.path(),
        &["--verify", sig.to_str().unwrap(), data.to_str().unwrap()],
    );
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && status.contains("[GNUPG:] GOODSIG") && status.contains("VALIDSIG"),
        "gpgsm did not accept the library's signature:\n{status}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut tampered = content.to_vec();
    tampered[40] ^= 0x01;
    std::fs::write(&data, &tampered).expect("write tampered");
    let out = gpgsm(
        home.path(),
        &["--verify", sig.to_str().unwrap(), data.to_str().unwrap()],
    );
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && status.contains("BADSIG"),
        "gpgsm accepted a tampered message:\n{status}"
    );
}

#[test]
fn gpgsm_encryption_decrypts_in_the_library() {
    let pki = common::test_pki();
    let home = gpgsm_home(&pki);
    let dir = pki.dir.path();
    let plain = dir.join("plain.eml");
    std::fs::write(&plain, common::SAMPLE_MESSAGE).expect("write plain");
    for cipher in ["AES", "AES256"] {
        let enc = dir.join(format!("enc-{cipher}.p7m"));
        let out = gpgsm(
            home.path(),
            &[
                "--cipher-algo",
                cipher,
                "-r",
                "bob@sut.direct.test",
                "--encrypt",
                "-o",
                enc.to_str().unwrap(),
                plain.to_str().unwrap(),
            ],
        );
        assert!(
            out.status.success(),
            "gpgsm --encrypt ({cipher}) failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cms = std::fs::read(&enc).expect("read gpgsm output");
        let decrypted =
            smime::decrypt(&cms, &pki.bob.key, Some(&pki.bob.cert)).expect("library decrypts");
        assert_eq!(decrypted.content, common::SAMPLE_MESSAGE.as_bytes());
        // Not for alice: a typed error, not a panic.
        assert!(smime::decrypt(&cms, &pki.alice.key, Some(&pki.alice.cert)).is_err());
    }
}
