//! The harness's own reference HISP, `hisp.direct.test`: where the SUT's MDNs arrive. It
//! holds the keys of every harness signer that can receive encryption, because a SUT seals
//! its MDN to the certificate that signed the original (MDN-02).

use std::net::SocketAddr;
use std::path::Path;

use crate::hisp::{Hisp, HispConfig, HispHandle};

use super::SutError;

/// Harness signer credentials whose keys the peer holds (each signs as sender@hisp).
const KEY_HOLDERS: &[&str] = &[
    "sender_rsa3072",
    "sender_rsa4096",
    "sender_no_key_usage",
    "sender_no_crl_dp",
    "sender_crl_unreachable",
    "sender_email_mismatch",
    "sender_inter1",
    "sender_inter2",
    "sender_bundle",
    // Signers the SUT must refuse: held so that an MDN sent in error is seen (MDN-03).
    "sender_untrusted",
    "sender_expired",
    "sender_not_yet_valid",
    "sender_revoked",
    "sender_wrong_domain",
    "sender_wrong_address",
    "sender_rsa1024",
    "sender_sha1_signed",
    // RX-29: the well-formed twins' keys decrypt an MDN sent to the hand-encoded signers.
    "sender_no_not_before",
    "sender_no_not_after",
];

fn anchor_list(anchors: &[String]) -> String {
    let mut all: Vec<String> = vec!["pki:direct.test_ca_root".into()];
    for a in anchors {
        if !all.contains(a) {
            all.push(a.clone());
        }
    }
    all.iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The peer's configuration text. `capture`: domains whose mail the peer accepts for any
/// recipient and drops after its 250 (the discovery case addresses: the tap has the bytes,
/// and no DSN or MDN goes back to the SUT to pollute other scenarios). `responder_delay`:
/// the responders' "T_d + δ" (`processedtimeoutfailure`, `processdelayeddispatch7`).
pub fn config_text(
    dir: &Path,
    listen: SocketAddr,
    sut_domain: &str,
    sut_backbone: SocketAddr,
    sut_anchors: &[String],
    capture: &[String],
    responder_delay: std::time::Duration,
) -> String {
    let anchors = anchor_list(sut_anchors);
    let capture = capture
        .iter()
        .map(String::as_str)
        .chain(NOTHING_TO_SEND.iter().copied())
        .map(|d| format!("{d:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = format!(
        r#"
hostname = "hisp.direct.test"
maildir = "{maildir}"
audit_log = "{audit}"
capture_domains = [{capture}]

[listen]
backbone = "{listen}"

[resolver]
static = {{ "{sut_domain}" = "{sut_backbone}" }}

[timeouts]
client_secs = 10
delivery_attempts = 1
retry_delay_ms = 100
tick_ms = 100
trust_fetch_secs = 2
responder_delay_secs = {delay}

[[domain]]
name = "hisp.direct.test"
signing = "pki:hisp_domain"
incoming_anchors = [{anchors}]
outgoing_anchors = [{anchors}]
responders = true

[[address]]
address = "sender@hisp.direct.test"
signing = "pki:hisp_sender"
"#,
        maildir = dir.join("maildir").display(),
        audit = dir.join("audit.jsonl").display(),
        delay = responder_delay.as_secs(),
    );
    text.push_str(&trust_send_mailboxes(&anchors));
    for k in KEY_HOLDERS {
        text.push_str(&format!(
            "\n[[address]]\naddress = \"keys-{}@hisp.direct.test\"\nsigning = \"pki:{k}\"\n",
            k.replace('_', "-")
        ));
    }
    text
}

/// The recipients of what the SUT sends (TEST-CATALOGUE §b.2, §e): `good@`, `second@`, the
/// split-certificate `split@` (it decrypts with its encryption-only key), a mailbox that
/// never answers (`nomdn8@`, timeout DSNs), and one address in `domain1` and in
/// `untrusted.direct.test`, so that whatever the SUT delivers there is accepted and captured.
fn trust_send_mailboxes(anchors: &str) -> String {
    format!(
        r#"
[[address]]
address = "good@hisp.direct.test"
signing = "pki:hisp_good"

[[address]]
address = "second@hisp.direct.test"
signing = "pki:hisp_second"

[[address]]
address = "split@hisp.direct.test"
signing = "pki:hisp_split_sign"
encryption = "pki:hisp_split_enc"

[[address]]
address = "nomdn8@hisp.direct.test"
responder = "nomdn8"

[[domain]]
name = "domain1.direct.test"
incoming_anchors = [{anchors}]
outgoing_anchors = [{anchors}]

[[address]]
address = "d1@domain1.direct.test"
signing = "pki:D1_valA"

[[domain]]
name = "untrusted.direct.test"
signing = "pki:untrusted_domain"
incoming_anchors = [{anchors}]
outgoing_anchors = [{anchors}]

[[address]]
address = "user@untrusted.direct.test"
"#
    )
}

/// Domains the SUT must send nothing to (MT3, MT25: no certificate is published there): the
/// peer takes whatever comes for them, so that the tap sees it whole.
const NOTHING_TO_SEND: &[&str] = &["nocert.direct.test"];

/// Starts the peer HISP.
pub async fn start(
    dir: &Path,
    listen: SocketAddr,
    sut_domain: &str,
    sut_backbone: SocketAddr,
    sut_anchors: &[String],
    capture: &[String],
    responder_delay: std::time::Duration,
) -> Result<HispHandle, SutError> {
    std::fs::create_dir_all(dir).map_err(|e| SutError::Peer(format!("{}: {e}", dir.display())))?;
    let text = config_text(
        dir,
        listen,
        sut_domain,
        sut_backbone,
        sut_anchors,
        capture,
        responder_delay,
    );
    let settings = HispConfig::parse(&text)
        .and_then(|c| c.load(Path::new("/")))
        .map_err(|e| SutError::Peer(e.to_string()))?;
    Hisp::start(settings)
        .await
        .map_err(|e| SutError::Peer(e.to_string()))
}
