//! Every check can fail: the suite passes against the clean embedded SUT, and each fault
//! switch that the trust-receive and mdn areas can see fails at least one scenario. Each fault
//! run selects the scenarios aimed at it (by tag), so that the whole test takes seconds; the
//! matrix (fault → scenarios it failed) is written to `reports/fault-matrix.md`. Fault runs use
//! `--strict`, so that a switch breaking a SHOULD (`@should`, passed with a warning otherwise)
//! counts as caught.

use std::path::{Path, PathBuf};
use std::process::Command;

use direct_conformance::hisp::Fault;

const BIN: &str = env!("CARGO_BIN_EXE_direct-conformance");

/// Fault → the scenarios aimed at it. `None`: no scenario of the current areas can see it,
/// with the reason (the matrix says so; the test does not demand a failure).
fn aimed(f: Fault) -> Result<&'static str, &'static str> {
    Ok(match f {
        Fault::AcceptUntrustedSender => "@RX-22 or @RX-23 or @RX-48",
        Fault::SkipSignatureCheck => "@RX-18",
        Fault::IgnoreAddressBinding => "@RX-24 or @RX-25",
        Fault::IgnoreSignerProfile => "@RX-27 or @RX-31",
        Fault::SignSha1 | Fault::Encrypt3des => "@RX-01 or @MT39 or @TX-01 or @TX-03",
        Fault::UnsignedMdn => "@RX-01 or @MT39",
        Fault::NoProcessedMdn => "@RX-01 or @MN1",
        Fault::NoDispatchedMdn => "@MT39 or @MN4",
        Fault::DispatchedWithoutRequest => "@MN1 or @MT40",
        Fault::MdnForUntrusted => "@RX-22 or @RX-23",
        Fault::NoAudit | Fault::AuditWithoutRecipient => "@needs-audit",
        Fault::AcceptExpired => "@RX-19 or @RX-20",
        Fault::IgnoreRevocation => "@RX-21",
        Fault::NoTimeoutDsn => {
            "@MT1 or @MT2 or @MT4 or @MT23 or @MT24 or @MT26 or @TX-15 or @D5 or @D11 or @MT27 or @MN10"
        }
        Fault::EncryptToAllFound => {
            "@D4 or @D6 or @D8 or @D9 or @D17 or @D19 or @D20 or @D21 or @D22 or @D34 or @TX-09 or @TX-10 or @TX-11 or @TX-15 or @MT2 or @MT24"
        }
        Fault::NoWrap => "@TX-02",
        Fault::RewriteFrom => "@TX-04",
        Fault::DropMessageId => "@TX-07 or @TX-12",
        Fault::MdnForMdn => "@TX-14 or @MN2 or @MN3",
        Fault::AuditClinicalContent => "@AU-09",
        Fault::SelfSignedSigner => "@TX-05",
        Fault::DropAttachments => "@TX-08",
        Fault::LongBase64Lines => "@TX-06 or @TX-01",
        Fault::No7bitConversion => "@TX-06",
        Fault::DropNotificationRequest => "@TX-13 or @MT21 or @MT29 or @MN11",
        Fault::AcceptBadAuth => "@SMTP22",
        Fault::SmtpLenientSequence => "@SMTP11",
        Fault::StarttlsIgnoresArgument => "@SMTP17",
        Fault::OpenRelay => "@SMTP-A3",
        Fault::EdgeClientAuthInClear => "@SMTP8 or @POP19 or @IMAP19",
        Fault::EdgeClientAcceptsBadCertificate => "@SMTP15 or @POP23 or @IMAP23",
        Fault::EdgeClientRepeatsMessageId => "@MT17 or @MT45",
        Fault::EdgeClientNoNotificationRequest => "@MT45 or @MT46",
        Fault::EdgeClientStopsOnError => "@POP22 or @IMAP22",
        Fault::EdgeClientSkipsLarge => "@POP27 or @IMAP27",
        Fault::EdgeClientSkipsReports => "@MT47",
        Fault::PlainAuthWithoutTls => "@SMTP-A1",
        Fault::DomainBoundBeforeAddressBound => "@D1 or @D3",
        Fault::FallbackToDomainAfterInvalid => "@D5 or @D7",
        Fault::NoTcpRetry => "@D2 or @D14",
        Fault::IgnoreSrvPriority => "@D15",
        Fault::NoLdapFailover => "@D10 or @D24 or @D25 or @D26",
        Fault::IgnoreSrvWeight => "@D16",
        Fault::IgnoreRecipientCrl => "@D17 or @D34",
        Fault::NoAiaFetch => "@D18 or @D33 or @RX-32 or @RX-33",
        Fault::NoIpkix => "@D23",
        Fault::LocalPartUpToDot => "@D27",
        Fault::CaseSensitiveBinding => "@D28",
        Fault::NoCname => "@D29",
        Fault::RefuseDualSan => "@D30",
        Fault::NxdomainStopsDiscovery => "@D31",
        Fault::FirstNamingContextOnly => "@D32",
        Fault::SendInClearWithoutCertificate => "@D11 or @D12 or @D13 or @MT3 or @MT25",
        Fault::PublishExpiredCert => "@H1 or @H2 or @H3 or @H4 or @H6",
        Fault::PublishWeakKey => "@H6",
        Fault::LdapErrorForUnknown => "@H5",
        Fault::DnsNoTruncation => "@H7",
        Fault::NoMx => "@H8",
        Fault::Pop3NoStls => "@POP1 or @POP4 or @POP15 or @POP32 or @POP-A2",
        Fault::Pop3UserInClear => "@POP5",
        Fault::Pop3NoRset => "@POP3",
        Fault::Pop3NoNoop => "@POP2",
        Fault::Pop3UnstableUidl => "@POP12",
        Fault::Pop3AcceptBadPassword => "@POP17",
        Fault::Pop3LenientCommands => "@POP9 or @POP10 or @POP11",
        Fault::ForwardSettledNotices => "@MT28 or @MN8 or @MN13",
        Fault::FailedMdnNotFinal => "@MN6 or @MN7 or @MN12",
        Fault::LegacyErrorNotFailure => "@MN7",
        Fault::RefuseMalformedRequest => "@MT22",
        Fault::NoFailedMdn => "@MT41 or @MN5",
        Fault::MdnWithRequestHeaders => "@MN5",
        Fault::DsnTransientStatus => "@MN14",
        Fault::DsnListsAllRecipients => "@MN9",
        Fault::StrictNoticeReading => "@MN10",
        Fault::EdgeMdnInClear => "@MN15",
        Fault::SuppressDisplayedMdn => "@MN16",
        Fault::AcceptRc2 => "@RX-09",
        Fault::AcceptMd5 => "@RX-11",
        Fault::RefuseLegacyMediaTypes => "@RX-40",
        Fault::ExactEnvelopeHeader => "@RX-41",
        Fault::AcceptOpaqueSigned => "@RX-42",
        Fault::SelfSignedAnchorsOnly => "@RX-37",
        Fault::FirstCertificateOnly => "@RX-50",
        Fault::AcceptIncompleteValidity => "@RX-29",
        Fault::BundleOutgoingOnly => "@RX-52",
        Fault::KeepWithdrawnAnchor => "@RX-53",
        Fault::IgnoreBundleSignature => "@RX-54",
        Fault::NoVrfy => "@SMTP9",
        Fault::AcceptBareLineEnds => "@SMTP10",
        Fault::NoLineLimit | Fault::NoSizeLimit => "@SMTP12",
        Fault::NoIdleTimeout => "@SMTP13",
        Fault::SubmissionNoStarttls => "@SMTP-A2 or @SMTP16",
        // SMTP-A4 only records the missing offer (SEC-04, information); the backbone
        // example of SMTP-A2 is the one that fails.
        Fault::NoBackboneStarttls => "@SMTP-A2 or @SMTP-A4",
        Fault::DropSecondAttachment => "@SMTP25",
        Fault::RefuseStylesheetReference => "@SMTP26",
        Fault::StrictXdm => "@SMTP27 or @SMTP28 or @SMTP29",
        Fault::ImapNoStarttls => "@IMAP1 or @IMAP4 or @IMAP5 or @IMAP-A2",
        Fault::ImapLoginInClear => "@IMAP1 or @IMAP6",
        Fault::ImapNoNoop => "@IMAP2",
        Fault::ImapLogoutWithoutBye => "@IMAP3 or @IMAP11",
        Fault::ImapAuthPlainRefused => "@IMAP5",
        Fault::ImapSelectNoUidvalidity => "@IMAP7 or @IMAP-A3",
        Fault::ImapFetchDropsAttachments => "@IMAP8 or @IMAP32",
        Fault::ImapNoBadForSyntax => "@IMAP9",
        Fault::ImapLenientState => "@IMAP10 or @IMAP11",
        Fault::ImapUnstableUids => "@IMAP12",
        Fault::ImapAcceptBadPassword => "@IMAP17",
        Fault::ImapInboxCaseSensitive => "@IMAP-A3",
        Fault::EarlyTimeoutNotice => "@MT4 or @MT26 or @MT27",
        Fault::EdgeClientFoldsMailboxCase => "@IMAP21",
        Fault::EdgeClientNoIdle => "@IMAP25",
    })
}

