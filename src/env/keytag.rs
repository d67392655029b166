//! The CERT record key tag (RFC 4398 §2.1): the RFC 4034 Appendix B checksum of the
//! certificate's public key in DNSKEY form (flags 256, protocol 3, algorithm 8, RSA key as
//! RFC 3110: exponent length, exponent, modulus), as DCDT publishes. Non-RSA keys use the raw
//! key bits; the tag is advisory for resolvers, never a lookup key.

use der::Decode;
use x509_cert::Certificate;

pub fn certificate_key_tag(cert: &Certificate) -> u16 {
    let spki = cert.tbs_certificate().subject_public_key_info();
    let key_bits = spki.subject_public_key.raw_bytes();
    let mut rdata = vec![0x01, 0x00, 3, 8];
    match pkcs1::RsaPublicKey::<der::asn1::UintRef<'_>>::from_der(key_bits) {
        Ok(rsa) => {
            let e = rsa.public_exponent.as_bytes();
            let n = rsa.modulus.as_bytes();
            match u8::try_from(e.len()) {
                Ok(len) if len > 0 => rdata.push(len),
                _ => {
                    rdata.push(0);
                    rdata.extend_from_slice(&(e.len() as u16).to_be_bytes());
                }
            }
            rdata.extend_from_slice(e);
            rdata.extend_from_slice(n);
        }
        Err(_) => rdata.extend_from_slice(key_bits),
    }
    key_tag(&rdata)
}

/// RFC 4034 Appendix B (for algorithms other than 1).
fn key_tag(rdata: &[u8]) -> u16 {
    let mut acc: u32 = 0;
    for (i, b) in rdata.iter().enumerate() {
        acc = acc.wrapping_add(if i & 1 == 1 {
            u32::from(*b)
        } else {
            u32::from(*b) << 8
        });
    }
    acc = acc.wrapping_add((acc >> 16) & 0xFFFF);
    (acc & 0xFFFF) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4034_checksum() {
        // Two bytes: 0x0102 -> 0x0102.
        assert_eq!(key_tag(&[1, 2]), 0x0102);
        // Carry folding: 0xFFFF + 0x0001 -> 0x0000 with carry 1 -> 0x0001.
        assert_eq!(key_tag(&[0xFF, 0xFF, 0x00, 0x01]), 0x0001);
    }
}
