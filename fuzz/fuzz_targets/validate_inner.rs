//! Any bytes as the *decrypted* content of a Direct message: the bytes are enveloped for the
//! reference SUT recipient and validated with its key, so the fuzzer reaches the inner MIME,
//! multipart/signed, CMS SignedData, certificate, MDN and DSN parsers behind the envelope.
#![no_main]

use std::sync::LazyLock;

use direct_conformance::keys::PrivateKey;
use direct_conformance::smime::entity::base64_lines;
use direct_conformance::smime::{EncryptOptions, encrypt};
use direct_conformance::validate::options::RecipientKey;
use direct_conformance::validate::{ValidationOptions, validate_message};
use libfuzzer_sys::fuzz_target;
use x509_cert::Certificate;
use x509_cert::der::DecodePem;

const CERT: &str = include_str!("../../reference-certs/sut_recipient/cert.pem");
const KEY: &str = include_str!("../../reference-certs/sut_recipient/key.pem");

static RECIPIENT: LazyLock<(Certificate, ValidationOptions)> = LazyLock::new(|| {
    let cert = Certificate::from_pem(CERT).expect("committed certificate parses");
    let key = PrivateKey::from_pem(KEY).expect("committed key parses");
    let options = ValidationOptions {
        recipient_keys: vec![RecipientKey::Key {
            path: "sut_recipient/key.pem".into(),
            key,
        }],
        recipient_certs: vec![cert.clone()],
        ..ValidationOptions::default()
    };
    (cert, options)
});

fuzz_target!(|data: &[u8]| {
    let (cert, options) = &*RECIPIENT;
    let Ok(cms) = encrypt(data, std::slice::from_ref(cert), &EncryptOptions::default()) else {
        return;
    };
    let mut message = b"From: sender@hisp.direct.test\r\nTo: recipient@sut.direct.test\r\n\
Date: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <fuzz@hisp.direct.test>\r\n\
MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; \
name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\
Content-Disposition: attachment; filename=smime.p7m\r\n\r\n"
        .to_vec();
    message.extend_from_slice(&base64_lines(&cms));
    let _ = validate_message("fuzz", &message, options);
});
