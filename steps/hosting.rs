//! Hosting cases H1–H8 (TEST-CATALOGUE §a.7, §a.10): the SUT publishes its own certificates;
//! the harness asks the SUT's own authoritative DNS server and LDAP directory (sut.toml
//! `[hosting]`) and judges what it finds with the discovery library's [`HostingChecker`].
//! Every check's report (network steps, certificates with their findings, notes) is recorded.

use std::time::Duration;

use cucumber::{then, when};
use direct_conformance::discovery::{DiscoveryConfig, HostingChecker, HostingReport, Timeouts};
use direct_conformance::sut::{Hosting, SutModel};
use direct_conformance::trust::TrustAnchor;
use x509_cert::Certificate;

use super::world::DirectWorld;

/// Why a hosting case is skipped (its address or domain is not named in `[hosting]`), or
/// `None` when it can run or is not a hosting case.
pub fn unnamed_case(sut: &SutModel, tags: &[&String]) -> Option<String> {
    let case = tags.iter().find_map(|t| {
        let t = t.trim_start_matches('@');
        matches!(t, "H1" | "H2" | "H3" | "H4" | "H5" | "H6" | "H7" | "H8").then_some(t)
    })?;
    let Some(h) = &sut.hosting else {
        return Some("sut.toml has no [hosting] section".into());
    };
    let named = match case {
        "H1" => h.dns_address.is_some(),
        "H2" => h.dns_domain.is_some(),
        "H3" => h.ldap_address.is_some(),
        "H4" => h.ldap_domain.is_some(),
        "H5" => h.ldap_address.is_some() || h.ldap_domain.is_some(),
        "H7" | "H8" => h.dns_address.is_some() || h.dns_domain.is_some(),
        _ => {
            h.dns_address.is_some()
                || h.dns_domain.is_some()
                || h.ldap_address.is_some()
                || h.ldap_domain.is_some()
        }
    };
    (!named).then(|| format!("[hosting] names no address or domain for {case}"))
}

fn hosting(w: &DirectWorld) -> Result<Hosting, String> {
    w.ctx()?
        .sut
        .hosting
        .clone()
        .ok_or_else(|| "sut.toml has no [hosting] section".into())
}

/// The SUT's declared trust anchors (`pki:NAME` or certificate files).
fn anchors(w: &DirectWorld) -> Result<Vec<TrustAnchor>, String> {
    let ctx = w.ctx()?;
    let mut out = Vec::new();
    for a in &ctx.sut.anchors {
        let name = a
            .strip_prefix("pki:")
            .or(Some(a.as_str()).filter(|r| !r.contains('/')));
        if let Some(c) = name.and_then(|n| ctx.pki.credential(n)) {
            out.push(TrustAnchor::from_certificate(c.certificate.clone()));
            continue;
        }
        let bytes = std::fs::read(a).map_err(|e| format!("anchor {a}: {e}"))?;
        for c in direct_conformance::trust::fetch::parse_certificates(&bytes)
            .map_err(|e| format!("anchor {a}: {e}"))?
        {
            out.push(TrustAnchor::from_certificate(c));
        }
    }
    Ok(out)
}

fn checker(w: &DirectWorld) -> Result<HostingChecker, String> {
    let ctx = w.ctx()?;
    let h = hosting(w)?;
    let mut config = DiscoveryConfig::new(h.dns, anchors(w)?);
    if let Some((host, addr)) = ctx.harness_http.get() {
        config.http_hosts.insert(host.clone(), *addr);
    }
    // Each step bounded; the whole by the SUT's lookup allowance.
    let allowance = ctx.sut.windows.lookup_allowance;
    config.timeouts = Timeouts {
        dns: Duration::from_secs(3),
        dns_attempts: 2,
        ldap_connect: Duration::from_secs(5),
        ldap_operation: Duration::from_secs(5),
        http: Duration::from_secs(5),
        total: allowance.max(Duration::from_secs(10)),
    };
    HostingChecker::new(config)
        .map(|c| c.with_ldap_override(h.ldap))
        .map_err(|e| format!("the DNS client cannot start: {e}"))
}

/// The report, as evidence: verdict and summary, then every fact as JSON.
fn record(w: &mut DirectWorld, r: HostingReport) {
    let title = format!(
        "{} {}: {} ({})",
        r.case,
        r.target,
        if r.passed { "passed" } else { "failed" },
        r.summary
    );
    let body = serde_json::to_string_pretty(&r).unwrap_or_else(|e| format!("{e}"));
    w.record("hosting", title, body);
    w.hosting.push(r);
}

fn named(v: &Option<String>, what: &str) -> Result<String, String> {
    v.clone()
        .ok_or_else(|| format!("[hosting].{what} is not named (the case should be skipped)"))
}

fn domain_of(target: &str) -> String {
    target
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or(target)
        .to_string()
}

