//! Fault switches: each one breaks exactly the behaviour it names, so that every scenario can
//! be shown to fail. The pipeline asks `faults.on(Fault::X)` at the decision point it breaks.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// One fault switch. `ALL` pairs each with its name and what it breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    AcceptUntrustedSender,
    SkipSignatureCheck,
    AcceptExpired,
    IgnoreRevocation,
    IgnoreAddressBinding,
    IgnoreSignerProfile,
    SignSha1,
    Encrypt3des,
    NoProcessedMdn,
    UnsignedMdn,
    NoDispatchedMdn,
    DispatchedWithoutRequest,
    MdnForUntrusted,
    EncryptToAllFound,
    DomainBoundBeforeAddressBound,
    FallbackToDomainAfterInvalid,
    NoTcpRetry,
    IgnoreSrvPriority,
    NoLdapFailover,
    IgnoreSrvWeight,
    IgnoreRecipientCrl,
    NoAiaFetch,
    NoIpkix,
    LocalPartUpToDot,
    CaseSensitiveBinding,
    NoCname,
    RefuseDualSan,
    NxdomainStopsDiscovery,
    FirstNamingContextOnly,
    SendInClearWithoutCertificate,
    NoTimeoutDsn,
    NoAudit,
    AuditWithoutRecipient,
    AcceptBadAuth,
    PlainAuthWithoutTls,
    NoWrap,
    RewriteFrom,
    DropMessageId,
    MdnForMdn,
    AuditClinicalContent,
    SelfSignedSigner,
    DropAttachments,
    LongBase64Lines,
    No7bitConversion,
    DropNotificationRequest,
    PublishExpiredCert,
    PublishWeakKey,
    LdapErrorForUnknown,
    DnsNoTruncation,
    NoMx,
    Pop3NoStls,
    Pop3UserInClear,
    Pop3NoRset,
    Pop3NoNoop,
    Pop3UnstableUidl,
    Pop3AcceptBadPassword,
    Pop3LenientCommands,
    SmtpLenientSequence,
    StarttlsIgnoresArgument,
    OpenRelay,
    EdgeClientAuthInClear,
    EdgeClientAcceptsBadCertificate,
    EdgeClientRepeatsMessageId,
    EdgeClientNoNotificationRequest,
    EdgeClientStopsOnError,
    EdgeClientSkipsLarge,
    EdgeClientSkipsReports,
    ForwardSettledNotices,
    FailedMdnNotFinal,
    LegacyErrorNotFailure,
    RefuseMalformedRequest,
    NoFailedMdn,
    MdnWithRequestHeaders,
    DsnTransientStatus,
    DsnListsAllRecipients,
    StrictNoticeReading,
    EdgeMdnInClear,
    SuppressDisplayedMdn,
    AcceptRc2,
    AcceptMd5,
    RefuseLegacyMediaTypes,
    ExactEnvelopeHeader,
    AcceptOpaqueSigned,
    SelfSignedAnchorsOnly,
    FirstCertificateOnly,
    AcceptIncompleteValidity,
    BundleOutgoingOnly,
    KeepWithdrawnAnchor,
    IgnoreBundleSignature,
    NoVrfy,
    AcceptBareLineEnds,
    NoLineLimit,
    NoSizeLimit,
    NoIdleTimeout,
    SubmissionNoStarttls,
    NoBackboneStarttls,
    DropSecondAttachment,
    RefuseStylesheetReference,
    StrictXdm,
    ImapNoStarttls,
    ImapLoginInClear,
    ImapNoNoop,
    ImapLogoutWithoutBye,
    ImapAuthPlainRefused,
    ImapSelectNoUidvalidity,
    ImapFetchDropsAttachments,
    ImapNoBadForSyntax,
    ImapLenientState,
    ImapUnstableUids,
    ImapAcceptBadPassword,
    ImapInboxCaseSensitive,
    EarlyTimeoutNotice,
    EdgeClientFoldsMailboxCase,
    EdgeClientNoIdle,
}

