//! Interop with OpenSSL in both directions: messages made by `openssl cms` are opened and
//! verified by the library, and messages sealed by the library are decrypted and verified by
//! `openssl cms`. These tests fail, never skip, when `openssl` is missing.

mod common;

use std::path::Path;

use common::{SAMPLE_MESSAGE, openssl, openssl_ok, test_pki};
use direct_conformance::smime::wrap::wrap;
use direct_conformance::smime::{
    ContentCipher, DigestAlgorithm, EncryptOptions, KeyTransport, SealOptions, SignOptions,
    SmimeError, open, seal,
};

/// Signs `entity` with openssl (alice) and encrypts it to bob; returns the S/MIME message.
fn openssl_seal(
    dir: &Path,
    md: &str,
    cipher: &str,
    oaep: bool,
    stream: bool,
    crlf: bool,
) -> Vec<u8> {
    std::fs::write(dir.join("entity.txt"), wrap(SAMPLE_MESSAGE.as_bytes())).unwrap();
    let mut sign = vec![
        "cms",
        "-sign",
        "-in",
        "entity.txt",
        "-signer",
        "alice.pem",
        "-inkey",
        "alice.key",
        "-md",
        md,
        "-certfile",
        "ca.pem",
        "-out",
        "signed.txt",
    ];
    if crlf {
        sign.push("-crlfeol");
    }
    openssl_ok(&sign, dir);
    let mut enc = vec![
        "cms",
        "-encrypt",
        "-in",
        "signed.txt",
        cipher,
        "-recip",
        "bob.pem",
    ];
    if oaep {
        enc.extend_from_slice(&["-keyopt", "rsa_padding_mode:oaep"]);
    }
    if stream {
        enc.push("-stream");
    }
    if crlf {
        enc.push("-crlfeol");
    } else {
        // Encrypt the LF file byte for byte, as a careless sender would.
        enc.push("-binary");
    }
    enc.extend_from_slice(&["-out", "enveloped.txt"]);
    openssl_ok(&enc, dir);
    std::fs::read(dir.join("enveloped.txt")).unwrap()
}

fn assert_opens(raw: &[u8], pki: &common::TestPki, digest: DigestAlgorithm, cipher: ContentCipher) {
    let opened =
        open(raw, &pki.bob.key, Some(&pki.bob.cert)).expect("library opens OpenSSL's message");
    assert_eq!(opened.decrypted.info.cipher, Some(cipher));
    let signer = opened.signature.verified_signer().unwrap_or_else(|| {
        panic!(
            "signature did not verify: {:?}",
            opened.signature.signers.first().map(|s| &s.outcome)
        )
    });
    assert_eq!(signer.digest, Some(digest));
    assert_eq!(signer.message_digest_matches, Some(true));
    assert_eq!(opened.signer(), Some(&pki.alice.cert));
    assert!(opened.wrapped);
    assert_eq!(opened.message, SAMPLE_MESSAGE.as_bytes());
}

#[test]
fn openssl_to_library_every_digest() {
    let pki = test_pki();
    for (md, digest) in [
        ("sha256", DigestAlgorithm::Sha256),
        ("sha384", DigestAlgorithm::Sha384),
        ("sha512", DigestAlgorithm::Sha512),
        ("sha1", DigestAlgorithm::Sha1),
    ] {
        let raw = openssl_seal(pki.dir.path(), md, "-aes128", false, false, true);
        assert_opens(&raw, &pki, digest, ContentCipher::Aes128Cbc);
    }
}