struct Outcome {
    code: Option<i32>,
    failed: Vec<String>,
    ran: usize,
    stdout: String,
}

fn run(dir: &Path, args: &[&str]) -> Outcome {
    let out = Command::new(BIN)
        .arg("run")
        .arg("--report-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run the binary");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json: serde_json::Value = std::fs::read_to_string(dir.join("results.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| {
            panic!(
                "no results.json for {args:?}:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let scenarios = json["scenarios"].as_array().cloned().unwrap_or_default();
    let failed = scenarios
        .iter()
        .filter(|s| s["verdict"] == "failed" || s["verdict"] == "errored")
        .map(|s| s["name"].as_str().unwrap_or("?").to_string())
        .collect();
    Outcome {
        code: out.status.code(),
        failed,
        ran: scenarios
            .iter()
            .filter(|s| s["verdict"] != "skipped")
            .count(),
        stdout,
    }
}

#[test]
fn clean_sut_passes_and_every_visible_fault_fails_a_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    // The clean run goes alongside the fault runs: all of them mostly wait.
    let clean_dir = tmp.path().join("clean");
    let clean = std::thread::spawn(move || run(&clean_dir, &[]));

    // Fault runs use --strict: a fault aimed at a `@should` scenario (no-wrap at TX-02,
    // audit-clinical-content at AU-09) must make it fail, not pass with a warning.
    // Fault runs side by side, five at a time beside the clean run (mostly waiting, little CPU): each one is a handful of scenarios.
    let jobs: Vec<(Fault, &str, &str)> = Fault::ALL.iter().map(|(f, n, b)| (*f, *n, *b)).collect();
    let mut results: Vec<(Fault, &str, &str, Result<Outcome, &str>)> = Vec::new();
    for chunk in jobs.chunks(5) {
        let handles: Vec<_> = chunk
            .iter()
            .map(|&(f, name, breaks)| {
                let dir: PathBuf = tmp.path().join(name);
                std::thread::spawn(move || {
                    let o = aimed(f)
                        .map(|tags| run(&dir, &["--strict", "--fault", name, "--tags", tags]));
                    (f, name, breaks, o)
                })
            })
            .collect();
        for h in handles {
            results.push(h.join().expect("fault run thread"));
        }
    }

    let clean = clean.join().expect("clean run thread");
    assert_eq!(clean.code, Some(0), "clean SUT:\n{}", clean.stdout);
    assert!(clean.failed.is_empty(), "{:?}", clean.failed);
    assert!(clean.ran >= 30, "only {} scenarios ran", clean.ran);
    let last = clean.stdout.lines().last().unwrap_or("");
    assert!(
        last.ends_with("skipped") && last.contains("passed, 0 failed"),
        "closing line {last:?}"
    );

    let mut md = String::from(
        "# Fault matrix (generated by `cargo test --test suite_faults`; do not edit)\n\n\
         Each fault switch of the embedded reference SUT against the scenarios aimed at it \
         (trust-receive, mdn, edge-smtp, discovery, trust-send, audit, hosting, edge-pop3 and edge-imap areas). The clean SUT passes every scenario.\n\n\
         | fault | what it breaks | scenarios run | scenarios that failed |\n|---|---|---|---|\n",
    );
    md.push_str(&format!("| (none) | clean SUT | {} | none |\n", clean.ran));
    let mut missed = Vec::new();
    for (f, name, breaks, o) in &results {
        match o {
            Ok(o) => {
                md.push_str(&format!(
                    "| `{name}` | {breaks} | {} ({}) | {} |\n",
                    o.ran,
                    aimed(*f).unwrap_or(""),
                    if o.failed.is_empty() {
                        "**none**".to_string()
                    } else {
                        o.failed.join("; ")
                    }
                ));
                if o.failed.is_empty() || o.code != Some(1) {
                    missed.push(format!("{name} (exit {:?}):\n{}", o.code, o.stdout));
                }
            }
            Err(why) => md.push_str(&format!(
                "| `{name}` | {breaks} | 0 | not covered yet: {why} |\n"
            )),
        }
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/fault-matrix.md");
    std::fs::write(&out, md).expect("write reports/fault-matrix.md");
    assert!(
        missed.is_empty(),
        "faults no scenario caught:\n{}",
        missed.join("\n")
    );
}