impl Fault {
    /// Every switch: (switch, name, what it breaks).
    pub const ALL: &'static [(Fault, &'static str, &'static str)] = &[
        (
            Fault::AcceptUntrustedSender,
            "accept-untrusted-sender",
            "delivers messages whose signer does not chain to the recipient's anchors (TRUST-01, TRUST-10)",
        ),
        (
            Fault::SkipSignatureCheck,
            "skip-signature-check",
            "delivers messages whose signature does not verify (SIG-01)",
        ),
        (
            Fault::AcceptExpired,
            "accept-expired",
            "ignores validity periods on the signer's path (TRUST-06)",
        ),
        (
            Fault::IgnoreRevocation,
            "ignore-revocation",
            "ignores CRL revocation on the signer's path (TRUST-07)",
        ),
        (
            Fault::IgnoreAddressBinding,
            "ignore-address-binding",
            "accepts a signer certificate that binds neither the From address nor its domain (SIG-11)",
        ),
        (
            Fault::IgnoreSignerProfile,
            "ignore-signer-profile",
            "accepts a signer certificate whose own profile fails: subject emailAddress other than the SAN, SHA-1-signed under ds-1.3, weak key, unfit key usage (CERT-03, SIG-15, SIG-08, CERT-05)",
        ),
        (
            Fault::SignSha1,
            "sign-sha1",
            "signs outgoing messages and MDNs with SHA-1 (SIG-03)",
        ),
        (
            Fault::Encrypt3des,
            "encrypt-3des",
            "encrypts outgoing messages and MDNs with 3DES (ENC-02)",
        ),
        (
            Fault::NoProcessedMdn,
            "no-processed-mdn",
            "sends no processed MDN for a message that passed (MDN-01)",
        ),
        (
            Fault::UnsignedMdn,
            "unsigned-mdn",
            "sends MDNs in clear, neither signed nor encrypted (MDN-02)",
        ),
        (
            Fault::NoDispatchedMdn,
            "no-dispatched-mdn",
            "sends no dispatched MDN after delivery when one was requested (MDN-10)",
        ),
        (
            Fault::DispatchedWithoutRequest,
            "dispatched-without-request",
            "sends a dispatched MDN with the extension field although none was requested (MDN-10/11)",
        ),
        (
            Fault::MdnForUntrusted,
            "mdn-for-untrusted",
            "sends a processed MDN for a message that failed trust (MDN-03)",
        ),
        (
            Fault::EncryptToAllFound,
            "encrypt-to-all-found",
            "encrypts to every certificate found for a recipient, trusted or not (TRUST-02)",
        ),
        (
            Fault::DomainBoundBeforeAddressBound,
            "domain-bound-before-address-bound",
            "prefers a recipient's domain-bound certificates to its address-bound ones (DISC-15)",
        ),
        (
            Fault::FallbackToDomainAfterInvalid,
            "fallback-to-domain-after-invalid",
            "falls back to domain-bound certificates when every address-bound one is invalid (DISC-16)",
        ),
        (
            Fault::NoTcpRetry,
            "no-tcp-retry",
            "discovery takes a truncated UDP answer as it is, without retrying over TCP (DISC-02)",
        ),
        (
            Fault::IgnoreSrvPriority,
            "ignore-srv-priority",
            "discovery tries LDAP SRV targets from the highest priority number down (RFC 2782)",
        ),
        (
            Fault::NoLdapFailover,
            "no-ldap-failover",
            "discovery gives up LDAP at the first unavailable SRV target",
        ),
        (
            Fault::IgnoreSrvWeight,
            "ignore-srv-weight",
            "discovery tries the LDAP targets of one SRV priority lightest first instead of by weighted choice (DISC-10)",
        ),
        (
            Fault::IgnoreRecipientCrl,
            "ignore-recipient-crl",
            "discovery keeps recipient certificates that their issuer's CRL revokes (TRUST-07)",
        ),
        (
            Fault::NoAiaFetch,
            "no-aia-fetch",
            "fetches no AIA caIssuers, in discovery or for incoming signers, so a certificate under an unsent intermediate is untrusted (TRUST-04)",
        ),
        (
            Fault::NoIpkix,
            "no-ipkix",
            "discovery ignores IPKIX (URL) CERT records (DISC-04)",
        ),
        (
            Fault::LocalPartUpToDot,
            "local-part-up-to-dot",
            "discovery cuts a dotted local part at its first dot when building the address-bound name (DISC-18)",
        ),
        (
            Fault::CaseSensitiveBinding,
            "case-sensitive-binding",
            "discovery compares the certificate's address or domain with the recipient's spelling case-sensitively (DISC-18)",
        ),
        (
            Fault::NoCname,
            "no-cname",
            "discovery ignores CERT records reached through a CNAME (DISC-06)",
        ),
        (
            Fault::RefuseDualSan,
            "refuse-dual-san",
            "discovery drops a certificate that carries both an rfc822Name and a dNSName (CERT-09)",
        ),
        (
            Fault::NxdomainStopsDiscovery,
            "nxdomain-stops-discovery",
            "discovery treats NXDOMAIN for the address-bound name as an error and stops (DISC-07)",
        ),
        (
            Fault::FirstNamingContextOnly,
            "first-naming-context-only",
            "discovery searches only the first naming context an LDAP server lists (DISC-12)",
        ),
        (
            Fault::SendInClearWithoutCertificate,
            "send-in-clear-without-certificate",
            "sends the message unencrypted when no usable certificate is found for a recipient (DISC-17)",
        ),
        (
            Fault::NoTimeoutDsn,
            "no-timeout-dsn",
            "sends no failure DSN to the edge when tracking times out or delivery fails (MDN-14..16)",
        ),
        (Fault::NoAudit, "no-audit", "writes no audit lines (AUD-01)"),
        (
            Fault::AuditWithoutRecipient,
            "audit-without-recipient",
            "writes audit lines without their recipients (AUD-02)",
        ),
        (
            Fault::AcceptBadAuth,
            "accept-bad-auth",
            "submission accepts any user name and password (EDGE-04)",
        ),
        (
            Fault::PlainAuthWithoutTls,
            "plain-auth-without-tls",
            "submission offers and accepts AUTH before STARTTLS (EDGE-03)",
        ),
        (
            Fault::NoWrap,
            "no-wrap",
            "signs outgoing messages without the message/rfc822 wrapper (MSG-08, MSG-09)",
        ),
        (
            Fault::RewriteFrom,
            "rewrite-from",
            "rewrites the From of outgoing messages to postmaster@ its host name, still signing with the sender's certificate (SIG-11)",
        ),
        (
            Fault::DropMessageId,
            "drop-message-id",
            "strips the Message-ID from outgoing messages, inner and outer (EDGE-11, MSG-12)",
        ),
        (
            Fault::MdnForMdn,
            "mdn-for-mdn",
            "answers a received MDN with a processed MDN of its own (MDN-04)",
        ),
        (
            Fault::AuditClinicalContent,
            "audit-clinical-content",
            "writes the whole message, clinical content included, into its audit lines (AUD-09)",
        ),
        (
            Fault::SelfSignedSigner,
            "self-signed-signer",
            "signs outgoing messages with a self-signed copy of the sender's certificate, outside its anchor's hierarchy (TRUST-06)",
        ),
        (
            Fault::DropAttachments,
            "drop-attachments",
            "drops the attachment parts of outgoing multipart messages (EDGE-18)",
        ),
        (
            Fault::LongBase64Lines,
            "long-base64-lines",
            "writes the base64 of outgoing envelopes in 900-column lines (MSG-06)",
        ),
        (
            Fault::No7bitConversion,
            "no-7bit-conversion",
            "signs 8bit parts as they were submitted instead of re-encoding them 7-bit safe (MSG-06)",
        ),
        (
            Fault::DropNotificationRequest,
            "drop-notification-request",
            "strips Disposition-Notification-To and -Options from outgoing messages (MDN-08)",
        ),
        (
            Fault::PublishExpiredCert,
            "publish-expired-cert",
            "publishes the [publish] expired decoys in DNS and LDAP instead of its own certificates (DISC-19, CERT-06)",
        ),
        (
            Fault::PublishWeakKey,
            "publish-weak-key",
            "publishes the [publish] weak decoys (RSA 1024) beside its own certificates (CERT-05, H6)",
        ),
        (
            Fault::LdapErrorForUnknown,
            "ldap-error-for-unknown",
            "its LDAP server answers noSuchObject instead of success with no entries for an unknown address (DISC-21)",
        ),
        (
            Fault::DnsNoTruncation,
            "dns-no-truncation",
            "its DNS server drops the records that do not fit a UDP answer and does not set TC (DISC-20)",
        ),
        (
            Fault::NoMx,
            "no-mx",
            "publishes no MX record for its domains (DISC-19)",
        ),
        (
            Fault::Pop3NoStls,
            "pop3-no-stls",
            "POP3 neither offers nor accepts STLS (EDGE-16, SEC-01)",
        ),
        (
            Fault::Pop3UserInClear,
            "pop3-user-in-clear",
            "POP3 accepts USER/PASS and AUTH before STLS (SEC-01)",
        ),
        (
            Fault::Pop3NoRset,
            "pop3-no-rset",
            "POP3 RSET answers +OK but does not undo DELE (RFC 1939, EDGE-16)",
        ),
        (
            Fault::Pop3NoNoop,
            "pop3-no-noop",
            "POP3 answers NOOP with -ERR (RFC 1939, EDGE-16)",
        ),
        (
            Fault::Pop3UnstableUidl,
            "pop3-unstable-uidl",
            "POP3 UIDL gives new unique ids in every session (RFC 1939, EDGE-17)",
        ),
        (
            Fault::Pop3AcceptBadPassword,
            "pop3-accept-bad-password",
            "POP3 accepts any password for a known user (EDGE-17)",
        ),
        (
            Fault::Pop3LenientCommands,
            "pop3-lenient-commands",
            "POP3 answers +OK to unknown commands and to commands its state does not allow (EDGE-17)",
        ),
        (
            Fault::SmtpLenientSequence,
            "smtp-lenient-sequence",
            "SMTP answers 250 to RCPT and DATA out of sequence instead of 503 (EDGE-06)",
        ),
        (
            Fault::StarttlsIgnoresArgument,
            "starttls-ignores-argument",
            "SMTP takes `STARTTLS <argument>` as STARTTLS instead of answering 501 (EDGE-07)",
        ),
        (
            Fault::OpenRelay,
            "open-relay",
            "submission takes mail from any sender to any recipient without AUTH (SEC-08)",
        ),
        (
            Fault::EdgeClientAuthInClear,
            "edge-client-auth-in-clear",
            "the reference edge client sends its credentials before STARTTLS/STLS (SEC-01, EDGE-02)",
        ),
        (
            Fault::EdgeClientAcceptsBadCertificate,
            "edge-client-accepts-bad-certificate",
            "the reference edge client accepts any server certificate (EDGE-10)",
        ),
        (
            Fault::EdgeClientRepeatsMessageId,
            "edge-client-repeats-message-id",
            "the reference edge client gives every message the same Message-ID (EDGE-11)",
        ),
        (
            Fault::EdgeClientNoNotificationRequest,
            "edge-client-no-notification-request",
            "the reference edge client leaves out Disposition-Notification-Options when asked for timely and reliable delivery (MDN-08)",
        ),
        (
            Fault::EdgeClientStopsOnError,
            "edge-client-stops-on-error",
            "the reference edge client gives up its session at the first -ERR (EDGE-17)",
        ),
        (
            Fault::EdgeClientSkipsLarge,
            "edge-client-skips-large",
            "the reference edge client leaves messages over 256 KiB on the server (EDGE-12)",
        ),
        (
            Fault::EdgeClientSkipsReports,
            "edge-client-skips-reports",
            "the reference edge client does not retrieve delivery notices (multipart/report) (MDN-17)",
        ),
        (
            Fault::ForwardSettledNotices,
            "forward-settled-notices",
            "passes late and duplicate notifications for an already settled recipient on to the edge (MDN-18)",
        ),
        (
            Fault::FailedMdnNotFinal,
            "failed-mdn-not-final",
            "passes a failed MDN (failed, error, denied) on to the edge without settling the recipient, which then times out as well (MDN-21)",
        ),
        (
            Fault::LegacyErrorNotFailure,
            "legacy-error-not-failure",
            "does not take the legacy `error` disposition as a failure: passed on, the recipient left to time out (MDN-13)",
        ),
        (
            Fault::RefuseMalformedRequest,
            "refuse-malformed-request",
            "submission refuses a message whose Disposition-Notification-Options is not a valid timely-and-reliable request (MDN-11, MT22)",
        ),
        (
            Fault::NoFailedMdn,
            "no-failed-mdn",
            "sends no failed MDN when delivery to a mailbox fails after trust passed (MDN-12)",
        ),
        (
            Fault::MdnWithRequestHeaders,
            "mdn-with-request-headers",
            "writes Disposition-Notification-To and -Options into its own MDNs (MDN-07)",
        ),
        (
            Fault::DsnTransientStatus,
            "dsn-transient-status",
            "writes a transient 4.x.x Status into the blocks of its failure DSNs (MDN-23)",
        ),
        (
            Fault::DsnListsAllRecipients,
            "dsn-lists-all-recipients",
            "names every recipient of the message in a failure DSN, the delivered ones too (MDN-17)",
        ),
        (
            Fault::StrictNoticeReading,
            "strict-notice-reading",
            "drops notifications not written exactly as it writes them: header case and spacing, unfolded report fields, a Sender equal to From, one Message-ID inside and out, a non-null envelope sender (MDN-22, MDN-24)",
        ),
        (
            Fault::EdgeMdnInClear,
            "edge-mdn-in-clear",
            "sends the MDNs its edge users submit (read receipts) without S/MIME (MDN-02)",
        ),
        (
            Fault::SuppressDisplayedMdn,
            "suppress-displayed-mdn",
            "keeps displayed MDNs (read receipts) for a tracked message from the edge user, as if they were delivery notices (MDN-18 applied too widely)",
        ),
        (
            Fault::AcceptRc2,
            "accept-rc2",
            "delivers messages whose content is encrypted with RC2 (ENC-02)",
        ),
        (
            Fault::AcceptMd5,
            "accept-md5",
            "delivers messages signed with an MD5 digest (SIG-03, SIG-04)",
        ),
        (
            Fault::RefuseLegacyMediaTypes,
            "refuse-legacy-media-types",
            "refuses the legacy application/x-pkcs7-mime and x-pkcs7-signature media types (MSG-03)",
        ),
        (
            Fault::ExactEnvelopeHeader,
            "exact-envelope-header",
            "refuses an envelope whose Content-Type line is not written exactly as its own (all parameters, in its order and quoting, a space after the colon) (MSG-02)",
        ),
        (
            Fault::AcceptOpaqueSigned,
            "accept-opaque-signed",
            "delivers an opaque (non-detached) SignedData found inside the envelope (MSG-05)",
        ),
        (
            Fault::SelfSignedAnchorsOnly,
            "self-signed-anchors-only",
            "uses only the self-signed certificates among a recipient's anchors, so an intermediate installed as an anchor ends no path (TRUST-03)",
        ),
        (
            Fault::FirstCertificateOnly,
            "first-certificate-only",
            "decrypts with each mailbox's first certificate only, ignoring a second one it also holds (ENC-09)",
        ),
        (
            Fault::AcceptIncompleteValidity,
            "accept-incomplete-validity",
            "reads a signer certificate whose Validity lacks notBefore or notAfter as having no validity bounds and, its issuer's signature no longer matching the repaired certificate, skips its path validation (CERT-07)",
        ),
        (
            Fault::BundleOutgoingOnly,
            "bundle-outgoing-only",
            "uses the anchors of its trust bundles for outgoing mail only, not for incoming (TRUST-12)",
        ),
        (
            Fault::KeepWithdrawnAnchor,
            "keep-withdrawn-anchor",
            "adds the anchors of a refreshed trust bundle to the ones it had instead of replacing them (TRUST-13)",
        ),
        (
            Fault::IgnoreBundleSignature,
            "ignore-bundle-signature",
            "takes a signed trust bundle's anchors without checking its signature against the configured signer anchors (TRUST-12)",
        ),
        (
            Fault::NoVrfy,
            "no-vrfy",
            "SMTP answers VRFY with 502, although RFC 5321 §4.5.1 requires it (EDGE-01)",
        ),
        (
            Fault::AcceptBareLineEnds,
            "accept-bare-line-ends",
            "SMTP takes bare CR and LF as line ends in DATA, ends DATA at `LF . LF`, and delivers what they frame (EDGE-05)",
        ),
        (
            Fault::NoLineLimit,
            "no-line-limit",
            "SMTP takes command lines over 512 octets, and cuts text lines over 1000 octets to fit instead of refusing the message (EDGE-08)",
        ),
        (
            Fault::NoSizeLimit,
            "no-size-limit",
            "SMTP takes a message larger than the SIZE it advertises (EDGE-08)",
        ),
        (
            Fault::NoIdleTimeout,
            "no-idle-timeout",
            "SMTP waits a day, not its configured timeout, for a client gone quiet in DATA (EDGE-09)",
        ),
        (
            Fault::SubmissionNoStarttls,
            "submission-no-starttls",
            "the submission door neither offers nor accepts STARTTLS (EDGE-02, SEC-02)",
        ),
        (
            Fault::NoBackboneStarttls,
            "no-backbone-starttls",
            "the backbone door neither offers nor accepts STARTTLS (SEC-04, information only; SEC-02 on the backbone)",
        ),
        (
            Fault::DropSecondAttachment,
            "drop-second-attachment",
            "delivers incoming messages without their second attachment (EDGE-12, EDGE-18)",
        ),
        (
            Fault::RefuseStylesheetReference,
            "refuse-stylesheet-reference",
            "refuses incoming messages whose XML attachment carries an xml-stylesheet reference it cannot resolve (EDGE-12)",
        ),
        (
            Fault::StrictXdm,
            "strict-xdm",
            "refuses incoming XDM packages sent as application/octet-stream, with an INDEX.HTM that is not well-formed XHTML, or whose METADATA.XML types a document other than text/xml (EDGE-12, MSG-17)",
        ),
        (
            Fault::ImapNoStarttls,
            "imap-no-starttls",
            "IMAP offers no STARTTLS and refuses it (EDGE-13, SEC-01)",
        ),
        (
            Fault::ImapLoginInClear,
            "imap-login-in-clear",
            "IMAP accepts LOGIN and AUTHENTICATE before STARTTLS and does not announce LOGINDISABLED (SEC-01)",
        ),
        (
            Fault::ImapNoNoop,
            "imap-no-noop",
            "IMAP answers NOOP with BAD (EDGE-13)",
        ),
        (
            Fault::ImapLogoutWithoutBye,
            "imap-logout-without-bye",
            "IMAP answers LOGOUT with OK but no BYE and keeps the connection open (EDGE-13)",
        ),
        (
            Fault::ImapAuthPlainRefused,
            "imap-auth-plain-refused",
            "IMAP announces AUTH=PLAIN but answers AUTHENTICATE PLAIN with NO, whatever the credentials (EDGE-13)",
        ),
        (
            Fault::ImapSelectNoUidvalidity,
            "imap-select-no-uidvalidity",
            "IMAP SELECT leaves out the UIDVALIDITY and UIDNEXT response codes (EDGE-13)",
        ),
        (
            Fault::ImapFetchDropsAttachments,
            "imap-fetch-drops-attachments",
            "IMAP FETCH serves messages without their attachment parts, RFC822.SIZE unchanged (EDGE-13, EDGE-18)",
        ),
        (
            Fault::ImapNoBadForSyntax,
            "imap-no-bad-for-syntax",
            "IMAP answers malformed commands with NO instead of BAD (EDGE-14)",
        ),
        (
            Fault::ImapLenientState,
            "imap-lenient-state",
            "IMAP answers OK to commands its state does not allow (EDGE-13, EDGE-14)",
        ),
        (
            Fault::ImapUnstableUids,
            "imap-unstable-uids",
            "IMAP uses message sequence numbers as UIDs, so UIDs change when a message is expunged (EDGE-15)",
        ),
        (
            Fault::ImapAcceptBadPassword,
            "imap-accept-bad-password",
            "IMAP accepts any password for a known user, with LOGIN and AUTHENTICATE (EDGE-14)",
        ),
        (
            Fault::ImapInboxCaseSensitive,
            "imap-inbox-case-sensitive",
            "IMAP knows the mailbox INBOX only when it is spelt in capitals (EDGE-15)",
        ),
        (
            Fault::EarlyTimeoutNotice,
            "early-timeout-notice",
            "sends its timeout DSN at half the processed and dispatched deadlines it declares, before the deadline (MDN-19)",
        ),
        (
            Fault::EdgeClientFoldsMailboxCase,
            "edge-client-folds-mailbox-case",
            "the reference edge client upper-cases every IMAP mailbox name, as if each were INBOX (EDGE-15)",
        ),
        (
            Fault::EdgeClientNoIdle,
            "edge-client-no-idle",
            "the reference edge client never enters IMAP IDLE, so mail arriving later is not picked up (EDGE-13)",
        ),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(f, _, _)| *f == self)
            .map(|(_, n, _)| *n)
            .unwrap_or("?")
    }

    pub fn breaks(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(f, _, _)| *f == self)
            .map(|(_, _, b)| *b)
            .unwrap_or("?")
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault switch {0:?} (see `direct-conformance faults`)")]
pub struct UnknownFault(pub String);