#[test]
fn openssl_to_library_every_cipher_and_key_transport() {
    let pki = test_pki();
    let d = pki.dir.path();
    for (flag, cipher) in [
        ("-aes128", ContentCipher::Aes128Cbc),
        ("-aes192", ContentCipher::Aes192Cbc),
        ("-aes256", ContentCipher::Aes256Cbc),
        ("-aes-128-gcm", ContentCipher::Aes128Gcm),
        ("-aes-256-gcm", ContentCipher::Aes256Gcm),
        ("-des3", ContentCipher::DesEde3Cbc),
    ] {
        for oaep in [false, true] {
            let raw = openssl_seal(d, "sha256", flag, oaep, false, true);
            let opened = open(&raw, &pki.bob.key, None).expect("opens");
            let transport =
                opened.decrypted.info.recipients[opened.decrypted.recipient_index].key_transport;
            let expected = if oaep {
                KeyTransport::RsaOaepSha1
            } else {
                KeyTransport::RsaPkcs1v15
            };
            assert_eq!(transport, Some(expected), "{flag} oaep={oaep}");
            assert_opens(&raw, &pki, DigestAlgorithm::Sha256, cipher);
        }
    }
}

#[test]
fn openssl_oaep_sha256_parameters_are_read() {
    let pki = test_pki();
    let d = pki.dir.path();
    std::fs::write(d.join("entity.txt"), wrap(SAMPLE_MESSAGE.as_bytes())).unwrap();
    openssl_ok(
        &[
            "cms",
            "-sign",
            "-in",
            "entity.txt",
            "-signer",
            "alice.pem",
            "-inkey",
            "alice.key",
            "-crlfeol",
            "-out",
            "signed.txt",
        ],
        d,
    );
    openssl_ok(
        &[
            "cms",
            "-encrypt",
            "-in",
            "signed.txt",
            "-aes256",
            "-recip",
            "bob.pem",
            "-keyopt",
            "rsa_padding_mode:oaep",
            "-keyopt",
            "rsa_oaep_md:sha256",
            "-keyopt",
            "rsa_mgf1_md:sha256",
            "-crlfeol",
            "-out",
            "enveloped.txt",
        ],
        d,
    );
    let raw = std::fs::read(d.join("enveloped.txt")).unwrap();
    let opened = open(&raw, &pki.bob.key, Some(&pki.bob.cert)).expect("opens");
    let ri = &opened.decrypted.info.recipients[opened.decrypted.recipient_index];
    assert_eq!(
        ri.oaep_hashes,
        Some((DigestAlgorithm::Sha256, DigestAlgorithm::Sha256))
    );
    assert!(opened.signature.verified_signer().is_some());
}

#[test]
fn openssl_streamed_ber_and_bare_lf_output_are_read() {
    let pki = test_pki();
    let raw = openssl_seal(pki.dir.path(), "sha256", "-aes256", false, true, false);
    let body = direct_conformance::smime::entity::split_header_body(&raw).1;
    let der = direct_conformance::smime::entity::decode_base64(body).unwrap();
    assert_eq!(
        der.get(1),
        Some(&0x80),
        "-stream writes indefinite-length BER"
    );
    let opened = open(&raw, &pki.bob.key, Some(&pki.bob.cert)).expect("opens BER/LF input");
    assert!(
        opened.line_ends_canonicalised,
        "OpenSSL without -crlfeol writes bare LF"
    );
    assert!(opened.signature.verified_signer().is_some());
    assert_eq!(opened.message, SAMPLE_MESSAGE.as_bytes());
}

/// Seals with the library and has OpenSSL decrypt and verify the result against the CA.
fn library_to_openssl(
    pki: &common::TestPki,
    digest: DigestAlgorithm,
    cipher: ContentCipher,
    kt: KeyTransport,
    wrap_it: bool,
) {
    let d = pki.dir.path();
    let options = SealOptions {
        sign: SignOptions {
            digest,
            ..SignOptions::default()
        },
        encrypt: EncryptOptions {
            cipher,
            key_transport: kt,
            ..EncryptOptions::default()
        },
        wrap: wrap_it,
        outer_subject: true,
    };
    let sealed = seal(
        SAMPLE_MESSAGE.as_bytes(),
        &pki.alice.cert,
        &pki.alice.key,
        std::slice::from_ref(&pki.bob.cert),
        &options,
    )
    .expect("seal");
    std::fs::write(d.join("ours.eml"), &sealed).unwrap();
    openssl_ok(
        &[
            "cms",
            "-decrypt",
            "-in",
            "ours.eml",
            "-recip",
            "bob.pem",
            "-inkey",
            "bob.key",
            "-out",
            "ours-dec.txt",
        ],
        d,
    );
    let out = openssl_ok(
        &[
            "cms",
            "-verify",
            "-in",
            "ours-dec.txt",
            "-CAfile",
            "ca.pem",
            "-purpose",
            "smimesign",
            "-out",
            "ours-content.txt",
        ],
        d,
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Verification successful"),
        "{digest:?} {cipher:?} {kt:?}"
    );
    let content = std::fs::read(d.join("ours-content.txt")).unwrap();
    let text = String::from_utf8_lossy(&content).replace("\r\n", "\n");
    assert!(
        text.contains("Please see the attached C-CDA."),
        "content survives: {text}"
    );
    if wrap_it {
        assert!(
            text.starts_with("Content-Type: message/rfc822"),
            "wrapped: {text}"
        );
        assert!(text.contains("Message-ID: <interop-1@hisp.direct.test>"));
    }
}

