//! The embedded reference SUT: a second reference HISP configured as the vendor
//! (`sut.direct.test`, `sut_*` credentials) on loopback, with the fault switches asked for.
//! The steps reach it only through its network doors, exactly like an external SUT.
//!
//! Next hops: SMTP port numbers are not in DNS, so the SUT reaches `hisp.direct.test` through
//! a static resolver override (domain → the harness backbone address); every other domain is
//! routed as an external SUT would route it, by its MX and A records in the harness DNS (every
//! fixture domain's MX leads to the harness host), with the SMTP port set to the harness
//! backbone's. Recipients' certificates are discovered in the harness world (DNS CERT, LDAP
//! through SRV, AIA/CRL/IPKIX over HTTP), after the static `[certificates]` table.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::hisp::{Hisp, HispConfig, HispHandle};

use super::SutError;
use super::config::{Hosting, Recipient, Retrieval, SutModel, Windows};

/// The embedded SUT's domain and its primary recipient.
pub const DOMAIN: &str = "sut.direct.test";
pub const PASSWORD: &str = "secret";

/// Windows for the embedded SUT (TEST-CATALOGUE §0.3, embedded column; W_acc doubled to
/// 10 s: a positive wait ends at the event, so the margin costs nothing on a passing run and
/// keeps a loaded 2-core machine from failing RSA-4096 cases).
pub fn windows() -> Windows {
    Windows {
        accept: Duration::from_secs(10),
        silence: Duration::from_secs(3),
        processed_timeout: Duration::from_secs(4),
        dispatched_timeout: Duration::from_secs(6),
        audit: Duration::from_secs(2),
        lookup_allowance: Duration::from_secs(12),
        late_delay: Duration::from_secs(2),
        // The `[[trust_bundle]]` refresh below.
        bundle_refresh: Duration::from_secs(1),
    }
}

/// The HISP configuration of the embedded SUT.
pub fn config_text(
    dir: &Path,
    peer: SocketAddr,
    dns: SocketAddr,
    http: SocketAddr,
    https: SocketAddr,
    faults: &[String],
) -> String {
    let faults: Vec<String> = faults.iter().map(|f| format!("{f:?}")).collect();
    format!(
        r#"
hostname = "{DOMAIN}"
maildir = "{maildir}"
audit_log = "{audit}"
faults = [{faults}]
tls = "pki:tls_sut"

[listen]
backbone = "127.0.0.1:0"
submission = "127.0.0.1:0"
pop3 = "127.0.0.1:0"
imap = "127.0.0.1:0"

[resolver]
server = "{dns}"
static = {{ "hisp.direct.test" = "{peer}" }}
smtp_port = {smtp_port}

[discovery]
enabled = true
http_hosts = {{ "pki.direct.test:10080" = "{http}", "pki.direct.test:10443" = "{https}" }}

[timeouts]
client_secs = 10
delivery_attempts = 2
retry_delay_ms = 100
tick_ms = 50
trust_fetch_secs = 2
processed_mdn_secs = 4
dispatched_mdn_secs = 6
# SMTP13 waits for this close (sut.toml smtp.idle_timeout = 3); SMTP12 sends past this SIZE.
data_secs = 3

[limits]
max_message_bytes = 4194304

[publish]
dns = "127.0.0.1:0"
ldap = "127.0.0.1:0"
expired = ["pki:D1_invC", "pki:D1_invB"]
weak = ["pki:sender_rsa1024"]

[[domain]]
name = "{DOMAIN}"
signing = "pki:sut_domain"
incoming_anchors = ["pki:direct.test_ca_root"]
outgoing_anchors = ["pki:direct.test_ca_root"]

[[address]]
address = "recipient@{DOMAIN}"
signing = "pki:sut_recipient"
password = "{PASSWORD}"

[[address]]
address = "second@{DOMAIN}"
password = "{PASSWORD}"

[[address]]
address = "untrusting@{DOMAIN}"
incoming_anchors = ["pki:direct.test_ca_untrusted"]
password = "{PASSWORD}"

[[address]]
address = "poptest@{DOMAIN}"
password = "{PASSWORD}"

[[address]]
address = "undeliverable@{DOMAIN}"
refuse_mail = true

[[address]]
address = "imaptest@{DOMAIN}"
password = "{PASSWORD}"

[[address]]
address = "inter@{DOMAIN}"
incoming_anchors = ["pki:direct.test_ca_intermediate1"]
password = "{PASSWORD}"

[[address]]
address = "multi@{DOMAIN}"
signing = "pki:sut_multi_1"
encryption = "pki:sut_multi_2"
password = "{PASSWORD}"

[[trust_bundle]]
url = "https://pki.direct.test:10443/bundles/direct-test.p7m"
signer_anchors = ["pki:direct.test_ca_root"]
refresh_secs = 1

[certificates]
"hisp.direct.test" = ["pki:hisp_domain"]
"sender@hisp.direct.test" = ["pki:hisp_sender"]
"good@hisp.direct.test" = ["pki:hisp_good"]
"second@hisp.direct.test" = ["pki:hisp_second"]
"split@hisp.direct.test" = ["pki:hisp_split_sign", "pki:hisp_split_enc"]
"#,
        maildir = dir.join("maildir").display(),
        audit = dir.join("audit.jsonl").display(),
        faults = faults.join(", "),
        smtp_port = peer.port(),
    )
}