#[when(
    regex = r"^the harness looks up the certificates of the SUT's (address|domain) in the SUT's DNS server$"
)]
async fn dns_lookup(w: &mut DirectWorld, which: String) -> Result<(), String> {
    let h = hosting(w)?;
    let (case, target) = if which == "address" {
        ("H1", named(&h.dns_address, "dns_address")?)
    } else {
        ("H2", named(&h.dns_domain, "dns_domain")?)
    };
    let r = checker(w)?.dns(case, &target).await;
    record(w, r);
    Ok(())
}

#[when(
    regex = r"^the harness looks up the certificates of the SUT's (address|domain) in the SUT's LDAP directory$"
)]
async fn ldap_lookup(w: &mut DirectWorld, which: String) -> Result<(), String> {
    let h = hosting(w)?;
    let (case, target) = if which == "address" {
        ("H3", named(&h.ldap_address, "ldap_address")?)
    } else {
        ("H4", named(&h.ldap_domain, "ldap_domain")?)
    };
    let r = checker(w)?.ldap(case, &target).await;
    record(w, r);
    Ok(())
}

#[when("the harness searches the SUT's LDAP directory for an address that does not exist")]
async fn ldap_unknown(w: &mut DirectWorld) -> Result<(), String> {
    let h = hosting(w)?;
    let domain = h
        .ldap_address
        .as_deref()
        .or(h.ldap_domain.as_deref())
        .map(domain_of)
        .ok_or("[hosting] names no LDAP address or domain")?;
    let address = format!("no-such-{}@{domain}", w.correlation_id);
    let r = checker(w)?.ldap_no_entry("H5", &address).await;
    record(w, r);
    Ok(())
}

#[when("the harness gathers every certificate the SUT publishes for its hosting names")]
async fn gather(w: &mut DirectWorld) -> Result<(), String> {
    let h = hosting(w)?;
    let c = checker(w)?;
    let mut reports = Vec::new();
    if let Some(a) = &h.dns_address {
        reports.push(c.dns("H1", a).await);
    }
    if let Some(d) = &h.dns_domain {
        reports.push(c.dns("H2", d).await);
    }
    if let Some(a) = &h.ldap_address {
        reports.push(c.ldap("H3", a).await);
    }
    if let Some(d) = &h.ldap_domain {
        reports.push(c.ldap("H4", d).await);
    }
    for r in reports {
        record(w, r);
    }
    Ok(())
}

#[when("the harness judges them by the hosted-certificate profile with the SUT's trust anchors")]
async fn judge_profile(w: &mut DirectWorld) -> Result<(), String> {
    let h = hosting(w)?;
    let target = h
        .dns_address
        .clone()
        .or(h.ldap_address.clone())
        .or(h.dns_domain.clone())
        .or(h.ldap_domain.clone())
        .ok_or("[hosting] names nothing")?;
    let mut certs: Vec<Certificate> = Vec::new();
    for r in &w.hosting {
        for c in &r.certificates {
            if !certs.contains(&c.certificate) {
                certs.push(c.certificate.clone());
            }
        }
    }
    let r = checker(w)?.profile("H6", &target, &certs).await;
    record(w, r);
    Ok(())
}

#[when(
    "the harness asks the SUT's DNS server for the CERT records of its hosting names over UDP without EDNS0, UDP with EDNS0 and TCP"
)]
async fn transport(w: &mut DirectWorld) -> Result<(), String> {
    let h = hosting(w)?;
    let mut names = Vec::new();
    if let Some(a) = &h.dns_address
        && let Some((local, domain)) = a.split_once('@')
    {
        // RFC 4398 §3.3: the local part is one label (dots escaped).
        names.push(format!("{}.{domain}", local.replace('.', "\\.")));
    }
    if let Some(d) = &h.dns_domain {
        names.push(d.clone());
    }
    if names.is_empty() {
        return Err("[hosting] names no DNS address or domain".into());
    }
    let c = checker(w)?;
    for n in names {
        let r = c.cert_transport("H7", &n).await;
        record(w, r);
    }
    Ok(())
}

#[when("the harness asks the SUT's DNS server for the MX records of its domain")]
async fn mx(w: &mut DirectWorld) -> Result<(), String> {
    let h = hosting(w)?;
    let domain = h
        .dns_domain
        .clone()
        .or(h.dns_address.as_deref().map(domain_of))
        .ok_or("[hosting] names no DNS address or domain")?;
    let r = checker(w)?.mx("H8", &domain).await;
    record(w, r);
    Ok(())
}

#[then(
    regex = r"^(?:at least one published certificate passes DCDT's validators|the directory answers with success and no entry|every hosted certificate fits the profile|every answer is whole or truncated, and TCP gives the whole RRset|the domain has MX records and every MX host has an address)$"
)]
async fn verdict(w: &mut DirectWorld) -> Result<(), String> {
    let last_case = w
        .hosting
        .last()
        .map(|r| r.case.clone())
        .ok_or("no hosting check ran")?;
    let failed: Vec<String> = w
        .hosting
        .iter()
        .filter(|r| r.case == last_case && !r.passed)
        .map(|r| format!("{} {}: {}", r.case, r.target, r.summary))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}