#[test]
fn library_to_openssl_every_digest_cipher_and_key_transport() {
    let pki = test_pki();
    for digest in [
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha384,
        DigestAlgorithm::Sha512,
        DigestAlgorithm::Sha1,
    ] {
        library_to_openssl(
            &pki,
            digest,
            ContentCipher::Aes128Cbc,
            KeyTransport::RsaPkcs1v15,
            true,
        );
    }
    for cipher in [
        ContentCipher::Aes128Cbc,
        ContentCipher::Aes192Cbc,
        ContentCipher::Aes256Cbc,
        ContentCipher::Aes128Gcm,
        ContentCipher::Aes256Gcm,
        ContentCipher::DesEde3Cbc,
    ] {
        for kt in [
            KeyTransport::RsaPkcs1v15,
            KeyTransport::RsaOaepSha1,
            KeyTransport::RsaOaepSha256,
        ] {
            library_to_openssl(&pki, DigestAlgorithm::Sha256, cipher, kt, true);
        }
    }
    library_to_openssl(
        &pki,
        DigestAlgorithm::Sha256,
        ContentCipher::Aes256Cbc,
        KeyTransport::RsaPkcs1v15,
        false,
    );
}

/// The RX-09 and RX-11 negative vectors are real: OpenSSL decrypts the library's RC2-128
/// envelope (through its legacy provider: OpenSSL 3 keeps RC2 there) and verifies its MD5
/// signature; and the library reads OpenSSL's own RC2 envelope, whose parameters say 128 bits.
#[test]
fn rc2_and_md5_vectors_interoperate_with_openssl() {
    let pki = test_pki();
    let d = pki.dir.path();
    let options = SealOptions {
        sign: SignOptions {
            digest: DigestAlgorithm::Md5,
            ..SignOptions::default()
        },
        encrypt: EncryptOptions {
            cipher: ContentCipher::Rc2Cbc,
            ..EncryptOptions::default()
        },
        ..SealOptions::default()
    };
    let sealed = seal(
        SAMPLE_MESSAGE.as_bytes(),
        &pki.alice.cert,
        &pki.alice.key,
        std::slice::from_ref(&pki.bob.cert),
        &options,
    )
    .expect("seal with RC2 and MD5");
    std::fs::write(d.join("legacy.eml"), &sealed).unwrap();
    let printed = openssl_ok(&["cms", "-cmsout", "-print", "-in", "legacy.eml"], d);
    let printed = String::from_utf8_lossy(&printed.stdout).to_string();
    assert!(printed.contains("rc2-cbc"), "{printed}");
    assert!(
        printed.contains(":3A"),
        "RC2 parameter version 58: {printed}"
    );
    let legacy = ["-provider", "default", "-provider", "legacy"];
    let mut dec = vec!["cms", "-decrypt", "-in", "legacy.eml", "-recip", "bob.pem"];
    dec.extend_from_slice(&["-inkey", "bob.key", "-out", "legacy-dec.txt"]);
    dec.extend_from_slice(&legacy);
    openssl_ok(&dec, d);
    let out = openssl_ok(
        &[
            "cms",
            "-verify",
            "-in",
            "legacy-dec.txt",
            "-CAfile",
            "ca.pem",
            "-purpose",
            "smimesign",
            "-out",
            "legacy-content.txt",
        ],
        d,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Verification successful"));
    let signed = openssl_ok(&["cms", "-cmsout", "-print", "-in", "legacy-dec.txt"], d);
    let signed = String::from_utf8_lossy(&signed.stdout).to_string();
    assert!(signed.contains("md5"), "{signed}");
    // The library reads its own vector back, and OpenSSL's RC2.
    let opened = open(&sealed, &pki.bob.key, Some(&pki.bob.cert)).expect("open");
    assert_eq!(opened.decrypted.info.cipher, Some(ContentCipher::Rc2Cbc));
    let s = opened.signature.verified_signer().expect("MD5 verifies");
    assert_eq!(s.digest, Some(DigestAlgorithm::Md5));
    std::fs::write(d.join("plain.txt"), b"RC2 from OpenSSL\r\n").unwrap();
    let mut enc = vec!["cms", "-encrypt", "-rc2"];
    enc.extend_from_slice(&legacy);
    enc.extend_from_slice(&["-in", "plain.txt", "-outform", "DER", "-out", "theirs.der"]);
    enc.push("bob.pem");
    openssl_ok(&enc, d);
    let der = std::fs::read(d.join("theirs.der")).unwrap();
    let got = direct_conformance::smime::decrypt(&der, &pki.bob.key, Some(&pki.bob.cert))
        .expect("library decrypts OpenSSL's RC2");
    assert_eq!(got.content, b"RC2 from OpenSSL\r\n");
    assert_eq!(got.info.cipher, Some(ContentCipher::Rc2Cbc));
}

#[test]
fn library_to_openssl_ecdsa_signer() {
    let pki = test_pki();
    let d = pki.dir.path();
    // An ECDSA P-256 signer issued by the same CA.
    openssl_ok(
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "ec.key",
        ],
        d,
    );
    openssl_ok(
        &[
            "req", "-new", "-key", "ec.key", "-subj", "/CN=ec", "-out", "ec.csr",
        ],
        d,
    );
    std::fs::write(
        d.join("ec.ext"),
        "keyUsage=critical,digitalSignature\nsubjectAltName=email:alice@hisp.direct.test\n",
    )
    .unwrap();
    openssl_ok(
        &[
            "x509",
            "-req",
            "-in",
            "ec.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            "ec.ext",
            "-out",
            "ec.pem",
        ],
        d,
    );
    let cert = <x509_cert::Certificate as x509_cert::der::DecodePem>::from_pem(
        std::fs::read(d.join("ec.pem")).unwrap(),
    )
    .unwrap();
    let key = direct_conformance::keys::PrivateKey::from_pem_or_der(
        &std::fs::read(d.join("ec.key")).unwrap(),
    )
    .unwrap();
    let sealed = seal(
        SAMPLE_MESSAGE.as_bytes(),
        &cert,
        &key,
        std::slice::from_ref(&pki.bob.cert),
        &SealOptions::default(),
    )
    .unwrap();
    std::fs::write(d.join("ec.eml"), &sealed).unwrap();
    openssl_ok(
        &[
            "cms",
            "-decrypt",
            "-in",
            "ec.eml",
            "-recip",
            "bob.pem",
            "-inkey",
            "bob.key",
            "-out",
            "ec-dec.txt",
        ],
        d,
    );
    openssl_ok(
        &[
            "cms",
            "-verify",
            "-in",
            "ec-dec.txt",
            "-CAfile",
            "ca.pem",
            "-out",
            "/dev/null",
        ],
        d,
    );
    // And the library verifies its own ECDSA signature.
    let opened = open(&sealed, &pki.bob.key, None).unwrap();
    assert!(opened.signature.verified_signer().is_some());
    // OpenSSL's own ECDSA signature is read too.
    openssl_ok(
        &[
            "cms",
            "-sign",
            "-in",
            "ec-dec.txt",
            "-signer",
            "ec.pem",
            "-inkey",
            "ec.key",
            "-crlfeol",
            "-out",
            "ec-signed.txt",
        ],
        d,
    );
    openssl_ok(
        &[
            "cms",
            "-encrypt",
            "-in",
            "ec-signed.txt",
            "-aes128",
            "-recip",
            "bob.pem",
            "-crlfeol",
            "-out",
            "ec-env.txt",
        ],
        d,
    );
    let opened = open(
        &std::fs::read(d.join("ec-env.txt")).unwrap(),
        &pki.bob.key,
        None,
    )
    .unwrap();
    assert!(
        opened.signature.verified_signer().is_some(),
        "{:?}",
        opened.signature.signers[0].outcome
    );
}