/// Starts the embedded SUT and describes it as a [`SutModel`].
pub async fn start(
    dir: &Path,
    peer: SocketAddr,
    dns: SocketAddr,
    http: SocketAddr,
    https: SocketAddr,
    faults: &[String],
) -> Result<(SutModel, HispHandle), SutError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| SutError::Embedded(format!("{}: {e}", dir.display())))?;
    let text = config_text(dir, peer, dns, http, https, faults);
    let settings = HispConfig::parse(&text)
        .and_then(|c| c.load(Path::new("/")))
        .map_err(|e| SutError::Embedded(e.to_string()))?;
    let audit: PathBuf = dir.join("audit.jsonl");
    let handle = Hisp::start(settings)
        .await
        .map_err(|e| SutError::Embedded(e.to_string()))?;
    let (Some(backbone), Some(pop3), Some(_)) = (handle.backbone, handle.pop3, handle.submission)
    else {
        return Err(SutError::Embedded("a door did not open".into()));
    };
    let label = if faults.is_empty() {
        "embedded reference SUT".to_string()
    } else {
        format!("embedded reference SUT with fault {}", faults.join(", "))
    };
    let doors = Doors {
        backbone,
        submission: handle.submission,
        pop3,
        audit: Some(audit),
        published_dns: handle.published.as_ref().and_then(|p| p.dns),
        imap: handle.imap,
    };
    let mut model = model(doors, peer, dns, label);
    // The embedded SUT's edge client is the reference one, this very binary.
    if let Ok(exe) = std::env::current_exe() {
        model.claims.push("edge-client".into());
        model.edge_client = Some(super::config::EdgeClientTrigger {
            command: format!("{} edge-client", shell_quote(&exe.display().to_string())),
            timeout: Duration::from_secs(60),
            env: vec![("DC_FAULTS".into(), faults.join(","))],
        });
    }
    Ok((model, handle))
}

/// Where the harness reaches a SUT configured like the embedded one (in-process, or the
/// example SUT image `direct-conformance-sut` through its mapped ports).
#[derive(Clone, Debug)]
pub struct Doors {
    pub backbone: SocketAddr,
    pub submission: Option<SocketAddr>,
    pub pop3: SocketAddr,
    /// The audit file as the harness reads it.
    pub audit: Option<PathBuf>,
    /// The SUT's own DNS server publishing its certificates (hosting cases), if reachable.
    pub published_dns: Option<SocketAddr>,
    /// The IMAP door, when the SUT opens one (it then claims `imap`).
    pub imap: Option<SocketAddr>,
}

/// The model of a SUT configured as [`config_text`] configures it: recipients, claims,
/// windows, credentials.
pub fn model(doors: Doors, peer: SocketAddr, dns: SocketAddr, label: String) -> SutModel {
    let recipient = |local: &str, cert: &str| Recipient {
        address: format!("{local}@{DOMAIN}"),
        certificate: cert.to_string(),
        user: format!("{local}@{DOMAIN}"),
        password: Some(PASSWORD.to_string()),
    };
    // The hosting cases look at the SUT's own publication (its [publish] DNS and LDAP).
    let hosting = doors.published_dns.map(|dns| Hosting {
        dns,
        ldap: None,
        dns_address: Some(format!("recipient@{DOMAIN}")),
        dns_domain: Some(DOMAIN.to_string()),
        ldap_address: Some(format!("recipient@{DOMAIN}")),
        ldap_domain: Some(DOMAIN.to_string()),
    });
    SutModel {
        domain: DOMAIN.into(),
        profile: "ds-1.3".into(),
        claims: [
            "pop3",
            "audit",
            "audit-digest",
            "aes-gcm",
            "ecdsa",
            "ipkix",
            "trust-bundle",
            "imap",
        ]
        .into_iter()
        .chain(doors.imap.map(|_| "imap"))
        .map(String::from)
        .collect(),
        recipients: [
            (
                "primary".to_string(),
                recipient("recipient", "pki:sut_recipient"),
            ),
            ("second".to_string(), recipient("second", "pki:sut_domain")),
            (
                "untrusting".to_string(),
                recipient("untrusting", "pki:sut_domain"),
            ),
            // A mailbox of its own for the edge-pop3 cases (they delete what they deliver).
            ("pop3".to_string(), recipient("poptest", "pki:sut_domain")),
            // A mailbox that refuses mail after trust passed (MT41, MN5).
            (
                "undeliverable".to_string(),
                recipient("undeliverable", "pki:sut_domain"),
            ),
            // RX-37: trusts direct.test_ca_intermediate1 only.
            (
                "intermediate_anchor".to_string(),
                recipient("inter", "pki:sut_domain"),
            ),
            // RX-50: holds sut_multi_1 and sut_multi_2; messages are encrypted to the second.
            (
                "multi_cert".to_string(),
                recipient("multi", "pki:sut_multi_2"),
            ),
            // A mailbox of its own for the edge-imap cases (they expunge what they deliver).
            ("imap".to_string(), recipient("imaptest", "pki:sut_domain")),
        ]
        .into_iter()
        .collect(),
        backbone: doors.backbone,
        submission: doors.submission.map(|a| super::config::SubmissionFile {
            addr: a.to_string(),
            starttls: true,
            user: Some(format!("recipient@{DOMAIN}")),
            password: Some(PASSWORD.to_string()),
        }),
        retrieval: Some(Retrieval::Pop3(doors.pop3)),
        imap: doors.imap,
        anchors: vec!["pki:direct.test_ca_root".into()],
        audit: doors.audit,
        windows: windows(),
        harness_backbone: peer,
        harness_dns: dns,
        hosting,
        // A short idle timeout for the self-test (SMTP13; under RFC 5321's five minutes, so
        // its @should row passes with a warning), and the backbone variants of the SMTP cases.
        smtp: super::config::Smtp {
            idle_timeout: Some(std::time::Duration::from_secs(3)),
            test_backbone: true,
        },
        label,
        edge_client: None,
    }
}

/// `text` as one `sh` word.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}