impl FromStr for Fault {
    type Err = UnknownFault;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Self::ALL
            .iter()
            .find(|(_, n, _)| n.eq_ignore_ascii_case(s))
            .map(|(f, _, _)| *f)
            .ok_or_else(|| UnknownFault(s.to_string()))
    }
}

/// The switches that are on. Empty: the clean configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults(BTreeSet<Fault>);

impl Faults {
    pub fn none() -> Self {
        Faults::default()
    }

    pub fn with(mut self, f: Fault) -> Self {
        self.0.insert(f);
        self
    }

    pub fn on(&self, f: Fault) -> bool {
        self.0.contains(&f)
    }

    pub fn iter(&self) -> impl Iterator<Item = Fault> + '_ {
        self.0.iter().copied()
    }
}

impl FromIterator<Fault> for Faults {
    fn from_iter<I: IntoIterator<Item = Fault>>(iter: I) -> Self {
        Faults(iter.into_iter().collect())
    }
}

/// The `faults` command's text: one line per switch, name then what it breaks.
pub fn listing() -> String {
    let width = Fault::ALL
        .iter()
        .map(|(_, n, _)| n.len())
        .max()
        .unwrap_or(0);
    Fault::ALL
        .iter()
        .map(|(_, n, b)| format!("{n:width$}  {b}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = BTreeSet::new();
        for (f, n, _) in Fault::ALL {
            assert_eq!(n.parse::<Fault>().unwrap(), *f);
            assert!(seen.insert(*n));
        }
        assert!("no-such-switch".parse::<Fault>().is_err());
        assert_eq!(listing().lines().count(), Fault::ALL.len());
    }
}