#[test]
fn tampered_wrong_key_and_truncated_input_are_typed_errors() {
    let pki = test_pki();
    let d = pki.dir.path();
    let sealed = seal(
        SAMPLE_MESSAGE.as_bytes(),
        &pki.alice.cert,
        &pki.alice.key,
        std::slice::from_ref(&pki.bob.cert),
        &SealOptions::default(),
    )
    .unwrap();

    // Wrong key: alice cannot open bob's message.
    match open(&sealed, &pki.alice.key, None) {
        Err(
            SmimeError::KeyTransportFailed
            | SmimeError::ContentDecryption(_)
            | SmimeError::NoMatchingRecipient,
        ) => {}
        other => panic!("wrong key gave {other:?}"),
    }
    match open(&sealed, &pki.alice.key, Some(&pki.alice.cert)) {
        Err(SmimeError::NoMatchingRecipient) => {}
        other => panic!("wrong certificate gave {other:?}"),
    }

    // Truncated: cut the base64 body in half.
    let cut = &sealed[..sealed.len() / 2];
    assert!(open(cut, &pki.bob.key, None).is_err());
    // Every truncation point of the DER itself gives an error, not a panic.
    let body = direct_conformance::smime::entity::split_header_body(&sealed).1;
    let der = direct_conformance::smime::entity::decode_base64(body).unwrap();
    for n in (0..der.len()).step_by(97) {
        assert!(direct_conformance::smime::decrypt(&der[..n], &pki.bob.key, None).is_err());
        let _ = direct_conformance::smime::inspect_envelope(&der[..n]);
    }

    // Tampered: OpenSSL decrypts, we alter the signed content, re-encrypt, and verify fails.
    std::fs::write(d.join("t.eml"), &sealed).unwrap();
    openssl_ok(
        &[
            "cms",
            "-decrypt",
            "-in",
            "t.eml",
            "-recip",
            "bob.pem",
            "-inkey",
            "bob.key",
            "-out",
            "t-dec.txt",
        ],
        d,
    );
    let dec = String::from_utf8(std::fs::read(d.join("t-dec.txt")).unwrap()).unwrap();
    let tampered = dec.replace("Please see the attached", "Please ignore the attached");
    assert_ne!(dec, tampered);
    std::fs::write(d.join("t-tampered.txt"), tampered).unwrap();
    openssl_ok(
        &[
            "cms",
            "-encrypt",
            "-in",
            "t-tampered.txt",
            "-aes128",
            "-recip",
            "bob.pem",
            "-out",
            "t-env.txt",
        ],
        d,
    );
    let opened = open(
        &std::fs::read(d.join("t-env.txt")).unwrap(),
        &pki.bob.key,
        None,
    )
    .expect("decrypts");
    let signer = &opened.signature.signers[0];
    assert!(
        matches!(signer.outcome, Err(SmimeError::DigestMismatch)),
        "{:?}",
        signer.outcome
    );
    assert!(opened.signature.verified_signer().is_none());
    // OpenSSL agrees that it is broken.
    assert!(
        !openssl(
            &[
                "cms",
                "-verify",
                "-in",
                "t-tampered.txt",
                "-CAfile",
                "ca.pem",
                "-out",
                "/dev/null"
            ],
            d
        )
        .status
        .success()
    );

    // Not S/MIME at all.
    assert!(matches!(
        open(SAMPLE_MESSAGE.as_bytes(), &pki.bob.key, None),
        Err(SmimeError::Mime(_))
    ));
}
