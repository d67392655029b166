//! Robustness: the validator meets many deterministic mutations of a valid message (at the
//! outer bytes, the CMS envelope, the signed entity and the signature) and must never panic.
//! Each mutation must also produce findings, and a broken message must not come out clean
//! unless the mutation happened to be harmless.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use common::sealing::{Recipe, make};
use common::test_pki;
use direct_conformance::smime::entity::{
    base64_lines, decode_base64, enveloped_headers, split_header_body,
};
use direct_conformance::smime::{EncryptOptions, encrypt};
use direct_conformance::validate::options::RecipientKey;
use direct_conformance::validate::{ValidationOptions, validate_message};

/// A small deterministic generator (SplitMix64), so every run tries the same mutations.
struct Mutator(u64);

impl Mutator {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Truncation, one to four byte flips, a deleted range, or a duplicated range.
    fn mutate(&mut self, data: &[u8]) -> (String, Vec<u8>) {
        let mut d = data.to_vec();
        match self.next() % 4 {
            0 => {
                let at = self.below(d.len());
                d.truncate(at);
                (format!("truncate at {at}"), d)
            }
            1 => {
                let mut what = Vec::new();
                for _ in 0..1 + self.below(4) {
                    let at = self.below(d.len());
                    let x = (self.next() % 255 + 1) as u8;
                    if let Some(b) = d.get_mut(at) {
                        *b ^= x;
                    }
                    what.push(format!("{at}^{x:02x}"));
                }
                (format!("flip {}", what.join(",")), d)
            }
            2 => {
                let at = self.below(d.len());
                let len = self.below(64).min(d.len() - at.min(d.len()));
                d.drain(at..at + len);
                (format!("delete {len} at {at}"), d)
            }
            _ => {
                let at = self.below(d.len());
                let len = self.below(64).min(d.len() - at.min(d.len()));
                let chunk = d[at..at + len].to_vec();
                d.splice(at..at, chunk);
                (format!("duplicate {len} at {at}"), d)
            }
        }
    }
}

fn must_not_panic(label: &str, raw: &[u8], options: &ValidationOptions) {
    let result = catch_unwind(AssertUnwindSafe(|| validate_message("m", raw, options)));
    match result {
        Ok(report) => assert!(!report.findings.is_empty(), "{label}: no findings"),
        Err(_) => panic!("validator panicked on mutation {label}"),
    }
}

fn envelope_message(header: &[u8], der: &[u8]) -> Vec<u8> {
    let mut m = header.to_vec();
    m.extend_from_slice(enveloped_headers(false).as_bytes());
    m.extend_from_slice(b"\r\n");
    m.extend_from_slice(&base64_lines(der));
    m
}

#[test]
fn mutations_never_panic() {
    let pki = test_pki();
    let good = make(pki.dir.path(), &Recipe::default());
    let key = direct_conformance::keys::PrivateKey::from_pem_or_der(
        &std::fs::read(&pki.bob.key_path).expect("key"),
    )
    .expect("key parses");
    let options = ValidationOptions {
        recipient_keys: vec![RecipientKey::Key {
            path: pki.bob.key_path.clone(),
            key,
        }],
        recipient_certs: vec![pki.bob.cert.clone()],
        ..ValidationOptions::default()
    };
    // The unmutated message is clean.
    let report = validate_message("good", &good, &options);
    assert!(
        !report.findings.iter().any(|f| f.is_error()),
        "{:?}",
        report
            .findings
            .iter()
            .filter(|f| f.is_error())
            .collect::<Vec<_>>()
    );

    let mut rng = Mutator(0x5EED);
    // 1. The outer bytes.
    for _ in 0..800 {
        let (label, raw) = rng.mutate(&good);
        must_not_panic(&format!("outer {label}"), &raw, &options);
    }

    // 2. The CMS envelope, re-encoded so that the base64 layer stays valid.
    let (_, body) = split_header_body(&good);
    let outer_fields: Vec<u8> = direct_conformance::smime::entity::header_fields(&good, |n| {
        !n.to_ascii_lowercase().starts_with("content-")
    });
    let der = decode_base64(body).expect("envelope base64");
    for _ in 0..500 {
        let (label, d) = rng.mutate(&der);
        must_not_panic(
            &format!("envelope {label}"),
            &envelope_message(&outer_fields, &d),
            &options,
        );
    }

    // 3. The signed entity, mutated and then encrypted again to bob.
    let signed = std::fs::read(pki.dir.path().join("signed.txt")).expect("signed");
    let bob = [pki.bob.cert.clone()];
    for _ in 0..400 {
        let (label, s) = rng.mutate(&signed);
        let der = encrypt(&s, &bob, &EncryptOptions::default()).expect("encrypt");
        must_not_panic(
            &format!("signed entity {label}"),
            &envelope_message(&outer_fields, &der),
            &options,
        );
    }

    // 4. The signature DER inside the signed entity.
    let text = String::from_utf8(signed.clone()).expect("text");
    let marker = "Content-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n";
    let sig_start = text.find(marker).expect("signature part") + marker.len();
    let sig_end = text[sig_start..].find("\r\n\r\n--").expect("end") + sig_start;
    let sig_der = decode_base64(&signed[sig_start..sig_end]).expect("signature base64");
    for _ in 0..400 {
        let (label, d) = rng.mutate(&sig_der);
        let mut s = signed[..sig_start].to_vec();
        s.extend_from_slice(&base64_lines(&d));
        s.extend_from_slice(&signed[sig_end..]);
        let der = encrypt(&s, &bob, &EncryptOptions::default()).expect("encrypt");
        must_not_panic(
            &format!("signature {label}"),
            &envelope_message(&outer_fields, &der),
            &options,
        );
    }
}

#[test]
fn mutated_notifications_and_plain_text_never_panic() {
    let mdn = "From: bob@sut.direct.test\r\nTo: alice@hisp.direct.test\r\nSubject: Processed\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <mdn-1@sut.direct.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=r\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nProcessed.\r\n--r\r\nContent-Type: message/disposition-notification\r\n\r\nReporting-UA: sut.direct.test; HISP\r\nFinal-Recipient: rfc822; bob@sut.direct.test\r\nOriginal-Message-ID: <1@hisp.direct.test>\r\nDisposition: automatic-action/MDN-sent-automatically; failed\r\nFailure: x\r\nX-DIRECT-FINAL-DESTINATION-DELIVERY:\r\n\r\n--r--\r\n";
    let dsn = "From: postmaster@sut.direct.test\r\nTo: alice@hisp.direct.test\r\nResent-Date: Wed, 25 Nov 2026 10:00:00 +0000\r\nResent-From: a@b.test\r\nReceived: from a by b; Wed, 25 Nov 2026 10:00:00 +0000\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r:x\"\r\n\r\n--r:x\r\nContent-Type: text/plain; charset=\"us-ascii\"\r\nContent-Disposition: inline\r\nContent-ID: <a@b>\r\n\r\nNo.\r\n--r:x\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; sut.direct.test\r\n\r\nFinal-Recipient: rfc822; nobody@sut.direct.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--r:x\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <1@hisp.direct.test>\r\n\r\nbody\r\n--r:x--\r\n";
    let options = ValidationOptions::default();
    let mut rng = Mutator(0xD15C0);
    for (name, text) in [
        ("mdn", mdn),
        ("dsn", dsn),
        ("plain", common::SAMPLE_MESSAGE),
    ] {
        for _ in 0..700 {
            let (label, raw) = rng.mutate(text.as_bytes());
            must_not_panic(&format!("{name} {label}"), &raw, &options);
        }
    }
}
