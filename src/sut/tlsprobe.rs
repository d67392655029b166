//! TLS policy probes (TEST-CATALOGUE SMTP-A2, IMAP-A2, POP-A2): a hand-built ClientHello
//! offering only an old protocol version or only weak cipher suites, and what the server
//! answered: a ServerHello (accepted), an alert or a closed connection (refused). rustls cannot
//! offer these, which is the point: the harness must be able to ask for what it refuses.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// One probe: a version and suites to offer.
#[derive(Clone, Debug)]
pub struct Probe {
    pub label: &'static str,
    /// ClientHello.client_version (0x0301 TLS 1.0, 0x0302 TLS 1.1, 0x0303 TLS 1.2).
    pub version: u16,
    pub suites: &'static [u16],
}

/// The probes every TLS policy case runs: each must be refused.
pub const WEAK: &[Probe] = &[
    Probe {
        label: "TLS 1.0 only",
        version: 0x0301,
        // TLS_RSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
        suites: &[0x002F, 0xC013],
    },
    Probe {
        label: "TLS 1.1 only",
        version: 0x0302,
        suites: &[0x002F, 0xC013],
    },
    Probe {
        label: "TLS 1.2 with RC4 suites only",
        version: 0x0303,
        // TLS_RSA_WITH_RC4_128_MD5, _SHA, TLS_ECDHE_RSA_WITH_RC4_128_SHA
        suites: &[0x0004, 0x0005, 0xC011],
    },
    Probe {
        label: "TLS 1.2 with 3DES suites only",
        version: 0x0303,
        // TLS_RSA_WITH_3DES_EDE_CBC_SHA, TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA
        suites: &[0x000A, 0xC012],
    },
    Probe {
        label: "TLS 1.2 with NULL suites only",
        version: 0x0303,
        // TLS_RSA_WITH_NULL_MD5, _SHA, _SHA256
        suites: &[0x0001, 0x0002, 0x003B],
    },
];

/// What the server did with the ClientHello.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A handshake record (ServerHello): the offer was accepted.
    ServerHello,
    /// An alert record (level, description).
    Alert(u8, u8),
    /// The connection closed or reset without a record.
    Closed,
    /// Anything else, or no answer within the deadline.
    Other(String),
}

impl Answer {
    pub fn refused(&self) -> bool {
        matches!(self, Answer::Alert(..) | Answer::Closed)
    }
}

/// The ClientHello of `probe` as one TLS record.
pub fn client_hello(probe: &Probe, server_name: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&probe.version.to_be_bytes());
    let random: [u8; 32] = rand::random();
    body.extend_from_slice(&random);
    body.push(0); // no session id
    let suites: Vec<u8> = probe.suites.iter().flat_map(|s| s.to_be_bytes()).collect();
    body.extend_from_slice(&(suites.len() as u16).to_be_bytes());
    body.extend_from_slice(&suites);
    body.extend_from_slice(&[1, 0]); // compression: null only
    // Extensions: server_name, and for ECDHE suites the groups and point formats; TLS 1.2
    // probes add signature_algorithms so that only the suites can be the reason to refuse.
    let mut ext = Vec::new();
    let name = server_name.as_bytes();
    let mut sni = Vec::new();
    sni.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    sni.push(0);
    sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
    sni.extend_from_slice(name);
    push_ext(&mut ext, 0x0000, &sni);
    push_ext(&mut ext, 0x000A, &[0, 4, 0x00, 0x17, 0x00, 0x1D]); // secp256r1, x25519
    push_ext(&mut ext, 0x000B, &[1, 0]); // uncompressed points
    if probe.version >= 0x0303 {
        // rsa_pkcs1_sha256, rsa_pss_rsae_sha256, ecdsa_secp256r1_sha256
        push_ext(
            &mut ext,
            0x000D,
            &[0, 6, 0x04, 0x01, 0x08, 0x04, 0x04, 0x03],
        );
    }
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1u8];
    let len = body.len() as u32;
    hs.extend_from_slice(&len.to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    record.extend_from_slice(&hs);
    record
}

fn push_ext(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// Sends the probe's ClientHello on `io` (a connection where the server now expects a TLS
/// handshake) and reads the first record header of the answer.
pub async fn probe<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    probe: &Probe,
    server_name: &str,
    timeout: Duration,
) -> Answer {
    let hello = client_hello(probe, server_name);
    match tokio::time::timeout(timeout, io.write_all(&hello)).await {
        Ok(Ok(())) => {}
        Ok(Err(_)) => return Answer::Closed,
        Err(_) => return Answer::Other("could not send the ClientHello in time".into()),
    }
    let mut head = [0u8; 7];
    let mut got = 0;
    while got < head.len() {
        match tokio::time::timeout(timeout, io.read(&mut head[got..])).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got += n,
            Err(_) => return Answer::Other(format!("no answer within {timeout:?}")),
        }
    }
    match (got, head[0]) {
        (0, _) => Answer::Closed,
        (n, 0x16) if n >= 6 && head[5] == 2 => Answer::ServerHello,
        (7, 0x15) => Answer::Alert(head[5], head[6]),
        (_, b) => Answer::Other(format!("record type {b:#04x}, {got} octets")),
    }
}

/// The transcript line for a probe and the server's answer to it.
pub fn note(probe: &Probe, answer: &Answer) -> String {
    format!(
        "# ClientHello: {} (suites {:04X?}) -> {answer:?}\n",
        probe.label, probe.suites
    )
}

/// What is wrong with a weak probe's outcome (`None`: the server refused it, as it must);
/// `upgrade` names the command that was refused when no probe could be sent.
pub fn weak_offer_problem(answer: Option<&Answer>, upgrade: &str) -> Option<String> {
    match answer {
        Some(a) if a.refused() => None,
        Some(a) => Some(format!("answered {a:?}")),
        None => Some(format!("{upgrade} refused, so nothing could be offered")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_lengths_are_consistent() {
        let h = client_hello(&WEAK[0], "sut.direct.test");
        let record_len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        assert_eq!(record_len + 5, h.len());
        assert_eq!(h[5], 1);
        let hs_len = (usize::from(h[7]) << 8) | usize::from(h[8]);
        assert_eq!(hs_len + 4, record_len);
        assert_eq!(&h[9..11], &[0x03, 0x01]);
    }
}
